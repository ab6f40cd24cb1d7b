package knowledge

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"go.yaml.in/yaml/v3"

	"kontakt/faq"
)

func loadSample(t testing.TB) []*faq.Entry {
	t.Helper()
	data, err := os.ReadFile("../faq/testdata/kb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Entries []*faq.Entry `yaml:"entries"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f.Entries
}

func TestDevDump(t *testing.T) {
	b, err := New(loadSample(t))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open("testdata/queries-dev.jsonl")
	qs, err := ReadQueries(f)
	if err != nil {
		t.Fatal(err)
	}
	res, sum := b.Evaluate(context.Background(), qs)
	out, _ := os.Create("/tmp/eval.jsonl")
	for _, r := range res {
		j, _ := json.Marshal(r)
		fmt.Fprintln(out, string(j))
	}
	j, _ := json.Marshal(sum)
	t.Log(string(j))
}
