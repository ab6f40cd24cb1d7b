package operator

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"kontakt/bot"
	"kontakt/escalation"
)

// Remind posts reminders of deadlines about to pass: in the topic and to
// the owner's private chat, once per deadline. before is how long ahead
// (the first response is reminded at most before/4 ahead, since it is
// short). It returns how many reminders it queued; run it every minute.
func (r *Relay) Remind(ctx context.Context, before time.Duration) (int, error) {
	list, err := r.cfg.Appeals.List(ctx, escalation.Filter{Status: []escalation.Status{escalation.StatusNew,
		escalation.StatusAssigned, escalation.StatusForwarded, escalation.StatusAnswered}, Limit: 1000})
	if err != nil {
		return 0, err
	}
	now := r.now()
	n := 0
	for i := range list {
		a := &list[i]
		type due struct {
			kind, what string
			at         time.Time
			ahead      time.Duration
		}
		dues := []due{{"resolve", "решение", a.ResolveDue, before}}
		if a.FirstResponseAt == nil {
			dues = append(dues, due{"first", "первый ответ", a.FirstResponseDue, before / 4})
		}
		for _, d := range dues {
			if !now.Before(d.at) || d.at.Sub(now) > d.ahead {
				continue
			}
			tag, err := r.cfg.DB.Exec(ctx, `INSERT INTO op_reminders (appeal_id, kind, due) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, a.ID, d.kind, d.at)
			if err != nil {
				return n, fmt.Errorf("remind of appeal %d: %w", a.ID, err)
			}
			if tag.RowsAffected() == 0 {
				continue
			}
			if err := r.ensureTopic(ctx, a); err != nil {
				return n, err
			}
			text := fmt.Sprintf("⏰ Срок «%s» по обращению № %s — %s (осталось %s).", d.what, a.Number, r.when(d.at), left(d.at.Sub(now)))
			key := "remind:" + strconv.FormatInt(a.ID, 10) + ":" + d.kind + ":" + strconv.FormatInt(d.at.Unix(), 10)
			if err := r.notice(ctx, a, key, text, nil); err != nil {
				return n, err
			}
			if a.AssigneeID != 0 {
				if chat, ok, err := r.staffChat(ctx, a.AssigneeID); err == nil && ok {
					if err := r.outbound(ctx, bot.Chat{Channel: bot.Telegram, ID: chat}, a.ID, key+":private", text, nil); err != nil {
						return n, err
					}
				}
			}
			n++
		}
	}
	return n, nil
}

func left(d time.Duration) string {
	if d >= time.Hour {
		return fmt.Sprintf("%d ч %d мин", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d мин", max(int(d.Minutes()), 1))
}

// CloseUnrated closes appeals whose client was told the result but did not
// rate it within RatingWait, so that their dialogs return to the bot.
func (r *Relay) CloseUnrated(ctx context.Context) (int, error) {
	rows, err := r.cfg.DB.Query(ctx, `SELECT appeal_id FROM op_ratings WHERE rated_at IS NULL AND asked_at < $1`, r.now().Add(-r.cfg.RatingWait))
	if err != nil {
		return 0, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	n := 0
	for _, id := range ids {
		_, err := r.cfg.Appeals.Close(ctx, id, "клиент не оценил ответ", 0)
		if err != nil && !errors.Is(err, escalation.ErrIllegalTransition) {
			return n, err
		}
		if _, err := r.cfg.DB.Exec(ctx, `UPDATE op_ratings SET rated_at = $2 WHERE appeal_id = $1 AND rated_at IS NULL`, id, r.now()); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
