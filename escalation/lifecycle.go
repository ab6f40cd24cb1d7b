package escalation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// step is what one operation does to a locked appeal, besides the field
// changes it makes on the appeal itself.
type step struct {
	transition bool // record a history entry from the old status to the new one
	staffID    int64
	actor      string // "staff", "client", "system"
	comment    string
	events     []EventKind
	message    *Message // to insert with the change
}

// changeOpts are the parts of a change besides its decision.
type changeOpts struct {
	// pre queues statements to run right after the appeal is locked, in
	// the first round trip of a locked change.
	pre func(b *pgx.Batch)
	// pure says the decision makes no queries (it ignores its querier),
	// so it may be made on a remembered appeal.
	pure bool
	// take is, for Assign, the staff member the decision relied on: the
	// change of a remembered appeal is written only if they are still
	// active under that name, and it moves them to the end of the
	// round-robin order.
	take *staffRef
}

type staffRef struct {
	id   int64
	name string
}

// decision is what an operation does to an appeal: it checks and modifies
// a, and says what else to write.
type decision func(q querier, a *Appeal, now time.Time) (step, error)

// change applies a decision to appeal id and writes the appeal, its history
// entry, message and events together.
//
// An appeal this service wrote last (it is remembered, see recent) takes
// one statement in one round trip when the decision is pure: fn decides on
// the remembered copy, and the statement writes only if the row is still
// that version. Otherwise (not remembered, changed meanwhile by anyone, or
// refused by fn on the remembered copy, which may be out of date) the
// change locks the row, lets fn decide on it and writes in a transaction
// of two round trips, so that every refusal is decided on the current row.
func (s *Service) change(ctx context.Context, id int64, what string, o changeOpts, fn decision) (*Appeal, *Message, error) {
	if o.pure {
		a, msg, done, err := s.changeRemembered(ctx, id, o.take, fn)
		if err != nil {
			return nil, nil, fmt.Errorf("%s appeal %d: %w", what, id, err)
		}
		if done {
			return a, msg, nil
		}
	}
	var (
		a      *Appeal
		msg    *Message
		events bool
		xmin   *uint32
	)
	err := s.withTx(ctx, func(c *pgx.Conn) error {
		var b pgx.Batch
		b.Queue("BEGIN")
		b.Queue(`SELECT `+appealCols+` FROM esc_appeals WHERE id = $1 FOR UPDATE`, id).QueryRow(func(r pgx.Row) error {
			var err error
			a, err = scanAppeal(r)
			return err
		})
		if o.pre != nil {
			o.pre(&b)
		}
		if err := c.SendBatch(ctx, &b).Close(); err != nil {
			return err
		}
		from, reopened := a.Status, a.Reopened
		now := s.now()
		st, err := fn(c, a, now)
		if err != nil {
			return err
		}
		args := changeArgs(a, st, from, reopened, now)
		b = pgx.Batch{}
		q := changeSQL(false, st.message != nil)
		b.Queue(q.sql, q.args(args)...).QueryRow(func(r pgx.Row) error {
			var msgID, notified int64
			err := r.Scan(&msgID, &notified, &xmin)
			if st.message != nil {
				st.message.ID = msgID
			}
			return err
		})
		b.Queue("COMMIT")
		msg, events = st.message, len(st.events) > 0
		return c.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		s.recent.forget(id)
		return nil, nil, fmt.Errorf("%s appeal %d: %w", what, id, err)
	}
	if xmin != nil {
		s.recent.put(a, *xmin)
	}
	if events {
		s.wake.Wake()
	}
	return a, msg, nil
}

// changeRemembered applies a pure decision to the remembered version of
// appeal id in one statement. done is false when the change is still to be
// made: the appeal is not remembered, fn refused it, or the row is not
// that version any more (or take is no longer active under that name).
func (s *Service) changeRemembered(ctx context.Context, id int64, take *staffRef, fn decision) (a *Appeal, msg *Message, done bool, err error) {
	a, ver, ok := s.recent.appeal(id)
	if !ok {
		return nil, nil, false, nil
	}
	from, reopened := a.Status, a.Reopened
	now := s.now()
	st, err := fn(nil, a, now)
	if err != nil {
		return nil, nil, false, nil
	}
	args := changeArgs(a, st, from, reopened, now)
	args["ver"] = ver
	if take != nil {
		args["take"], args["take_name"] = take.id, take.name
	}
	var (
		msgID, notified int64
		xmin            *uint32
	)
	q := changeSQL(take != nil, st.message != nil)
	if err := s.db.QueryRow(ctx, q.sql, q.args(args)...).Scan(&msgID, &notified, &xmin); err != nil {
		s.recent.forget(id)
		return nil, nil, false, err
	}
	if xmin == nil {
		s.recent.forget(id)
		return nil, nil, false, nil
	}
	if st.message != nil {
		st.message.ID = msgID
	}
	s.recent.put(a, *xmin)
	if len(st.events) > 0 {
		s.wake.Wake()
	}
	return a, st.message, true, nil
}

// changeArgs are the arguments of changeSQL for a decided change of a,
// which was in status from and reopened times before.
func changeArgs(a *Appeal, st step, from Status, reopened int, now time.Time) pgx.NamedArgs {
	a.UpdatedAt = now
	kinds := make([]string, len(st.events))
	for i, k := range st.events {
		kinds[i] = string(k)
	}
	args := pgx.NamedArgs{
		"id": a.ID, "status": a.Status, "queue": a.Queue, "route": a.Route, "assignee": nullID(a.AssigneeID),
		"note": a.ForwardNote, "result": a.Result, "now": now, "fr_due": a.FirstResponseDue,
		"res_due": a.ResolveDue, "fr_at": a.FirstResponseAt, "resolved_at": a.ResolvedAt,
		"closed_at": a.ClosedAt, "reopened": a.Reopened,
		"reset_overdue": a.Reopened > reopened, // a reopened appeal may become overdue again
		"history":       st.transition, "from": from, "staff": nullID(st.staffID), "actor": st.actor, "comment": st.comment,
		"kinds": kinds, "event": eventOf(a, "", now), "ver": nil,
	}
	if m := st.message; m != nil {
		m.AppealID, m.At = a.ID, now
		if m.Attachments == nil {
			m.Attachments = []Attachment{}
		}
		args["author"], args["msg_staff"], args["text"], args["attachments"] = m.Author, nullID(m.StaffID), m.Text, m.Attachments
	}
	return args
}

// changeSQL returns the statement that writes a decided change: the
// appeal, its history entry (if @history), its message (with message) and
// its events (@kinds). With @ver it writes only if the row is that version
// (xmin); with take only if staff member @take is active and named
// @take_name, and then it moves them to the end of the round-robin order.
// It returns the message id (0 if none), the number of events written and
// the new xmin of the row (null if nothing was written); the caller wakes
// the dispatchers after the commit.
//
// A part a change does not need is left out rather than skipped by a
// condition: every table a statement writes is opened and locked with all
// its indexes even when no row is written, and past 16 relations a
// transaction's locks go to PostgreSQL's shared lock table.
func changeSQL(take, message bool) named {
	i := 0
	if take {
		i |= 1
	}
	if message {
		i |= 2
	}
	return changeSQLs[i]
}

var changeSQLs = [4]named{compile(buildChangeSQL(false, false)), compile(buildChangeSQL(true, false)),
	compile(buildChangeSQL(false, true)), compile(buildChangeSQL(true, true))}

func buildChangeSQL(take, message bool) string {
	q := `
WITH u AS (
	UPDATE esc_appeals SET status = @status, queue = @queue, route = @route, assignee_id = @assignee,
		forward_note = @note, result = @result, updated_at = @now, first_response_due = @fr_due,
		resolve_due = @res_due, first_response_at = @fr_at, resolved_at = @resolved_at,
		closed_at = @closed_at, reopened = @reopened,
		overdue_notified = overdue_notified AND NOT @reset_overdue
	WHERE id = @id AND (@ver::xid IS NULL OR xmin = @ver::xid)`
	if take {
		q += `
		AND EXISTS (SELECT FROM esc_staff WHERE id = @take AND active AND name = @take_name)`
	}
	q += `
	RETURNING id, xmin
),`
	if take {
		q += ` t AS (
	UPDATE esc_staff SET last_assigned_at = clock_timestamp() WHERE id = @take AND EXISTS (SELECT FROM u)
),`
	}
	q += ` h AS (
	INSERT INTO esc_appeal_history (appeal_id, from_status, to_status, staff_id, actor, comment, at)
	SELECT u.id, @from, @status, @staff, @actor, @comment, @now FROM u WHERE @history
),`
	msgID := "0"
	if message {
		q += ` m AS (
	INSERT INTO esc_messages (appeal_id, author, staff_id, text, attachments, at)
	SELECT u.id, @author, @msg_staff, @text, @attachments, @now FROM u
	RETURNING id
),`
		msgID = "(SELECT id FROM m)"
	}
	return q + ` o AS (
	INSERT INTO esc_outbox (kind, appeal_id, payload, created_at)
	SELECT k, u.id, @event::jsonb || jsonb_build_object('kind', k), @now FROM u, unnest(@kinds::text[]) k
	RETURNING 1
)
SELECT coalesce(` + msgID + `, 0), (SELECT count(*) FROM o), (SELECT xmin FROM u)`
}

func actorOf(staffID int64) string {
	if staffID == 0 {
		return "system"
	}
	return "staff"
}

// Assign gives a new appeal to staff member staffID (a contact manager
// taking it, or someone assigning it to them; by is who acts, 0 for
// Kontakt). A forwarded appeal waiting in a queue without an owner can be
// taken the same way and stays forwarded. Of concurrent calls for the same
// appeal exactly one succeeds; the others get ErrIllegalTransition.
func (s *Service) Assign(ctx context.Context, appealID, staffID, by int64) (*Appeal, error) {
	var (
		name   string
		active bool
	)
	// In a locked change the person is checked and moved to the end of
	// the round-robin order in the round trip that locks the appeal.
	o := changeOpts{pre: func(b *pgx.Batch) {
		b.Queue(takeStaffSQL, staffID).QueryRow(func(r pgx.Row) error {
			err := r.Scan(&name, &active)
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("staff %d: %w", staffID, ErrNotFound)
			}
			if err == nil {
				s.recent.seeStaff(staffID, name, active)
			}
			return err
		})
	}}
	// A person seen active is checked by the statement that writes the
	// change of a remembered appeal.
	if n, ok := s.recent.staffName(staffID); ok {
		name, active = n, true
		o.pure, o.take = true, &staffRef{id: staffID, name: n}
	}
	a, _, err := s.change(ctx, appealID, "assign", o, func(q querier, a *Appeal, now time.Time) (step, error) {
		if a.Status == StatusForwarded && a.AssigneeID == 0 {
			// taking from a personal-manager or department queue
		} else if !CanTransition(a.Status, StatusAssigned) {
			return step{}, illegal(a.Status, StatusAssigned)
		} else {
			a.Status = StatusAssigned
		}
		if !active {
			return step{}, fmt.Errorf("%w: staff %d is inactive", ErrInvalid, staffID)
		}
		a.AssigneeID = staffID
		return step{transition: true, staffID: by, actor: actorOf(by),
			comment: "назначено: " + name, events: []EventKind{EventAssigned}}, nil
	})
	return a, err
}

