package operator

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"kontakt/bot"
	"kontakt/escalation"
)

// HandleEvent turns an appeal's event into what the relay has to post. It
// only writes to PostgreSQL (posting is Pump's job), so the dispatcher is
// not held up; repeats of an event (delivery is at least once) are
// recognised by Event.ID.
func (r *Relay) HandleEvent(ctx context.Context, e escalation.Event) error {
	defer r.poke()
	key := "ev:" + strconv.FormatInt(e.ID, 10)
	a, err := r.cfg.Appeals.Get(ctx, e.AppealID)
	if err != nil {
		return err
	}
	if err := r.ensureTopic(ctx, a); err != nil {
		return err
	}
	switch e.Kind {
	case escalation.EventOpened:
		cal := r.cfg.Appeals.Calendar()
		if !cal.Working(e.At) {
			text := fmt.Sprintf(txtOffHoursFmt, clock(cal.Start), clock(cal.End), a.Number, r.when(a.FirstResponseDue))
			return r.toClient(ctx, a, "offhours:"+strconv.FormatInt(a.ID, 10), text, nil)
		}
	case escalation.EventMessage:
		return r.feedClientMessages(ctx, a)
	case escalation.EventAssigned:
		return r.notice(ctx, a, key, "Взято в работу: "+r.staffName(ctx, a.AssigneeID), nil)
	case escalation.EventForwarded:
		return r.forwarded(ctx, a, key)
	case escalation.EventAnswered:
		return r.feedEchoes(ctx, a)
	case escalation.EventResolved:
		// Whichever tool resolved it (the topic, the console), the client
		// is told here, once, and asked to rate — in the channels the relay
		// writes to; walk-in and phone clients are told by the console.
		if r.cfg.Senders[bot.Channel(a.Channel)] == nil {
			return r.notice(ctx, a, key, "Решено: "+a.Result+"\n"+fmt.Sprintf(txtResultNotSent, a.Channel.Title()), nil)
		}
		if err := r.notice(ctx, a, key, "Решено: "+a.Result, nil); err != nil {
			return err
		}
		return r.tellResult(ctx, a)
	case escalation.EventReleased:
		return r.notice(ctx, a, key, "Возвращено в очередь: "+a.Queue.Title()+" (ожидает, кто возьмёт).", nil)
	case escalation.EventClosed:
		return r.notice(ctx, a, key, "Обращение закрыто.", nil)
	case escalation.EventReopened:
		return r.notice(ctx, a, key, "Обращение открыто снова: клиент написал после решения.", nil)
	case escalation.EventOverdue:
		return r.overdue(ctx, a, key)
	}
	return nil
}

func clock(d time.Duration) string {
	return fmt.Sprintf("%d:%02d", int(d.Hours()), int(d.Minutes())%60)
}

