package faq

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// testStore connects to the database scripts/test.sh prepared. Tests of
// several packages share it, so every test uses ids of its own.
func testStore(t *testing.T) *Store {
	t.Helper()
	dsn := os.Getenv("KONTAKT_TEST_DATABASE_URL")
	if dsn == "" {
		t.Fatal("KONTAKT_TEST_DATABASE_URL is not set: run the tests with scripts/test.sh")
	}
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return NewStore(pool)
}

// suffix makes ids unique to one test run.
func suffix() string { return "-t" + strings.ToLower(rand.Text()[:10]) }

func newEntry(id string) *Entry {
	return &Entry{
		ID: id, Category: "dormitory", Audience: []Audience{Student},
		Question: "Сколько стоит общежитие?", Answer: "1500 рублей в месяц.",
	}
}

func TestStoreCRUDAndHistory(t *testing.T) {
	ctx := context.Background()
	s := testStore(t)
	id := "dorm-cost" + suffix()

	e := newEntry(id)
	e.Tags = []string{"общага"}
	if err := s.Create(ctx, e, "anna"); err != nil {
		t.Fatal(err)
	}
	if e.Version != 1 || e.UpdatedBy != "anna" || e.UpdatedAt.IsZero() {
		t.Errorf("after create: version %d by %q at %v", e.Version, e.UpdatedBy, e.UpdatedAt)
	}
	if err := s.Create(ctx, newEntry(id), "anna"); !errors.Is(err, ErrExists) {
		t.Errorf("second create: %v, want ErrExists", err)
	}
	var fe *FieldError
	if err := s.Create(ctx, &Entry{ID: "x" + suffix(), Category: "dormitory"}, "anna"); !errors.As(err, &fe) || fe.Field != "question" {
		t.Errorf("invalid create: %v", err)
	}

	got, err := s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Tags, []string{"общага"}) || got.Version != 1 || !sameContent(got, e) {
		t.Errorf("get = %+v", got)
	}

	until := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	got.Answer = "1600 рублей в месяц."
	got.AnswerFor = map[Audience]string{Applicant: "Для первокурсников — 1400 рублей."}
	got.ValidUntil = &until
	if err := s.Update(ctx, got, "boris"); err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 {
		t.Errorf("version after update = %d", got.Version)
	}
	// Saving the same text again writes no version.
	same := *got
	if err := s.Update(ctx, &same, "boris"); err != nil || same.Version != 2 {
		t.Errorf("no-op update: %v, version %d", err, same.Version)
	}

	list, err := s.Find(ctx, Filter{Category: "dormitory", Text: "ПЕРВОКУРСН"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(list, func(e *Entry) bool { return e.ID == id }) {
		t.Errorf("Find by answer_for text did not find %s", id)
	}
	list, err = s.Find(ctx, Filter{Category: "tuition", Text: id})
	if err != nil || len(list) != 0 {
		t.Errorf("Find in another category: %v, %d entries", err, len(list))
	}
	review, err := s.NeedsReview(ctx, time.Date(2026, 6, 20, 12, 0, 0, 0, time.UTC))
	if err != nil || !slices.ContainsFunc(review, func(e *Entry) bool { return e.ID == id }) {
		t.Errorf("NeedsReview misses an entry expiring in 10 days: %v", err)
	}

	if err := s.Delete(ctx, id, "vera"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("get after delete: %v", err)
	}
	if err := s.Delete(ctx, id, "vera"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}

	restored, err := s.Restore(ctx, id, 1, "gleb")
	if err != nil {
		t.Fatal(err)
	}
	if restored.Version != 4 || restored.Answer != "1500 рублей в месяц." || restored.ValidUntil != nil {
		t.Errorf("restored = %+v", restored)
	}

	hist, err := s.History(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		v      int
		op     Op
		by     string
		answer string
	}
	var steps []step
	for _, r := range hist {
		steps = append(steps, step{r.Version, r.Op, r.By, r.Entry.Answer})
		if r.At.IsZero() || r.Entry.ID != id || r.Entry.Version != r.Version {
			t.Errorf("revision %d: %+v", r.Version, r)
		}
	}
	want := []step{
		{1, OpCreate, "anna", "1500 рублей в месяц."},
		{2, OpUpdate, "boris", "1600 рублей в месяц."},
		{3, OpDelete, "vera", "1600 рублей в месяц."},
		{4, OpRestore, "gleb", "1500 рублей в месяц."},
	}
	if !reflect.DeepEqual(steps, want) {
		t.Errorf("history:\n got %v\nwant %v", steps, want)
	}
	if !reflect.DeepEqual(hist[1].Entry.AnswerFor, got.AnswerFor) || !sameDate(hist[1].Entry.ValidUntil, &until) {
		t.Errorf("version 2 lost data: %+v", hist[1].Entry)
	}
	v2, err := s.Version(ctx, id, 2)
	if err != nil || v2.By != "boris" || !sameContent(v2.Entry, hist[1].Entry) {
		t.Errorf("Version(2) = %+v, %v", v2, err)
	}
	if _, err := s.Version(ctx, id, 9); !errors.Is(err, ErrNotFound) {
		t.Errorf("Version(9): %v", err)
	}
	if _, err := s.History(ctx, "never"+suffix()); !errors.Is(err, ErrNotFound) {
		t.Errorf("History of an unknown id: %v", err)
	}
}

func TestStoreUpdateConflict(t *testing.T) {
	ctx := context.Background()
	s := testStore(t)
	id := "conflict" + suffix()
	if err := s.Create(ctx, newEntry(id), "anna"); err != nil {
		t.Fatal(err)
	}
	a, _ := s.Get(ctx, id)
	b, _ := s.Get(ctx, id)
	a.Answer = "Ответ Анны."
	if err := s.Update(ctx, a, "anna"); err != nil {
		t.Fatal(err)
	}
	b.Answer = "Ответ Бориса."
	if err := s.Update(ctx, b, "boris"); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale update: %v, want ErrConflict", err)
	}
	got, _ := s.Get(ctx, id)
	if got.Answer != "Ответ Анны." || got.Version != 2 {
		t.Errorf("after conflict: %+v", got)
	}
	if err := s.Update(ctx, newEntry("missing"+suffix()), "anna"); !errors.Is(err, ErrNotFound) {
		t.Errorf("update of a missing entry: %v", err)
	}
}

