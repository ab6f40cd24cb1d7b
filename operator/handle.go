package operator

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"kontakt/bot"
	"kontakt/escalation"
)

// Wrap puts the relay in front of the client dialogs: messages in the
// operators' groups, staff's private chats and invites, and clients'
// ratings go to the relay; everything else to next.
func (r *Relay) Wrap(next bot.Handler) bot.Handler {
	return bot.HandlerFunc(func(ctx context.Context, m bot.Message) ([]bot.Reply, error) {
		if m.Chat.Channel == bot.Telegram && m.Chat.Group {
			id, _ := strconv.ParseInt(m.Chat.ID, 10, 64)
			if r.ourGroup(id) {
				return nil, r.handleGroup(ctx, id, m)
			}
		}
		if m.Kind == bot.Callback && strings.HasPrefix(m.Data, prefixRate) {
			return r.rate(ctx, m)
		}
		if m.Chat.Channel == bot.Telegram && !m.Chat.Group {
			if m.Kind == bot.Command && m.Command == "start" && strings.HasPrefix(m.Payload, invitePrefix) {
				return r.redeem(ctx, m)
			}
			staff, err := r.staffByTelegram(ctx, m.From.ID)
			if err != nil {
				return nil, err
			}
			if staff != 0 {
				return r.handleStaffPrivate(ctx, staff, m)
			}
		}
		if m.Kind == bot.Text {
			if replies, ok, err := r.comment(ctx, m); ok || err != nil {
				return replies, err
			}
		}
		return next.Handle(ctx, m)
	})
}

// handleGroup handles what staff write and press in an operators' group.
// Answers go into the topic through the relay queue, never as replies (a
// reply would land in the group's General topic).
func (r *Relay) handleGroup(ctx context.Context, group int64, m bot.Message) error {
	staff, err := r.staffByTelegram(ctx, m.From.ID)
	if err != nil {
		return err
	}
	var a *escalation.Appeal
	switch {
	case m.Kind == bot.Callback:
		act, id, arg, ok := parseOp(m.Data)
		if !ok {
			return nil
		}
		if act == actApprove || act == actReject {
			return r.decideApproval(ctx, staff, m, act == actApprove, id)
		}
		if a, err = r.cfg.Appeals.Get(ctx, id); err != nil {
			return err
		}
		if staff == 0 {
			return r.notice(ctx, a, "", fmt.Sprintf(txtNotLinked, m.From.Name), nil)
		}
		return r.action(ctx, a, staff, group, m.Thread, act, arg)
	case m.Thread == "":
		return nil // the General topic: not an appeal
	}
	thread, _ := strconv.ParseInt(m.Thread, 10, 64)
	var appealID int64
	err = r.cfg.DB.QueryRow(ctx, `SELECT appeal_id FROM op_topics WHERE group_chat = $1 AND thread_id = $2`, group, thread).Scan(&appealID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("appeal of topic %d/%d: %w", group, thread, err)
	}
	if a, err = r.cfg.Appeals.Get(ctx, appealID); err != nil {
		return err
	}
	if staff == 0 {
		return r.notice(ctx, a, "", fmt.Sprintf(txtNotLinked, m.From.Name), nil)
	}
	text := strings.TrimSpace(m.Text)
	if m.Kind != bot.Text && m.Kind != bot.Command {
		return r.notice(ctx, a, "", txtMediaNoRelay, nil)
	}
	// Internal notes are recorded and never relayed.
	if note, ok := internalNote(m); ok {
		if note == "" {
			return nil
		}
		_, err := r.cfg.Appeals.AddMessage(ctx, a.ID, escalation.Message{Author: escalation.FromNote, StaffID: staff, Text: note})
		return r.failed(ctx, a, err)
	}
	if m.Kind == bot.Command {
		switch m.Command {
		case "take":
			return r.action(ctx, a, staff, group, m.Thread, actTake, "")
		case "forward":
			return r.action(ctx, a, staff, group, m.Thread, actForward, "")
		case "return":
			return r.action(ctx, a, staff, group, m.Thread, actRequeue, "")
		case "reopen":
			_, err := r.cfg.Appeals.Reopen(ctx, a.ID, "открыто снова в Telegram", staff)
			return r.failed(ctx, a, err)
		case "resolve":
			if p := strings.TrimSpace(m.Payload); p != "" {
				return r.resolve(ctx, a, staff, p)
			}
			return r.action(ctx, a, staff, group, m.Thread, actResolve, "")
		}
		return r.notice(ctx, a, "", txtUnknownCmd, nil)
	}
	chat := pendingChat(group, m.Thread)
	if action, ok, err := r.takePending(ctx, staff, chat, a.ID); err != nil {
		return err
	} else if ok && action == actResolve {
		return r.resolve(ctx, a, staff, text)
	}
	return r.answer(ctx, a, staff, text, "topic")
}

