package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func kontaktNoDB(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
	return stdout.String(), err
}

// TestFAQEval runs the evaluation as the issue describes it: a KB file and
// a query file, no server, one JSON line per query, then a summary.
func TestFAQEval(t *testing.T) {
	out, err := kontaktNoDB(t, "faq", "eval", "--kb", "../../faq/testdata/kb.yaml", "--queries", "../../knowledge/testdata/queries-dev.jsonl", "--json")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 301 {
		t.Fatalf("got %d lines, want 300 queries and a summary", len(lines))
	}
	var first struct {
		Q          string   `json:"q"`
		Decision   string   `json:"decision"`
		Entry      string   `json:"entry"`
		Candidates []string `json:"candidates"`
		Score      *float64 `json:"score"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first.Q == "" || first.Decision == "" || first.Candidates == nil || first.Score == nil {
		t.Errorf("query line lacks fields: %s", lines[0])
	}
	var sum map[string]float64
	if err := json.Unmarshal([]byte(lines[300]), &sum); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"answer_top1", "self_service", "wrong_answers", "escalate_recall", "smalltalk_recall"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("summary lacks %s: %s", k, lines[300])
		}
	}
	if sum["answer_top1"] < 0.8 {
		t.Errorf("answer_top1 = %v", sum["answer_top1"])
	}
}

func TestFAQAskFromFile(t *testing.T) {
	out, err := kontaktNoDB(t, "faq", "ask", "--kb", "../../faq/testdata/kb.yaml", "сколько стоит общага", "--audience", "student")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"decision:   answer", "dormitory-cost", "candidates:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := kontaktNoDB(t, "faq", "ask", "--kb", "../../faq/testdata/kb.yaml", "--audience", "alien", "вопрос"); err == nil || !strings.Contains(err.Error(), "alien") {
		t.Errorf("unknown audience: %v", err)
	}
	if _, err := kontaktNoDB(t, "faq", "eval", "--kb", "../../faq/testdata/kb.yaml"); err == nil {
		t.Error("eval without --queries did not fail")
	}
}
