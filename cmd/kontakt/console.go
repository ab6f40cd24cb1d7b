package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"kontakt/bot"
	"kontakt/bot/telegram"
	"kontakt/escalation"
	"kontakt/faq"
	"kontakt/operator/console"
)

// consoleAddr is where the staff console listens.
func consoleAddr(cfg Config) string {
	if cfg.ConsoleAddr != "" {
		return cfg.ConsoleAddr
	}
	return cfg.HTTPAddr
}

// consoleURL is the console's public address, for password links.
func consoleURL(cfg Config) string {
	if cfg.ConsoleURL != "" {
		return cfg.ConsoleURL
	}
	return "http://" + consoleAddr(cfg)
}

// newConsole builds the staff web console: appeals, the knowledge base from
// PostgreSQL kept current by change notifications, and replies to clients
// through the bots' senders. The returned stop releases what it opened.
func newConsole(ctx context.Context, cfg Config, pool *pgxpool.Pool, log *slog.Logger) (*console.Server, func(), error) {
	svc := escalation.New(pool, escalation.Config{})
	if err := svc.LoadCalendar(ctx); err != nil {
		return nil, nil, err
	}
	store := faq.NewStore(pool)
	store.Logger = log
	// The knowledge base is built as the bot's is, so that "try a
	// question" shows exactly what the bot does.
	kb, err := openKnowledge(ctx, cfg, pool, log)
	if err != nil {
		return nil, nil, err
	}
	senders := &console.Senders{Appeals: svc, By: map[escalation.Channel]bot.Sender{}}
	// Send-only channels: updates are consumed by startTelegram's and
	// startVK's; these only write to clients.
	vkch, stop, err := vkSender(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	if vkch != nil {
		senders.By[escalation.VK] = vkch
	}
	if cfg.TelegramToken != "" {
		rdb, err := openRedis(ctx, cfg.RedisURL)
		if err != nil {
			stop()
			return nil, nil, err
		}
		stopVK := stop
		stop = func() { stopVK(); rdb.Close() }
		ch, err := telegram.New(telegram.Config{Token: cfg.TelegramToken, BaseURL: cfg.TelegramAPIURL, Redis: rdb, Log: log,
			Handler: bot.HandlerFunc(func(context.Context, bot.Message) ([]bot.Reply, error) { return nil, nil })})
		if err != nil {
			stop()
			return nil, nil, err
		}
		senders.By[escalation.Telegram] = ch
	}
	srv, err := console.New(console.Config{DB: pool, Appeals: svc, FAQ: store, Knowledge: kb, Notifier: senders,
		CookieSecure: cfg.CookieSecure, BaseURL: consoleURL(cfg), Log: log.With("component", "console")})
	if err != nil {
		stop()
		return nil, nil, err
	}
	return srv, stop, nil
}

// startConsole serves the console (and /healthz) until ctx is done.
func startConsole(ctx context.Context, cfg Config, pool *pgxpool.Pool, log *slog.Logger) error {
	srv, stop, err := newConsole(ctx, cfg, pool, log)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	go srv.Run(ctx)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.Handle("/", srv)
	hs := &http.Server{Addr: consoleAddr(cfg), Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		hs.Close()
		stop()
	}()
	go func() {
		if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("console listener", "err", err)
		}
	}()
	log.Info("console: listening", "addr", consoleAddr(cfg), "secure_cookies", cfg.CookieSecure)
	return nil
}