// internalNote reports whether a topic message is an internal note ("!" or
// /note at the start) and returns its text.
func internalNote(m bot.Message) (string, bool) {
	if m.Kind == bot.Command && m.Command == "note" {
		return strings.TrimSpace(m.Payload), true
	}
	if t := strings.TrimSpace(m.Text); strings.HasPrefix(t, "!") {
		return strings.TrimSpace(strings.TrimPrefix(t, "!")), true
	}
	return "", false
}

func parseOp(data string) (act string, id int64, arg string, ok bool) {
	rest, found := strings.CutPrefix(data, prefixOp)
	if !found {
		return "", 0, "", false
	}
	parts := strings.SplitN(rest, ":", 3)
	if len(parts) < 2 {
		return "", 0, "", false
	}
	id, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return "", 0, "", false
	}
	if len(parts) == 3 {
		arg = parts[2]
	}
	return parts[0], id, arg, true
}

func pendingChat(group int64, thread string) string {
	return strconv.FormatInt(group, 10) + "/" + thread
}

// ownIfWaiting assigns an appeal nobody owns to staff, as a take would.
func (r *Relay) ownIfWaiting(ctx context.Context, a *escalation.Appeal, staff int64) (*escalation.Appeal, error) {
	if a.Status == escalation.StatusNew || (a.Status == escalation.StatusForwarded && a.AssigneeID == 0) {
		return r.cfg.Appeals.Assign(ctx, a.ID, staff, staff)
	}
	return a, nil
}

// action performs a button (or command) in a topic.
func (r *Relay) action(ctx context.Context, a *escalation.Appeal, staff, group int64, thread, act, arg string) error {
	var err error
	switch act {
	case actTake:
		if a.AssigneeID == staff && a.Status != escalation.StatusNew {
			return nil
		}
		_, err = r.cfg.Appeals.Assign(ctx, a.ID, staff, staff)
	case actForward:
		return r.notice(ctx, a, "", "Кому переслать обращение № "+a.Number+"?", r.forwardChoices(ctx, a))
	case actFwdQueue, actFwdStaff:
		if a, err = r.ownIfWaiting(ctx, a, staff); err != nil {
			break
		}
		f := escalation.Forwarding{Queue: escalation.Queue(arg), By: staff}
		if act == actFwdStaff {
			f.Queue = ""
			if f.StaffID, err = strconv.ParseInt(arg, 10, 64); err != nil {
				return nil
			}
			if p, err := r.cfg.Appeals.StaffMember(ctx, f.StaffID); err == nil && len(p.Queues) > 0 {
				f.Queue = p.Queues[0]
			}
		}
		_, err = r.cfg.Appeals.Forward(ctx, a.ID, f)
	case actResolve:
		if err = r.setPending(ctx, staff, pendingChat(group, thread), a.ID, actResolve); err != nil {
			return err
		}
		return r.notice(ctx, a, "", fmt.Sprintf(txtWriteResult, r.staffName(ctx, staff)), nil)
	case actRequeue:
		_, err = r.cfg.Appeals.Release(ctx, a.ID, staff)
	default:
		return nil
	}
	return r.failed(ctx, a, err)
}

