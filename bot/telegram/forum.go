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

// ErrThreadNotFound: the forum topic a message was sent to was deleted (or
// never existed); Telegram answers 400 "message thread not found".
var ErrThreadNotFound = errors.New("telegram: message thread not found")

// CreateTopic creates a forum topic in a supergroup (the bot must be an
// admin allowed to manage topics) and returns its message_thread_id.
func (c *Channel) CreateTopic(ctx context.Context, group int64, name string) (int64, error) {
	chat := groupChat(group)
	for attempt := 0; ; attempt++ {
		if err := c.cfg.Limiter.Wait(ctx, chat); err != nil {
			return 0, err
		}
		t, err := c.api.CreateForumTopic(ctx, &tg.CreateForumTopicParams{ChatID: group, Name: name})
		if err == nil {
			return int64(t.MessageThreadID), nil
		}
		if wait, retry := c.retryable(ctx, chat, err, attempt); retry {
			sleep(ctx, wait)
			continue
		}
		return 0, fmt.Errorf("create topic in %d: %w", group, err)
	}
}

// SendToThread sends r into a forum topic of a group, like Send.
// A deleted topic gives ErrThreadNotFound.
func (c *Channel) SendToThread(ctx context.Context, group, thread int64, r bot.Reply) error {
	chat := groupChat(group)
	parts := split(r.Text, MaxText)
	for i, part := range parts {
		p := &tg.SendMessageParams{ChatID: group, MessageThreadID: int(thread), Text: escapeHTML(part), ParseMode: models.ParseModeHTML}
		if i == len(parts)-1 && len(r.Buttons) > 0 {
			p.ReplyMarkup = keyboard(r.Buttons)
		}
		if err := threadErr(c.sendOne(ctx, chat, p)); err != nil {
			return err
		}
	}
	return nil
}

// SendFile sends a file the bot already knows by its file_id (a photo,
// document, voice or video a client sent) into a chat, or into a forum
// topic of a group when thread is not 0, with a caption.
func (c *Channel) SendFile(ctx context.Context, chatID, thread int64, kind bot.Kind, fileID, caption string) error {
	chat := bot.Chat{Channel: bot.Telegram, ID: strconv.FormatInt(chatID, 10), Group: chatID < 0}
	if r := []rune(caption); len(r) > 1000 {
		caption = string(r[:1000]) + "…"
	}
	f := &models.InputFileString{Data: fileID}
	for attempt := 0; ; attempt++ {
		if err := c.cfg.Limiter.Wait(ctx, chat); err != nil {
			return err
		}
		var err error
		switch kind {
		case bot.Photo:
			_, err = c.api.SendPhoto(ctx, &tg.SendPhotoParams{ChatID: chatID, MessageThreadID: int(thread), Photo: f, Caption: caption})
		case bot.Voice:
			_, err = c.api.SendVoice(ctx, &tg.SendVoiceParams{ChatID: chatID, MessageThreadID: int(thread), Voice: f, Caption: caption})
		case bot.Video:
			_, err = c.api.SendVideo(ctx, &tg.SendVideoParams{ChatID: chatID, MessageThreadID: int(thread), Video: f, Caption: caption})
		default:
			_, err = c.api.SendDocument(ctx, &tg.SendDocumentParams{ChatID: chatID, MessageThreadID: int(thread), Document: f, Caption: caption})
		}
		if err == nil {
			return nil
		}
		if wait, retry := c.retryable(ctx, chat, err, attempt); retry {
			sleep(ctx, wait)
			continue
		}
		return threadErr(fmt.Errorf("send %s to %v: %w", kind, chat, err))
	}
}

// retryable says whether err is a 429 to retry after the returned wait.
func (c *Channel) retryable(ctx context.Context, chat bot.Chat, err error, attempt int) (wait time.Duration, retry bool) {
	var tooMany *tg.TooManyRequestsError
	if !errors.As(err, &tooMany) || attempt >= c.cfg.MaxRetries || ctx.Err() != nil {
		return 0, false
	}
	w := time.Duration(max(tooMany.RetryAfter, 1)) * time.Second
	c.log.Warn("telegram says too many requests", "chat", chat.String(), "retry_after", w)
	return w, true
}

// threadErr maps Telegram's "message thread not found" to ErrThreadNotFound.
func threadErr(err error) error {
	if err != nil && strings.Contains(strings.ToLower(err.Error()), "thread not found") {
		return fmt.Errorf("%w (%v)", ErrThreadNotFound, err)
	}
	return err
}

func groupChat(id int64) bot.Chat {
	return bot.Chat{Channel: bot.Telegram, ID: strconv.FormatInt(id, 10), Group: true}
}