const takeStaffSQL = `UPDATE esc_staff SET last_assigned_at = clock_timestamp() WHERE id = $1 RETURNING name, active`

// takeStaff checks that the person exists and is active and moves them to
// the end of the round-robin order.
func (s *Service) takeStaff(ctx context.Context, tx querier, staffID int64) (string, error) {
	var (
		name   string
		active bool
	)
	err := tx.QueryRow(ctx, takeStaffSQL, staffID).Scan(&name, &active)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("staff %d: %w", staffID, ErrNotFound)
	}
	if err != nil {
		return "", err
	}
	if !active {
		return "", fmt.Errorf("%w: staff %d is inactive", ErrInvalid, staffID)
	}
	return name, nil
}

// pickStaff chooses, round-robin, an active person of queue q who works at
// now and has fewer open appeals than the cap. It locks the queue's staff
// rows so that concurrent assignments respect the cap. It returns
// ErrNoStaffAvailable when nobody fits.
func (s *Service) pickStaff(ctx context.Context, tx querier, q Queue, now time.Time) (int64, string, error) {
	rows, err := tx.Query(ctx, `SELECT s.id, s.name, s.hours, s.max_open,
			(SELECT count(*) FROM esc_appeals a WHERE a.assignee_id = s.id
			 AND a.status IN ('new', 'assigned', 'forwarded', 'answered'))
		FROM esc_staff s
		WHERE $1 = ANY(s.queues) AND s.active
		ORDER BY s.last_assigned_at NULLS FIRST, s.id
		FOR UPDATE OF s`, q)
	if err != nil {
		return 0, "", err
	}
	type cand struct {
		id            int64
		name          string
		hours         Hours
		maxOpen, open int
	}
	cands, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (cand, error) {
		var c cand
		err := r.Scan(&c.id, &c.name, &c.hours, &c.maxOpen, &c.open)
		return c, err
	})
	if err != nil {
		return 0, "", err
	}
	cal := s.Calendar()
	for _, c := range cands {
		limit := c.maxOpen
		if limit <= 0 {
			limit = s.cfg.MaxOpen
		}
		if c.open < limit && c.hours.At(cal, now) {
			_, err := tx.Exec(ctx, `UPDATE esc_staff SET last_assigned_at = clock_timestamp() WHERE id = $1`, c.id)
			return c.id, c.name, err
		}
	}
	return 0, "", fmt.Errorf("%w: %s", ErrNoStaffAvailable, q)
}

