package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"kontakt/bot"
	"kontakt/bot/inbox"
)

// errNotUpdate: what was to be queued is not a Telegram update.
var errNotUpdate = errors.New("telegram: not an update")

// updateHead is what the queue needs of an update: its id and its chat.
// Decoding only this is much cheaper than a whole models.Update.
type updateHead struct {
	ID            int64     `json:"update_id"`
	Message       *chatHead `json:"message"`
	CallbackQuery *struct {
		From    struct{ ID int64 } `json:"from"`
		Message *chatHead          `json:"message"`
	} `json:"callback_query"`
	MyChatMember *chatHead `json:"my_chat_member"`
}

type chatHead struct {
	Chat struct{ ID int64 } `json:"chat"`
}

// chatKey is the ordering key of an update: its chat.
func (u *updateHead) chatKey() string {
	switch {
	case u.Message != nil:
		return strconv.FormatInt(u.Message.Chat.ID, 10)
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil:
		return strconv.FormatInt(u.CallbackQuery.Message.Chat.ID, 10)
	case u.CallbackQuery != nil:
		return strconv.FormatInt(u.CallbackQuery.From.ID, 10)
	case u.MyChatMember != nil:
		return strconv.FormatInt(u.MyChatMember.Chat.ID, 10)
	}
	return "-"
}

// enqueue stores an update durably; duplicates (same update_id) are
// dropped. It returns whether the update was new, and errNotUpdate for
// something that is not an update.
func (c *Channel) enqueue(ctx context.Context, raw []byte) (bool, error) {
	var u updateHead
	if err := json.Unmarshal(raw, &u); err != nil || u.ID <= 0 {
		return false, errNotUpdate
	}
	return c.inbox.Add(ctx, strconv.FormatInt(u.ID, 10), u.chatKey(), raw)
}

// Run consumes the queue until ctx is done: updates of one chat are handled
// one at a time in order, different chats concurrently. An update is
// acknowledged only after it was handled and its replies sent, so a
// process killed midway leaves it pending, and the next Run with the same
// Consumer handles it (at least once).
func (c *Channel) Run(ctx context.Context) error {
	return c.inbox.Run(ctx, c.process)
}

func sleep(ctx context.Context, d time.Duration) { inbox.Sleep(ctx, d) }

// process handles one queued update.
func (c *Channel) process(ctx context.Context, raw []byte) {
	var u models.Update
	if err := json.Unmarshal(raw, &u); err != nil {
		c.log.Error("undecodable update in queue; dropping", "err", err)
		return
	}
	c.handleUpdate(ctx, &u)
}

// handleUpdate turns an update into a message, runs the handler and sends
// the replies.
func (c *Channel) handleUpdate(ctx context.Context, u *models.Update) {
	if cm := u.MyChatMember; cm != nil {
		c.memberChanged(ctx, cm)
		return
	}
	msg, ok := toMessage(u)
	if !ok {
		c.log.Debug("ignored update", "update", u.ID)
		return
	}
	log := c.log.With("chat", msg.Chat.String(), "update", u.ID)
	if u.CallbackQuery != nil {
		if _, err := c.api.AnswerCallbackQuery(ctx, &tg.AnswerCallbackQueryParams{CallbackQueryID: u.CallbackQuery.ID}); err != nil {
			log.Warn("answer callback query", "err", err)
		}
	}
	c.cfg.Redis.Del(ctx, c.unreachableKey(msg.Chat)) // they wrote: reachable again
	replies, err := c.cfg.Handler.Handle(ctx, msg)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		log.Error("handle message", "err", err)
		replies = []bot.Reply{{Text: bot.SorryText}}
	}
	for _, r := range replies {
		if err := c.send(ctx, msg.Chat, r); err != nil { // they just wrote: reachable
			if !errors.Is(err, bot.ErrUnreachable) && ctx.Err() == nil {
				log.Error("send reply", "err", err)
			}
			return
		}
	}
}

// memberChanged notes that a user blocked (or unblocked) the bot.
func (c *Channel) memberChanged(ctx context.Context, cm *models.ChatMemberUpdated) {
	chat := bot.Chat{Channel: bot.Telegram, ID: strconv.FormatInt(cm.Chat.ID, 10), Group: cm.Chat.Type != "private"}
	if cm.NewChatMember.Type == models.ChatMemberTypeBanned || cm.NewChatMember.Type == models.ChatMemberTypeLeft {
		c.markUnreachable(ctx, chat)
		return
	}
	c.cfg.Redis.Del(ctx, c.unreachableKey(chat))
}
