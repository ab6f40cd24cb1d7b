package knowledge

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"kontakt/faq"
)

// TestDumpFeatures writes the ranking features of every candidate for the
// evaluation queries and for each phrasing of the base held out of it, as
// JSON lines, to the file named by KONTAKT_DUMP_FEATURES. It is the data the
// ranking weights are fitted on; without the variable it does nothing.
func TestDumpFeatures(t *testing.T) {
	path := os.Getenv("KONTAKT_DUMP_FEATURES")
	if path == "" {
		t.Skip("KONTAKT_DUMP_FEATURES not set")
	}
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	enc := json.NewEncoder(out)
	type cand struct {
		ID  string    `json:"id"`
		Cat string    `json:"cat"`
		F   []float64 `json:"f"`
	}
	type row struct {
		Set    string  `json:"set"`
		Q      string  `json:"q"`
		Expect string  `json:"expect"`
		Cue    float64 `json:"cue"`
		Terms  int     `json:"terms"`
		Cands  []cand  `json:"cands"`
	}
	ctx := context.Background()
	dump := func(b *Base, set, q, expect string) {
		s := b.cur.Load()
		a := s.an.analyze(q)
		ms, err := b.rank(ctx, s, a, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		cue, _ := b.lx.cueWeight(a.words)
		r := row{Set: set, Q: q, Expect: expect, Cue: cue, Terms: len(a.terms)}
		for _, m := range ms {
			r.Cands = append(r.Cands, cand{ID: m.Entry.ID, Cat: m.Entry.Category, F: m.features.vector()})
		}
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	entries := loadSample(t)
	b, err := New(entries)
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range []string{"dev", "extra"} {
		f, err := os.Open("testdata/queries-" + set + ".jsonl")
		if err != nil {
			t.Fatal(err)
		}
		qs, err := ReadQueries(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			dump(b, set, q.Q, q.Expect)
		}
	}
	// Each phrasing of an entry, asked of a base that lacks it.
	for i, e := range entries {
		phr := append([]string{e.Question}, e.Alternatives...)
		for k := range phr {
			rest := append(append([]string{}, phr[:k]...), phr[k+1:]...)
			c := *e
			c.Question, c.Alternatives = rest[0], rest[1:]
			held := append([]*faq.Entry{}, entries...)
			held[i] = &c
			hb, err := New(held)
			if err != nil {
				t.Fatal(err)
			}
			dump(hb, "kb", phr[k], e.ID)
			hb.Close()
		}
	}
}

// TestExplain prints how the message in KONTAKT_EXPLAIN is read and
// ranked; without the variable it does nothing.
func TestExplain(t *testing.T) {
	text := os.Getenv("KONTAKT_EXPLAIN")
	if text == "" {
		t.Skip("KONTAKT_EXPLAIN not set")
	}
	b, err := New(loadSample(t))
	if err != nil {
		t.Fatal(err)
	}
	s := b.cur.Load()
	a := s.an.analyze(text)
	for _, w := range a.words {
		t.Logf("word %q → %q stem %q stop=%v", w.orig, w.surface, w.stem, w.stop)
	}
	t.Logf("terms %v", a.terms)
	ms, err := b.rank(context.Background(), s, a, "", 8)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		t.Logf("%.3f %-40s %.2f", m.Score, m.Entry.ID, m.features.vector())
	}
	t.Logf("decision: %+v", b.Decide(context.Background(), text, ""))
}