// AssignNext assigns an appeal waiting in its queue to the next available
// person of the queue, round-robin. With nobody available it returns
// ErrNoStaffAvailable and the appeal keeps waiting in the queue.
func (s *Service) AssignNext(ctx context.Context, appealID int64) (*Appeal, error) {
	a, _, err := s.change(ctx, appealID, "assign", changeOpts{}, func(tx querier, a *Appeal, now time.Time) (step, error) {
		to := StatusAssigned
		if a.Status == StatusForwarded && a.AssigneeID == 0 {
			to = StatusForwarded
		} else if !CanTransition(a.Status, StatusAssigned) {
			return step{}, illegal(a.Status, StatusAssigned)
		}
		id, name, err := s.pickStaff(ctx, tx, a.Queue, now)
		if err != nil {
			return step{}, err
		}
		a.Status, a.AssigneeID = to, id
		return step{transition: true, actor: "system", comment: "назначено: " + name,
			events: []EventKind{EventAssigned}}, nil
	})
	return a, err
}

// AssignWaiting assigns the appeals waiting without an owner in queue q,
// oldest first, while somebody is available. It returns how many it
// assigned; run it when staff come to work or finish appeals.
func (s *Service) AssignWaiting(ctx context.Context, q Queue) (int, error) {
	rows, err := s.db.Query(ctx, `SELECT id FROM esc_appeals
		WHERE queue = $1 AND assignee_id IS NULL AND status IN ('new', 'forwarded')
		ORDER BY id`, q)
	if err != nil {
		return 0, fmt.Errorf("waiting appeals of %s: %w", q, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("waiting appeals of %s: %w", q, err)
	}
	n := 0
	for _, id := range ids {
		_, err := s.AssignNext(ctx, id)
		switch {
		case errors.Is(err, ErrNoStaffAvailable):
			return n, nil
		case errors.Is(err, ErrIllegalTransition):
			continue // taken meanwhile
		case err != nil:
			return n, err
		}
		n++
	}
	return n, nil
}

// Forwarding says where Forward sends an appeal.
type Forwarding struct {
	// Queue is the target queue; empty means the appeal's Route.
	Queue Queue
	// StaffID is a particular person of the queue; 0 means the next
	// available one, round-robin, or nobody (the appeal waits in the queue).
	StaffID int64
	Note    string // for the new owner
	By      int64  // who forwards
}

// Forward hands an assigned (or answered, or forwarded) appeal to a personal
// manager or department head.
func (s *Service) Forward(ctx context.Context, appealID int64, f Forwarding) (*Appeal, error) {
	a, _, err := s.change(ctx, appealID, "forward", changeOpts{}, func(tx querier, a *Appeal, now time.Time) (step, error) {
		if !CanTransition(a.Status, StatusForwarded) {
			return step{}, illegal(a.Status, StatusForwarded)
		}
		q := f.Queue
		if q == "" {
			q = a.Route
		}
		var (
			id   = f.StaffID
			name string
			err  error
		)
		if id != 0 {
			name, err = s.takeStaff(ctx, tx, id)
		} else {
			id, name, err = s.pickStaff(ctx, tx, q, now)
			if errors.Is(err, ErrNoStaffAvailable) {
				id, name, err = 0, "ожидает в очереди", nil
			}
		}
		if err != nil {
			return step{}, err
		}
		a.Status, a.Queue, a.AssigneeID, a.ForwardNote = StatusForwarded, q, id, f.Note
		comment := fmt.Sprintf("передано в %s (%s)", q, name)
		if f.Note != "" {
			comment += ": " + f.Note
		}
		return step{transition: true, staffID: f.By, actor: actorOf(f.By), comment: comment,
			events: []EventKind{EventForwarded}}, nil
	})
	return a, err
}

// Release puts an owned appeal back to its queue without an owner (a
// contact manager's "back to the queue", a manager giving up an appeal):
// an appeal of the contact managers' queue becomes new again, one of a
// personal managers' or department queue stays forwarded and waits there.
// The history records it with the queue named in the comment; by is who acts (0
// for Kontakt). An appeal nobody owns, or one resolved or closed, cannot be
// released (ErrIllegalTransition).
func (s *Service) Release(ctx context.Context, appealID, by int64) (*Appeal, error) {
	a, _, err := s.change(ctx, appealID, "release", changeOpts{pure: true}, func(tx querier, a *Appeal, now time.Time) (step, error) {
		to := StatusForwarded
		if a.Queue == QueueContact || a.Queue == "" {
			to = StatusNew
		}
		if !a.Status.Open() || a.AssigneeID == 0 {
			return step{}, fmt.Errorf("%w (release)", illegal(a.Status, to))
		}
		a.Status, a.AssigneeID = to, 0
		if a.Queue == "" {
			a.Queue = QueueContact
		}
		return step{transition: true, staffID: by, actor: actorOf(by), comment: "возвращено в очередь: " + a.Queue.Title(),
			events: []EventKind{EventReleased}}, nil
	})
	return a, err
}

// AddMessage adds a message to the conversation of an appeal and moves the
// appeal accordingly:
//   - an operator's message (sent to the client) marks the appeal answered
//     and records the first response; it needs an owner (status assigned,
//     forwarded or answered);
//   - a client's message to a resolved or closed appeal reopens it within
//     the reopen window (ErrReopenWindow after it);
//   - notes and system messages change nothing.
func (s *Service) AddMessage(ctx context.Context, appealID int64, m Message) (*Message, error) {
	if strings.TrimSpace(m.Text) == "" && len(m.Attachments) == 0 {
		return nil, fmt.Errorf("add message to appeal %d: %w: empty message", appealID, ErrInvalid)
	}
	switch m.Author {
	case FromClient, FromSystem:
		m.StaffID = 0
	case FromOperator, FromNote:
		if m.StaffID == 0 {
			return nil, fmt.Errorf("add message to appeal %d: %w: %s message needs a staff id", appealID, ErrInvalid, m.Author)
		}
	default:
		return nil, fmt.Errorf("add message to appeal %d: %w: unknown author %q", appealID, ErrInvalid, m.Author)
	}
	_, msg, err := s.change(ctx, appealID, "add message to", changeOpts{pure: true}, func(tx querier, a *Appeal, now time.Time) (step, error) {
		st := step{message: &m, staffID: m.StaffID, actor: actorOf(m.StaffID)}
		switch m.Author {
		case FromOperator:
			if !CanTransition(a.Status, StatusAnswered) {
				return step{}, illegal(a.Status, StatusAnswered)
			}
			st.transition = a.Status != StatusAnswered
			a.Status = StatusAnswered
			if a.FirstResponseAt == nil {
				a.FirstResponseAt = &now
			}
			st.events = []EventKind{EventAnswered}
		case FromClient:
			st.actor = "client"
			if !a.Status.Open() {
				if err := s.reopen(a, now); err != nil {
					return step{}, err
				}
				st.transition, st.comment = true, "клиент написал снова"
				st.events = append(st.events, EventReopened)
			}
			st.events = append(st.events, EventMessage)
		}
		return st, nil
	})
	return msg, err
}

// Resolve records the result the client will be sent.
func (s *Service) Resolve(ctx context.Context, appealID int64, result string, by int64) (*Appeal, error) {
	if strings.TrimSpace(result) == "" {
		return nil, fmt.Errorf("resolve appeal %d: %w: empty result", appealID, ErrInvalid)
	}
	a, _, err := s.change(ctx, appealID, "resolve", changeOpts{pure: true}, func(tx querier, a *Appeal, now time.Time) (step, error) {
		if !CanTransition(a.Status, StatusResolved) {
			return step{}, illegal(a.Status, StatusResolved)
		}
		a.Status, a.Result, a.ResolvedAt = StatusResolved, result, &now
		return step{transition: true, staffID: by, actor: actorOf(by), comment: result,
			events: []EventKind{EventResolved}}, nil
	})
	return a, err
}

// Close completes a resolved appeal once the client has been told (and
// perhaps has rated the answer).
func (s *Service) Close(ctx context.Context, appealID int64, comment string, by int64) (*Appeal, error) {
	a, _, err := s.change(ctx, appealID, "close", changeOpts{pure: true}, func(tx querier, a *Appeal, now time.Time) (step, error) {
		if !CanTransition(a.Status, StatusClosed) {
			return step{}, illegal(a.Status, StatusClosed)
		}
		a.Status, a.ClosedAt = StatusClosed, &now
		return step{transition: true, staffID: by, actor: actorOf(by), comment: comment,
			events: []EventKind{EventClosed}}, nil
	})
	return a, err
}

// Reopen returns a resolved or closed appeal to its owner (or to its queue
// if it has none) within the reopen window, with a new resolution deadline.
func (s *Service) Reopen(ctx context.Context, appealID int64, comment string, by int64) (*Appeal, error) {
	a, _, err := s.change(ctx, appealID, "reopen", changeOpts{pure: true}, func(tx querier, a *Appeal, now time.Time) (step, error) {
		if err := s.reopen(a, now); err != nil {
			return step{}, err
		}
		return step{transition: true, staffID: by, actor: actorOf(by), comment: comment,
			events: []EventKind{EventReopened}}, nil
	})
	return a, err
}

func (s *Service) reopen(a *Appeal, now time.Time) error {
	to := StatusAssigned
	if a.AssigneeID == 0 {
		to = StatusNew
	}
	if a.Status != StatusResolved && a.Status != StatusClosed {
		return fmt.Errorf("%w (reopen)", illegal(a.Status, to))
	}
	since := a.ResolvedAt
	if a.ClosedAt != nil {
		since = a.ClosedAt
	}
	if since != nil && now.Sub(*since) > s.cfg.ReopenWindow {
		return fmt.Errorf("%w: resolved %s", ErrReopenWindow, since.Format(time.DateOnly))
	}
	_, a.ResolveDue = s.Deadlines(now)
	a.Status, a.ResolvedAt, a.ClosedAt = to, nil, nil
	a.Reopened++
	return nil
}

// MarkOverdue publishes an overdue event, once, for every open appeal past
// a deadline, and returns how many it marked. Run it periodically.
func (s *Service) MarkOverdue(ctx context.Context) (int, error) {
	now := s.now()
	n := 0
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE esc_appeals SET overdue_notified = true
			WHERE status IN ('new', 'assigned', 'forwarded', 'answered') AND NOT overdue_notified
			AND (resolve_due < $1 OR (first_response_at IS NULL AND first_response_due < $1))
			RETURNING `+appealCols, now)
		if err != nil {
			return err
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Appeal, error) { return scanAppeal(r) })
		if err != nil {
			return err
		}
		var b pgx.Batch
		for _, a := range list {
			queueEvent(&b, a, EventOverdue, now)
		}
		n = len(list)
		if n == 0 {
			return nil
		}
		return tx.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		return 0, fmt.Errorf("mark overdue appeals: %w", err)
	}
	return n, nil
}
