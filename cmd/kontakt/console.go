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
// does) and senders. With the operators' relay on, the relay tells clients
// in the channels it writes to the results of resolved appeals and asks
// for ratings; the console only resolves those.
func (a *app) newConsole(relayOn bool) (*console.Server, error) {
	store := faq.NewStore(a.pool)
	store.Logger = a.log
	senders := &console.Senders{Appeals: a.svc, By: map[escalation.Channel]bot.Sender{}}
	var byRelay map[escalation.Channel]bool
	if relayOn {
		byRelay = map[escalation.Channel]bool{}
	}
	for ch, s := range a.senders {
		senders.By[escalation.Channel(ch)] = s
		if relayOn {
			byRelay[escalation.Channel(ch)] = true
		}
	}
	return console.New(console.Config{DB: a.pool, Appeals: a.svc, FAQ: store, Knowledge: a.kb, Notifier: senders,
		RelayResults: byRelay, CookieSecure: a.cfg.CookieSecure, BaseURL: consoleURL(a.cfg), Log: a.log.With("component", "console")})
}

// startConsole serves the console (and /healthz) until ctx is done;
// relayOn says whether the operators' relay runs.
func (a *app) startConsole(ctx context.Context, relayOn bool) error {
	cfg, log := a.cfg, a.log
	srv, err := a.newConsole(relayOn)
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
