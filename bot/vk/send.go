package vk

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/SevereCloud/vksdk/v2/api"

	"kontakt/bot"
	"kontakt/bot/inbox"
)

// MaxText is how long one message's text may be. VK takes more (9000),
// but long messages read badly on phones: 4096 as in Telegram.
const MaxText = 4096

// Send delivers r to chat by messages.send: the text is split into parts
// of at most MaxText characters, the buttons become a keyboard (see
// keyboard) under the last part. Every part's random_id is derived from
// the chat, r.ID and the part's index, so a repeated Send of the same
// reply (a retry here, or the queue redelivering an event after a crash)
// is delivered once: VK drops a message whose random_id it has seen. A
// reply without ID gets a random one, good for this call's retries only.
//
// Every call waits for the token's rate limiter. Errors 6 (too many
// requests) and 9 (flood control), network errors and VK's internal errors
// are retried after a growing pause, at most MaxRetries times (then
// bot.ErrRateLimited for 6 and 9). Errors 901 and 902 (the user does not
// allow messages from the community) mark the chat unreachable at once:
// this and further sends return bot.ErrUnreachable without calling VK,
// until the client writes again or allows messages. A keyboard VK refuses
// (error 911) is dropped and the text sent without it.
func (c *Channel) Send(ctx context.Context, chat bot.Chat, r bot.Reply) error {
	if c.Unreachable(ctx, chat) {
		return bot.ErrUnreachable
	}
	var ci *clientInfo
	if len(r.Buttons) > 0 {
		v := c.clientInfo(ctx, chat)
		ci = &v
	}
	return c.send(ctx, chat, r, ci)
}

// send is Send for a client whose app is known (ci may be nil for a reply
// without buttons) and without the unreachable check: for replies to a
// message the client has just sent.
func (c *Channel) send(ctx context.Context, chat bot.Chat, r bot.Reply, ci *clientInfo) error {
	peer, err := strconv.Atoi(chat.ID)
	if err != nil {
		return fmt.Errorf("vk: bad peer id %q", chat.ID)
	}
	id := r.ID
	if id == "" {
		b := make([]byte, 12)
		crand.Read(b)
		id = "rnd:" + hex.EncodeToString(b)
	}
	parts := bot.Split(r.Text, MaxText)
	var kb string
	if len(r.Buttons) > 0 {
		if ci == nil {
			v := c.clientInfo(ctx, chat)
			ci = &v
		}
		k, dropped := keyboard(r.Buttons, *ci)
		if dropped > 0 {
			c.log.Warn("buttons over VK's keyboard limits dropped", "chat", chat.String(), "dropped", dropped)
		}
		if k != nil {
			kb = keyboardJSON(k)
		}
	}
	for i, part := range parts {
		p := api.Params{"peer_id": peer, "random_id": RandomID(chat, id, i), "message": part}
		if i == len(parts)-1 && kb != "" {
			p["keyboard"] = kb
		}
		if err := c.sendOne(ctx, chat, p); err != nil {
			return err
		}
	}
	return nil
}

// RandomID is the random_id of part i of the reply with the given durable
// id to chat: a positive 31-bit hash, the same for every retry.
func RandomID(chat bot.Chat, replyID string, part int) int {
	h := fnv.New64a()
	h.Write([]byte(chat.ID))
	h.Write([]byte{0})
	h.Write([]byte(replyID))
	h.Write([]byte{0})
	h.Write([]byte(strconv.Itoa(part)))
	v := int(h.Sum64() & 0x7fffffff)
	if v == 0 {
		v = 1
	}
	return v
}

func (c *Channel) sendOne(ctx context.Context, chat bot.Chat, p api.Params) error {
	for attempt := 0; ; attempt++ {
		var msgID int
		err := c.call(ctx, "messages.send", p, &msgID)
		var apiErr *api.Error
		isAPI := errors.As(err, &apiErr)
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, api.ErrMessagesDenySend), errors.Is(err, api.ErrMessagesPrivacy):
			c.markUnreachable(ctx, chat, apiErr.Code)
			return fmt.Errorf("send to %v: %w", chat, bot.ErrUnreachable)
		case isAPI && apiErr.Code == api.ErrMessagesKeyboardInvalid && p["keyboard"] != nil:
			// The text matters more than the buttons: send it without them.
			c.log.Error("VK refused the keyboard; sending the text without it", "chat", chat.String(), "err", err, "keyboard", p["keyboard"])
			delete(p, "keyboard")
			continue
		case isAPI && apiErr.Code != api.ErrTooMany && apiErr.Code != api.ErrFlood && apiErr.Code != api.ErrServer:
			return fmt.Errorf("send to %v: %w", chat, err) // a bad request: retrying won't help
		}
		if attempt >= c.cfg.MaxRetries {
			if isAPI && apiErr.Code != api.ErrServer {
				return fmt.Errorf("send to %v: %w (%v)", chat, bot.ErrRateLimited, err)
			}
			return fmt.Errorf("send to %v: %w", chat, err)
		}
		wait := c.cfg.RetryBase << attempt
		if isAPI && apiErr.Code == api.ErrFlood {
			wait *= 3 // flood control is per message kind and lasts longer
		}
		wait += time.Duration(rand.Int64N(int64(wait)/4 + 1))
		c.log.Warn("vk send failed, retrying", "chat", chat.String(), "err", err, "retry_in", wait)
		inbox.Sleep(ctx, wait)
	}
}

func (c *Channel) unreachableKey(chat bot.Chat) string {
	return c.cfg.Prefix + "unreachable:" + chat.ID
}

func (c *Channel) markUnreachable(ctx context.Context, chat bot.Chat, code api.ErrorType) {
	c.log.Info("chat unreachable (messages from the community not allowed)", "chat", chat.String(), "code", int(code))
	c.cfg.Redis.Set(ctx, c.unreachableKey(chat), "1", 30*24*time.Hour)
}

// Unreachable reports whether the client does not allow messages from the
// community, as far as we know.
func (c *Channel) Unreachable(ctx context.Context, chat bot.Chat) bool {
	n, err := c.cfg.Redis.Exists(ctx, c.unreachableKey(chat)).Result()
	return err == nil && n > 0
}
