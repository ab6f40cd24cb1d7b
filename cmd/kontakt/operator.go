package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"kontakt/bot"
	"kontakt/bot/telegram"
	"kontakt/escalation"
	"kontakt/operator"
)

// startOperator starts the operators' relay when OPERATORS_CHAT_IDS is set
// and Telegram is on (nil otherwise): the escalation event dispatcher
// feeding it and its posting loop. It answers clients through the app's
// senders, Telegram's and VK's alike; the caller puts it in front of the
// dialogs with Wrap.
func (a *app) startOperator(ctx context.Context, tg *telegram.Channel, next bot.Handler) (*operator.Relay, error) {
	cfg, log := a.cfg, a.log
	if len(cfg.OperatorsChatIDs) == 0 || tg == nil {
		log.Info("operator relay: OPERATORS_CHAT_IDS or TELEGRAM_TOKEN not set, relay off")
		return nil, nil
	}
	relay, err := operator.New(operator.Config{Appeals: a.svc, DB: a.pool, Forum: tgForum{tg},
		Senders: a.senders, Groups: cfg.OperatorsChatIDs,
		SignNames: cfg.OperatorSignNames, ApproveAnswers: cfg.ManagerAnswerMode == "approve", Log: log})
	if err != nil {
		return nil, err
	}
	go (&escalation.Dispatcher{DB: a.pool, Handler: relay, Log: log}).Run(ctx)
	go relay.Run(ctx)
	log.Info("operator relay started", "groups", len(cfg.OperatorsChatIDs), "answers", cfg.ManagerAnswerMode)
	return relay, nil
}

// deadlineWorker runs the periodic work of deadlines every minute: overdue
// marks and assignment of waiting appeals always; reminders and closing of
// unrated appeals when the relay is on.
func (a *app) deadlineWorker(ctx context.Context, relay *operator.Relay) {
	svc, log := a.svc, a.log
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
		if relay != nil {
			if _, err := relay.Remind(ctx, 2*time.Hour); err != nil && ctx.Err() == nil {
				log.Error("deadline reminders", "err", err)
			}
			if _, err := relay.CloseUnrated(ctx); err != nil && ctx.Err() == nil {
				log.Error("close unrated appeals", "err", err)
			}
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
	id, ttl, err := parseStaffLink("invite", args, 72*time.Hour, stderr)
	if err != nil {
		return err
	}
	cfg, pool, err := connect(ctx, getenv)
	if err != nil {
		return err
	}
	defer pool.Close()
	p, err := escalation.New(pool, escalation.Config{}).StaffMember(ctx, id)
	if err != nil {
		return err
	}
	code, err := operator.CreateInvite(ctx, pool, p.ID, ttl)
	if err != nil {
		return err
	}
	until := time.Now().Add(ttl).In(escalation.Moscow).Format("02.01.2006 15:04")
	if cfg.TelegramBotUsername == "" {
		fmt.Fprintf(stdout, "Приглашение для %s (действует до %s): отправьте боту команду\n/start inv_%s\n(задайте TELEGRAM_BOT_USERNAME, чтобы получить ссылку)\n", p.Name, until, code)
		return nil
	}
	fmt.Fprintf(stdout, "Ссылка для %s (одноразовая, действует до %s):\n%s\n", p.Name, until, operator.InviteLink(cfg.TelegramBotUsername, code))
	return nil
}
