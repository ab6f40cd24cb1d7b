package knowledge

import "kontakt/faq"

// Kind is what the bot should do with a message.
type Kind string

// The decisions the knowledge base makes.
const (
	// Answer: one entry answers the message.
	Answer Kind = "answer"
	// Clarify: two or three entries are close; offer them as buttons.
	Clarify Kind = "clarify"
	// Escalate: no good match, a request for a person, or a personal
	// situation the FAQ can't resolve; hand the client to a manager.
	Escalate Kind = "escalate"
	// Smalltalk: a greeting, thanks, "are you a bot", off-topic chatter.
	Smalltalk Kind = "smalltalk"
)

// Match is one candidate entry.
type Match struct {
	Entry *faq.Entry
	// Confidence is the calibrated probability that the entry answers the
	// message, in [0, 1].
	Confidence float64
	// Score is the ranking score the confidence is computed from.
	Score float64
	// features the score was made of.
	features features
}

// Decision is the outcome of Decide.
type Decision struct {
	Kind Kind
	// Entry is set for Answer.
	Entry *faq.Entry
	// Candidates are the best matches, best first (up to 3 for Clarify).
	Candidates []Match
	// Confidence of the top candidate in [0, 1].
	Confidence float64
	// Reason explains the decision in a few English words, for logs and
	// the "try a question" tool.
	Reason string
	// Smalltalk is the kind of small talk (greeting, thanks, bot, bye,
	// offtopic) when Kind is Smalltalk.
	Smalltalk string
}
