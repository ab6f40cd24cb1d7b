package telegram

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"

	"kontakt/bot"
)

func toChat(c models.Chat) bot.Chat {
	return bot.Chat{Channel: bot.Telegram, ID: strconv.FormatInt(c.ID, 10), Group: c.Type != models.ChatTypePrivate}
}

func toUser(u *models.User) bot.User {
	if u == nil {
		return bot.User{}
	}
	return bot.User{ID: strconv.FormatInt(u.ID, 10), Name: strings.TrimSpace(u.FirstName + " " + u.LastName), Username: u.Username}
}

// toMessage converts an update into a bot.Message. Updates that carry no
// client message (edits, reactions, …) return false.
func toMessage(u *models.Update) (bot.Message, bool) {
	if cq := u.CallbackQuery; cq != nil {
		m := bot.Message{Kind: bot.Callback, ID: cq.ID, Data: cq.Data, From: toUser(&cq.From), Time: time.Now()}
		switch {
		case cq.Message.Message != nil:
			m.Chat = toChat(cq.Message.Message.Chat)
			m.Thread = thread(cq.Message.Message)
		case cq.Message.InaccessibleMessage != nil:
			m.Chat = toChat(cq.Message.InaccessibleMessage.Chat)
		default:
			m.Chat = bot.Chat{Channel: bot.Telegram, ID: strconv.FormatInt(cq.From.ID, 10)}
		}
		return m, true
	}
	msg := u.Message
	if msg == nil {
		return bot.Message{}, false
	}
	m := bot.Message{Chat: toChat(msg.Chat), From: toUser(msg.From), ID: strconv.Itoa(msg.ID), Time: time.Unix(int64(msg.Date), 0), Thread: thread(msg)}
	switch {
	case msg.Text != "":
		m.Kind, m.Text = bot.Text, msg.Text
		if cmd, payload, ok := parseCommand(msg.Text); ok {
			m.Kind, m.Command, m.Payload = bot.Command, cmd, payload
		}
	case len(msg.Photo) > 0:
		p := msg.Photo[len(msg.Photo)-1] // the largest size comes last
		m.Kind, m.Text = bot.Photo, msg.Caption
		m.Attachments = []bot.Attachment{{Kind: bot.Photo, FileID: p.FileID, Size: int64(p.FileSize), MIMEType: "image/jpeg"}}
	case msg.Document != nil:
		d := msg.Document
		m.Kind, m.Text = bot.Document, msg.Caption
		m.Attachments = []bot.Attachment{{Kind: bot.Document, FileID: d.FileID, FileName: d.FileName, MIMEType: d.MimeType, Size: d.FileSize}}
	case msg.Voice != nil:
		m.Kind = bot.Voice
		m.Attachments = []bot.Attachment{{Kind: bot.Voice, FileID: msg.Voice.FileID, MIMEType: msg.Voice.MimeType, Size: msg.Voice.FileSize}}
	case msg.Video != nil:
		m.Kind, m.Text = bot.Video, msg.Caption
		m.Attachments = []bot.Attachment{{Kind: bot.Video, FileID: msg.Video.FileID, MIMEType: msg.Video.MimeType, Size: msg.Video.FileSize}}
	case msg.Sticker != nil:
		m.Kind = bot.Sticker
	case msg.Location != nil:
		m.Kind, m.Text = bot.Location, fmt.Sprintf("%.6f, %.6f", msg.Location.Latitude, msg.Location.Longitude)
	case msg.Contact != nil:
		m.Kind, m.Phone = bot.Contact, msg.Contact.PhoneNumber
	default:
		m.Kind, m.Text = bot.Unsupported, msg.Caption
	}
	return m, true
}

// parseCommand splits "/start@kontakt_bot payload" into "start" and
// "payload"; see bot.ParseCommand.
func parseCommand(text string) (cmd, payload string, ok bool) { return bot.ParseCommand(text) }

// thread is the forum topic of a message in a group, "" elsewhere.
func thread(m *models.Message) string {
	if m.MessageThreadID == 0 || m.Chat.Type == models.ChatTypePrivate {
		return ""
	}
	return strconv.Itoa(m.MessageThreadID)
}