// ensureTopic maps an appeal to a group (the one with the least waiting
// work) with a topic still to create. It does nothing if it is mapped.
func (r *Relay) ensureTopic(ctx context.Context, a *escalation.Appeal) error {
	var exists bool
	if err := r.cfg.DB.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM op_topics WHERE appeal_id = $1)`, a.ID).Scan(&exists); err != nil || exists {
		return err
	}
	name := "клиент"
	if c, err := r.cfg.Appeals.Client(ctx, a.ClientID); err == nil {
		name = c.Name
	}
	_, err := r.cfg.DB.Exec(ctx, `INSERT INTO op_topics (appeal_id, group_chat, name, created_at)
		SELECT $1, g, $3, $4 FROM unnest($2::bigint[]) g
		ORDER BY (SELECT count(*) FROM op_feed f WHERE f.group_chat = g AND f.posted_at IS NULL)
			+ 2 * (SELECT count(*) FROM op_topics t WHERE t.group_chat = g AND (t.thread_id IS NULL OR t.card_pending)),
			(SELECT count(*) FROM op_topics t WHERE t.group_chat = g), g
		LIMIT 1
		ON CONFLICT (appeal_id) DO NOTHING`, a.ID, r.cfg.Groups, topicName(a, name), r.now())
	if err != nil {
		return fmt.Errorf("map appeal %d to a topic: %w", a.ID, err)
	}
	return nil
}

// feedRow is one row to insert into op_feed.
type feedRow struct {
	kind        string
	text        string
	attachments []escalation.Attachment
	buttons     [][]bot.Button
	key         string
	escMsgID    int64
	due         time.Time
}

func (r *Relay) insertFeed(ctx context.Context, appealID int64, rows ...feedRow) error {
	var b pgx.Batch
	now := r.now()
	for _, f := range rows {
		if f.attachments == nil {
			f.attachments = []escalation.Attachment{}
		}
		if f.buttons == nil {
			f.buttons = [][]bot.Button{}
		}
		if f.due.IsZero() {
			f.due = now
		}
		var key any
		if f.key != "" {
			key = f.key
		}
		b.Queue(`INSERT INTO op_feed (appeal_id, group_chat, kind, text, attachments, buttons, key, esc_msg_id, due_at, created_at)
			SELECT $1, group_chat, $2, $3, $4, $5, $6, nullif($7, 0), $8, $9 FROM op_topics WHERE appeal_id = $1
			ON CONFLICT (key) DO NOTHING`, appealID, f.kind, f.text, f.attachments, f.buttons, key, f.escMsgID, f.due, now)
	}
	if err := r.cfg.DB.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("queue posts for appeal %d: %w", appealID, err)
	}
	r.poke()
	return nil
}

// notice queues a line for the appeal's topic.
func (r *Relay) notice(ctx context.Context, a *escalation.Appeal, key, text string, buttons [][]bot.Button) error {
	return r.insertFeed(ctx, a.ID, feedRow{kind: "notice", text: text, key: key, buttons: buttons})
}

// feedClientMessages queues the client's messages not queued yet.
func (r *Relay) feedClientMessages(ctx context.Context, a *escalation.Appeal) error {
	msgs, err := r.cfg.Appeals.Messages(ctx, a.ID)
	if err != nil {
		return err
	}
	var rows []feedRow
	for _, m := range msgs {
		if m.Author == escalation.FromClient {
			rows = append(rows, feedRow{kind: "client", text: m.Text, attachments: m.Attachments,
				key: "msg:" + strconv.FormatInt(m.ID, 10), escMsgID: m.ID})
		}
	}
	return r.insertFeed(ctx, a.ID, rows...)
}

// feedEchoes queues, a little later, the operators' answers for the topic;
// those the relay itself sent from the topic are skipped when posting.
func (r *Relay) feedEchoes(ctx context.Context, a *escalation.Appeal) error {
	msgs, err := r.cfg.Appeals.Messages(ctx, a.ID)
	if err != nil {
		return err
	}
	var rows []feedRow
	due := r.now().Add(3 * time.Second)
	for _, m := range msgs {
		if m.Author == escalation.FromOperator {
			rows = append(rows, feedRow{kind: "echo", text: m.Text, key: "echo:" + strconv.FormatInt(m.ID, 10), escMsgID: m.ID, due: due})
		}
	}
	return r.insertFeed(ctx, a.ID, rows...)
}

// forwarded tells the topic where the appeal went and sends the card to
// the new owner's private chat, or mentions them in the topic when their
// Telegram is not linked.
func (r *Relay) forwarded(ctx context.Context, a *escalation.Appeal, key string) error {
	text := "Передано: " + a.Queue.Title()
	if a.AssigneeID != 0 {
		text += " — " + r.staffName(ctx, a.AssigneeID)
	} else {
		text += " (ожидает в очереди)"
	}
	if a.ForwardNote != "" {
		text += "\nКомментарий: " + a.ForwardNote
	}
	if a.AssigneeID != 0 {
		chat, ok, err := r.staffChat(ctx, a.AssigneeID)
		if err != nil {
			return err
		}
		if ok {
			card, err := r.card(ctx, a, false)
			if err != nil {
				return err
			}
			if a.ForwardNote != "" {
				card = "Вам передано обращение. Комментарий: " + a.ForwardNote + "\n\n" + card
			} else {
				card = "Вам передано обращение.\n\n" + card
			}
			if err := r.outbound(ctx, bot.Chat{Channel: bot.Telegram, ID: chat}, a.ID, key+":private", card, privateButtons(a.ID)); err != nil {
				return err
			}
		} else {
			text += "\n" + r.staffName(ctx, a.AssigneeID) + ", вам передано обращение; ваш Telegram не связан с Kontakt — ответьте в веб-консоли или попросите ссылку-приглашение."
		}
	}
	return r.notice(ctx, a, key, text, nil)
}

// overdue reports an appeal past a deadline in its topic, to its owner
// and to the heads of the department.
func (r *Relay) overdue(ctx context.Context, a *escalation.Appeal, key string) error {
	text := fmt.Sprintf("⚠ Обращение № %s просрочено (первый ответ до %s, решение до %s); сейчас: %s, %s.",
		a.Number, r.when(a.FirstResponseDue), r.when(a.ResolveDue), a.Status.Title(), r.staffName(ctx, a.AssigneeID))
	if err := r.notice(ctx, a, key, text, nil); err != nil {
		return err
	}
	staff, err := r.cfg.Appeals.ListStaff(ctx, "")
	if err != nil {
		return err
	}
	for _, p := range staff {
		head := false
		for _, role := range p.Roles {
			head = head || role == escalation.RoleHead
		}
		if !(head && p.Active) && p.ID != a.AssigneeID {
			continue
		}
		chat, ok, err := r.staffChat(ctx, p.ID)
		if err != nil || !ok {
			continue
		}
		if err := r.outbound(ctx, bot.Chat{Channel: bot.Telegram, ID: chat}, a.ID, key+":"+strconv.FormatInt(p.ID, 10), text, nil); err != nil {
			return err
		}
	}
	return nil
}

// toClient queues a message to the client of an appeal, in its channel.
func (r *Relay) toClient(ctx context.Context, a *escalation.Appeal, key, text string, buttons [][]bot.Button) error {
	return r.outbound(ctx, bot.Chat{Channel: bot.Channel(a.Channel), ID: a.ExternalID}, a.ID, key, text, buttons)
}

// outbound queues a message to a private chat; key deduplicates.
func (r *Relay) outbound(ctx context.Context, chat bot.Chat, appealID int64, key, text string, buttons [][]bot.Button) error {
	if _, err := r.queueOutbound(ctx, r.cfg.DB, chat, appealID, key, text, buttons); err != nil {
		return err
	}
	r.poke()
	return nil
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// queueOutbound inserts a private message unless one with its key exists;
// queued reports whether it did.
func (r *Relay) queueOutbound(ctx context.Context, db execer, chat bot.Chat, appealID int64, key, text string, buttons [][]bot.Button) (queued bool, err error) {
	if buttons == nil {
		buttons = [][]bot.Button{}
	}
	tag, err := db.Exec(ctx, `INSERT INTO op_outbound (channel, chat_id, appeal_id, text, buttons, key, created_at, next_at)
		VALUES ($1, $2, nullif($3, 0), $4, $5, $6, $7, $7) ON CONFLICT (key) DO NOTHING`,
		string(chat.Channel), chat.ID, appealID, text, buttons, key, r.now())
	if err != nil {
		return false, fmt.Errorf("queue message to %v: %w", chat, err)
	}
	return tag.RowsAffected() == 1, nil
}

// staffName is the name of a staff member, "—" for nobody.
func (r *Relay) staffName(ctx context.Context, id int64) string {
	if id == 0 {
		return "—"
	}
	p, err := r.cfg.Appeals.StaffMember(ctx, id)
	if err != nil {
		return "сотрудник #" + strconv.FormatInt(id, 10)
	}
	return p.Name
}

// staffChat is the Telegram chat of a staff member: linked by an invite,
// or registered with `kontakt staff add --telegram`.
func (r *Relay) staffChat(ctx context.Context, staffID int64) (string, bool, error) {
	var chat string
	err := r.cfg.DB.QueryRow(ctx, `SELECT tg_chat FROM op_staff_links WHERE staff_id = $1
		UNION ALL SELECT reach->>'telegram' FROM esc_staff WHERE id = $1 AND coalesce(reach->>'telegram', '') <> ''
		LIMIT 1`, staffID).Scan(&chat)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("telegram chat of staff %d: %w", staffID, err)
	}
	return chat, true, nil
}

// staffByTelegram is the staff member with a Telegram user id, 0 if none.
func (r *Relay) staffByTelegram(ctx context.Context, user string) (int64, error) {
	if user == "" {
		return 0, nil
	}
	var id int64
	err := r.cfg.DB.QueryRow(ctx, `SELECT staff_id FROM op_staff_links WHERE tg_user = $1
		UNION ALL SELECT id FROM esc_staff WHERE reach->>'telegram' = $1 AND active
		LIMIT 1`, user).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// card renders the appeal card with the client and earlier appeals.
func (r *Relay) card(ctx context.Context, a *escalation.Appeal, withHistory bool) (string, error) {
	c, err := r.cfg.Appeals.Client(ctx, a.ClientID)
	if err != nil {
		return "", err
	}
	list, err := r.cfg.Appeals.ClientAppeals(ctx, a.ClientID)
	if err != nil {
		return "", err
	}
	var earlier []escalation.Appeal
	for _, e := range list {
		if e.ID != a.ID && e.CreatedAt.Before(a.CreatedAt) {
			earlier = append(earlier, e)
		}
	}
	var history []escalation.Message
	if withHistory {
		if history, err = r.cfg.Appeals.Messages(ctx, a.ID); err != nil {
			return "", err
		}
	}
	return r.cardText(a, c, earlier, history), nil
}
