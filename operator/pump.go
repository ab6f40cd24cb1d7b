package operator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"kontakt/bot"
	"kontakt/escalation"
)

// maxPost is how long a merged post may grow (Telegram allows 4096).
const maxPost = 3500

// Pump posts what is waiting, as far as the groups' limits allow at this
// moment: into each group at most one post per interval (60s/GroupRate),
// oldest work first, the client's consecutive messages merged into one
// post; and every waiting private message. It returns how many posts it
// made and when the next one may go (zero if nothing waits).
func (r *Relay) Pump(ctx context.Context) (posted int, next time.Time, err error) {
	var errs []error
	for _, g := range r.cfg.Groups {
		for ctx.Err() == nil {
			now := r.cfg.Now()
			r.mu.Lock()
			at := r.next[g]
			r.mu.Unlock()
			if now.Before(at) {
				if more, err := r.hasWork(ctx, g); err == nil && more && (next.IsZero() || at.Before(next)) {
					next = at
				}
				break
			}
			slots, err := r.step(ctx, g)
			if err != nil {
				errs = append(errs, err)
				slots = max(slots, 3) // back off a little
			}
			if slots == 0 {
				break
			}
			posted += min(slots, 1)
			r.mu.Lock()
			r.next[g] = now.Add(time.Duration(slots) * r.interval())
			r.mu.Unlock()
			if err != nil {
				break
			}
		}
	}
	if n, err := r.sendOutbound(ctx); err != nil {
		errs = append(errs, err)
	} else {
		posted += n
	}
	return posted, next, errors.Join(errs...)
}

