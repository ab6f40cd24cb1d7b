package knowledge

import (
	"context"
	"os"
	"testing"
)

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
