// Package dialog runs the bot's conversations: per-chat state machines for
// the greeting and "who are you" question, the FAQ menu, free-text
// questions answered from the knowledge base (with clarification and
// feedback), the hand-off to a person (consent, name, contacts, question →
// appeal) and the conversation while a person owns it.
//
// The machine is a pure function step(state, input) → (state, replies,
// effects); Machine loads the state from Redis, gathers the input (the
// knowledge base's decision, the chat's open appeal from PostgreSQL),
// runs step, saves the state by compare-and-set and performs the effects.
// Machine implements bot.Handler, so every channel uses the same dialogs.
package dialog

import (
	"context"
	"time"

	"kontakt/bot"
	"kontakt/faq"
	"kontakt/knowledge"
)

// Answerer decides what to do with a free-text question.
// *knowledge.Base implements it.
type Answerer interface {
	Decide(ctx context.Context, text string, audience faq.Audience) knowledge.Decision
}

// Catalog is the FAQ menu: categories and their entries, read from memory.
// *knowledge.Base implements it.
type Catalog interface {
	Entry(id string) *faq.Entry
	Categories() []string
	EntriesIn(category string) []*faq.Entry
}

// Appeal is what a dialog shows and remembers of an appeal.
type Appeal struct {
	ID     int64
	Number string // 2026-000123
	Status string // escalation status: new, assigned, forwarded, answered, resolved, closed
	Open   bool   // a person still works on it
	Topic  string
	// Created and Due (when the first answer is promised).
	Created time.Time
	Due     time.Time
}

// OpenRequest asks to register an appeal on the client's behalf.
type OpenRequest struct {
	Chat     bot.Chat
	User     bot.User
	Name     string
	Phone    string
	Email    string
	Audience faq.Audience
	// ConsentAt is when the client agreed to the processing of personal
	// data; ConsentVersion names the text they agreed to.
	ConsentAt      time.Time
	ConsentVersion string
	Topic          string // FAQ category, or "" for other
	Text           string
	Transcript     []Line
	Attachments    []bot.Attachment
}

// Escalator registers appeals and adds the client's messages to them.
type Escalator interface {
	Open(ctx context.Context, r OpenRequest) (Appeal, error)
	AddMessage(ctx context.Context, appealID int64, m bot.Message) error
}

// AppealFinder reads a chat's appeals from the source of truth
// (PostgreSQL). OpenAppeal returns nil and no error when there is none.
type AppealFinder interface {
	OpenAppeal(ctx context.Context, chat bot.Chat) (*Appeal, error)
	Appeals(ctx context.Context, chat bot.Chat) ([]Appeal, error)
}

// Feedback is a client's verdict on one answer.
type Feedback struct {
	EntryID string
	Helpful bool
	Query   string
	Channel bot.Channel
}

// FeedbackStore keeps answer feedback per entry.
type FeedbackStore interface {
	AddFeedback(ctx context.Context, f Feedback) error
}

// Line is one line of the conversation before an appeal, for the manager.
type Line struct {
	At   time.Time `json:"at"`
	From string    `json:"from"` // "client" or "bot"
	Text string    `json:"text"`
}
