package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"kontakt/bot"
	"kontakt/escalation"
)

// hub fans the appeal events of the escalation outbox out to the open
// inbox pages. It reads the outbox without claiming rows (the outbox's own
// dispatcher delivers them), woken by the outbox's NOTIFY and by a poll.
type hub struct {
	db   *pgxpool.Pool
	log  *slog.Logger
	wake chan struct{}

	mu   sync.Mutex
	subs map[chan escalation.Event]struct{}
}

func newHub(db *pgxpool.Pool, log *slog.Logger) *hub {
	return &hub{db: db, log: log, wake: make(chan struct{}, 1), subs: map[chan escalation.Event]struct{}{}}
}

// poke makes the hub read the outbox now (after the console's own change).
func (h *hub) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func (h *hub) subscribe() (chan escalation.Event, func()) {
	ch := make(chan escalation.Event, 64)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
	}
}

func (h *hub) broadcast(e escalation.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- e:
		default: // a slow page misses an event; it reloads on the next one
		}
	}
}

func (h *hub) run(ctx context.Context) error {
	var last int64
	if err := h.db.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM esc_outbox`).Scan(&last); err != nil {
		return fmt.Errorf("console events: %w", err)
	}
	for ctx.Err() == nil {
		err := h.listen(ctx, &last)
		if err != nil && ctx.Err() == nil {
			h.log.Warn("console events", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
	}
	return nil
}

func (h *hub) listen(ctx context.Context, last *int64) error {
	pc, err := h.db.Acquire(ctx)
	if err != nil {
		return err
	}
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN esc_outbox"); err != nil {
		return err
	}
	notified := make(chan error, 1)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for {
			_, err := conn.WaitForNotification(lctx)
			if err != nil {
				notified <- err
				return
			}
			h.poke()
		}
	}()
	tick := time.NewTicker(3 * time.Second)
	defer tick.Stop()
	for {
		if err := h.read(ctx, last); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-notified:
			return err
		case <-h.wake:
		case <-tick.C:
		}
	}
}

func (h *hub) read(ctx context.Context, last *int64) error {
	rows, err := h.db.Query(ctx, `SELECT id, payload FROM esc_outbox WHERE id > $1 ORDER BY id LIMIT 500`, *last)
	if err != nil {
		return err
	}
	events, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (escalation.Event, error) {
		var (
			id int64
			e  escalation.Event
		)
		err := r.Scan(&id, &e)
		e.ID = id
		return e, err
	})
	if err != nil {
		return err
	}
	for _, e := range events {
		*last = e.ID
		h.broadcast(e)
	}
	return nil
}

// handleEvents streams the events of appeals the person may see as
// server-sent events ("appeal", JSON of the event).
func (s *Server) handleEvents() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ss := sessionFrom(r.Context())
		fl, ok := w.(http.Flusher)
		if !ok {
			http.Error(w, "streaming unsupported", http.StatusInternalServerError)
			return
		}
		ch, cancel := s.hub.subscribe()
		defer cancel()
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, ": connected\n\n")
		fl.Flush()
		ping := time.NewTicker(20 * time.Second)
		defer ping.Stop()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-ping.C:
				fmt.Fprint(w, ": ping\n\n")
			case e := <-ch:
				a := &escalation.Appeal{Queue: e.Queue, AssigneeID: e.AssigneeID}
				if !visible(ss, a) {
					continue
				}
				data, _ := json.Marshal(map[string]any{"id": e.AppealID, "number": e.Number, "kind": e.Kind, "status": e.Status, "queue": e.Queue})
				fmt.Fprintf(w, "event: appeal\ndata: %s\n\n", data)
			}
			fl.Flush()
		}
	})
}

// Senders is a Notifier that writes to clients through the bots' senders:
// through the channel of the appeal, or, for an appeal without one (walk-in,
// phone), through the first channel of the client that has a sender, and
// then by e-mail to the address in the client's record.
type Senders struct {
	Appeals *escalation.Service
	By      map[escalation.Channel]bot.Sender
}

var _ Notifier = (*Senders)(nil)

// Notify sends text to the client of a.
func (n *Senders) Notify(ctx context.Context, a *escalation.Appeal, text string) error {
	if snd := n.By[a.Channel]; snd != nil && a.ExternalID != "" {
		return snd.Send(ctx, bot.Chat{Channel: bot.Channel(a.Channel), ID: a.ExternalID}, bot.Reply{Text: text})
	}
	c, err := n.Appeals.Client(ctx, a.ClientID)
	if err != nil {
		return err
	}
	var errs []error
	tried := map[bot.Chat]bool{}
	send := func(ch escalation.Channel, id string) bool {
		snd, chat := n.By[ch], bot.Chat{Channel: bot.Channel(ch), ID: id}
		if snd == nil || id == "" || tried[chat] {
			return false
		}
		tried[chat] = true
		err := snd.Send(ctx, chat, bot.Reply{Text: text})
		if err != nil {
			errs = append(errs, err)
		}
		return err == nil
	}
	for _, id := range c.Identities {
		if id.Channel != a.Channel && send(id.Channel, id.ExternalID) {
			return nil
		}
	}
	// Walk-in and phone clients, and anyone whose messengers failed, are
	// reached at the e-mail address they gave.
	if send(escalation.Email, c.Email) {
		return nil
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return ErrNoChannel
}
