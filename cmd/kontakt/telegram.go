package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"kontakt/bot"
	"kontakt/bot/telegram"
	"kontakt/dialog"
	"kontakt/escalation"
	"kontakt/faq"
	"kontakt/knowledge"
)

// newTelegram builds the Telegram channel when TELEGRAM_TOKEN is set (nil
// otherwise) and registers it as the sender for Telegram clients.
func (a *app) newTelegram(h bot.Handler) (*telegram.Channel, error) {
	if a.cfg.TelegramToken == "" {
		a.log.Info("telegram: TELEGRAM_TOKEN not set, channel off")
		return nil, nil
	}
	host, _ := os.Hostname()
	ch, err := telegram.New(telegram.Config{
		Token: a.cfg.TelegramToken, BaseURL: a.cfg.TelegramAPIURL, Redis: a.rdb, Handler: h,
		Log: a.log, Consumer: "kontakt-" + host, WebhookSecret: a.cfg.TelegramWebhookSecret,
	})
	if err != nil {
		return nil, err
	}
	a.senders[bot.Telegram] = ch
	return ch, nil
}

// runTelegram starts the channel's update queue consumer, and the poller
// or the webhook listener. It returns at once; everything stops when ctx
// is done.
func (a *app) runTelegram(ctx context.Context, ch *telegram.Channel) error {
	if ch == nil {
		return nil
	}
	cfg, log := a.cfg, a.log
	go ch.Run(ctx)
	if cfg.TelegramMode == "webhook" {
		if err := ch.SetWebhook(ctx, cfg.TelegramWebhookURL); err != nil {
			return fmt.Errorf("telegram: set webhook: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("POST /telegram/webhook", ch.WebhookHandler())
		srv := &http.Server{Addr: cfg.TelegramListenAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			<-ctx.Done()
			srv.Close()
		}()
		go func() {
			if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("telegram webhook listener", "err", err)
			}
		}()
		log.Info("telegram: webhook mode", "listen", cfg.TelegramListenAddr)
		return nil
	}
	if err := ch.DeleteWebhook(ctx); err != nil {
		log.Warn("telegram: delete webhook", "err", err)
	}
	go ch.Poll(ctx)
	log.Info("telegram: long polling")
	return nil
}

func openRedis(ctx context.Context, url string) (*redis.Client, error) {
	if url == "" {
		return nil, errors.New("REDIS_URL is not set")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	rdb := redis.NewClient(opt)
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("connect to Redis: %w", err)
	}
	return rdb, nil
}

// newDialog builds the dialog engine for `kontakt chat`: states in Redis;
// with a database, the knowledge base from PostgreSQL (kept current,
// seeded from KONTAKT_KB_FILE when empty), appeals and feedback there too;
// without one, the knowledge base from KONTAKT_KB_FILE and hand-offs that
// fail politely.
func newDialog(ctx context.Context, cfg Config, pool *pgxpool.Pool, rdb *redis.Client, log *slog.Logger) (*dialog.Machine, *knowledge.Base, error) {
	a := &app{cfg: cfg, log: log, pool: pool, rdb: rdb}
	var err error
	if pool != nil {
		a.kb, err = openKnowledge(ctx, cfg, pool, log)
		a.svc = escalation.New(pool, escalation.Config{})
	} else {
		a.kb, err = knowledgeFromFile(cfg.KBFile)
	}
	if err != nil {
		return nil, nil, err
	}
	return a.dialog(), a.kb, nil
}

// dialog builds the dialog engine on the app's Redis, knowledge base and,
// when there is a database, appeals and feedback.
func (a *app) dialog() *dialog.Machine {
	dc := dialog.Config{
		Store:     dialog.NewRedisStore(a.rdb, "dlg:", a.cfg.DialogTTL),
		Knowledge: a.kb, Catalog: a.kb,
		Institute: a.cfg.InstituteName,
		Log:       a.log,
	}
	if a.pool != nil {
		ap := appeals{a.svc}
		dc.Appeals, dc.Finder, dc.Feedback = ap, ap, feedbackTable{a.pool}
	}
	return dialog.New(dc)
}

func knowledgeFromFile(name string) (*knowledge.Base, error) {
	if name == "" {
		return nil, errors.New("KONTAKT_KB_FILE is not set (e.g. faq/testdata/kb.yaml)")
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("KONTAKT_KB_FILE: %w", err)
	}
	defer f.Close()
	entries, err := faq.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return knowledge.New(entries)
}

// appeals adapts escalation.Service to what dialog needs.
type appeals struct{ svc *escalation.Service }

var (
	_ dialog.Escalator    = appeals{}
	_ dialog.AppealFinder = appeals{}
)

func (a appeals) Open(ctx context.Context, r dialog.OpenRequest) (dialog.Appeal, error) {
	req := escalation.OpenAppeal{
		Client: escalation.ClientInfo{
			Channel: escalation.Channel(r.Chat.Channel), ExternalID: r.Chat.ID,
			Name: r.Name, Group: escalation.Group(r.Audience), Phone: r.Phone, Email: r.Email,
			Consent: &escalation.Consent{At: r.ConsentAt, Channel: escalation.Channel(r.Chat.Channel), Version: r.ConsentVersion},
		},
		Topic: r.Topic, Text: r.Text, Attachments: attachments(r.Attachments),
	}
	for _, l := range r.Transcript {
		req.Transcript = append(req.Transcript, escalation.TranscriptLine{At: l.At, From: l.From, Text: l.Text})
	}
	ap, err := a.svc.Open(ctx, req)
	if err != nil {
		return dialog.Appeal{}, err
	}
	return toDialogAppeal(ap), nil
}

func (a appeals) AddMessage(ctx context.Context, appealID int64, m bot.Message) error {
	text := m.Text
	if text == "" {
		text = map[bot.Kind]string{bot.Sticker: "[стикер]", bot.Voice: "[голосовое сообщение]", bot.Contact: "[контакт] " + m.Phone}[m.Kind]
	}
	if text == "" && len(m.Attachments) == 0 {
		text = "[" + string(m.Kind) + "]"
	}
	_, err := a.svc.AddMessage(ctx, appealID, escalation.Message{Author: escalation.FromClient, Text: text, Attachments: attachments(m.Attachments)})
	return err
}

func (a appeals) OpenAppeal(ctx context.Context, chat bot.Chat) (*dialog.Appeal, error) {
	ap, err := a.svc.OpenAppealFor(ctx, escalation.Channel(chat.Channel), chat.ID)
	if err != nil || ap == nil {
		return nil, err
	}
	d := toDialogAppeal(ap)
	return &d, nil
}

func (a appeals) Appeals(ctx context.Context, chat bot.Chat) ([]dialog.Appeal, error) {
	c, err := a.svc.ClientByIdentity(ctx, escalation.Channel(chat.Channel), chat.ID)
	if errors.Is(err, escalation.ErrNotFound) {
		return []dialog.Appeal{}, nil
	}
	if err != nil {
		return nil, err
	}
	list, err := a.svc.ClientAppeals(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	out := make([]dialog.Appeal, 0, len(list))
	for i := len(list) - 1; i >= 0; i-- { // newest first
		out = append(out, toDialogAppeal(&list[i]))
	}
	return out, nil
}

func toDialogAppeal(a *escalation.Appeal) dialog.Appeal {
	return dialog.Appeal{ID: a.ID, Number: a.Number, Status: string(a.Status), Open: a.Status.Open(),
		Topic: a.Topic, Created: a.CreatedAt, Due: a.FirstResponseDue}
}

func attachments(in []bot.Attachment) []escalation.Attachment {
	out := make([]escalation.Attachment, 0, len(in))
	for _, a := range in {
		out = append(out, escalation.Attachment{Kind: string(a.Kind), FileID: a.FileID, URL: a.URL, Name: a.FileName, Size: a.Size, Mime: a.MIMEType})
	}
	return out
}

// feedbackTable adapts faq.Store.AddFeedback to dialog.FeedbackStore.
type feedbackTable struct{ pool *pgxpool.Pool }

func (f feedbackTable) AddFeedback(ctx context.Context, fb dialog.Feedback) error {
	return faq.NewStore(f.pool).AddFeedback(ctx, faq.Feedback{EntryID: fb.EntryID, Helpful: fb.Helpful, Query: fb.Query, Channel: string(fb.Channel)})
}

// validSecret checks a webhook secret token as Telegram does.
func validSecret(s string) bool {
	if len(s) < 1 || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
