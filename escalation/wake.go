package escalation

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// waker sends the NOTIFY that wakes the event dispatchers, after a change
// with events has committed. Notifications are coalesced: while one is on
// its way, any number of wake-ups make exactly one more. A dispatcher
// drains every pending event when woken, so one notification serves many
// changes, and the commits themselves no longer queue on PostgreSQL's
// notification lock (about a third of the cost of registering an appeal
// on two cores). Should the process die between a commit and its
// notification, the dispatchers' polling still delivers the event.
type waker struct {
	db *pgxpool.Pool

	mu      sync.Mutex
	running bool // a goroutine is sending
	pending bool // another notification is needed after this one
}

// Wake asks for a notification; it never blocks.
func (w *waker) Wake() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running {
		w.pending = true
		return
	}
	w.running = true
	go w.send()
}

func (w *waker) send() {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		// A failure only delays delivery until the next poll.
		w.db.Exec(ctx, `SELECT pg_notify('`+notifyChannel+`', '')`)
		cancel()
		w.mu.Lock()
		if !w.pending {
			w.running = false
			w.mu.Unlock()
			return
		}
		w.pending = false
		w.mu.Unlock()
	}
}