// forwardChoices are the buttons of "Переслать": the appeal's route, the
// personal managers' queues, and the people of the route's queue.
func (r *Relay) forwardChoices(ctx context.Context, a *escalation.Appeal) [][]bot.Button {
	var rows [][]bot.Button
	seen := map[escalation.Queue]bool{}
	for _, q := range []escalation.Queue{a.Route, escalation.QueueAdmission, escalation.QueueStudy} {
		if q == "" || q == escalation.QueueContact || seen[q] || len(opData(actFwdQueue, a.ID, string(q))) > 64 {
			continue
		}
		seen[q] = true
		rows = append(rows, []bot.Button{{Text: "В очередь: " + q.Title(), Data: opData(actFwdQueue, a.ID, string(q))}})
	}
	for q := range seen {
		people, err := r.cfg.Appeals.ListStaff(ctx, q)
		if err != nil {
			continue
		}
		n := 0
		for _, p := range people {
			if !p.Active || n >= 6 {
				continue
			}
			n++
			rows = append(rows, []bot.Button{{Text: p.Name, Data: opData(actFwdStaff, a.ID, strconv.FormatInt(p.ID, 10))}})
		}
	}
	return rows
}

// failed reports an action that escalation refused, in the topic.
func (r *Relay) failed(ctx context.Context, a *escalation.Appeal, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, escalation.ErrIllegalTransition), errors.Is(err, escalation.ErrInvalid),
		errors.Is(err, escalation.ErrReopenWindow), errors.Is(err, escalation.ErrNotFound):
		cur, gerr := r.cfg.Appeals.Get(ctx, a.ID)
		if gerr == nil {
			a = cur
		}
		r.log.Info("operator action refused", "appeal", a.ID, "err", err)
		return r.notice(ctx, a, "", fmt.Sprintf("Не получилось: обращение сейчас «%s», ответственный — %s.", a.Status.Title(), r.staffName(ctx, a.AssigneeID)), nil)
	}
	return err
}

// answer records an operator's answer and queues it to the client.
func (r *Relay) answer(ctx context.Context, a *escalation.Appeal, staff int64, text, origin string) error {
	if text == "" {
		return nil
	}
	a, err := r.ownIfWaiting(ctx, a, staff)
	if err != nil {
		return r.failed(ctx, a, err)
	}
	msg, err := r.cfg.Appeals.AddMessage(ctx, a.ID, escalation.Message{Author: escalation.FromOperator, StaffID: staff, Text: text})
	if err != nil {
		return r.failed(ctx, a, err)
	}
	return r.relayAnswer(ctx, a, msg, origin)
}

// relayAnswer queues an operator message (already recorded) to the client.
func (r *Relay) relayAnswer(ctx context.Context, a *escalation.Appeal, msg *escalation.Message, origin string) error {
	if _, err := r.cfg.DB.Exec(ctx, `INSERT INTO op_relayed (esc_msg_id, origin) VALUES ($1, $2) ON CONFLICT DO NOTHING`, msg.ID, origin); err != nil {
		return err
	}
	return r.toClient(ctx, a, "msg:"+strconv.FormatInt(msg.ID, 10), r.signed(msg.Text, r.staffName(ctx, msg.StaffID)), nil)
}

// resolve records the result and tells the client, asking for a rating.
func (r *Relay) resolve(ctx context.Context, a *escalation.Appeal, staff int64, result string) error {
	if result == "" {
		return nil
	}
	a, err := r.ownIfWaiting(ctx, a, staff)
	if err != nil {
		return r.failed(ctx, a, err)
	}
	// The client is told by the resolved event (tellResult), as for an
	// appeal resolved in the console.
	_, err = r.cfg.Appeals.Resolve(ctx, a.ID, result, staff)
	return r.failed(ctx, a, err)
}

