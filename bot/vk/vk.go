// Package vk is the VKontakte channel: a community's messages reach Kontakt
// by Bots Long Poll or by the Callback API, are queued durably in a Redis
// Stream (bot/inbox, deduplicated by VK's event_id), handed to a
// bot.Handler one at a time per chat and concurrently across chats, and the
// replies go out by messages.send with keyboards built from the dialog's
// buttons, within the community token's 20 requests a second.
//
// It is built on github.com/SevereCloud/vksdk/v2 for the API client, the
// event and keyboard types; the long-poll loop and the callback endpoint
// are its own, because the library's advance the long-poll ts before the
// events are handled (a crash loses them), stop on any network error or on
// one event that does not decode, and answer "ok" only after the handlers
// ran inside the request.
package vk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/SevereCloud/vksdk/v2/api"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"kontakt/bot"
	"kontakt/bot/inbox"
)

// Limits are VK's limits for a community token: 20 API requests a second,
// all methods and all chats together. The burst of one keeps any one
// second window at 20 or 21 calls.
var Limits = bot.Limits{Global: rate.Limit(api.LimitGroupToken), GlobalBurst: 1}

// Config configures a Channel. Token, GroupID, Redis and Handler are
// required.
type Config struct {
	// Token is the community access token (messages, and manage for
	// groups.setLongPollSettings).
	Token   string
	GroupID int
	// APIURL is the method endpoint, https://api.vk.com/method/ by default;
	// APIVersion the API version, the library's 5.131 by default.
	APIURL     string
	APIVersion string
	HTTPClient *http.Client
	Redis      redis.UniversalClient
	// Prefix of Redis keys, "vk:<group id>:" by default, so that two
	// communities sharing a Redis keep their queues, ts and limits apart.
	Prefix  string
	Handler bot.Handler
	// Limiter paces every API call of this instance smoothly; Limits by
	// default. PerSecond caps the calls of all instances that share Redis
	// and Prefix (other replicas, send-only instances for the operators),
	// counted in Redis in a sliding second: VK's 20 for a community token
	// by default; negative turns the shared cap off.
	Limiter   *bot.Limiter
	PerSecond int
	Log       *slog.Logger
	// Lanes is how many chats are handled at once (64 by default).
	Lanes int
	// Consumer names this replica in the queue's consumer group; stable
	// across restarts. "kontakt" by default.
	Consumer string
	// CallbackSecret is the secret VK sends with every Callback API event;
	// Confirmation the string to answer its "confirmation" event with.
	CallbackSecret string
	Confirmation   string
	// MaxRetries bounds the retries of a send refused with error 6 or 9, or
	// failed on the network (3 by default); RetryBase is the first pause
	// (1s by default, doubled each time).
	MaxRetries int
	RetryBase  time.Duration
	// Wait is the long poll's wait in seconds (25 by default).
	Wait int
}

// Channel is the VK channel. It implements bot.Sender.
type Channel struct {
	cfg   Config
	api   *api.VK
	log   *slog.Logger
	inbox *inbox.Inbox
	tsKey string
	// id and calls make the members of the shared rate window unique.
	id    string
	calls atomic.Uint64
}

var _ bot.Sender = (*Channel)(nil)

// New returns a Channel; it makes no network calls.
func New(cfg Config) (*Channel, error) {
	if cfg.Token == "" || cfg.GroupID <= 0 || cfg.Redis == nil || cfg.Handler == nil {
		return nil, errors.New("vk: token, group id, Redis and handler are required")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = api.MethodURL
	}
	if !strings.HasSuffix(cfg.APIURL, "/") {
		cfg.APIURL += "/"
	}
	if cfg.APIVersion == "" {
		cfg.APIVersion = api.Version
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "vk:" + strconv.Itoa(cfg.GroupID) + ":"
	}
	if cfg.Limiter == nil {
		cfg.Limiter = bot.NewLimiter(Limits)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = 3
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = time.Second
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 25
	}
	if cfg.Lanes <= 0 {
		cfg.Lanes = 64
	}
	if cfg.HTTPClient == nil {
		// Every call goes to one host: keep an idle connection for every
		// lane, or concurrent sends open new TCP connections (net/http
		// keeps 2 per host by default).
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = cfg.Lanes + 1
		cfg.HTTPClient = &http.Client{Timeout: time.Duration(cfg.Wait)*time.Second + 15*time.Second, Transport: tr}
	}
	vk := api.NewVK(cfg.Token)
	vk.MethodURL = cfg.APIURL
	vk.Version = cfg.APIVersion
	vk.Client = cfg.HTTPClient
	// The library's own limiter sleeps holding a mutex and retries error 6
	// at once; ours waits on a shared limiter and backs off instead.
	vk.Limit = 0
	if cfg.PerSecond == 0 {
		cfg.PerSecond = api.LimitGroupToken
	}
	log := cfg.Log.With("channel", "vk")
	id := make([]byte, 8)
	rand.Read(id)
	c := &Channel{cfg: cfg, api: vk, log: log, tsKey: cfg.Prefix + "{upd}:ts", id: hex.EncodeToString(id),
		inbox: inbox.New(inbox.Config{Redis: cfg.Redis, Prefix: cfg.Prefix, Lanes: cfg.Lanes, Consumer: cfg.Consumer, Log: log})}
	vk.Handler = func(method string, params ...api.Params) (api.Response, error) {
		ctx := context.Background()
		for _, p := range params {
			if c, ok := p[":context"].(context.Context); ok {
				ctx = c
			}
		}
		if err := c.wait(ctx); err != nil {
			return api.Response{}, err
		}
		return vk.DefaultHandler(method, params...)
	}
	return c, nil
}

// slotScript takes a slot in a sliding one-second window of API calls
// shared by every instance: KEYS[1] the window (a sorted set of call times
// by Redis's clock); ARGV the limit and a unique member. Returns 0 when the
// call may go, else how many milliseconds until a slot frees.
var slotScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 1000)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[1], 2000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + 1000 - now)
`)

// wait blocks until an API call may go: the instance's limiter first, then
// the per-second count shared through Redis. If Redis fails, the local
// limiter alone paces the calls.
func (c *Channel) wait(ctx context.Context) error {
	if err := c.cfg.Limiter.Wait(ctx, bot.Chat{Channel: bot.VK}); err != nil {
		return err
	}
	if c.cfg.PerSecond < 0 {
		return nil
	}
	for {
		wait, err := slotScript.Run(ctx, c.cfg.Redis, []string{c.cfg.Prefix + "{rl}"}, c.cfg.PerSecond,
			strconv.FormatUint(c.calls.Add(1), 10)+":"+c.id).Int()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			c.log.Warn("shared rate limit unavailable", "err", err)
			return nil
		}
		if wait == 0 {
			return nil
		}
		inbox.Sleep(ctx, time.Duration(wait)*time.Millisecond)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// call runs an API method with ctx.
func (c *Channel) call(ctx context.Context, method string, p api.Params, out any) error {
	p = p.WithContext(ctx)
	if out == nil {
		_, err := c.api.Request(method, p)
		return unwrapURL(err)
	}
	return unwrapURL(c.api.RequestUnmarshal(method, out, p))
}

// unwrapURL drops the *url.Error wrapper, whose text repeats the method
// URL, keeping log lines short. (The token travels in a header, never in
// the URL.)
func unwrapURL(err error) error {
	var ue interface{ Unwrap() error }
	var apiErr *api.Error
	if err != nil && !errors.As(err, &apiErr) && errors.As(err, &ue) && ue.Unwrap() != nil {
		return fmt.Errorf("vk: %w", ue.Unwrap())
	}
	return err
}
