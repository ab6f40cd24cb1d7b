// Package telegram is the Telegram channel: it receives updates by long
// polling or by webhook, queues them durably in a Redis Stream (deduplicated
// by update_id), hands them to a bot.Handler one at a time per chat and
// concurrently across chats, and sends the replies within Telegram's rate
// limits. It is built on github.com/go-telegram/bot for the Bot API calls
// and models; polling, queueing, ordering, limits and retries are its own,
// because the library does none of them.
package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/redis/go-redis/v9"

	"kontakt/bot"
	"kontakt/bot/inbox"
)

// Config configures a Channel. Token, Redis and Handler are required.
type Config struct {
	Token string
	// BaseURL of the Bot API (a self-hosted server or a fake);
	// https://api.telegram.org by default.
	BaseURL    string
	HTTPClient *http.Client
	Redis      redis.UniversalClient
	// Prefix of Redis keys, "tg:<bot id>:" by default, so that two bots
	// sharing a Redis keep their update offsets and queues apart.
	Prefix  string
	Handler bot.Handler
	// Limiter paces outbound messages; bot.TelegramLimits by default.
	Limiter *bot.Limiter
	Log     *slog.Logger
	// Lanes is how many chats are handled at once (64 by default); the
	// messages of one chat always go through one lane, in order.
	Lanes int
	// Consumer names this replica in the stream's consumer group; it must
	// be stable across restarts so a restarted replica takes over its own
	// unacknowledged updates. "kontakt" by default.
	Consumer string
	// WebhookSecret is the secret_token given to setWebhook.
	WebhookSecret string
	// MaxRetries bounds the retries after a 429 (3 by default).
	MaxRetries int
	// PollTimeout is the long-polling timeout (50s by default).
	PollTimeout time.Duration
}

// Channel is the Telegram channel. It implements bot.Sender.
type Channel struct {
	cfg Config
	api *tg.Bot
	log *slog.Logger

	inbox             *inbox.Inbox
	stream, offsetKey string
}

var _ bot.Sender = (*Channel)(nil)

// New returns a Channel; it makes no network calls.
func New(cfg Config) (*Channel, error) {
	if cfg.Token == "" || cfg.Redis == nil || cfg.Handler == nil {
		return nil, errors.New("telegram: token, Redis and handler are required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "https://api.telegram.org"
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Prefix == "" {
		id, _, _ := strings.Cut(cfg.Token, ":")
		cfg.Prefix = "tg:" + id + ":"
	}
	if cfg.Limiter == nil {
		cfg.Limiter = bot.NewLimiter(bot.TelegramLimits)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Lanes <= 0 {
		cfg.Lanes = 64
	}
	if cfg.Consumer == "" {
		cfg.Consumer = "kontakt"
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = 3
	}
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = 50 * time.Second
	}
	if cfg.HTTPClient == nil {
		// Every call goes to one host: keep enough idle connections for
		// the lanes, or each concurrent send opens a new TCP connection
		// (net/http keeps 2 per host by default).
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = cfg.Lanes + 1
		cfg.HTTPClient = &http.Client{Timeout: cfg.PollTimeout + 10*time.Second, Transport: tr}
	}
	api, err := tg.New(cfg.Token, tg.WithServerURL(cfg.BaseURL), tg.WithSkipGetMe(),
		tg.WithHTTPClient(cfg.PollTimeout, cfg.HTTPClient), tg.WithNotAsyncHandlers())
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	log := cfg.Log.With("channel", "telegram")
	q := inbox.New(inbox.Config{Redis: cfg.Redis, Prefix: cfg.Prefix, Lanes: cfg.Lanes, Consumer: cfg.Consumer, Log: log})
	return &Channel{cfg: cfg, api: api, log: log, inbox: q, stream: q.Stream(), offsetKey: cfg.Prefix + "{upd}:offset"}, nil
}

// SetWebhook registers url with Telegram, with the configured secret.
func (c *Channel) SetWebhook(ctx context.Context, url string) error {
	_, err := c.api.SetWebhook(ctx, &tg.SetWebhookParams{URL: url, SecretToken: c.cfg.WebhookSecret,
		AllowedUpdates: []string{"message", "callback_query", "my_chat_member"}})
	return err
}

// DeleteWebhook removes the webhook, so that long polling works.
func (c *Channel) DeleteWebhook(ctx context.Context) error {
	_, err := c.api.DeleteWebhook(ctx, &tg.DeleteWebhookParams{})
	return err
}
