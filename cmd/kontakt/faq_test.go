package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"kontakt/faq"
)

// TestFAQImportExport runs `kontakt faq import` and `kontakt faq export`
// on the sample knowledge base, with ids of its own in the shared database.
func TestFAQImportExport(t *testing.T) {
	dsn := os.Getenv("KONTAKT_TEST_DATABASE_URL")
	if dsn == "" {
		t.Fatal("KONTAKT_TEST_DATABASE_URL is not set: run the tests with scripts/test.sh")
	}
	env := map[string]string{"DATABASE_URL": dsn, "KONTAKT_USER": "tester"}
	kontakt := func(args ...string) (string, string, error) {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
		return stdout.String(), stderr.String(), err
	}

	data, err := os.ReadFile("../../faq/testdata/kb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sfx := "-cli" + strings.ToLower(rand.Text()[:8])
	kb, err := faq.ReadFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range kb.Entries {
		e.ID += sfx
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "kb.yaml")
	var buf bytes.Buffer
	if err := faq.Encode(&buf, kb.Meta, kb.Entries); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	out, _, err := kontakt("faq", "import", in)
	if err != nil || out != "импортировано записей: 120 (новых: 120, изменённых: 0, без изменений: 0)\n" {
		t.Fatalf("import: %q, %v", out, err)
	}
	out, _, err = kontakt("faq", "import", in)
	if err != nil || !strings.Contains(out, "без изменений: 120") {
		t.Fatalf("second import: %q, %v", out, err)
	}

	// A broken file: every problem on stderr with its line, nothing imported.
	broken := strings.Replace(buf.String(), "- id: admission-documents"+sfx, "- id: admission-documents"+sfx+"\n  valid_from: 2026-02-30", 1)
	broken = strings.Replace(broken, "  - applicant\n", "  - abiturient\n", 1)
	broken = strings.Replace(broken, "Какие документы нужны", "Какие бумаги нужны", 1)
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := kontakt("faq", "import", bad)
	if err == nil || !strings.Contains(err.Error(), "ничего не импортировано") {
		t.Fatalf("broken import: %v", err)
	}
	if !strings.Contains(stderr, `line 10: entry "admission-documents`+sfx+`": valid_from: bad date`) ||
		!strings.Contains(stderr, `line 13: entry "admission-documents`+sfx+`": audience: unknown audience "abiturient"`) {
		t.Errorf("stderr does not name the lines and fields:\n%s", stderr)
	}

	// Export to a file and to stdout: our entries come back unchanged.
	outFile := filepath.Join(dir, "out.yaml")
	if _, _, err := kontakt("faq", "export", outFile); err != nil {
		t.Fatal(err)
	}
	exported, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	stdout, _, err := kontakt("faq", "export")
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"file": string(exported), "stdout": stdout} {
		back, err := faq.Decode(strings.NewReader(text))
		if err != nil {
			t.Fatalf("export to %s: %v", name, err)
		}
		back = slices.DeleteFunc(back, func(e *faq.Entry) bool { return !strings.HasSuffix(e.ID, sfx) })
		byID := func(a, b *faq.Entry) int { return strings.Compare(a.ID, b.ID) }
		slices.SortFunc(back, byID)
		slices.SortFunc(kb.Entries, byID)
		if !reflect.DeepEqual(back, kb.Entries) {
			t.Errorf("export to %s differs from the import", name)
		}
	}
}
