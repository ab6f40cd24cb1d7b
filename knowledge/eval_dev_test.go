package knowledge

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

func TestDevDump(t *testing.T) {
	if os.Getenv("KDEV") == "" {
		t.Skip()
	}
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