func (r *Relay) hasWork(ctx context.Context, g int64) (bool, error) {
	var more bool
	err := r.cfg.DB.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM op_topics WHERE group_chat = $1 AND (thread_id IS NULL OR card_pending))
		OR EXISTS (SELECT 1 FROM op_feed WHERE group_chat = $1 AND posted_at IS NULL AND due_at <= $2)`, g, r.now()).Scan(&more)
	return more, err
}

type topic struct {
	appealID    int64
	group       int64
	thread      *int64
	name        string
	cardPending bool
	recreated   int
}

type post struct {
	id          int64
	kind        string
	text        string
	attachments []escalation.Attachment
	buttons     [][]bot.Button
	escMsgID    *int64
}

// step makes the next post into group g: it creates a missing topic, or
// posts a pending card, or the oldest waiting posts of one appeal (merged).
// It returns how many sends it used (0: nothing to do).
func (r *Relay) step(ctx context.Context, g int64) (int, error) {
	now := r.now()
	var appealID int64
	err := r.cfg.DB.QueryRow(ctx, `SELECT appeal_id FROM (
			(SELECT appeal_id, created_at AS at, 0 AS o FROM op_topics
			 WHERE group_chat = $1 AND (thread_id IS NULL OR card_pending) ORDER BY created_at LIMIT 1)
			UNION ALL
			(SELECT appeal_id, created_at, id FROM op_feed
			 WHERE group_chat = $1 AND posted_at IS NULL AND due_at <= $2 ORDER BY id LIMIT 1)
		) x ORDER BY at, o LIMIT 1`, g, now).Scan(&appealID)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("next post for group %d: %w", g, err)
	}
	var t topic
	err = r.cfg.DB.QueryRow(ctx, `SELECT appeal_id, group_chat, thread_id, name, card_pending, recreated FROM op_topics WHERE appeal_id = $1`,
		appealID).Scan(&t.appealID, &t.group, &t.thread, &t.name, &t.cardPending, &t.recreated)
	if err != nil {
		return 0, fmt.Errorf("topic of appeal %d: %w", appealID, err)
	}
	log := r.log.With("appeal", appealID, "group", g)
	if t.thread == nil {
		th, err := r.cfg.Forum.CreateTopic(ctx, g, t.name)
		if err != nil {
			return 1, fmt.Errorf("create topic for appeal %d: %w", appealID, err)
		}
		if _, err := r.cfg.DB.Exec(ctx, `UPDATE op_topics SET thread_id = $2 WHERE appeal_id = $1`, appealID, th); err != nil {
			return 1, fmt.Errorf("map topic of appeal %d: %w", appealID, err)
		}
		log.Info("topic created", "thread", th, "recreated", t.recreated)
		return 1, nil
	}
	if t.cardPending {
		a, err := r.cfg.Appeals.Get(ctx, appealID)
		if err != nil {
			return 0, err
		}
		text, err := r.card(ctx, a, t.recreated > 0)
		if err != nil {
			return 0, err
		}
		var buttons [][]bot.Button
		if a.Status.Open() {
			buttons = cardButtons(a.ID)
		}
		if err := r.cfg.Forum.SendToThread(ctx, g, *t.thread, bot.Reply{Text: text, Buttons: buttons}); err != nil {
			return 1, r.sendFailed(ctx, t, err)
		}
		_, err = r.cfg.DB.Exec(ctx, `UPDATE op_topics SET card_pending = false WHERE appeal_id = $1`, appealID)
		return 1, err
	}
	posts, err := r.pending(ctx, appealID, now)
	if err != nil || len(posts) == 0 {
		return 0, err
	}
	first := posts[0]
	if first.kind == "client" && len(first.attachments) > 0 {
		return r.postFiles(ctx, t, first)
	}
	// Merge consecutive text posts; a post with buttons ends the merge.
	var (
		parts []string
		ids   []int64
		rows  [][]bot.Button
		size  int
	)
	for _, p := range posts {
		if p.kind == "client" && len(p.attachments) > 0 {
			break
		}
		text, skip, err := r.render(ctx, p)
		if err != nil {
			return 0, err
		}
		if skip {
			ids = append(ids, p.id)
			continue
		}
		if len(parts) > 0 && size+len([]rune(text)) > maxPost {
			break
		}
		parts, ids, size = append(parts, text), append(ids, p.id), size+len([]rune(text))+2
		if len(p.buttons) > 0 {
			rows = p.buttons
			break
		}
	}
	if len(parts) > 0 {
		if err := r.cfg.Forum.SendToThread(ctx, g, *t.thread, bot.Reply{Text: strings.Join(parts, "\n\n"), Buttons: rows}); err != nil {
			return 1, r.sendFailed(ctx, t, err)
		}
	}
	if _, err := r.cfg.DB.Exec(ctx, `UPDATE op_feed SET posted_at = $2 WHERE id = ANY($1)`, ids, r.now()); err != nil {
		return 1, fmt.Errorf("mark posts of appeal %d: %w", appealID, err)
	}
	if len(parts) == 0 {
		return 0, nil // only skipped echoes: no send used
	}
	return 1, nil
}

// pending reads the waiting posts of an appeal, oldest first.
func (r *Relay) pending(ctx context.Context, appealID int64, now time.Time) ([]post, error) {
	rows, err := r.cfg.DB.Query(ctx, `SELECT id, kind, text, attachments, buttons, esc_msg_id FROM op_feed
		WHERE appeal_id = $1 AND posted_at IS NULL AND due_at <= $2 ORDER BY id LIMIT 50`, appealID, now)
	if err != nil {
		return nil, fmt.Errorf("posts of appeal %d: %w", appealID, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (post, error) {
		var p post
		err := row.Scan(&p.id, &p.kind, &p.text, &p.attachments, &p.buttons, &p.escMsgID)
		return p, err
	})
}

// render is the text of a post; echoes of answers the relay sent from the
// topic itself are skipped.
func (r *Relay) render(ctx context.Context, p post) (string, bool, error) {
	switch p.kind {
	case "client":
		return "Клиент: " + p.text + attachmentLines(p.attachments), false, nil
	case "echo":
		if p.escMsgID == nil {
			return "", true, nil
		}
		var origin string
		err := r.cfg.DB.QueryRow(ctx, `SELECT origin FROM op_relayed WHERE esc_msg_id = $1`, *p.escMsgID).Scan(&origin)
		switch {
		case err == nil && origin == "topic":
			return "", true, nil
		case err != nil && !errors.Is(err, pgx.ErrNoRows):
			return "", false, err
		}
		var staffID int64
		_ = r.cfg.DB.QueryRow(ctx, `SELECT coalesce(staff_id, 0) FROM esc_messages WHERE id = $1`, *p.escMsgID).Scan(&staffID)
		where := "из веб-консоли"
		if origin == "private" {
			where = "из личного чата"
		}
		return fmt.Sprintf("Ответ клиенту (%s, %s):\n%s", r.staffName(ctx, staffID), where, p.text), false, nil
	}
	return p.text, false, nil
}

// postFiles sends a client's files into the topic: by file_id for
// Telegram clients, as links otherwise. It uses one send per file.
func (r *Relay) postFiles(ctx context.Context, t topic, p post) (int, error) {
	a, err := r.cfg.Appeals.Get(ctx, t.appealID)
	if err != nil {
		return 0, err
	}
	n := 0
	if a.Channel == escalation.Telegram {
		for i, f := range p.attachments {
			caption := "Клиент прислал файл"
			if i == 0 && p.text != "" {
				caption = "Клиент: " + p.text
			}
			if f.FileID == "" {
				continue
			}
			n++
			if err := r.cfg.Forum.SendFile(ctx, t.group, *t.thread, bot.Kind(f.Kind), f.FileID, caption); err != nil {
				return n, r.sendFailed(ctx, t, err)
			}
		}
	}
	if n == 0 {
		n = 1
		if err := r.cfg.Forum.SendToThread(ctx, t.group, *t.thread, bot.Reply{Text: "Клиент: " + p.text + attachmentLines(p.attachments)}); err != nil {
			return n, r.sendFailed(ctx, t, err)
		}
	}
	_, err = r.cfg.DB.Exec(ctx, `UPDATE op_feed SET posted_at = $2 WHERE id = $1`, p.id, r.now())
	return n, err
}

// sendFailed handles a failed post: a deleted topic is unmapped, to be
// re-created with the card and a short history; anything else is retried.
func (r *Relay) sendFailed(ctx context.Context, t topic, err error) error {
	if !errors.Is(err, ErrTopicGone) {
		return fmt.Errorf("post into topic of appeal %d: %w", t.appealID, err)
	}
	r.log.Warn("topic deleted: re-creating it", "appeal", t.appealID, "group", t.group, "thread", *t.thread)
	if _, err := r.cfg.DB.Exec(ctx, `UPDATE op_topics SET thread_id = NULL, card_pending = true, recreated = recreated + 1
		WHERE appeal_id = $1 AND thread_id = $2`, t.appealID, *t.thread); err != nil {
		return fmt.Errorf("unmap deleted topic of appeal %d: %w", t.appealID, err)
	}
	return nil
}

// sendOutbound sends the waiting private messages, in order per chat; a
// chat whose message failed waits for its retry before the next one.
func (r *Relay) sendOutbound(ctx context.Context) (int, error) {
	now := r.now()
	rows, err := r.cfg.DB.Query(ctx, `SELECT id, channel, chat_id, coalesce(appeal_id, 0), text, buttons, coalesce(key, ''), next_at, attempts
		FROM op_outbound WHERE sent_at IS NULL AND failed = '' ORDER BY id LIMIT 200`)
	if err != nil {
		return 0, fmt.Errorf("waiting private messages: %w", err)
	}
	type out struct {
		id, appealID  int64
		channel, chat string
		text, key     string
		buttons       [][]bot.Button
		nextAt        time.Time
		attempts      int
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (out, error) {
		var o out
		err := row.Scan(&o.id, &o.channel, &o.chat, &o.appealID, &o.text, &o.buttons, &o.key, &o.nextAt, &o.attempts)
		return o, err
	})
	if err != nil {
		return 0, fmt.Errorf("waiting private messages: %w", err)
	}
	blocked := map[string]bool{}
	sent := 0
	var errs []error
	for _, o := range list {
		ck := o.channel + ":" + o.chat
		if blocked[ck] {
			continue
		}
		if o.nextAt.After(now) {
			blocked[ck] = true
			continue
		}
		chat := bot.Chat{Channel: bot.Channel(o.channel), ID: o.chat}
		snd := r.cfg.Senders[chat.Channel]
		var sendErr error
		if snd == nil {
			sendErr = errNoSender
		} else {
			sendErr = snd.Send(ctx, chat, bot.Reply{Text: o.text, Buttons: o.buttons, ID: o.key})
		}
		switch {
		case sendErr == nil:
			_, err = r.cfg.DB.Exec(ctx, `UPDATE op_outbound SET sent_at = $2, attempts = attempts + 1 WHERE id = $1`, o.id, r.now())
			sent++
		case errors.Is(sendErr, bot.ErrUnreachable) || errors.Is(sendErr, errNoSender):
			reason := "unreachable"
			if errors.Is(sendErr, errNoSender) {
				reason = "no sender for channel"
			}
			r.log.Warn("private message not deliverable", "chat", chat.String(), "reason", reason)
			_, err = r.cfg.DB.Exec(ctx, `UPDATE op_outbound SET failed = $2, attempts = attempts + 1 WHERE id = $1`, o.id, reason)
			if err == nil && o.appealID != 0 {
				if a, gerr := r.cfg.Appeals.Get(ctx, o.appealID); gerr == nil && chat.Channel == bot.Channel(a.Channel) && chat.ID == a.ExternalID {
					err = r.notice(ctx, a, "undeliverable:"+fmt.Sprint(o.id), "⚠ Сообщение клиенту не доставлено ("+undeliverable(reason)+"). Свяжитесь с клиентом иначе:\n"+clip(o.text, 300), nil)
				}
			}
		default:
			blocked[ck] = true
			wait := min(time.Duration(1<<min(o.attempts, 9))*time.Second, 10*time.Minute)
			errs = append(errs, fmt.Errorf("send to %v: %w", chat, sendErr))
			_, err = r.cfg.DB.Exec(ctx, `UPDATE op_outbound SET attempts = attempts + 1, next_at = $2 WHERE id = $1`, o.id, now.Add(wait))
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return sent, errors.Join(errs...)
}

var errNoSender = errors.New("operator: no sender for the channel")

func undeliverable(reason string) string {
	if reason == "unreachable" {
		return "клиент заблокировал бота"
	}
	return "у канала клиента нет отправки сообщений"
}

// Run posts until ctx is done: it waits for new work (or the next free
// slot of a group) and pumps. Only one process pumps at a time: the others
// wait on a PostgreSQL advisory lock, ready to take over.
func (r *Relay) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		if err := r.runLocked(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("operator relay", "err", err)
			sleepCtx(ctx, 5*time.Second)
		}
	}
	return nil
}

func (r *Relay) runLocked(ctx context.Context) error {
	conn, err := r.cfg.DB.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	for {
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext('kontakt:operator-relay'))`).Scan(&ok); err != nil {
			return err
		}
		if ok {
			break
		}
		sleepCtx(ctx, 5*time.Second)
		if ctx.Err() != nil {
			return nil
		}
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtext('kontakt:operator-relay'))`)
	for ctx.Err() == nil {
		_, next, err := r.Pump(ctx)
		if err != nil && ctx.Err() == nil {
			r.log.Error("operator relay: posting", "err", err)
		}
		wait := time.Second // other replicas' events arrive without a poke
		if !next.IsZero() {
			wait = min(wait, max(time.Until(next), 10*time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-r.wake:
		case <-t.C:
		}
		t.Stop()
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
