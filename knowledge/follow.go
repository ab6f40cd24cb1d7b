package knowledge

import (
	"context"
	"log/slog"
	"time"

	"kontakt/faq"
)

// Lister is where the entries come from (faq.Store in production).
type Lister interface {
	List(ctx context.Context) ([]*faq.Entry, error)
}

// Follow keeps the base in step with src until ctx ends: after each signal
// on changed it waits delay for more changes to arrive (an import changes
// many entries at once), then reloads everything. A failed reload is logged
// and retried on the next signal or after a few seconds; the base keeps
// answering from the entries it has.
func (b *Base) Follow(ctx context.Context, src Lister, changed <-chan struct{}, delay time.Duration, log *slog.Logger) {
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-retry.C:
		}
		// Debounce: collect the changes of the next moment into one reload.
		t := time.NewTimer(delay)
	drain:
		for {
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-changed:
			case <-t.C:
				break drain
			}
		}
		start := time.Now()
		entries, err := src.List(ctx)
		if err == nil {
			err = b.Reload(entries)
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Error("knowledge reload failed; still answering from the previous entries", "err", err)
			retry.Reset(5 * time.Second)
			continue
		}
		log.Info("knowledge base reloaded", "entries", len(entries), "took", time.Since(start).Round(time.Millisecond))
	}
}