// sampleWithSuffix is the sample knowledge base with ids unique to this run.
func sampleWithSuffix(t *testing.T, sfx string) *File {
	f, _ := readSample(t)
	for _, e := range f.Entries {
		e.ID += sfx
	}
	return f
}

func own(entries []*Entry, sfx string) []*Entry {
	return slices.DeleteFunc(slices.Clone(entries), func(e *Entry) bool { return !strings.HasSuffix(e.ID, sfx) })
}

func TestImportAndExportRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := testStore(t)
	sfx := suffix()
	f := sampleWithSuffix(t, sfx)
	f.Meta["key"+sfx] = "значение" + sfx
	res, err := s.ImportFile(ctx, f, "import")
	if err != nil {
		t.Fatal(err)
	}
	if res != (ImportResult{Created: 120}) {
		t.Errorf("first import: %+v", res)
	}
	meta, err := s.Meta(ctx)
	if err != nil || meta["key"+sfx] != "значение"+sfx {
		t.Errorf("meta after import: %v %v", err, meta)
	}

	// Export, read back: the same entries.
	all, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Encode(&buf, f.Meta, own(all, sfx)); err != nil {
		t.Fatal(err)
	}
	back, err := Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := sampleWithSuffix(t, sfx).Entries
	byID := func(a, b *Entry) int { return strings.Compare(a.ID, b.ID) }
	slices.SortFunc(back, byID)
	slices.SortFunc(want, byID)
	if !reflect.DeepEqual(back, want) {
		t.Fatalf("export differs from the imported file")
	}

	// Import again with two changes: only those get a new version.
	g := sampleWithSuffix(t, sfx)
	g.Entries[0].Answer += " Дополнение."
	g.Entries[5].Tags = append(g.Entries[5].Tags, "новый-тег")
	res, err = s.Import(ctx, g.Entries, "import2")
	if err != nil {
		t.Fatal(err)
	}
	if res != (ImportResult{Updated: 2, Unchanged: 118}) {
		t.Errorf("second import: %+v", res)
	}
	hist, err := s.History(ctx, g.Entries[0].ID)
	if err != nil || len(hist) != 2 || hist[1].By != "import2" {
		t.Errorf("history after re-import: %v %+v", err, hist)
	}
	if hist, _ := s.History(ctx, g.Entries[1].ID); len(hist) != 1 {
		t.Errorf("an unchanged entry got %d versions", len(hist))
	}
}

func TestImportAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s := testStore(t)
	sfx := suffix()
	existing := newEntry("existing" + sfx)
	if err := s.Create(ctx, existing, "anna"); err != nil {
		t.Fatal(err)
	}

	file := func(broken string) string {
		return fmt.Sprintf(`meta:
  note: test
entries:
- id: existing%[1]s
  category: dormitory
  audience: [student]
  question: Сколько стоит общежитие?
  answer: Изменённый ответ.
- id: fresh%[1]s
  category: dormitory
  audience: [student]
  question: Где общежитие?
  answer: На улице Университетской.
%[2]s`, sfx, broken)
	}
	tests := []struct {
		name   string
		broken string
		line   int
		field  string
		msg    string
	}{
		{"duplicate id", "- id: fresh" + sfx + "\n  category: dormitory\n  audience: [student]\n  question: Ещё?\n  answer: Да.\n",
			14, "id", "duplicate id, first used at line 9"},
		{"empty answer", "- id: empty" + sfx + "\n  category: dormitory\n  audience: [student]\n  question: Ещё?\n  answer: ''\n",
			18, "answer", "is empty"},
		{"unknown audience", "- id: aud" + sfx + "\n  category: dormitory\n  audience: [student, abiturient]\n  question: Ещё?\n  answer: Да.\n",
			16, "audience", `unknown audience "abiturient"`},
		{"bad date", "- id: date" + sfx + "\n  category: dormitory\n  audience: [student]\n  question: Ещё?\n  answer: Да.\n  valid_until: 2026-02-30\n",
			19, "valid_until", `bad date "2026-02-30"`},
		{"syntax error", "- id: syntax" + sfx + "\n  category: [dormitory\n  audience: [student]\n",
			14, "yaml", "syntax error"}, // yaml.v3 names the line where the broken construct begins
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ReadFile(strings.NewReader(file(tt.broken)))
			if err == nil {
				if _, err = s.ImportFile(ctx, f, "import"); err == nil {
					t.Fatal("a broken file was imported")
				}
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Line != tt.line || fe.Field != tt.field || !strings.Contains(fe.Msg, tt.msg) {
				t.Errorf("got %v, want line %d, field %s, %q", err, tt.line, tt.field, tt.msg)
			}
			assertUnchanged(t, s, existing, "fresh"+sfx)
		})
	}

	// A failure inside the transaction (PostgreSQL refuses NUL in text)
	// rolls back the entries written before it.
	entries := []*Entry{newEntry(existing.ID), newEntry("fresh" + sfx), newEntry("nul" + sfx)}
	entries[0].Answer = "Изменённый ответ."
	entries[2].Answer = "bad\x00byte"
	if _, err := s.Import(ctx, entries, "import"); err == nil {
		t.Fatal("import with a NUL byte succeeded")
	}
	assertUnchanged(t, s, existing, "fresh"+sfx)

	// Import checks the entries itself too, for callers without a file.
	entries = []*Entry{newEntry("fresh" + sfx), newEntry("fresh" + sfx)}
	var fe *FieldError
	if _, err := s.Import(ctx, entries, "import"); !errors.As(err, &fe) || fe.Field != "id" {
		t.Errorf("import of a repeated id: %v", err)
	}
	assertUnchanged(t, s, existing, "fresh"+sfx)
}

func assertUnchanged(t *testing.T, s *Store, existing *Entry, absent string) {
	t.Helper()
	ctx := context.Background()
	got, err := s.Get(ctx, existing.ID)
	if err != nil || got.Version != 1 || got.Answer != existing.Answer {
		t.Errorf("existing entry changed: %+v, %v", got, err)
	}
	if _, err := s.Get(ctx, absent); !errors.Is(err, ErrNotFound) {
		t.Errorf("entry %s was created: %v", absent, err)
	}
}

func TestFeedback(t *testing.T) {
	ctx := context.Background()
	s := testStore(t)
	id := "feedback" + suffix()
	start := time.Now().Add(-time.Minute)
	for _, helpful := range []bool{true, true, false} {
		if err := s.AddFeedback(ctx, Feedback{EntryID: id, Helpful: helpful, Query: "общага сколько", Channel: "telegram"}); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-48 * time.Hour)
	if err := s.AddFeedback(ctx, Feedback{EntryID: id, Helpful: false, At: old}); err != nil {
		t.Fatal(err)
	}
	stats, err := s.FeedbackStats(ctx, start)
	if err != nil {
		t.Fatal(err)
	}
	if st := stats[id]; st.Helpful != 2 || st.Unhelpful != 1 || st.Last.Before(start) {
		t.Errorf("stats since a minute ago: %+v", st)
	}
	stats, _ = s.FeedbackStats(ctx, time.Time{})
	if st := stats[id]; st.Helpful != 2 || st.Unhelpful != 2 {
		t.Errorf("all stats: %+v", st)
	}
}

func TestListenSeesChanges(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := testStore(t)
	got := make(chan []string, 100)
	done := make(chan error, 1)
	go func() { done <- s.Listen(ctx, func(ids []string) { got <- ids }) }()

	// The first call says "reload everything": the listener is ready.
	select {
	case ids := <-got:
		if ids != nil {
			t.Fatalf("first call with %v, want nil", ids)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the listener did not connect")
	}

	id := "listen" + suffix()
	wait := func(what string) {
		t.Helper()
		deadline := time.After(time.Second)
		for {
			select {
			case ids := <-got:
				if slices.Contains(ids, id) {
					return
				}
			case <-deadline:
				t.Fatalf("no notification for %s of %s within a second", what, id)
			}
		}
	}
	e := newEntry(id)
	if err := s.Create(ctx, e, "anna"); err != nil {
		t.Fatal(err)
	}
	wait("create")
	e.Answer = "Новый ответ."
	if err := s.Update(ctx, e, "anna"); err != nil {
		t.Fatal(err)
	}
	wait("update")
	if _, err := s.Import(ctx, []*Entry{newEntry(id)}, "anna"); err != nil {
		t.Fatal(err)
	}
	wait("import")
	if err := s.Delete(ctx, id, "anna"); err != nil {
		t.Fatal(err)
	}
	wait("delete")

	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Listen returned %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Error("Listen did not return after cancel")
	}
}
