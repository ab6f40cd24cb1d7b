package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"kontakt/bot"
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

// newConsole builds the staff web console on the app's appeals, knowledge
// base (the bot's own, so that "try a question" shows exactly what the bot
// does) and senders.
func (a *app) newConsole() (*console.Server, error) {
	store := faq.NewStore(a.pool)
	store.Logger = a.log
	senders := &console.Senders{Appeals: a.svc, By: map[escalation.Channel]bot.Sender{}}
	for ch, s := range a.senders {
		senders.By[escalation.Channel(ch)] = s
	}
	return console.New(console.Config{DB: a.pool, Appeals: a.svc, FAQ: store, Knowledge: a.kb, Notifier: senders,
		CookieSecure: a.cfg.CookieSecure, BaseURL: consoleURL(a.cfg), Log: a.log.With("component", "console")})
}

// startConsole serves the console (and /healthz) until ctx is done.
func (a *app) startConsole(ctx context.Context) error {
	cfg, log := a.cfg, a.log
	srv, err := a.newConsole()
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
	}()
	go func() {
		if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("console listener", "err", err)
		}
	}()
	log.Info("console: listening", "addr", consoleAddr(cfg), "secure_cookies", cfg.CookieSecure)
	return nil
}
