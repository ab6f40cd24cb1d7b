package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"kontakt/faq"
	"kontakt/knowledge"
)

// runFAQAsk shows what the bot would do with a question: the decision, the
// entry, the confidence and the best candidates.
func runFAQAsk(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("faq ask", flag.ContinueOnError)
	fs.SetOutput(stderr)
	audience := fs.String("audience", "", "client group: "+audiences())
	kb := fs.String("kb", "", "read entries from this YAML file instead of the database")
	asJSON := fs.Bool("json", false, "print the decision as JSON")
	if err := fs.Parse(flagsFirst(args, "json")); err != nil {
		return err
	}
	text := strings.Join(fs.Args(), " ")
	if strings.TrimSpace(text) == "" {
		return errors.New("usage: kontakt faq ask [--audience A] [--kb FILE] TEXT")
	}
	if *audience != "" && !faq.Audience(*audience).Valid() {
		return fmt.Errorf("--audience: unknown audience %q (use %s)", *audience, audiences())
	}
	entries, err := loadEntries(ctx, *kb, getenv)
	if err != nil {
		return err
	}
	base, err := knowledge.New(entries)
	if err != nil {
		return err
	}
	defer base.Close()
	d := base.Decide(ctx, text, faq.Audience(*audience))
	if *asJSON {
		return json.NewEncoder(stdout).Encode(decisionJSON(text, d))
	}
	printDecision(stdout, d, faq.Audience(*audience))
	return nil
}

// printDecision writes a decision for a person to read.
func printDecision(w io.Writer, d knowledge.Decision, a faq.Audience) {
	fmt.Fprintf(w, "decision:   %s\n", d.Kind)
	fmt.Fprintf(w, "reason:     %s\n", d.Reason)
	fmt.Fprintf(w, "confidence: %.2f\n", d.Confidence)
	if d.Entry != nil {
		fmt.Fprintf(w, "entry:      %s — %s\n", d.Entry.ID, d.Entry.Question)
		fmt.Fprintf(w, "answer:     %s\n", d.Entry.AnswerTo(a))
	}
	if len(d.Candidates) > 0 {
		fmt.Fprintln(w, "candidates:")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, c := range d.Candidates {
			fmt.Fprintf(tw, "  %.2f\t%s\t%s\n", c.Confidence, c.Entry.ID, c.Entry.Question)
		}
		tw.Flush()
	}
}

type decisionOut struct {
	Q          string   `json:"q"`
	Decision   string   `json:"decision"`
	Entry      string   `json:"entry,omitempty"`
	Candidates []string `json:"candidates"`
	Score      float64  `json:"score"`
	Reason     string   `json:"reason"`
}

func decisionJSON(q string, d knowledge.Decision) decisionOut {
	out := decisionOut{Q: q, Decision: string(d.Kind), Score: d.Confidence, Reason: d.Reason, Candidates: []string{}}
	if d.Entry != nil {
		out.Entry = d.Entry.ID
	}
	for _, c := range d.Candidates {
		out.Candidates = append(out.Candidates, c.Entry.ID)
	}
	return out
}

// runFAQEval measures answer quality on a query set with no server at all.
func runFAQEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("faq eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kb := fs.String("kb", "", "knowledge base YAML file (required)")
	queries := fs.String("queries", "", "queries in JSON Lines: {\"q\": ..., \"expect\": id|escalate|smalltalk} (required)")
	asJSON := fs.Bool("json", false, "print the summary as one JSON line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *kb == "" || *queries == "" {
		return errors.New("usage: kontakt faq eval --kb FILE --queries FILE.jsonl [--json]")
	}
	entries, err := readKBFile(*kb)
	if err != nil {
		return err
	}
	f, err := os.Open(*queries)
	if err != nil {
		return err
	}
	defer f.Close()
	qs, err := knowledge.ReadQueries(f)
	if err != nil {
		return fmt.Errorf("%s: %w", *queries, err)
	}
	base, err := knowledge.New(entries)
	if err != nil {
		return err
	}
	defer base.Close()
	start := time.Now()
	results, sum := base.Evaluate(ctx, qs)
	elapsed := time.Since(start)
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for _, r := range results {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	if *asJSON {
		return enc.Encode(sum)
	}
	fmt.Fprintf(stdout, "\nqueries %d (answerable %d, escalate %d, smalltalk %d), %s\n", sum.Queries, sum.Answerable, sum.Escalate, sum.Smalltalk, elapsed.Round(time.Millisecond))
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, row := range []struct {
		name string
		v    float64
	}{
		{"answer_top1", sum.AnswerTop1}, {"self_service", sum.SelfService}, {"wrong_answers", sum.WrongAnswers},
		{"escalate_recall", sum.EscalateRecall}, {"smalltalk_recall", sum.SmalltalkRecall},
		{"rank_top1", sum.RankTop1}, {"rank_top3", sum.RankTop3},
	} {
		fmt.Fprintf(tw, "%s\t%.3f\n", row.name, row.v)
	}
	return tw.Flush()
}

// loadEntries reads the knowledge base from a file when one is named, and
// from PostgreSQL otherwise.
func loadEntries(ctx context.Context, file string, getenv func(string) string) ([]*faq.Entry, error) {
	if file != "" {
		return readKBFile(file)
	}
	_, pool, err := connect(ctx, getenv)
	if err != nil {
		return nil, fmt.Errorf("%w (or name a file with --kb)", err)
	}
	defer pool.Close()
	return faq.NewStore(pool).List(ctx)
}

func readKBFile(name string) ([]*faq.Entry, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := faq.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return entries, nil
}

func audiences() string {
	s := make([]string, len(faq.Audiences))
	for i, a := range faq.Audiences {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

// flagsFirst moves flags before the other arguments, so that
// `ask TEXT --audience A` works as well as `ask --audience A TEXT`. Flags
// named in boolean take no value.
func flagsFirst(args []string, boolean ...string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && !slices.Contains(boolean, name) && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		rest = append(rest, a)
	}
	return append(flags, rest...)
}
