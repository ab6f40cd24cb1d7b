package telegram

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"kontakt/bot"
)

// MaxText is Telegram's limit on a message's text, in UTF-16 code units.
const MaxText = 4096

// Send delivers r to chat: the text is HTML-escaped and split into parts
// of at most MaxText characters, the buttons go under the last part. Each
// part waits for the rate limiter; a 429 is retried after its retry_after
// (at most MaxRetries times); a 403 marks the chat unreachable and further
// sends return bot.ErrUnreachable without calling Telegram.
func (c *Channel) Send(ctx context.Context, chat bot.Chat, r bot.Reply) error {
	if n, err := c.cfg.Redis.Exists(ctx, c.unreachableKey(chat)).Result(); err == nil && n > 0 {
		return bot.ErrUnreachable
	}
	return c.send(ctx, chat, r)
}

// send is Send without the unreachable check, for replies to a message
// the chat has just sent.
func (c *Channel) send(ctx context.Context, chat bot.Chat, r bot.Reply) error {
	chatID, err := strconv.ParseInt(chat.ID, 10, 64)
	if err != nil {
		return fmt.Errorf("telegram: bad chat id %q", chat.ID)
	}
	parts := split(r.Text, MaxText)
	for i, part := range parts {
		p := &tg.SendMessageParams{ChatID: chatID, Text: escapeHTML(part), ParseMode: models.ParseModeHTML}
		if i == len(parts)-1 && len(r.Buttons) > 0 {
			p.ReplyMarkup = keyboard(r.Buttons)
		}
		if err := c.sendOne(ctx, chat, p); err != nil {
			return err
		}
	}
	return nil
}

func (c *Channel) sendOne(ctx context.Context, chat bot.Chat, p *tg.SendMessageParams) error {
	for attempt := 0; ; attempt++ {
		if err := c.cfg.Limiter.Wait(ctx, chat); err != nil {
			return err
		}
		_, err := c.api.SendMessage(ctx, p)
		var tooMany *tg.TooManyRequestsError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &tooMany):
			if attempt >= c.cfg.MaxRetries {
				return fmt.Errorf("send to %v: %w", chat, bot.ErrRateLimited)
			}
			wait := time.Duration(max(tooMany.RetryAfter, 1)) * time.Second
			c.log.Warn("telegram says too many requests", "chat", chat.String(), "retry_after", wait)
			sleep(ctx, wait)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		case errors.Is(err, tg.ErrorForbidden):
			c.markUnreachable(ctx, chat)
			return fmt.Errorf("send to %v: %w", chat, bot.ErrUnreachable)
		default:
			return fmt.Errorf("send to %v: %w", chat, err)
		}
	}
}

func (c *Channel) unreachableKey(chat bot.Chat) string {
	return c.cfg.Prefix + "unreachable:" + chat.ID
}

func (c *Channel) markUnreachable(ctx context.Context, chat bot.Chat) {
	c.log.Info("chat unreachable (bot blocked)", "chat", chat.String())
	c.cfg.Redis.Set(ctx, c.unreachableKey(chat), "1", 30*24*time.Hour)
}

// Unreachable reports whether chat blocked the bot, as far as we know.
func (c *Channel) Unreachable(ctx context.Context, chat bot.Chat) bool {
	n, err := c.cfg.Redis.Exists(ctx, c.unreachableKey(chat)).Result()
	return err == nil && n > 0
}

func keyboard(rows [][]bot.Button) *models.InlineKeyboardMarkup {
	kb := make([][]models.InlineKeyboardButton, len(rows))
	for i, row := range rows {
		for _, b := range row {
			kb[i] = append(kb[i], models.InlineKeyboardButton{Text: b.Text, CallbackData: b.Data})
		}
	}
	return &models.InlineKeyboardMarkup{InlineKeyboard: kb}
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escapeHTML escapes what Telegram's HTML parse mode would interpret.
func escapeHTML(s string) string { return htmlEscaper.Replace(s) }

// split cuts s into parts of at most limit UTF-16 code units; see
// bot.Split.
func split(s string, limit int) []string { return bot.Split(s, limit) }
