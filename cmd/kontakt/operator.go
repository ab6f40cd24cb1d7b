package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"kontakt/bot"
	"kontakt/bot/telegram"
	"kontakt/escalation"
	"kontakt/operator"
)

// startOperator starts the operators' relay when OPERATORS_CHAT_IDS is set:
// the escalation event dispatcher feeding it, its posting loop, and the
// deadline workers (overdue marks, assignment of waiting appeals,
// reminders, closing of unrated appeals). It returns the handler for the
// Telegram channel: the relay in front of next (the dialogs).
func startOperator(ctx context.Context, cfg Config, pool *pgxpool.Pool, next bot.Handler, log *slog.Logger) (bot.Handler, error) {
	if len(cfg.OperatorsChatIDs) == 0 || pool == nil || cfg.TelegramToken == "" {
		log.Info("operator relay: OPERATORS_CHAT_IDS not set, relay off")
		return next, nil
	}
	rdb, err := openRedis(ctx, cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	// A sending-only instance of the channel: the relay's sends are paced
	// by its own queue; unreachable marks are shared through Redis.
	host, _ := os.Hostname()
	ch, err := telegram.New(telegram.Config{Token: cfg.TelegramToken, BaseURL: cfg.TelegramAPIURL, Redis: rdb,
		Handler: next, Log: log, Consumer: "kontakt-operator-" + host})
	if err != nil {
		rdb.Close()
		return nil, err
	}
	svc := escalation.New(pool, escalation.Config{})
	if err := svc.LoadCalendar(ctx); err != nil {
		rdb.Close()
		return nil, err
	}
	relay, err := operator.New(operator.Config{Appeals: svc, DB: pool, Forum: tgForum{ch},
		Senders: map[bot.Channel]bot.Sender{bot.Telegram: ch}, Groups: cfg.OperatorsChatIDs,
		SignNames: cfg.OperatorSignNames, ApproveAnswers: cfg.ManagerAnswerMode == "approve", Log: log})
	if err != nil {
		rdb.Close()
		return nil, err
	}
	go func() {
		<-ctx.Done()
		rdb.Close()
	}()
	go (&escalation.Dispatcher{DB: pool, Handler: relay, Log: log}).Run(ctx)
	go relay.Run(ctx)
	go deadlineWorker(ctx, svc, relay, log)
	log.Info("operator relay started", "groups", len(cfg.OperatorsChatIDs), "answers", cfg.ManagerAnswerMode)
	return relay.Wrap(next), nil
}

// deadlineWorker runs the periodic work of deadlines every minute.
func deadlineWorker(ctx context.Context, svc *escalation.Service, relay *operator.Relay, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if n, err := svc.MarkOverdue(ctx); err != nil && ctx.Err() == nil {
			log.Error("mark overdue appeals", "err", err)
		} else if n > 0 {
			log.Info("appeals overdue", "n", n)
		}
		queues := map[escalation.Queue]bool{escalation.QueueContact: true}
		if staff, err := svc.ListStaff(ctx, ""); err == nil {
			for _, p := range staff {
				for _, q := range p.Queues {
					queues[q] = true
				}
			}
		}
		for q := range queues {
			if _, err := svc.AssignWaiting(ctx, q); err != nil && ctx.Err() == nil {
				log.Error("assign waiting appeals", "queue", q, "err", err)
			}
		}
		if _, err := relay.Remind(ctx, 2*time.Hour); err != nil && ctx.Err() == nil {
			log.Error("deadline reminders", "err", err)
		}
		if _, err := relay.CloseUnrated(ctx); err != nil && ctx.Err() == nil {
			log.Error("close unrated appeals", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tgForum adapts the Telegram channel to operator.Forum.
type tgForum struct{ ch *telegram.Channel }

var _ operator.Forum = tgForum{}

func topicGone(err error) error {
	if errors.Is(err, telegram.ErrThreadNotFound) {
		return fmt.Errorf("%w: %v", operator.ErrTopicGone, err)
	}
	return err
}

func (f tgForum) CreateTopic(ctx context.Context, group int64, name string) (int64, error) {
	return f.ch.CreateTopic(ctx, group, name)
}

func (f tgForum) SendToThread(ctx context.Context, group, thread int64, r bot.Reply) error {
	return topicGone(f.ch.SendToThread(ctx, group, thread, r))
}

func (f tgForum) SendFile(ctx context.Context, group, thread int64, kind bot.Kind, fileID, caption string) error {
	return topicGone(f.ch.SendFile(ctx, group, thread, kind, fileID, caption))
}

// runStaffInvite is `kontakt staff invite --id N [--ttl 72h]`: it prints a
// one-time Telegram link that links the person's account to their staff
// record.
func runStaffInvite(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("staff invite", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.Int64("id", 0, "staff id (kontakt staff list)")
	ttl := fs.Duration("ttl", 72*time.Hour, "how long the link is valid")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *id <= 0 || *ttl <= 0 {
		return errors.New("usage: kontakt staff invite --id N [--ttl 72h]")
	}
	cfg, err := loadConfig(getenv, "DATABASE_URL")
	if err != nil {
		return err
	}
	pool, err := openPool(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	p, err := escalation.New(pool, escalation.Config{}).StaffMember(ctx, *id)
	if err != nil {
		return err
	}
	code, err := operator.CreateInvite(ctx, pool, p.ID, *ttl)
	if err != nil {
		return err
	}
	until := time.Now().Add(*ttl).In(escalation.Moscow).Format("02.01.2006 15:04")
	if cfg.TelegramBotUsername == "" {
		fmt.Fprintf(stdout, "Приглашение для %s (действует до %s): отправьте боту команду\n/start inv_%s\n(задайте TELEGRAM_BOT_USERNAME, чтобы получить ссылку)\n", p.Name, until, code)
		return nil
	}
	fmt.Fprintf(stdout, "Ссылка для %s (одноразовая, действует до %s):\n%s\n", p.Name, until, operator.InviteLink(cfg.TelegramBotUsername, code))
	return nil
}
