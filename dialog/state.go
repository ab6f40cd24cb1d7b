package dialog

import (
	"time"

	"kontakt/bot"
	"kontakt/faq"
	"kontakt/knowledge"
)

// Step is where a conversation stands.
type Step string

// The steps of a conversation.
const (
	StepNew      Step = ""         // nothing known: greet
	StepAudience Step = "audience" // asked "who are you"
	StepMenu     Step = "menu"     // idle at the main menu
	StepAsk      Step = "ask"      // asked to type a question
	StepAnswered Step = "answered" // answer shown with feedback buttons
	StepClarify  Step = "clarify"  // offered similar questions
	StepConsent  Step = "consent"  // asked for consent to data processing
	StepName     Step = "name"     // asked for the name
	StepContact  Step = "contact"  // asked for a phone or e-mail
	StepQuestion Step = "question" // asked for the text of the appeal
	StepConfirm  Step = "confirm"  // showed the appeal for confirmation
	StepOpening  Step = "opening"  // registering the appeal
	StepHuman    Step = "human"    // a person owns the conversation
)

// State is everything a dialog remembers of one chat. It is stored as JSON.
type State struct {
	Step     Step         `json:"step,omitempty"`
	Audience faq.Audience `json:"audience,omitempty"`
	// Payload is a deep-link parameter waiting for the audience answer;
	// Pending a question asked before the audience was known.
	Payload string `json:"payload,omitempty"`
	Pending string `json:"pending,omitempty"`

	// Entry is the last answer shown, Query the question it answered,
	// Candidates the other close entries, Misses the unhelpful turns in a row.
	Entry      string   `json:"entry,omitempty"`
	Query      string   `json:"query,omitempty"`
	Candidates []string `json:"candidates,omitempty"`
	Misses     int      `json:"misses,omitempty"`

	// Hand-off data, asked only after consent.
	ConsentAt   *time.Time       `json:"consent_at,omitempty"`
	Name        string           `json:"name,omitempty"`
	Phone       string           `json:"phone,omitempty"`
	Email       string           `json:"email,omitempty"`
	Topic       string           `json:"topic,omitempty"`
	Question    string           `json:"question,omitempty"`
	Attachments []bot.Attachment `json:"attachments,omitempty"`

	// The appeal a person works on, and when the client was last told
	// their message was passed on.
	AppealID     int64     `json:"appeal_id,omitempty"`
	AppealNumber string    `json:"appeal_number,omitempty"`
	AckAt        time.Time `json:"ack_at,omitzero"`

	Seen       time.Time `json:"seen,omitzero"`
	Transcript []Line    `json:"transcript,omitempty"`
}

// Input is what step reacts to: a client's message, or the result of an
// effect (Opened, OpenFailed, Listed), plus what the caller looked up.
type Input struct {
	Msg bot.Message
	Now time.Time
	// Decision is the knowledge base's verdict on DecisionText, when
	// wantsDecision asked for one.
	Decision *knowledge.Decision
	// Looked is true when the caller asked PostgreSQL for the chat's open
	// appeal (see needsAppealLookup); Open is the answer.
	Looked bool
	Open   *Appeal
	// Results of effects.
	Opened     *Appeal
	OpenFailed bool
	Listed     bool
	AddFailed  bool
	Appeals    []Appeal
}

// Effect is something the caller does after saving the state.
type Effect interface{ effect() }

// OpenAppealEffect registers an appeal; the caller feeds the result back
// as Input.Opened or Input.OpenFailed.
type OpenAppealEffect struct{ Request OpenRequest }

// AddMessageEffect adds a client's message to the appeal a person owns.
type AddMessageEffect struct {
	AppealID int64
	Msg      bot.Message
}

// FeedbackEffect stores a verdict on an answer.
type FeedbackEffect struct{ Feedback Feedback }

// ListAppealsEffect reads the client's appeals; the result comes back as
// Input.Listed and Input.Appeals.
type ListAppealsEffect struct{}

func (OpenAppealEffect) effect()  {}
func (AddMessageEffect) effect()  {}
func (FeedbackEffect) effect()    {}
func (ListAppealsEffect) effect() {}
