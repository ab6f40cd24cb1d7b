package main

import (
	"context"
	"io"
	"log/slog"
)

// runServe starts Kontakt: migrations, the knowledge base, and every
// configured channel and worker, until ctx is cancelled.
func runServe(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(getenv, "DATABASE_URL")
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	pool, err := openPool(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrate(ctx, pool, io.Discard); err != nil {
		return err
	}
	if err := startTelegram(ctx, cfg, pool, log); err != nil {
		return err
	}
	if err := startVK(ctx, cfg, pool, log); err != nil {
		return err
	}
	if err := startConsole(ctx, cfg, pool, log); err != nil {
		return err
	}
	log.Info("kontakt started")
	<-ctx.Done()
	log.Info("kontakt stopped")
	return nil
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: logLevels[cfg.LogLevel]}))
}
