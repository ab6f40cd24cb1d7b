// Package bot is the channel-neutral vocabulary of Kontakt's bots: the
// chats people write from, the messages they send, the replies the bot
// gives (with buttons), the Handler that channel adapters call for every
// incoming message and the Sender that adapters implement to deliver
// replies. It also holds the outbound rate limiter shared by adapters.
//
// Adapters (bot/telegram, bot/vk, …) translate platform updates into
// Message values and Reply values into platform calls, and nothing else.
package bot

import (
	"context"
	"errors"
	"time"
)

// Channel names a way clients reach the institute.
type Channel string

// The channels Kontakt knows.
const (
	Telegram Channel = "telegram"
	VK       Channel = "vk"
	WebChat  Channel = "webchat"
	Email    Channel = "email"
	Phone    Channel = "phone"
	WalkIn   Channel = "walkin"
	// Console is the terminal conversation of `kontakt chat`.
	Console Channel = "console"
)

// Chat identifies one conversation: a channel and the channel's own chat id
// (for Telegram the numeric chat id as a decimal string). It is comparable
// and usable as a map key.
type Chat struct {
	Channel Channel
	ID      string
	// Group is true for group chats, which have stricter send limits.
	Group bool
}

// String returns "channel:id", the chat's identity in logs and keys.
func (c Chat) String() string { return string(c.Channel) + ":" + c.ID }

// Kind says what a message carries.
type Kind string

// Kinds of incoming messages. Adapters map anything they cannot classify
// to Unsupported, never drop it.
const (
	Text     Kind = "text"
	Command  Kind = "command"  // "/start payload": Command and Payload are set
	Callback Kind = "callback" // a button press: Data is set
	Photo    Kind = "photo"
	Document Kind = "document"
	Voice    Kind = "voice"
	Video    Kind = "video"
	Sticker  Kind = "sticker"
	Location Kind = "location"
	Contact  Kind = "contact"
	// Unsupported is any other content (polls, games, …).
	Unsupported Kind = "unsupported"
)

// User is the person who sent a message, as the channel knows them.
type User struct {
	ID       string
	Name     string // first and last name as the platform gives them
	Username string
}

// Attachment is a file the client sent. FileID is the channel's own
// reference (Telegram file_id, VK "photo<owner>_<id>") that an operator
// tool can resolve later; URL is a direct link, for channels that give
// one (VK).
type Attachment struct {
	Kind     Kind // Photo, Document, Voice, Video
	FileID   string
	URL      string
	FileName string
	MIMEType string
	Size     int64
}

// Message is one incoming event from a client.
type Message struct {
	Chat Chat
	From User
	// ID is the channel's id of the message (or of the callback query), for
	// logs and replies; it is unique within the chat.
	ID   string
	Kind Kind
	// Text is the text or the caption of a media message.
	Text string
	// Command is the command name without the slash and bot name, lower
	// case ("start"), for Kind Command; Payload is the rest of the line
	// (a deep-link parameter for /start).
	Command string
	Payload string
	// Data is the button's data for Kind Callback.
	Data string
	// Thread is the forum topic of a group message (Telegram's
	// message_thread_id), or of the message under a pressed button; empty
	// outside forum topics.
	Thread      string
	Attachments []Attachment
	// Phone is set for Kind Contact (a shared phone number).
	Phone string
	Time  time.Time
}

// Button is an inline button under a reply. Data comes back as
// Message.Data when the client presses it. Data must fit 64 bytes.
type Button struct {
	Text string
	Data string
}

// Reply is one message from the bot. Text is plain text; adapters escape
// it for their platform and split it when it is too long. Buttons are
// rows of inline buttons shown under the (last part of the) message.
//
// ID, if set, is the reply's durable identity (an outbox row, or the
// incoming update it answers and its position), unique within the chat.
// Adapters whose platform deduplicates sends (VK's random_id) derive their
// key from it, so a Send retried with the same ID is delivered once.
type Reply struct {
	Text    string
	Buttons [][]Button
	ID      string
}

// Handler handles one incoming message and returns the replies to send, in
// order. Adapters call it with the messages of one chat one at a time, in
// the order the client sent them. An error means the message could not be
// processed; the adapter logs it and sends SorryText.
type Handler interface {
	Handle(ctx context.Context, m Message) ([]Reply, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, m Message) ([]Reply, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, m Message) ([]Reply, error) { return f(ctx, m) }

// Sender delivers a reply to a chat. Adapters implement it; the operators'
// tools use it to write to clients.
type Sender interface {
	Send(ctx context.Context, chat Chat, r Reply) error
}

// SorryText is what a client reads when something broke on our side. The
// details go to the log, never to the client.
const SorryText = "Извините, у нас что-то пошло не так. Пожалуйста, попробуйте ещё раз через минуту — или позвоните на горячую линию института."

// Errors senders return.
var (
	// ErrUnreachable: the client blocked the bot or deleted the chat; the
	// message was not delivered and should not be retried.
	ErrUnreachable = errors.New("bot: chat is unreachable (bot blocked by the user)")
	// ErrRateLimited: the platform kept refusing with "too many requests"
	// after the allowed number of retries.
	ErrRateLimited = errors.New("bot: rate limited by the platform")
)
