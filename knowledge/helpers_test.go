package knowledge

import (
	"os"
	"testing"

	"kontakt/faq"
)

// loadSample reads the sample knowledge base of the evaluation set.
func loadSample(t testing.TB) []*faq.Entry {
	t.Helper()
	f, err := os.Open("../faq/testdata/kb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := faq.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}
