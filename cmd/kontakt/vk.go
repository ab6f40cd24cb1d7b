package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"kontakt/bot"
	"kontakt/bot/vk"
)

// newVKChannel builds the VK channel when VK_TOKEN is set (nil otherwise)
// and registers it as the sender for VK clients.
func (a *app) newVKChannel(h bot.Handler) (*vk.Channel, error) {
	if a.cfg.VKToken == "" {
		a.log.Info("vk: VK_TOKEN not set, channel off")
		return nil, nil
	}
	ch, err := newVK(a.cfg, a.rdb, h, a.log)
	if err != nil {
		return nil, err
	}
	a.senders[bot.VK] = ch
	return ch, nil
}

// runVK starts the VK channel's event queue consumer, and the long poller
// or the Callback API listener (POST /vk/callback on VK_LISTEN_ADDR). It
// returns at once; everything stops when ctx is done.
func (a *app) runVK(ctx context.Context, ch *vk.Channel) error {
	if ch == nil {
		return nil
	}
	cfg, log := a.cfg, a.log
	go ch.Run(ctx)
	if cfg.VKMode == "callback" {
		mux := http.NewServeMux()
		mux.Handle("POST /vk/callback", ch.CallbackHandler())
		srv := &http.Server{Addr: cfg.VKListenAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			<-ctx.Done()
			srv.Close()
		}()
		go func() {
			if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("vk callback listener", "err", err)
			}
		}()
		log.Info("vk: Callback API mode", "listen", cfg.VKListenAddr, "path", "/vk/callback")
		return nil
	}
	go ch.Poll(ctx)
	log.Info("vk: Bots Long Poll", "group", cfg.VKGroupID)
	return nil
}

// newVK builds the VK channel. A send-only instance for the operators'
// relay or the console is newVK with a handler that is never called: it
// shares the unreachable marks, the clients' keyboard support and the
// token's 20 calls a second with the receiving one through Redis.
func newVK(cfg Config, rdb redis.UniversalClient, h bot.Handler, log *slog.Logger) (*vk.Channel, error) {
	host, _ := os.Hostname()
	return vk.New(vk.Config{
		Token: cfg.VKToken, GroupID: cfg.VKGroupID, APIURL: cfg.VKAPIURL, APIVersion: cfg.VKAPIVersion,
		Redis: rdb, Handler: h, Log: log, Consumer: "kontakt-" + host,
		CallbackSecret: cfg.VKCallbackSecret, Confirmation: cfg.VKConfirmation,
	})
}

// vkSender returns a send-only VK channel for the operators' relay and the
// console (nil when VK_TOKEN is not set), and the function that closes its
// Redis connection.
func vkSender(ctx context.Context, cfg Config, log *slog.Logger) (bot.Sender, func(), error) {
	if cfg.VKToken == "" {
		return nil, func() {}, nil
	}
	rdb, err := openRedis(ctx, cfg.RedisURL)
	if err != nil {
		return nil, nil, err
	}
	ch, err := newVK(cfg, rdb, bot.HandlerFunc(func(context.Context, bot.Message) ([]bot.Reply, error) { return nil, nil }), log)
	if err != nil {
		rdb.Close()
		return nil, nil, err
	}
	return ch, func() { rdb.Close() }, nil
}
