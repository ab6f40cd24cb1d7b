package escalation_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"kontakt/escalation"
)

// outboxEvents returns every event written for an appeal, delivered or not.
func outboxEvents(t *testing.T, appealID int64) []escalation.Event {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT payload FROM esc_outbox WHERE appeal_id = $1 ORDER BY id`, appealID)
	if err != nil {
		t.Fatal(err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowTo[escalation.Event])
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func pending(t *testing.T, appealID int64) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM esc_outbox WHERE appeal_id = $1 AND delivered_at IS NULL`,
		appealID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// recorder is a handler that keeps what it got for the appeals it watches
// and fails for those in fail.
type recorder struct {
	mu    sync.Mutex
	watch map[int64]bool
	fail  map[int64]bool
	got   []escalation.Event
	seen  chan int64
}

func newRecorder(ids ...int64) *recorder {
	r := &recorder{watch: map[int64]bool{}, fail: map[int64]bool{}, seen: make(chan int64, 100)}
	for _, id := range ids {
		r.watch[id] = true
	}
	return r
}

func (r *recorder) HandleEvent(ctx context.Context, e escalation.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.watch[e.AppealID] {
		return nil
	}
	if r.fail[e.AppealID] {
		return errors.New("operator relay is down")
	}
	r.got = append(r.got, e)
	r.seen <- e.AppealID
	return nil
}

func (r *recorder) events() []escalation.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]escalation.Event(nil), r.got...)
}

func TestEventDeliveredAfterCrash(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	// The appeal is committed, and the process dies before anything
	// publishes its event: no dispatcher is running.
	a := openFor(t, s, escalation.Applicant, "admission")
	if n := pending(t, a.ID); n != 1 {
		t.Fatalf("%d pending events after Open, want 1", n)
	}

	// A fresh process starts; the relay fails at first.
	rec := newRecorder(a.ID)
	rec.fail[a.ID] = true
	d := &escalation.Dispatcher{DB: pool, Handler: rec}
	if _, err := d.Drain(ctx); err == nil {
		t.Error("Drain hid the handler's failure")
	}
	if n := pending(t, a.ID); n != 1 {
		t.Fatalf("a failed delivery left %d pending events, want 1", n)
	}
	// The relay is back.
	rec.fail[a.ID] = false
	if _, err := d.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	got := rec.events()
	if len(got) != 1 || got[0].Kind != escalation.EventOpened || got[0].Number != a.Number ||
		got[0].Channel != escalation.Telegram || got[0].ExternalID != a.ExternalID || got[0].ID == 0 {
		t.Fatalf("delivered %+v, want the opened event of %s", got, a.Number)
	}
	if n := pending(t, a.ID); n != 0 {
		t.Errorf("%d events still pending after delivery", n)
	}
	// Delivered events are not delivered again.
	if _, err := d.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.events()); n != 1 {
		t.Errorf("%d deliveries after a second drain, want 1", n)
	}
}

func TestDispatcherWakesOnNotify(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, _ := newService(t)
	first := openFor(t, s, escalation.Student, "other")
	rec := newRecorder(first.ID)
	// Polling is slow: only NOTIFY can deliver the second event in time.
	d := &escalation.Dispatcher{DB: pool, Handler: rec, Poll: time.Minute}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	wait := func(id int64) {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case got := <-rec.seen:
				if got == id {
					return
				}
			case <-timeout:
				t.Fatalf("no event for appeal %d", id)
			}
		}
	}
	wait(first.ID) // the dispatcher is listening now

	second := openFor(t, s, escalation.Student, "other")
	rec.mu.Lock()
	rec.watch[second.ID] = true
	rec.mu.Unlock()
	// The event may have been delivered before it was watched; then a
	// change of the watched appeal makes another.
	p := addStaff(t, s, "", 0, escalation.RoleContact)
	if _, err := s.Assign(context.Background(), second.ID, p.ID, p.ID); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	wait(second.ID)
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("event delivered after %v: NOTIFY did not wake the dispatcher", el)
	}
}
