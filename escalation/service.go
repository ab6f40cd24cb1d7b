package escalation

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// LegalLimit is the longest resolution time the law on citizens' appeals
// allows (59-FZ, article 12): 30 days from registration.
const LegalLimit = 30 * 24 * time.Hour

// Config tunes a Service. Zero fields take the defaults shown.
type Config struct {
	// Calendar is the working calendar (DefaultCalendar). Exceptions
	// stored in the database are added by LoadCalendar.
	Calendar Calendar
	// FirstResponse is the working time allowed before the first operator
	// reply (15 minutes).
	FirstResponse time.Duration
	// ResolveDays is the number of working days to resolve an appeal (3);
	// the deadline never exceeds LegalLimit.
	ResolveDays int
	// ReopenWindow is how long after resolution a client's message reopens
	// an appeal (7 days).
	ReopenWindow time.Duration
	// MaxOpen caps the open appeals automatically assigned to one person
	// (20), unless the person has a cap of their own.
	MaxOpen int
	// Now is the clock (time.Now).
	Now func() time.Time
}

// Service registers, routes and tracks appeals; PostgreSQL is its store.
// It is safe for concurrent use.
type Service struct {
	db  *pgxpool.Pool
	cfg Config

	mu  sync.RWMutex
	cal Calendar

	wake   *waker
	recent *recent
}

