package vk

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/SevereCloud/vksdk/v2/object"

	"kontakt/bot"
)

// chatPeerBase is where VK's peer ids of multi-user chats begin.
const chatPeerBase = 2000000000

func toChat(peer int) bot.Chat {
	return bot.Chat{Channel: bot.VK, ID: strconv.Itoa(peer), Group: peer >= chatPeerBase}
}

// payload is what the channel puts into a button: the dialog's data.
// {"command":"start"} is VK's own payload of the "Начать" button.
type payload struct {
	Data    string `json:"d,omitempty"`
	Command string `json:"command,omitempty"`
}

// parsePayload reads a button payload, given as a JSON object or as a
// JSON string holding one (messages carry it as a string, message_event
// as an object).
func parsePayload(raw []byte) (payload, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw = []byte(s)
	}
	var p payload
	if len(raw) == 0 || json.Unmarshal(raw, &p) != nil || (p.Data == "" && p.Command == "") {
		return payload{}, false
	}
	return p, true
}

// toMessage converts a community message into a bot.Message.
func toMessage(m object.MessagesMessage) bot.Message {
	msg := bot.Message{Chat: toChat(m.PeerID), From: bot.User{ID: strconv.Itoa(m.FromID)},
		ID: strconv.Itoa(m.ID), Text: m.Text, Time: time.Unix(int64(m.Date), 0)}
	if m.ID == 0 { // group chats without admin rights give only the conversation id
		msg.ID = "c" + strconv.Itoa(m.ConversationMessageID)
	}
	if p, ok := parsePayload([]byte(m.Payload)); ok {
		switch {
		case p.Data != "":
			msg.Kind, msg.Data = bot.Callback, p.Data
			return msg
		case p.Command == "start":
			msg.Kind, msg.Command = bot.Command, "start"
			return msg
		}
	}
	for _, a := range m.Attachments {
		if at, ok := toAttachment(a); ok {
			msg.Attachments = append(msg.Attachments, at)
		}
	}
	switch {
	case len(msg.Attachments) > 0:
		msg.Kind = msg.Attachments[0].Kind
	case hasType(m.Attachments, "sticker"):
		msg.Kind = bot.Sticker
	case m.Geo.Type != "":
		msg.Kind = bot.Location
		msg.Text = fmt.Sprintf("%.6f, %.6f", m.Geo.Coordinates.Latitude, m.Geo.Coordinates.Longitude)
	case strings.TrimSpace(m.Text) != "":
		msg.Kind = bot.Text
		if cmd, arg, ok := bot.ParseCommand(m.Text); ok {
			msg.Kind, msg.Command, msg.Payload = bot.Command, cmd, arg
		}
	default: // wall posts, links, polls, gifts, …
		msg.Kind = bot.Unsupported
	}
	return msg
}

func hasType(as []object.MessagesMessageAttachment, t string) bool {
	for _, a := range as {
		if a.Type == t {
			return true
		}
	}
	return false
}

// toAttachment turns a file into a link the operators can open: the
// largest photo size, the document's URL, the video's page. FileID is the
// VK attachment string ("photo<owner>_<id>"), which messages.send accepts.
func toAttachment(a object.MessagesMessageAttachment) (bot.Attachment, bool) {
	ref := func(kind string, owner, id int, key string) string {
		s := kind + strconv.Itoa(owner) + "_" + strconv.Itoa(id)
		if key != "" {
			s += "_" + key
		}
		return s
	}
	switch a.Type {
	case "photo":
		p := a.Photo
		return bot.Attachment{Kind: bot.Photo, FileID: ref("photo", p.OwnerID, p.ID, p.AccessKey), URL: p.MaxSize().URL, MIMEType: "image/jpeg"}, true
	case "doc":
		d := a.Doc
		name := d.Title
		if d.Ext != "" && !strings.HasSuffix(strings.ToLower(name), "."+strings.ToLower(d.Ext)) {
			name += "." + d.Ext
		}
		return bot.Attachment{Kind: bot.Document, FileID: ref("doc", d.OwnerID, d.ID, d.AccessKey), URL: d.URL, FileName: name, Size: int64(d.Size)}, true
	case "audio_message":
		d := a.AudioMessage
		u := d.LinkMp3
		if u == "" {
			u = d.LinkOgg
		}
		return bot.Attachment{Kind: bot.Voice, FileID: ref("doc", d.OwnerID, d.ID, d.AccessKey), URL: u, MIMEType: "audio/mpeg"}, true
	case "video":
		v := a.Video
		id := ref("video", v.OwnerID, v.ID, "")
		return bot.Attachment{Kind: bot.Video, FileID: ref("video", v.OwnerID, v.ID, v.AccessKey), URL: "https://vk.com/" + id}, true
	}
	return bot.Attachment{}, false
}
