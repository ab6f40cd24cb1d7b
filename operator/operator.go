// Package operator is where people answer appeals: the operators' relay
// between clients and staff in Telegram (and, in operator/console, the web
// console).
//
// The relay gives every appeal a forum topic in one of the operators'
// groups, posts the appeal card there, relays the client's later messages
// into the topic and the operators' messages back to the client in the
// client's own channel, carries the buttons (take, forward, resolve, back
// to the queue) to escalation, sends forwarded appeals to personal
// managers in private chats, tells the client the result and asks for a
// rating, and reminds of deadlines.
//
// It is driven by escalation's events (Relay is an escalation.Handler) and
// by the messages staff write (Relay.Wrap puts it in front of the dialog
// handler). Everything it has to post waits in PostgreSQL: op_feed for the
// groups, which Telegram allows about 20 messages a minute each, and
// op_outbound for private chats. Pump posts what the limits allow, merging
// a client's consecutive messages into one post; nothing is dropped and a
// restart resumes where the last one stopped.
package operator

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"kontakt/bot"
	"kontakt/escalation"
)

// ErrTopicGone: a forum topic was deleted; Forum implementations wrap it
// so that the relay re-creates the topic.
var ErrTopicGone = errors.New("operator: forum topic not found")

// Forum is the operators' Telegram groups as the relay uses them.
// (*telegram.Channel, adapted to return ErrTopicGone, implements it.)
type Forum interface {
	CreateTopic(ctx context.Context, group int64, name string) (thread int64, err error)
	SendToThread(ctx context.Context, group, thread int64, r bot.Reply) error
	// SendFile sends a file the bot received (by its file_id) into a
	// topic, with a caption.
	SendFile(ctx context.Context, group, thread int64, kind bot.Kind, fileID, caption string) error
}

// Config is what a Relay needs. Appeals, DB, Forum and Groups are required.
type Config struct {
	Appeals *escalation.Service
	DB      *pgxpool.Pool
	Forum   Forum
	// Senders write to private chats, by channel: clients in the channel
	// they wrote from, staff in Telegram.
	Senders map[bot.Channel]bot.Sender
	// Groups are the operators' forum supergroups; topics are spread
	// across them.
	Groups []int64
	// GroupRate is how many messages a minute the relay posts into one
	// group (20, Telegram's limit).
	GroupRate int
	// SignNames signs operators' answers with their first name.
	SignNames bool
	// ApproveAnswers: personal managers' answers go to the client only
	// after a contact manager approves them in the topic.
	ApproveAnswers bool
	// RatingWait is how long a resolved appeal waits for the client's
	// rating before it is closed anyway (24h).
	RatingWait time.Duration
	Location   *time.Location // for dates people read; Moscow by default
	Now        func() time.Time
	Log        *slog.Logger
}

// Relay is the operators' relay. It is safe for concurrent use; Pump (and
// Run) should run in one process at a time (Run takes a lock for that).
type Relay struct {
	cfg Config
	log *slog.Logger

	mu   sync.Mutex
	next map[int64]time.Time // group → earliest next post
	wake chan struct{}
}

var _ escalation.Handler = (*Relay)(nil)

// New returns a Relay.
func New(cfg Config) (*Relay, error) {
	if cfg.Appeals == nil || cfg.DB == nil || cfg.Forum == nil || len(cfg.Groups) == 0 {
		return nil, errors.New("operator: appeals, database, forum and at least one group are required")
	}
	if cfg.GroupRate <= 0 {
		cfg.GroupRate = 20
	}
	if cfg.RatingWait <= 0 {
		cfg.RatingWait = 24 * time.Hour
	}
	if cfg.Location == nil {
		cfg.Location = escalation.Moscow
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.Groups = slices.Clone(cfg.Groups)
	return &Relay{cfg: cfg, log: cfg.Log.With("component", "operator"), next: map[int64]time.Time{}, wake: make(chan struct{}, 1)}, nil
}

func (r *Relay) now() time.Time { return r.cfg.Now().Truncate(time.Microsecond) }

// interval is the spacing of posts into one group.
func (r *Relay) interval() time.Duration { return time.Minute / time.Duration(r.cfg.GroupRate) }

// poke wakes Run: there is something new to post.
func (r *Relay) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *Relay) ourGroup(id int64) bool { return slices.Contains(r.cfg.Groups, id) }
