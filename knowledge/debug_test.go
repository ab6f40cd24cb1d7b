package knowledge

import (
	"context"
	"fmt"
	"os"
	"testing"
)

func TestDebugQuery(t *testing.T) {
	qs := os.Getenv("KQ")
	if qs == "" {
		t.Skip()
	}
	b, _ := New(loadSample(t))
	s := b.cur.Load()
	q := s.an.analyze(qs)
	t.Logf("words=%+v", q.words)
	t.Logf("terms=%v latin=%s", q.terms, q.latin)
	w := s.termWeights(q.terms)
	t.Logf("weights=%v", w)
	hits, _ := retrieve(context.Background(), s.index, q.terms, 5)
	var total float64
	for _, x := range w {
		total += x
	}
	for _, h := range hits {
		f := s.features(s.docs[h.id], q.terms, w, total)
		f.bm25 = h.score / hits[0].score
		t.Logf("%s bm=%.2f %+v => %.3f", h.id, h.score, f, f.combine())
	}
	t.Logf("%+v", b.Decide(context.Background(), qs, ""))
}

func TestDumpFeatures(t *testing.T) {
	if os.Getenv("KDUMP") == "" {
		t.Skip()
	}
	b, _ := New(loadSample(t))
	s := b.cur.Load()
	f, _ := os.Open("testdata/queries-dev.jsonl")
	qs, _ := ReadQueries(f)
	out, _ := os.Create("/tmp/feat.tsv")
	defer out.Close()
	for i, qq := range qs {
		q := s.an.analyze(qq.Q)
		w := s.termWeights(q.terms)
		var total float64
		for _, x := range w {
			total += x
		}
		cw, _ := b.lx.cueWeight(q.words)
		hits, _ := retrieve(context.Background(), s.index, q.terms, 20)
		for _, h := range hits {
			ft := s.features(s.docs[h.id], q.terms, w, total)
			ft.bm25 = h.score / hits[0].score
			fmt.Fprintf(out, "%d\t%s\t%s\t%f\t%f\t%f\t%f\t%f\t%f\t%f\n", i, qq.Expect, h.id, ft.strong, ft.all, ft.phrase, ft.pairs, ft.bm25, h.score, cw)
		}
		if len(hits) == 0 {
			fmt.Fprintf(out, "%d\t%s\t-\t0\t0\t0\t0\t0\t0\t%f\n", i, qq.Expect, cw)
		}
	}
}

func TestTune(t *testing.T) {
	if os.Getenv("KTUNE") == "" {
		t.Skip()
	}
	b, _ := New(loadSample(t))
	f, _ := os.Open("testdata/queries-dev.jsonl")
	qs, _ := ReadQueries(f)
	type res struct {
		th  thresholds
		sum EvalSummary
	}
	var best []res
	for _, ans := range []float64{0.25, 0.3, 0.35} {
		for _, mg := range []float64{0.12, 0.2, 0.3, 1} {
			for _, cue := range []float64{2, 3} {
				for _, cs := range []float64{0.7, 0.8, 0.9} {
					th := defaultThresholds
					th.clarify, th.clarifyGap, th.cue, th.cueStrong = ans, mg, cue, cs
					_, s := b.evaluate(context.Background(), qs, th)
					if s.WrongAnswers <= 0.041 {
						best = append(best, res{th, s})
					}
				}
			}
		}
	}
	for _, r := range best {
		if r.th.cue == 2 && r.th.cueStrong == 0.8 {
			t.Logf("%+v => top1=%.3f self=%.3f wrong=%.3f esc=%.3f st=%.3f", r.th, r.sum.AnswerTop1, r.sum.SelfService, r.sum.WrongAnswers, r.sum.EscalateRecall, r.sum.SmalltalkRecall)
		}
	}
}
