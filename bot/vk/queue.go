package vk

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/SevereCloud/vksdk/v2/api"
	"github.com/SevereCloud/vksdk/v2/events"

	"kontakt/bot"
)

// Run consumes the queue until ctx is done: the events of one chat are
// handled one at a time in order, different chats concurrently; an event
// is acknowledged after it was handled and its replies sent (at least
// once: see bot/inbox).
func (c *Channel) Run(ctx context.Context) error {
	return c.inbox.Run(ctx, c.process)
}

// process handles one queued event. An event that does not decode is
// logged and dropped; it never stops the others.
func (c *Channel) process(ctx context.Context, raw []byte) {
	var e events.GroupEvent
	if err := json.Unmarshal(raw, &e); err != nil {
		c.log.Error("undecodable event in queue; dropping", "err", err)
		return
	}
	log := c.log.With("event", e.EventID, "type", string(e.Type))
	switch e.Type {
	case events.EventMessageNew:
		var o events.MessageNewObject
		if err := json.Unmarshal(e.Object, &o); err != nil {
			log.Error("undecodable message; dropping", "err", err, "object", string(e.Object))
			return
		}
		msg := toMessage(o.Message)
		if bool(o.Message.Out) || o.Message.FromID < 0 {
			return // our own or another community's message
		}
		ci := fromObject(o.ClientInfo)
		c.saveClientInfo(ctx, msg.Chat, ci)
		c.handle(ctx, e.EventID, msg, &ci)
	case events.EventMessageEvent:
		var o events.MessageEventObject
		if err := json.Unmarshal(e.Object, &o); err != nil {
			log.Error("undecodable button press; dropping", "err", err, "object", string(e.Object))
			return
		}
		// Stop the button's spinner; the dialog answers with messages.
		if err := c.call(ctx, "messages.sendMessageEventAnswer",
			api.Params{"event_id": o.EventID, "user_id": o.UserID, "peer_id": o.PeerID}, nil); err != nil {
			log.Warn("answer message event", "err", err)
		}
		msg := bot.Message{Chat: toChat(o.PeerID), From: bot.User{ID: strconv.Itoa(o.UserID)}, ID: o.EventID, Time: time.Now()}
		p, ok := parsePayload(o.Payload)
		switch {
		case ok && p.Data != "":
			msg.Kind, msg.Data = bot.Callback, p.Data
		case ok && p.Command == "start":
			msg.Kind, msg.Command = bot.Command, "start"
		default:
			log.Warn("button press without our payload; ignored", "payload", string(o.Payload))
			return
		}
		c.handle(ctx, e.EventID, msg, nil)
	case events.EventMessageAllow:
		var o events.MessageAllowObject
		if json.Unmarshal(e.Object, &o) == nil && o.UserID > 0 {
			c.cfg.Redis.Del(ctx, c.unreachableKey(toChat(o.UserID)))
		}
	case events.EventMessageDeny:
		var o events.MessageDenyObject
		if json.Unmarshal(e.Object, &o) == nil && o.UserID > 0 {
			c.markUnreachable(ctx, toChat(o.UserID), 0)
		}
	default:
		log.Debug("ignored event")
	}
}

// handle runs the handler on a message and sends the replies (ci is the
// client's app, if the event told it). Reply i of
// event e has the durable id "e:<event_id>:<i>", so a redelivered event
// does not deliver its replies twice.
func (c *Channel) handle(ctx context.Context, eventID string, msg bot.Message, ci *clientInfo) {
	log := c.log.With("chat", msg.Chat.String(), "event", eventID)
	c.cfg.Redis.Del(ctx, c.unreachableKey(msg.Chat)) // they wrote: reachable again
	replies, err := c.cfg.Handler.Handle(ctx, msg)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		log.Error("handle message", "err", err)
		replies = []bot.Reply{{Text: bot.SorryText}}
	}
	for i, r := range replies {
		if r.ID == "" && eventID != "" {
			r.ID = "e:" + eventID + ":" + strconv.Itoa(i)
		}
		if err := c.send(ctx, msg.Chat, r, ci); err != nil { // they just wrote: reachable
			if !errors.Is(err, bot.ErrUnreachable) && ctx.Err() == nil {
				log.Error("send reply", "err", err)
			}
			return
		}
	}
}

func (c *Channel) clientKey(chat bot.Chat) string { return c.cfg.Prefix + "client:" + chat.ID }

// saveClientInfo remembers what the client's app shows, for the replies
// (and for operators' messages later).
func (c *Channel) saveClientInfo(ctx context.Context, chat bot.Chat, ci clientInfo) {
	b, _ := json.Marshal(ci)
	if err := c.cfg.Redis.Set(ctx, c.clientKey(chat), b, 30*24*time.Hour).Err(); err != nil {
		c.log.Warn("save client info", "chat", chat.String(), "err", err)
	}
}

func (c *Channel) clientInfo(ctx context.Context, chat bot.Chat) clientInfo {
	b, err := c.cfg.Redis.Get(ctx, c.clientKey(chat)).Bytes()
	var ci clientInfo
	if err != nil || json.Unmarshal(b, &ci) != nil {
		return unknownClient
	}
	return ci
}