// tellResult queues «рассмотрено: …» and the rating question to the
// client of a resolved appeal, once per resolution (a repeated resolved
// event changes nothing, nor does one that comes after the appeal was
// closed or reopened). The appeal closes when the client rates it, or
// after RatingWait (CloseUnrated).
func (r *Relay) tellResult(ctx context.Context, a *escalation.Appeal) error {
	if a.Status != escalation.StatusResolved {
		return nil
	}
	round := strconv.FormatInt(a.ID, 10) + ":" + strconv.Itoa(a.Reopened)
	chat := bot.Chat{Channel: bot.Channel(a.Channel), ID: a.ExternalID}
	err := pgx.BeginFunc(ctx, r.cfg.DB, func(tx pgx.Tx) error {
		told, err := r.queueOutbound(ctx, tx, chat, a.ID, "result:"+round, fmt.Sprintf(txtResultFmt, a.Number, a.Result), nil)
		if err != nil || !told {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO op_ratings (appeal_id, channel, external_id, asked_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (appeal_id) DO UPDATE SET asked_at = excluded.asked_at, score = NULL, rated_at = NULL, comment_until = NULL`,
			a.ID, string(a.Channel), a.ExternalID, r.now()); err != nil {
			return fmt.Errorf("ask rating of appeal %d: %w", a.ID, err)
		}
		_, err = r.queueOutbound(ctx, tx, chat, a.ID, "rate:"+round, txtRateAsk, rateButtons(a.ID))
		return err
	})
	if err != nil {
		return fmt.Errorf("tell the result of appeal %d: %w", a.ID, err)
	}
	r.poke()
	return nil
}

// handleStaffPrivate handles a linked staff member's private chat.
func (r *Relay) handleStaffPrivate(ctx context.Context, staff int64, m bot.Message) ([]bot.Reply, error) {
	say := func(format string, args ...any) ([]bot.Reply, error) {
		return []bot.Reply{{Text: fmt.Sprintf(format, args...)}}, nil
	}
	switch m.Kind {
	case bot.Callback:
		act, id, _, ok := parseOp(m.Data)
		if !ok {
			return nil, nil
		}
		a, err := r.cfg.Appeals.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		switch act {
		case actAnswer:
			if err := r.setPending(ctx, staff, m.Chat.ID, a.ID, actAnswer); err != nil {
				return nil, err
			}
			return say(txtWriteAnswer, a.Number)
		case actBack:
			f := escalation.Forwarding{Queue: escalation.QueueContact, By: staff, Note: "возвращено: " + r.staffName(ctx, staff),
				StaffID: r.forwarder(ctx, a.ID)}
			if _, err := r.cfg.Appeals.Forward(ctx, a.ID, f); err != nil {
				if errors.Is(err, escalation.ErrIllegalTransition) {
					return say("Обращение № %s уже «%s».", a.Number, a.Status.Title())
				}
				return nil, err
			}
			return say(txtReturned, a.Number)
		}
		return nil, nil
	case bot.Command:
		if m.Command == "start" {
			return say(txtStaffHello, r.staffName(ctx, staff))
		}
	case bot.Text:
		appealID, action, ok, err := r.pendingIn(ctx, staff, m.Chat.ID)
		if err != nil {
			return nil, err
		}
		if ok && action == actAnswer {
			a, err := r.cfg.Appeals.Get(ctx, appealID)
			if err != nil {
				return nil, err
			}
			text := strings.TrimSpace(m.Text)
			if r.cfg.ApproveAnswers {
				if err := r.proposeAnswer(ctx, a, staff, text); err != nil {
					return nil, err
				}
				r.clearPending(ctx, staff, m.Chat.ID)
				return say(txtAnswerToOK, a.Number)
			}
			if err := r.answer(ctx, a, staff, text, "private"); err != nil {
				return nil, err
			}
			r.clearPending(ctx, staff, m.Chat.ID)
			return say(txtAnswerSent, a.Number)
		}
	}
	return say(txtStaffHint)
}

// forwarder is the contact manager who forwarded an appeal last, 0 if
// unknown.
func (r *Relay) forwarder(ctx context.Context, appealID int64) int64 {
	h, err := r.cfg.Appeals.History(ctx, appealID)
	if err != nil {
		return 0
	}
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].To == escalation.StatusForwarded && h[i].StaffID != 0 {
			if p, err := r.cfg.Appeals.StaffMember(ctx, h[i].StaffID); err == nil && p.Active {
				for _, q := range p.Queues {
					if q == escalation.QueueContact {
						return p.ID
					}
				}
			}
			return 0
		}
	}
	return 0
}

// proposeAnswer records a personal manager's answer as a note and asks the
// contact managers in the topic to approve it.
func (r *Relay) proposeAnswer(ctx context.Context, a *escalation.Appeal, staff int64, text string) error {
	note, err := r.cfg.Appeals.AddMessage(ctx, a.ID, escalation.Message{Author: escalation.FromNote, StaffID: staff, Text: "Ответ на согласование: " + text})
	if err != nil {
		return err
	}
	if _, err := r.cfg.DB.Exec(ctx, `INSERT INTO op_approvals (note_id, appeal_id, staff_id, text) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		note.ID, a.ID, staff, text); err != nil {
		return err
	}
	return r.notice(ctx, a, "approve:"+strconv.FormatInt(note.ID, 10),
		fmt.Sprintf("Ответ %s на согласование:\n%s", r.staffName(ctx, staff), text),
		[][]bot.Button{{{Text: "Отправить клиенту", Data: opData(actApprove, note.ID)}, {Text: "Отклонить", Data: opData(actReject, note.ID)}}})
}

// decideApproval sends (or rejects) a proposed answer, once.
func (r *Relay) decideApproval(ctx context.Context, staff int64, m bot.Message, approve bool, noteID int64) error {
	var (
		appealID, author int64
		text             string
	)
	err := r.cfg.DB.QueryRow(ctx, `UPDATE op_approvals SET decided_at = $2, approved = $3
		WHERE note_id = $1 AND decided_at IS NULL RETURNING appeal_id, staff_id, text`, noteID, r.now(), approve).Scan(&appealID, &author, &text)
	if errors.Is(err, pgx.ErrNoRows) || staff == 0 {
		return nil // decided already (or not staff)
	}
	if err != nil {
		return err
	}
	a, err := r.cfg.Appeals.Get(ctx, appealID)
	if err != nil {
		return err
	}
	if !approve {
		if chat, ok, _ := r.staffChat(ctx, author); ok {
			_ = r.outbound(ctx, bot.Chat{Channel: bot.Telegram, ID: chat}, a.ID, "rejected:"+strconv.FormatInt(noteID, 10),
				fmt.Sprintf("Ваш ответ по обращению № %s не согласован (%s). Уточните в теме обращения или ответьте снова.", a.Number, r.staffName(ctx, staff)), privateButtons(a.ID))
		}
		return r.notice(ctx, a, "", "Ответ не согласован: "+r.staffName(ctx, staff), nil)
	}
	msg, err := r.cfg.Appeals.AddMessage(ctx, a.ID, escalation.Message{Author: escalation.FromOperator, StaffID: author, Text: text})
	if err != nil {
		return r.failed(ctx, a, err)
	}
	if err := r.relayAnswer(ctx, a, msg, "topic"); err != nil {
		return err
	}
	return r.notice(ctx, a, "", "Ответ согласован и отправлен клиенту: "+r.staffName(ctx, staff), nil)
}

func (r *Relay) setPending(ctx context.Context, staff int64, chat string, appealID int64, action string) error {
	_, err := r.cfg.DB.Exec(ctx, `INSERT INTO op_pending (staff_id, chat, appeal_id, action, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (staff_id, chat) DO UPDATE SET appeal_id = excluded.appeal_id, action = excluded.action, created_at = excluded.created_at`,
		staff, chat, appealID, action, r.now())
	return err
}

// takePending consumes a pending action of staff in chat on the appeal.
func (r *Relay) takePending(ctx context.Context, staff int64, chat string, appealID int64) (string, bool, error) {
	var action string
	err := r.cfg.DB.QueryRow(ctx, `DELETE FROM op_pending WHERE staff_id = $1 AND chat = $2 AND appeal_id = $3
		AND created_at > $4 RETURNING action`, staff, chat, appealID, r.now().Add(-pendingTTL)).Scan(&action)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	return action, err == nil, err
}

// pendingIn is the pending action of staff in a private chat.
func (r *Relay) pendingIn(ctx context.Context, staff int64, chat string) (int64, string, bool, error) {
	var (
		id     int64
		action string
	)
	err := r.cfg.DB.QueryRow(ctx, `SELECT appeal_id, action FROM op_pending WHERE staff_id = $1 AND chat = $2 AND created_at > $3`,
		staff, chat, r.now().Add(-pendingTTL)).Scan(&id, &action)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", false, nil
	}
	return id, action, err == nil, err
}

func (r *Relay) clearPending(ctx context.Context, staff int64, chat string) {
	if _, err := r.cfg.DB.Exec(ctx, `DELETE FROM op_pending WHERE staff_id = $1 AND chat = $2`, staff, chat); err != nil {
		r.log.Error("clear pending action", "err", err)
	}
}
