package escalation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Handler receives events of appeals. Delivery is at least once: an event
// whose handling failed, or whose process died before recording the
// delivery, is delivered again; Event.ID tells repeats apart.
type Handler interface {
	HandleEvent(ctx context.Context, e Event) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, e Event) error

// HandleEvent calls f.
func (f HandlerFunc) HandleEvent(ctx context.Context, e Event) error { return f(ctx, e) }

// notifyChannel is the PostgreSQL channel that wakes dispatchers up.
const notifyChannel = "esc_outbox"

// Dispatcher delivers the events of the outbox table to a Handler. Events
// are written in the transaction of the change they describe, so none is
// lost when a process dies between commit and delivery: the next Drain
// delivers it. Several dispatchers may run at once (rows are claimed with
// FOR UPDATE SKIP LOCKED); the handler runs while the rows are locked, so
// it should be quick (hand the event over, don't do slow work).
type Dispatcher struct {
	DB      *pgxpool.Pool
	Handler Handler
	Batch   int           // events per transaction (100)
	Poll    time.Duration // wake-up without a notification (5s)
	Log     *slog.Logger  // slog.Default() if nil
}

func (d *Dispatcher) log() *slog.Logger {
	if d.Log == nil {
		return slog.Default()
	}
	return d.Log
}

// Drain delivers pending events, oldest first, until none are left or only
// failing ones are, and returns how many it delivered.
func (d *Dispatcher) Drain(ctx context.Context) (int, error) {
	batch := d.Batch
	if batch <= 0 {
		batch = 100
	}
	total := 0
	var lastErr error
	after := int64(0) // skip events that failed in this drain
	for {
		delivered, seen, last, err := d.drainOnce(ctx, batch, after)
		total += delivered
		if err != nil {
			lastErr = err
		}
		if seen < batch || ctx.Err() != nil {
			break
		}
		after = last
	}
	return total, lastErr
}

// drainOnce handles one batch of events with ids above after.
func (d *Dispatcher) drainOnce(ctx context.Context, batch int, after int64) (delivered, seen int, last int64, hErr error) {
	err := pgx.BeginFunc(ctx, d.DB, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, payload FROM esc_outbox
			WHERE delivered_at IS NULL AND id > $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`, after, batch)
		if err != nil {
			return err
		}
		events, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) {
			var (
				id int64
				e  Event
			)
			err := r.Scan(&id, &e)
			e.ID = id
			return e, err
		})
		if err != nil {
			return err
		}
		seen = len(events)
		var ok, failed []int64
		for _, e := range events {
			last = e.ID
			if err := d.Handler.HandleEvent(ctx, e); err != nil {
				d.log().Error("appeal event not delivered", "event", e.ID, "kind", e.Kind, "appeal", e.AppealID, "err", err)
				hErr = fmt.Errorf("deliver event %d: %w", e.ID, err)
				failed = append(failed, e.ID)
				continue
			}
			ok = append(ok, e.ID)
		}
		var b pgx.Batch
		b.Queue(`UPDATE esc_outbox SET delivered_at = now(), attempts = attempts + 1 WHERE id = ANY($1)`, ok)
		b.Queue(`UPDATE esc_outbox SET attempts = attempts + 1 WHERE id = ANY($1)`, failed)
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return err
		}
		delivered = len(ok)
		return nil
	})
	if err != nil {
		return 0, 0, after, fmt.Errorf("drain appeal events: %w", err)
	}
	return delivered, seen, last, hErr
}

// Run delivers events until ctx ends: it drains the outbox, then waits for
// a NOTIFY (sent by every change) or the poll interval, and drains again.
// Lost connections are retried.
func (d *Dispatcher) Run(ctx context.Context) error {
	poll := d.Poll
	if poll <= 0 {
		poll = 5 * time.Second
	}
	for ctx.Err() == nil {
		if err := d.listen(ctx, poll); err != nil && ctx.Err() == nil {
			d.log().Error("appeal event dispatcher", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(poll):
			}
		}
	}
	return nil
}

func (d *Dispatcher) listen(ctx context.Context, poll time.Duration) error {
	pc, err := d.DB.Acquire(ctx)
	if err != nil {
		return err
	}
	conn := pc.Hijack() // a listening connection must not go back to the pool
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	for {
		if _, err := d.Drain(ctx); err != nil && ctx.Err() == nil {
			d.log().Error("appeal events", "err", err)
		}
		wctx, cancel := context.WithTimeout(ctx, poll)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
	}
}
