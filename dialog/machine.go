package dialog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"kontakt/bot"
)

// Store loads and saves dialog states; *RedisStore implements it.
type Store interface {
	Load(ctx context.Context, chat bot.Chat) (State, int64, error)
	Save(ctx context.Context, chat bot.Chat, ver int64, st State) (int64, error)
}

// Config is what a Machine needs. Knowledge, Catalog and Store are
// required; Appeals, Finder and Feedback may be nil (the hand-off then
// fails politely, feedback is dropped).
type Config struct {
	Store     Store
	Knowledge Answerer
	Catalog   Catalog
	Appeals   Escalator
	Finder    AppealFinder
	Feedback  FeedbackStore
	// Institute is named in the greeting (genitive: "Приволжского института …").
	Institute string
	Location  *time.Location // for dates clients read; Moscow by default
	Now       func() time.Time
	Log       *slog.Logger
}

// Machine runs the dialogs; it implements bot.Handler.
type Machine struct {
	cfg Config
	env env
}

var _ bot.Handler = (*Machine)(nil)

// New returns a Machine.
func New(cfg Config) *Machine {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Machine{cfg: cfg, env: env{catalog: cfg.Catalog, institute: cfg.Institute, loc: locationer{cfg.Location}}}
}

// Handle runs one message through the chat's dialog. Messages of one chat
// must come one at a time (adapters serialise them); if another replica
// saved the chat's state meanwhile, the step is recomputed on the fresh
// state. Effects are performed after the state is saved.
func (m *Machine) Handle(ctx context.Context, msg bot.Message) ([]bot.Reply, error) {
	for attempt := 0; ; attempt++ {
		replies, err := m.handle(ctx, msg)
		if errors.Is(err, ErrConflict) && attempt < 3 {
			continue
		}
		return replies, err
	}
}

func (m *Machine) handle(ctx context.Context, msg bot.Message) ([]bot.Reply, error) {
	chat := msg.Chat
	s, ver, err := m.cfg.Store.Load(ctx, chat)
	if err != nil {
		return nil, err
	}
	in := Input{Msg: msg, Now: m.cfg.Now()}
	if needsAppealLookup(s) && m.cfg.Finder != nil {
		open, err := m.cfg.Finder.OpenAppeal(ctx, chat)
		if err != nil {
			return nil, fmt.Errorf("open appeal of %v: %w", chat, err)
		}
		in.Looked, in.Open = true, open
	}
	if text, aud, ok := wantsDecision(reconcile(s, in), msg, in.Now); ok {
		d := m.cfg.Knowledge.Decide(ctx, text, aud)
		in.Decision = &d
	}
	s, replies, effects := step(m.env, s, in)
	if ver, err = m.cfg.Store.Save(ctx, chat, ver, s); err != nil {
		return nil, err
	}
	// Effects; those with results feed an event back into step.
	for len(effects) > 0 {
		e := effects[0]
		effects = effects[1:]
		ev, ok := m.perform(ctx, msg, e)
		if !ok {
			continue
		}
		var more []bot.Reply
		var next []Effect
		s, more, next = step(m.env, s, ev)
		if ver, err = m.cfg.Store.Save(ctx, chat, ver, s); err != nil {
			return nil, err
		}
		replies = append(replies, more...)
		effects = append(effects, next...)
	}
	return replies, nil
}

// perform does one effect. It returns the event to feed back, if any.
func (m *Machine) perform(ctx context.Context, msg bot.Message, e Effect) (Input, bool) {
	log := m.cfg.Log.With("chat", msg.Chat.String())
	now := m.cfg.Now()
	switch e := e.(type) {
	case OpenAppealEffect:
		if m.cfg.Appeals == nil {
			log.Error("open appeal: no escalation service configured")
			return Input{Now: now, OpenFailed: true}, true
		}
		a, err := m.cfg.Appeals.Open(ctx, e.Request)
		if err != nil {
			log.Error("open appeal", "err", err)
			return Input{Now: now, OpenFailed: true}, true
		}
		log.Info("appeal opened", "appeal", a.Number)
		return Input{Now: now, Opened: &a}, true
	case AddMessageEffect:
		if m.cfg.Appeals == nil {
			log.Error("add message to appeal: no escalation service configured")
			return Input{}, false
		}
		if err := m.cfg.Appeals.AddMessage(ctx, e.AppealID, e.Msg); err != nil {
			log.Error("add message to appeal", "appeal", e.AppealID, "err", err)
			return Input{Now: now, AddFailed: true}, true
		}
	case FeedbackEffect:
		if m.cfg.Feedback == nil {
			return Input{}, false
		}
		if err := m.cfg.Feedback.AddFeedback(ctx, e.Feedback); err != nil {
			log.Error("store feedback", "entry", e.Feedback.EntryID, "err", err)
		}
	case ListAppealsEffect:
		var list []Appeal
		if m.cfg.Finder != nil {
			l, err := m.cfg.Finder.Appeals(ctx, msg.Chat)
			if err != nil {
				log.Error("list appeals", "err", err)
			} else {
				list = append([]Appeal{}, l...)
			}
		}
		return Input{Now: now, Listed: true, Appeals: list}, true
	}
	return Input{}, false
}
