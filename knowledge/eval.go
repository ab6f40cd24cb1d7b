package knowledge

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// EvalQuery is one line of an evaluation file: a message and what should
// happen to it — an entry id, "escalate" or "smalltalk".
type EvalQuery struct {
	Q      string `json:"q"`
	Expect string `json:"expect"`
}

// ReadQueries reads a JSON Lines evaluation file.
func ReadQueries(r io.Reader) ([]EvalQuery, error) {
	var out []EvalQuery
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var q EvalQuery
		if err := json.Unmarshal([]byte(line), &q); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if q.Expect == "" {
			return nil, fmt.Errorf("line %d: no \"expect\"", n)
		}
		out = append(out, q)
	}
	return out, sc.Err()
}

// EvalResult is what the base did with one query; it is printed as one
// JSON line by `kontakt faq eval`.
type EvalResult struct {
	Q          string   `json:"q"`
	Expect     string   `json:"expect"`
	Decision   Kind     `json:"decision"`
	Entry      string   `json:"entry,omitempty"`
	Candidates []string `json:"candidates"`
	Score      float64  `json:"score"`
	Reason     string   `json:"reason,omitempty"`
}

// EvalSummary holds the quality figures of a run.
type EvalSummary struct {
	Queries    int `json:"queries"`
	Answerable int `json:"answerable"`
	Escalate   int `json:"escalate"`
	Smalltalk  int `json:"smalltalk"`
	// AnswerTop1: answerable queries answered with the expected entry.
	AnswerTop1 float64 `json:"answer_top1"`
	// SelfService: AnswerTop1 plus clarifications that offer the expected entry.
	SelfService float64 `json:"self_service"`
	// WrongAnswers: answers with a wrong entry, and answers to escalate or
	// small-talk queries, over all queries.
	WrongAnswers    float64 `json:"wrong_answers"`
	EscalateRecall  float64 `json:"escalate_recall"`
	SmalltalkRecall float64 `json:"smalltalk_recall"`
	// RankTop1 and RankTop3: the expected entry among the first candidates,
	// whatever the decision.
	RankTop1 float64 `json:"rank_top1"`
	RankTop3 float64 `json:"rank_top3"`
}

// Evaluate runs every query through Decide with no audience.
func (b *Base) Evaluate(ctx context.Context, queries []EvalQuery) ([]EvalResult, EvalSummary) {
	return b.evaluate(ctx, queries, defaultThresholds)
}

func (b *Base) evaluate(ctx context.Context, queries []EvalQuery, th thresholds) ([]EvalResult, EvalSummary) {
	var sum EvalSummary
	results := make([]EvalResult, 0, len(queries))
	var top1, self, wrong, esc, small, rank1, rank3 int
	for _, q := range queries {
		d := b.decide(ctx, b.cur.Load(), q.Q, "", th)
		r := EvalResult{Q: q.Q, Expect: q.Expect, Decision: d.Kind, Score: round3(d.Confidence), Reason: d.Reason, Candidates: []string{}}
		if d.Entry != nil {
			r.Entry = d.Entry.ID
		}
		for _, c := range d.Candidates {
			r.Candidates = append(r.Candidates, c.Entry.ID)
		}
		results = append(results, r)
		sum.Queries++
		switch q.Expect {
		case "escalate":
			sum.Escalate++
			if d.Kind == Escalate {
				esc++
			}
			if d.Kind == Answer {
				wrong++
			}
		case "smalltalk":
			sum.Smalltalk++
			if d.Kind == Smalltalk {
				small++
			}
			if d.Kind == Answer {
				wrong++
			}
		default:
			sum.Answerable++
			switch {
			case d.Kind == Answer && r.Entry == q.Expect:
				top1++
				self++
			case d.Kind == Answer:
				wrong++
			case d.Kind == Clarify && containsString(r.Candidates, q.Expect):
				self++
			}
			// Ranking regardless of the decision.
			ms, _ := b.Search(ctx, q.Q, "", 3)
			for i, m := range ms {
				if m.Entry.ID == q.Expect {
					if i == 0 {
						rank1++
					}
					rank3++
				}
			}
		}
	}
	div := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return round3(float64(a) / float64(b))
	}
	sum.AnswerTop1 = div(top1, sum.Answerable)
	sum.SelfService = div(self, sum.Answerable)
	sum.WrongAnswers = div(wrong, sum.Queries)
	sum.EscalateRecall = div(esc, sum.Escalate)
	sum.SmalltalkRecall = div(small, sum.Smalltalk)
	sum.RankTop1 = div(rank1, sum.Answerable)
	sum.RankTop3 = div(rank3, sum.Answerable)
	return results, sum
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func round3(f float64) float64 { return float64(int(f*1000+0.5)) / 1000 }
