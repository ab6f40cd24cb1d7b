// Package console is the staff web console of Kontakt: contact managers
// handle appeals and register walk-in visitors and hotline calls, personal
// managers and department heads answer what is forwarded to them, editors
// keep the knowledge base, and the head supervises with statistics and the
// audit log of personal data.
//
// Pages are server-rendered html/template with a little embedded
// JavaScript (live inbox updates over server-sent events); nothing is
// loaded from outside, so the console works in a closed network. Every
// action on an appeal goes through escalation.Service, the same mechanism
// the Telegram relay uses, so both share one history.
package console

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"kontakt/escalation"
	"kontakt/faq"
	"kontakt/knowledge"
)

// Notifier delivers a text to the client of an appeal through the channel
// the client wrote from (or another channel the client has).
type Notifier interface {
	Notify(ctx context.Context, a *escalation.Appeal, text string) error
}

// ErrNoChannel is returned by a Notifier that has no way to reach the
// client (a walk-in visitor without a messenger, say).
var ErrNoChannel = errors.New("console: no channel to reach the client")

// Decider is what the bot consults to answer a question: "try a question"
// shows exactly its decision.
type Decider interface {
	Decide(ctx context.Context, text string, audience faq.Audience) knowledge.Decision
}

// Config is what the console needs. DB, Appeals, FAQ and Knowledge are
// required.
type Config struct {
	DB        *pgxpool.Pool       // the console's own tables (con_*) and read-only views of appeals
	Appeals   *escalation.Service // every action on appeals and clients
	FAQ       *faq.Store          // the knowledge base as edited
	Knowledge Decider             // the knowledge base as the bot answers from it
	Notifier  Notifier            // replies and results to clients; nil: not sent
	// RelayResults are the channels (set while the operators' relay runs:
	// those it can write to) whose clients the relay tells the result of a
	// resolved appeal, asks for a rating and closes the appeal after it;
	// for them the console only resolves. For other channels (walk-in,
	// phone), and for all when the relay is off, the console sends the
	// result through Notifier and closes the appeal at once.
	RelayResults map[escalation.Channel]bool
	// CookieSecure sets the Secure attribute of cookies; turn it off only
	// for http://localhost.
	CookieSecure bool
	// SessionTTL is how long an idle session lives (12h).
	SessionTTL time.Duration
	// BaseURL is the console's public address, for password links.
	BaseURL string
	Log     *slog.Logger
	Now     func() time.Time
}

// Server is the console: an http.Handler.
type Server struct {
	cfg   Config
	db    *pgxpool.Pool
	svc   *escalation.Service
	faq   *faq.Store
	kb    Decider
	log   *slog.Logger
	now   func() time.Time
	mux   *http.ServeMux
	pages pages
	hub   *hub
}

// New returns the console. Run its event feed with Run for live updates.
func New(cfg Config) (*Server, error) {
	if cfg.DB == nil || cfg.Appeals == nil || cfg.FAQ == nil || cfg.Knowledge == nil {
		return nil, errors.New("console: DB, Appeals, FAQ and Knowledge are required")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, db: cfg.DB, svc: cfg.Appeals, faq: cfg.FAQ, kb: cfg.Knowledge,
		log: cfg.Log, now: cfg.Now, mux: http.NewServeMux(), pages: p}
	s.hub = newHub(cfg.DB, cfg.Log)
	s.routes()
	return s, nil
}

// ServeHTTP serves the console.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	s.mux.ServeHTTP(w, r)
}

// Run feeds the live updates of open inbox pages until ctx ends.
func (s *Server) Run(ctx context.Context) error { return s.hub.run(ctx) }
