package knowledge

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"kontakt/faq"
)

// TestEditReachesRunningIndex edits an entry through the store, as the
// console does, and waits for a running base, following the store's change
// notifications, to answer with the new text.
func TestEditReachesRunningIndex(t *testing.T) {
	dsn := os.Getenv("KONTAKT_TEST_DATABASE_URL")
	if dsn == "" {
		t.Fatal("KONTAKT_TEST_DATABASE_URL is not set: run the tests with scripts/test.sh")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close) // after the entry is deleted below
	store := faq.NewStore(pool)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	id := "follow-" + strings.ToLower(rand.Text()[:10])
	e := &faq.Entry{ID: id, Category: "other", Audience: []faq.Audience{faq.Student},
		Question: "Где оставить велосипед у главного корпуса?", Answer: "Велопарковка стоит у входа в главный корпус."}
	if err := store.Create(ctx, e, "test"); err != nil {
		t.Fatal(err)
	}
	// Another run's entry would be a twin of this one.
	t.Cleanup(func() {
		if err := store.Delete(context.Background(), id, "test"); err != nil {
			t.Errorf("clean up: %v", err)
		}
	})
	entries, err := store.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(entries)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	changed := make(chan struct{}, 1)
	ready := make(chan struct{})
	first := true
	go store.Listen(ctx, func(ids []string) {
		if first {
			first = false
			close(ready)
		}
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	go b.Follow(ctx, store, changed, 20*time.Millisecond, log)
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("the change listener did not connect")
	}

	const question = "можно ли взять напрокат каяк на лодочной станции института"
	if d := b.Decide(ctx, question, ""); d.Entry != nil && d.Entry.ID == id {
		t.Fatalf("answered %s before the edit", id)
	}
	e.Question = "Можно ли взять напрокат каяк на лодочной станции?"
	e.Alternatives = []string{"Прокат каяков и лодок для студентов"}
	e.Answer = "Каяки выдают на лодочной станции института по студенческому билету."
	edited := time.Now()
	if err := store.Update(ctx, e, "test"); err != nil {
		t.Fatal(err)
	}
	for {
		d := b.Decide(ctx, question, "")
		if d.Kind == Answer && d.Entry.ID == id {
			if d.Entry.Answer != e.Answer {
				t.Fatalf("answered with the old text %q", d.Entry.Answer)
			}
			took := time.Since(edited)
			t.Logf("the edit was answered %v after the commit", took.Round(time.Millisecond))
			if took > time.Second {
				t.Errorf("the edit took %v to reach the index, want under a second", took)
			}
			return
		}
		if time.Since(edited) > 10*time.Second {
			t.Fatalf("the edit never reached the index: %s (%s), candidates %v", d.Kind, d.Reason, ids(d.Candidates))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