// New returns a service on the database db, migrated with the escalation
// schema.
func New(db *pgxpool.Pool, cfg Config) *Service {
	if cfg.Calendar.End <= cfg.Calendar.Start {
		cfg.Calendar = DefaultCalendar()
	}
	if cfg.Calendar.Days == nil {
		cfg.Calendar.Days = map[string]bool{}
	}
	if cfg.FirstResponse <= 0 {
		cfg.FirstResponse = 15 * time.Minute
	}
	if cfg.ResolveDays <= 0 {
		cfg.ResolveDays = 3
	}
	if cfg.ReopenWindow <= 0 {
		cfg.ReopenWindow = 7 * 24 * time.Hour
	}
	if cfg.MaxOpen <= 0 {
		cfg.MaxOpen = 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{db: db, cfg: cfg, cal: cfg.Calendar, wake: &waker{db: db}, recent: newRecent()}
}

// now is the clock at the database's precision.
func (s *Service) now() time.Time { return s.cfg.Now().Truncate(time.Microsecond) }

// Calendar returns the working calendar in use.
func (s *Service) Calendar() Calendar {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cal
}

// Deadlines returns the first-response and resolution deadlines of an
// appeal registered (or reopened) at t.
func (s *Service) Deadlines(t time.Time) (firstResponse, resolve time.Time) {
	cal := s.Calendar()
	firstResponse = cal.Add(t, s.cfg.FirstResponse)
	resolve = cal.Add(t, time.Duration(s.cfg.ResolveDays)*cal.DayLength())
	if limit := t.Add(LegalLimit); resolve.After(limit) {
		resolve = limit
	}
	return firstResponse, resolve
}

// LoadCalendar reads the holidays and transferred working days stored in
// the database into the service's calendar.
func (s *Service) LoadCalendar(ctx context.Context) error {
	rows, err := s.db.Query(ctx, `SELECT day, working FROM esc_calendar_days`)
	if err != nil {
		return fmt.Errorf("load calendar: %w", err)
	}
	days := map[string]bool{}
	var (
		day     time.Time
		working bool
	)
	if _, err := pgx.ForEachRow(rows, []any{&day, &working}, func() error {
		days[day.Format(time.DateOnly)] = working
		return nil
	}); err != nil {
		return fmt.Errorf("load calendar: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.cfg.Calendar.Days {
		if _, ok := days[k]; !ok {
			days[k] = v
		}
	}
	s.cal.Days = days
	return nil
}

// SetCalendarDay stores an exception of the working calendar: a holiday
// (working false) or a working weekend day (working true), and applies it.
func (s *Service) SetCalendarDay(ctx context.Context, day time.Time, working bool, note string) error {
	d := day.Format(time.DateOnly)
	if _, err := s.db.Exec(ctx, `INSERT INTO esc_calendar_days (day, working, note) VALUES ($1, $2, $3)
		ON CONFLICT (day) DO UPDATE SET working = excluded.working, note = excluded.note`, d, working, note); err != nil {
		return fmt.Errorf("set calendar day %s: %w", d, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	days := make(map[string]bool, len(s.cal.Days)+1)
	for k, v := range s.cal.Days {
		days[k] = v
	}
	days[d] = working
	s.cal.Days = days
	return nil
}

// appealCols are the columns scanAppeal reads, in order.
const appealCols = `id, number, client_id, channel, external_id, kind, topic, client_group, text,
	transcript, attachments, status, queue, route, assignee_id, forward_note, result,
	created_at, updated_at, first_response_due, resolve_due, first_response_at, resolved_at,
	closed_at, reopened`

func scanAppeal(row pgx.Row) (*Appeal, error) {
	var (
		a        Appeal
		assignee *int64
	)
	err := row.Scan(&a.ID, &a.Number, &a.ClientID, &a.Channel, &a.ExternalID, &a.Kind, &a.Topic,
		&a.Group, &a.Text, &a.Transcript, &a.Attachments, &a.Status, &a.Queue, &a.Route, &assignee,
		&a.ForwardNote, &a.Result, &a.CreatedAt, &a.UpdatedAt, &a.FirstResponseDue, &a.ResolveDue,
		&a.FirstResponseAt, &a.ResolvedAt, &a.ClosedAt, &a.Reopened)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if assignee != nil {
		a.AssigneeID = *assignee
	}
	return &a, nil
}

// nullID maps the zero id to SQL NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Open registers an appeal: it finds or creates the client by channel
// identity, routes the appeal by topic and group, numbers it and computes
// its deadlines. The appeal starts in the contact managers' queue with
// status new; Route says where Forward will send it.
func (s *Service) Open(ctx context.Context, req OpenAppeal) (*Appeal, error) {
	if req.Kind == "" {
		req.Kind = Question
	}
	if req.Topic == "" {
		req.Topic = TopicOther
	}
	switch {
	case req.Client.Channel == "" || req.Client.ExternalID == "":
		return nil, fmt.Errorf("%w: client channel and external id are required", ErrInvalid)
	case !req.Kind.Valid():
		return nil, fmt.Errorf("%w: unknown kind %q", ErrInvalid, req.Kind)
	case req.Client.Group != "" && !req.Client.Group.Valid():
		return nil, fmt.Errorf("%w: unknown client group %q", ErrInvalid, req.Client.Group)
	case strings.TrimSpace(req.Text) == "" && len(req.Attachments) == 0:
		return nil, fmt.Errorf("%w: appeal text is empty", ErrInvalid)
	}
	if req.Transcript == nil {
		req.Transcript = []TranscriptLine{}
	}
	if req.Attachments == nil {
		req.Attachments = []Attachment{}
	}
	req.Client.Phone = NormalizePhone(req.Client.Phone)
	req.Client.Email = strings.ToLower(strings.TrimSpace(req.Client.Email))
	now := s.now()
	a := &Appeal{Channel: req.Client.Channel, ExternalID: req.Client.ExternalID, Kind: req.Kind,
		Topic: req.Topic, Text: req.Text, Transcript: req.Transcript, Attachments: req.Attachments,
		Status: StatusNew, Queue: QueueContact, CreatedAt: now, UpdatedAt: now}
	a.FirstResponseDue, a.ResolveDue = s.Deadlines(now)
	year := now.In(s.Calendar().loc()).Year()
	args := pgx.NamedArgs{
		"year": year, "channel": a.Channel, "external_id": a.ExternalID,
		"kind": a.Kind, "topic": a.Topic, "text": a.Text, "transcript": a.Transcript,
		"attachments": a.Attachments, "now": now, "fr_due": a.FirstResponseDue, "res_due": a.ResolveDue,
		"event": Event{Kind: EventOpened, Status: StatusNew, Queue: QueueContact, Channel: a.Channel,
			ExternalID: a.ExternalID, At: now},
	}
	maps.Copy(args, clientArgs(0, req.Client))
	var xmin uint32
	scan := func(r pgx.Row) error {
		var notified int
		return r.Scan(&a.ID, &a.Number, &a.ClientID, &a.Group, &a.Route, &notified, &xmin)
	}
	register := func() error {
		// A chat already known, without a verified contact that could
		// link it to another client, takes one statement in one round trip.
		err := errNoClient
		if !req.Client.PhoneVerified && !req.Client.EmailVerified {
			err = scan(s.db.QueryRow(ctx, openStmt.sql, openStmt.args(args)...))
			if errors.Is(err, pgx.ErrNoRows) {
				err = errNoClient
			}
		}
		if !errors.Is(err, errNoClient) {
			return err
		}
		return s.withTx(ctx, func(c *pgx.Conn) error {
			if _, err := c.Exec(ctx, "BEGIN"); err != nil {
				return err
			}
			id, _, err := s.resolveClient(ctx, c, req.Client, now)
			if err != nil {
				return err
			}
			args["client_id"] = id
			var b pgx.Batch
			b.Queue(openStmt.sql, openStmt.args(args)...).QueryRow(scan)
			b.Queue("COMMIT")
			return c.SendBatch(ctx, &b).Close()
		})
	}
	err := register()
	if isUndefinedTable(err, numberSeq(year)) {
		// The first appeal of the year.
		if err = s.createNumberSeq(ctx, year); err == nil {
			err = register()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open appeal for %s:%s: %w", req.Client.Channel, req.Client.ExternalID, err)
	}
	s.recent.put(a, xmin)
	s.wake.Wake()
	return a, nil
}

var errNoClient = errors.New("no client yet")

// Appeal numbers (2026-000123) come from a sequence per year, made by the
// first appeal of the year. A sequence, unlike a counter row, is not locked
// until the registration commits, so registrations do not queue on it (with
// synchronous commit they would wait for each other's WAL flush). The price
// is a gap in the numbers when a registration fails after taking its
// number, or after a crash of the server (up to 32 numbers, the values a
// sequence logs ahead): numbers are unique and increase within a year, but
// are not guaranteed consecutive.
func numberSeq(year int) string { return fmt.Sprintf("esc_appeal_number_%d", year) }

// createNumberSeq makes the number sequence of a year, unless a concurrent
// first appeal of the year has just made it.
func (s *Service) createNumberSeq(ctx context.Context, year int) error {
	_, err := s.db.Exec(ctx, "CREATE SEQUENCE IF NOT EXISTS "+numberSeq(year))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "42P07") {
		// unique_violation or duplicate_table: IF NOT EXISTS does not
		// cover a concurrent CREATE that commits first.
		err = nil
	}
	if err != nil {
		return fmt.Errorf("create the appeal number sequence of %d: %w", year, err)
	}
	return nil
}

// isUndefinedTable reports whether err says that relation name does not
// exist.
func isUndefinedTable(err error, name string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42P01" && strings.Contains(pe.Message, `"`+name+`"`)
}

// openSQL registers an appeal in one statement: it updates the client (by
// id, or by identity), numbers the appeal on the year's sequence, routes
// it, and writes it with its first history entry and event. It returns no
// row when the identity is unknown (and takes no number then); the last
// column is the new row's xmin.
const openSQL = `
WITH c AS (` + clientUpdateSQL + `
), n AS (
	SELECT nextval(format('esc_appeal_number_%s', @year::int)::regclass) AS last FROM c
), r AS (
	SELECT queue FROM esc_routes, c
	WHERE topic IN (@topic, '*') AND esc_routes.client_group IN (c.client_group, '*')
	ORDER BY esc_routes.client_group <> '*' DESC, topic <> '*' DESC
	LIMIT 1
), a AS (
	INSERT INTO esc_appeals (number, client_id, channel, external_id, kind, topic, client_group,
		text, transcript, attachments, status, queue, route, created_at, updated_at,
		first_response_due, resolve_due)
	SELECT @year::int || '-' || lpad(n.last::text, greatest(6, length(n.last::text)), '0'), c.id, @channel, @external_id, @kind, @topic,
		c.client_group, @text, @transcript, @attachments, 'new', 'contact',
		coalesce((SELECT queue FROM r), 'contact'), @now, @now, @fr_due, @res_due
	FROM c, n
	RETURNING id, number, client_id, client_group, route, xmin
), h AS (
	INSERT INTO esc_appeal_history (appeal_id, from_status, to_status, actor, at)
	SELECT id, '', 'new', 'client', @now FROM a
), o AS (
	INSERT INTO esc_outbox (kind, appeal_id, payload, created_at)
	SELECT 'opened', a.id, @event::jsonb || jsonb_build_object('appeal_id', a.id, 'number', a.number), @now FROM a
	RETURNING 1
)
SELECT a.id, a.number, a.client_id, a.client_group, a.route, (SELECT count(*) FROM o), a.xmin
FROM a`

var openStmt = compile(openSQL)

// eventOf describes the appeal's state for an event.
func eventOf(a *Appeal, kind EventKind, at time.Time) Event {
	return Event{Kind: kind, AppealID: a.ID, Number: a.Number, Status: a.Status, Queue: a.Queue,
		AssigneeID: a.AssigneeID, Channel: a.Channel, ExternalID: a.ExternalID, At: at}
}

func queueEvent(b *pgx.Batch, a *Appeal, kind EventKind, at time.Time) {
	b.Queue(`INSERT INTO esc_outbox (kind, appeal_id, payload, created_at) VALUES ($1, $2, $3, $4)`,
		kind, a.ID, eventOf(a, kind, at), at)
	b.Queue(`SELECT pg_notify('esc_outbox', '')`)
}

// Get returns the appeal with id.
func (s *Service) Get(ctx context.Context, id int64) (*Appeal, error) {
	a, err := scanAppeal(s.db.QueryRow(ctx, `SELECT `+appealCols+` FROM esc_appeals WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get appeal %d: %w", id, err)
	}
	return a, nil
}

// GetByNumber returns the appeal with a number such as 2026-000123.
func (s *Service) GetByNumber(ctx context.Context, number string) (*Appeal, error) {
	a, err := scanAppeal(s.db.QueryRow(ctx, `SELECT `+appealCols+` FROM esc_appeals WHERE number = $1`, number))
	if err != nil {
		return nil, fmt.Errorf("get appeal %s: %w", number, err)
	}
	return a, nil
}

// OpenAppealFor returns the latest appeal registered from this chat that is
// not closed (a resolved one included: a message to it reopens it), or nil
// if there is none.
func (s *Service) OpenAppealFor(ctx context.Context, channel Channel, externalID string) (*Appeal, error) {
	a, err := scanAppeal(s.db.QueryRow(ctx, `SELECT `+appealCols+` FROM esc_appeals
		WHERE channel = $1 AND external_id = $2 AND status <> 'closed'
		ORDER BY id DESC LIMIT 1`, channel, externalID))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open appeal for %s:%s: %w", channel, externalID, err)
	}
	return a, nil
}

var openStatuses = []Status{StatusNew, StatusAssigned, StatusForwarded, StatusAnswered}

// List returns appeals matching f, newest first.
func (s *Service) List(ctx context.Context, f Filter) ([]Appeal, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Queue != "" {
		where = append(where, "queue = "+arg(f.Queue))
	}
	if len(f.Status) > 0 {
		ss := make([]string, len(f.Status))
		for i, st := range f.Status {
			ss[i] = string(st)
		}
		where = append(where, "status = ANY("+arg(ss)+")")
	}
	if f.AssigneeID != 0 {
		where = append(where, "assignee_id = "+arg(f.AssigneeID))
	}
	if f.ClientID != 0 {
		where = append(where, "client_id = "+arg(f.ClientID))
	}
	if f.BeforeID != 0 {
		where = append(where, "id < "+arg(f.BeforeID))
	}
	if f.Overdue {
		now := arg(s.now())
		where = append(where, "status IN ('new', 'assigned', 'forwarded', 'answered') AND "+
			"(resolve_due < "+now+" OR (first_response_at IS NULL AND first_response_due < "+now+"))")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT ` + appealCols + ` FROM esc_appeals`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT " + arg(limit)
	return s.queryAppeals(ctx, q, args...)
}

func (s *Service) queryAppeals(ctx context.Context, q string, args ...any) ([]Appeal, error) {
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list appeals: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Appeal, error) {
		a, err := scanAppeal(r)
		if err != nil {
			return Appeal{}, err
		}
		return *a, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list appeals: %w", err)
	}
	return list, nil
}

// Messages returns the conversation of an appeal in order.
func (s *Service) Messages(ctx context.Context, appealID int64) ([]Message, error) {
	rows, err := s.db.Query(ctx, `SELECT id, appeal_id, author, coalesce(staff_id, 0), text, attachments, at
		FROM esc_messages WHERE appeal_id = $1 ORDER BY id`, appealID)
	if err != nil {
		return nil, fmt.Errorf("messages of appeal %d: %w", appealID, err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Message, error) {
		var m Message
		err := r.Scan(&m.ID, &m.AppealID, &m.Author, &m.StaffID, &m.Text, &m.Attachments, &m.At)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("messages of appeal %d: %w", appealID, err)
	}
	return list, nil
}

// History returns the status transitions of an appeal in order.
func (s *Service) History(ctx context.Context, appealID int64) ([]Transition, error) {
	rows, err := s.db.Query(ctx, `SELECT id, appeal_id, from_status, to_status, coalesce(staff_id, 0), actor, comment, at
		FROM esc_appeal_history WHERE appeal_id = $1 ORDER BY id`, appealID)
	if err != nil {
		return nil, fmt.Errorf("history of appeal %d: %w", appealID, err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Transition, error) {
		var t Transition
		err := r.Scan(&t.ID, &t.AppealID, &t.From, &t.To, &t.StaffID, &t.Actor, &t.Comment, &t.At)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("history of appeal %d: %w", appealID, err)
	}
	return list, nil
}
