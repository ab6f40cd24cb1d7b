package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"kontakt/bot"
	"kontakt/escalation"
	"kontakt/knowledge"
)

// app is what the parts of a running Kontakt share: one connection pool,
// one Redis client, one knowledge base and one appeals service, whichever
// channels and tools are configured.
type app struct {
	cfg  Config
	log  *slog.Logger
	pool *pgxpool.Pool
	rdb  *redis.Client // nil when REDIS_URL is not set
	kb   *knowledge.Base
	svc  *escalation.Service
	// senders write to clients, by channel: the relay and the console
	// answer through them.
	senders map[bot.Channel]bot.Sender
}

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
	a := &app{cfg: cfg, log: log, pool: pool, senders: map[bot.Channel]bot.Sender{}}
	if a.kb, err = openKnowledge(ctx, cfg, pool, log); err != nil {
		return err
	}
	defer a.kb.Close()
	a.svc = escalation.New(pool, escalation.Config{})
	if err := a.svc.LoadCalendar(ctx); err != nil {
		return err
	}
	if cfg.RedisURL != "" {
		if a.rdb, err = openRedis(ctx, cfg.RedisURL); err != nil {
			return err
		}
		defer a.rdb.Close()
	}

	// The channels hand every message to handler: the dialogs, behind the
	// operators' relay when it is on. The relay needs the channels to
	// write to clients, so the handler is chosen once they exist and
	// before any of them runs.
	var handler bot.Handler
	viaHandler := bot.HandlerFunc(func(ctx context.Context, m bot.Message) ([]bot.Reply, error) {
		return handler.Handle(ctx, m)
	})
	tg, err := a.newTelegram(viaHandler)
	if err != nil {
		return err
	}
	vkc, err := a.newVKChannel(viaHandler)
	if err != nil {
		return err
	}
	if err := a.newEmail(); err != nil {
		return err
	}
	handler = bot.HandlerFunc(func(context.Context, bot.Message) ([]bot.Reply, error) { return nil, nil })
	if a.rdb != nil { // configuration requires Redis for every channel
		handler = a.dialog()
	}
	relay, err := a.startOperator(ctx, tg, handler)
	if err != nil {
		return err
	}
	if relay != nil {
		handler = relay.Wrap(handler)
	}
	go a.deadlineWorker(ctx, relay)
	if err := a.runTelegram(ctx, tg); err != nil {
		return err
	}
	if err := a.runVK(ctx, vkc); err != nil {
		return err
	}
	if err := a.startConsole(ctx, relay != nil); err != nil {
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
