package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"kontakt/faq"
	"kontakt/knowledge"
)

// openKnowledge builds the knowledge base from the entries in PostgreSQL
// and keeps it in step with every change, on any replica, until ctx ends.
// A database with no entries yet is seeded from KONTAKT_KB_FILE when that
// is set, so that a new installation answers at once.
func openKnowledge(ctx context.Context, cfg Config, pool *pgxpool.Pool, log *slog.Logger) (*knowledge.Base, error) {
	store := faq.NewStore(pool)
	store.Logger = log
	entries, err := store.List(ctx)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 && cfg.KBFile != "" {
		if entries, err = seedKnowledge(ctx, store, cfg.KBFile); err != nil {
			return nil, err
		}
		log.Info("knowledge base seeded", "file", cfg.KBFile, "entries", len(entries))
	}
	kb, err := knowledge.New(entries)
	if err != nil {
		return nil, err
	}
	changed := make(chan struct{}, 1)
	go func() {
		err := store.Listen(ctx, func([]string) {
			select {
			case changed <- struct{}{}:
			default: // a reload is already pending; it will see this change too
			}
		})
		if ctx.Err() == nil {
			log.Error("faq change listener stopped", "err", err)
		}
	}()
	go kb.Follow(ctx, store, changed, cfg.IndexReloadDelay, log)
	go func() {
		<-ctx.Done()
		kb.Close()
	}()
	log.Info("knowledge base ready", "entries", kb.Len())
	return kb, nil
}

func seedKnowledge(ctx context.Context, store *faq.Store, name string) ([]*faq.Entry, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("KONTAKT_KB_FILE: %w", err)
	}
	defer f.Close()
	file, err := faq.ReadFile(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if _, err := store.ImportFile(ctx, file, "seed"); err != nil {
		return nil, err
	}
	return store.List(ctx)
}
