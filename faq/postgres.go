package faq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgxlisten"
)

// Channel is the PostgreSQL notification channel on which every change of
// an entry is announced, with the entry's id as the payload.
const Channel = "faq_changed"

// Store keeps the entries and their full history in PostgreSQL (tables
// faq_entries, faq_entry_versions, faq_meta and faq_feedback). Every change
// writes a version row and notifies Channel in the same transaction.
type Store struct {
	pool *pgxpool.Pool
	// Logger receives the change listener's connection problems;
	// slog.Default() when nil.
	Logger *slog.Logger
}

// NewStore returns a store on pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Op is what a version of an entry did.
type Op string

// The operations of the history.
const (
	OpCreate  Op = "create"
	OpUpdate  Op = "update"
	OpDelete  Op = "delete"
	OpRestore Op = "restore"
)

// Revision is one version of an entry: who did what and when, and the
// entry as it was after the change (for a deletion, as it was deleted).
type Revision struct {
	Version int
	Op      Op
	Entry   *Entry
	By      string
	At      time.Time
}

// ImportResult counts what an import did.
type ImportResult struct {
	Created, Updated, Unchanged int
}

// Total is the number of entries in the file.
func (r ImportResult) Total() int { return r.Created + r.Updated + r.Unchanged }

// Filter narrows Find. The zero value matches every entry.
type Filter struct {
	Category string // exact category id
	Text     string // case-insensitive substring of id, question, alternatives, answer or tags
}

const entryCols = `id, category, audience, question, alternatives, answer, answer_for, tags,
	department, valid_from, valid_until, version, updated_by, updated_at`

func scanEntry(row pgx.Row) (*Entry, error) {
	var e Entry
	var aud []string
	if err := row.Scan(&e.ID, &e.Category, &aud, &e.Question, &e.Alternatives, &e.Answer, &e.AnswerFor, &e.Tags,
		&e.Department, &e.ValidFrom, &e.ValidUntil, &e.Version, &e.UpdatedBy, &e.UpdatedAt); err != nil {
		return nil, err
	}
	for _, a := range aud {
		e.Audience = append(e.Audience, Audience(a))
	}
	normalize(&e)
	return &e, nil
}

// normalize makes empty collections nil, so that an entry read from the
// database equals the one decoded from a file.
func normalize(e *Entry) {
	if len(e.Alternatives) == 0 {
		e.Alternatives = nil
	}
	if len(e.Tags) == 0 {
		e.Tags = nil
	}
	if len(e.AnswerFor) == 0 {
		e.AnswerFor = nil
	}
	if len(e.Audience) == 0 {
		e.Audience = nil
	}
}

func collectEntries(rows pgx.Rows) ([]*Entry, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Entry, error) { return scanEntry(r) })
}

// sameContent reports whether a and b say the same to clients and staff,
// ignoring the version and audit fields.
func sameContent(a, b *Entry) bool {
	return a.ID == b.ID && a.Category == b.Category && slices.Equal(a.Audience, b.Audience) &&
		a.Question == b.Question && slices.Equal(a.Alternatives, b.Alternatives) && a.Answer == b.Answer &&
		maps.Equal(a.AnswerFor, b.AnswerFor) && slices.Equal(a.Tags, b.Tags) && a.Department == b.Department &&
		sameDate(a.ValidFrom, b.ValidFrom) && sameDate(a.ValidUntil, b.ValidUntil)
}

func sameDate(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Format(DateLayout) == b.Format(DateLayout)
}

func audienceStrings(as []Audience) []string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return s
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func answerFor(m map[Audience]string) map[Audience]string {
	if m == nil {
		return map[Audience]string{}
	}
	return m
}

// change is one write of an entry with its version row and notification.
type change struct {
	e      *Entry
	op     Op
	insert bool // insert the row rather than update it
}

// apply writes the changes in tx and sets the entries' UpdatedBy and
// UpdatedAt. The entries' Version must already be the new version.
func apply(ctx context.Context, tx pgx.Tx, by string, changes []change) error {
	if len(changes) == 0 {
		return nil
	}
	var now time.Time
	if err := tx.QueryRow(ctx, `SELECT now()`).Scan(&now); err != nil {
		return err
	}
	b := &pgx.Batch{}
	for _, c := range changes {
		e := c.e
		e.UpdatedBy, e.UpdatedAt = by, now
		args := []any{e.ID, e.Category, audienceStrings(e.Audience), e.Question, orEmpty(e.Alternatives), e.Answer,
			answerFor(e.AnswerFor), orEmpty(e.Tags), e.Department, e.ValidFrom, e.ValidUntil, e.Version, by, now}
		switch {
		case c.op == OpDelete:
			b.Queue(`DELETE FROM faq_entries WHERE id = $1`, e.ID)
		case c.insert:
			b.Queue(`INSERT INTO faq_entries (`+entryCols+`)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, args...)
		default:
			b.Queue(`UPDATE faq_entries SET category = $2, audience = $3, question = $4, alternatives = $5,
				answer = $6, answer_for = $7, tags = $8, department = $9, valid_from = $10, valid_until = $11,
				version = $12, updated_by = $13, updated_at = $14 WHERE id = $1`, args...)
		}
		b.Queue(`WITH v AS (
				INSERT INTO faq_entry_versions (entry_id, version, op, data, changed_by, changed_at)
				VALUES ($1, $2, $3, $4, $5, $6) RETURNING entry_id)
			SELECT pg_notify('`+Channel+`', entry_id) FROM v`, e.ID, e.Version, string(c.op), e, by, now)
	}
	br := tx.SendBatch(ctx, b)
	for _, c := range changes {
		for range 2 {
			if _, err := br.Exec(); err != nil {
				br.Close()
				if isUniqueViolation(err) {
					return fmt.Errorf("%s %s: %w", c.op, c.e.ID, ErrConflict)
				}
				return fmt.Errorf("%s %s: %w", c.op, c.e.ID, err)
			}
		}
	}
	return br.Close()
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// nextVersion is the version a new row for id gets: after every version
// it ever had, so that the history of a deleted and re-created id goes on.
func nextVersion(ctx context.Context, tx pgx.Tx, id string) (int, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) + 1 FROM faq_entry_versions WHERE entry_id = $1`, id).Scan(&n)
	return n, err
}

func getForUpdate(ctx context.Context, tx pgx.Tx, id string) (*Entry, error) {
	e, err := scanEntry(tx.QueryRow(ctx, `SELECT `+entryCols+` FROM faq_entries WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return e, err
}

// Create adds a new entry; ErrExists if the id is taken. On success e has
// its version, UpdatedBy and UpdatedAt.
func (s *Store) Create(ctx context.Context, e *Entry, by string) error {
	if err := e.Validate(); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		n, err := nextVersion(ctx, tx, e.ID)
		if err != nil {
			return err
		}
		e.Version = n
		return apply(ctx, tx, by, []change{{e: e, op: OpCreate, insert: true}})
	})
	if errors.Is(err, ErrConflict) {
		err = ErrExists
	}
	if err != nil {
		return fmt.Errorf("create faq entry %s: %w", e.ID, err)
	}
	return nil
}

// Update saves e if the stored entry still has version e.Version, and
// returns ErrConflict if someone changed it meanwhile. An update that
// changes nothing writes no version. On success e holds the stored
// version, UpdatedBy and UpdatedAt.
func (s *Store) Update(ctx context.Context, e *Entry, by string) error {
	if err := e.Validate(); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		cur, err := getForUpdate(ctx, tx, e.ID)
		if err != nil {
			return err
		}
		if cur.Version != e.Version {
			return fmt.Errorf("%w (version %d, yours is %d)", ErrConflict, cur.Version, e.Version)
		}
		if sameContent(cur, e) {
			e.UpdatedBy, e.UpdatedAt = cur.UpdatedBy, cur.UpdatedAt
			return nil
		}
		e.Version = cur.Version + 1
		return apply(ctx, tx, by, []change{{e: e, op: OpUpdate}})
	})
	if err != nil {
		return fmt.Errorf("update faq entry %s: %w", e.ID, err)
	}
	return nil
}

// Delete removes an entry; its history stays.
func (s *Store) Delete(ctx context.Context, id, by string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		cur, err := getForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		cur.Version++
		return apply(ctx, tx, by, []change{{e: cur, op: OpDelete}})
	})
	if err != nil {
		return fmt.Errorf("delete faq entry %s: %w", id, err)
	}
	return nil
}

// Get returns one entry, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (*Entry, error) {
	e, err := scanEntry(s.pool.QueryRow(ctx, `SELECT `+entryCols+` FROM faq_entries WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get faq entry %s: %w", id, err)
	}
	return e, nil
}

// List returns every entry, by category in the order of Categories, then
// by id.
func (s *Store) List(ctx context.Context) ([]*Entry, error) {
	return s.Find(ctx, Filter{})
}

// Find returns the entries that match f, in the order of List.
func (s *Store) Find(ctx context.Context, f Filter) ([]*Entry, error) {
	like := ""
	if f.Text != "" {
		like = "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(f.Text) + "%"
	}
	rows, err := s.pool.Query(ctx, `SELECT `+entryCols+` FROM faq_entries
		WHERE ($1 = '' OR category = $1)
		  AND ($2 = '' OR id ILIKE $2 OR question ILIKE $2 OR answer ILIKE $2
		       OR array_to_string(alternatives, ' ') ILIKE $2 OR array_to_string(tags, ' ') ILIKE $2
		       OR answer_for::text ILIKE $2)`, f.Category, like)
	if err != nil {
		return nil, fmt.Errorf("list faq entries: %w", err)
	}
	entries, err := collectEntries(rows)
	if err != nil {
		return nil, fmt.Errorf("list faq entries: %w", err)
	}
	slices.SortFunc(entries, func(a, b *Entry) int {
		if c := categoryRank(a.Category) - categoryRank(b.Category); c != 0 {
			return c
		}
		if c := strings.Compare(a.Category, b.Category); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return entries, nil
}

func categoryRank(id string) int {
	for i, c := range Categories {
		if c.ID == id {
			return i
		}
	}
	return len(Categories)
}

// NeedsReview returns the entries staff should look at on now: expired or
// expiring within 14 days (see Entry.NeedsReview).
func (s *Store) NeedsReview(ctx context.Context, now time.Time) ([]*Entry, error) {
	all, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(e *Entry) bool { return !e.NeedsReview(now) }), nil
}

// History returns every version of an entry, oldest first, including
// deletions; ErrNotFound if the id never existed.
func (s *Store) History(ctx context.Context, id string) ([]Revision, error) {
	rows, err := s.pool.Query(ctx, `SELECT version, op, data, changed_by, changed_at
		FROM faq_entry_versions WHERE entry_id = $1 ORDER BY version`, id)
	if err != nil {
		return nil, fmt.Errorf("history of faq entry %s: %w", id, err)
	}
	revs, err := pgx.CollectRows(rows, scanRevision)
	if err == nil && len(revs) == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("history of faq entry %s: %w", id, err)
	}
	return revs, nil
}

// Version returns version n of an entry, or ErrNotFound.
func (s *Store) Version(ctx context.Context, id string, n int) (*Revision, error) {
	rows, err := s.pool.Query(ctx, `SELECT version, op, data, changed_by, changed_at
		FROM faq_entry_versions WHERE entry_id = $1 AND version = $2`, id, n)
	if err != nil {
		return nil, fmt.Errorf("version %d of faq entry %s: %w", n, id, err)
	}
	rev, err := pgx.CollectExactlyOneRow(rows, scanRevision)
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("version %d of faq entry %s: %w", n, id, err)
	}
	return &rev, nil
}

func scanRevision(row pgx.CollectableRow) (Revision, error) {
	var r Revision
	var op string
	r.Entry = &Entry{}
	if err := row.Scan(&r.Version, &op, r.Entry, &r.By, &r.At); err != nil {
		return r, err
	}
	r.Op = Op(op)
	normalize(r.Entry)
	return r, nil
}

// Restore makes the text of version n the current one, as a new version;
// it brings back a deleted entry too. Restoring the text the entry already
// has changes nothing.
func (s *Store) Restore(ctx context.Context, id string, n int, by string) (*Entry, error) {
	rev, err := s.Version(ctx, id, n)
	if err != nil {
		return nil, err
	}
	e := rev.Entry
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		cur, err := getForUpdate(ctx, tx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			if e.Version, err = nextVersion(ctx, tx, id); err != nil {
				return err
			}
			return apply(ctx, tx, by, []change{{e: e, op: OpRestore, insert: true}})
		case err != nil:
			return err
		case sameContent(cur, e):
			e = cur
			return nil
		}
		e.Version = cur.Version + 1
		return apply(ctx, tx, by, []change{{e: e, op: OpRestore}})
	})
	if err != nil {
		return nil, fmt.Errorf("restore version %d of faq entry %s: %w", n, id, err)
	}
	return e, nil
}

// Import saves entries all or nothing, in one transaction: new ids are
// created, changed entries updated, and entries that say the same as the
// stored ones left alone (no new version). Entries missing from the list
// stay as they are. Invalid entries or a repeated id import nothing and
// return the problems, as ReadFile does.
func (s *Store) Import(ctx context.Context, entries []*Entry, by string) (ImportResult, error) {
	return s.ImportFile(ctx, &File{Entries: entries}, by)
}

// ImportFile is Import that also replaces the stored meta data when f.Meta
// is not nil, in the same transaction.
func (s *Store) ImportFile(ctx context.Context, f *File, by string) (ImportResult, error) {
	var res ImportResult
	if err := validateAll(f.Entries); err != nil {
		return res, err
	}
	ids := make([]string, len(f.Entries))
	for i, e := range f.Entries {
		ids[i] = e.ID
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		res = ImportResult{}
		rows, err := tx.Query(ctx, `SELECT `+entryCols+` FROM faq_entries WHERE id = ANY($1) FOR UPDATE`, ids)
		if err != nil {
			return err
		}
		current, err := collectEntries(rows)
		if err != nil {
			return err
		}
		byID := make(map[string]*Entry, len(current))
		for _, e := range current {
			byID[e.ID] = e
		}
		next := map[string]int{}
		rows, err = tx.Query(ctx, `SELECT entry_id, max(version) + 1 FROM faq_entry_versions
			WHERE entry_id = ANY($1) GROUP BY entry_id`, ids)
		if err != nil {
			return err
		}
		var id string
		var n int
		if _, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error { next[id] = n; return nil }); err != nil {
			return err
		}
		var changes []change
		for _, e := range f.Entries {
			cur := byID[e.ID]
			switch {
			case cur == nil:
				e.Version = max(next[e.ID], 1)
				changes = append(changes, change{e: e, op: OpCreate, insert: true})
				res.Created++
			case sameContent(cur, e):
				e.Version, e.UpdatedBy, e.UpdatedAt = cur.Version, cur.UpdatedBy, cur.UpdatedAt
				res.Unchanged++
			default:
				e.Version = cur.Version + 1
				changes = append(changes, change{e: e, op: OpUpdate})
				res.Updated++
			}
		}
		if err := apply(ctx, tx, by, changes); err != nil {
			return err
		}
		if f.Meta == nil {
			return nil
		}
		if _, err := tx.Exec(ctx, `DELETE FROM faq_meta`); err != nil {
			return err
		}
		keys := slices.Sorted(maps.Keys(f.Meta))
		values := make([]string, len(keys))
		for i, k := range keys {
			values[i] = f.Meta[k]
		}
		_, err = tx.Exec(ctx, `INSERT INTO faq_meta (key, value) SELECT * FROM unnest($1::text[], $2::text[])`, keys, values)
		return err
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("import faq entries: %w", err)
	}
	return res, nil
}

// validateAll validates every entry and checks that no id repeats.
func validateAll(entries []*Entry) error {
	var problems []error
	seen := map[string]int{}
	for i, e := range entries {
		if len(problems) >= MaxProblems {
			break
		}
		if err := e.Validate(); err != nil {
			problems = append(problems, fmt.Errorf("entry %d: %w", i+1, err))
			continue
		}
		if j, dup := seen[e.ID]; dup {
			problems = append(problems, &FieldError{Entry: e.ID, Field: "id", Msg: fmt.Sprintf("duplicate id, first used by entry %d", j+1)})
			continue
		}
		seen[e.ID] = i
	}
	return errors.Join(problems...)
}

// Meta returns the meta data of the last imported file.
func (s *Store) Meta(ctx context.Context) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT key, value FROM faq_meta`)
	if err != nil {
		return nil, fmt.Errorf("read faq meta: %w", err)
	}
	m := map[string]string{}
	var k, v string
	if _, err := pgx.ForEachRow(rows, []any{&k, &v}, func() error { m[k] = v; return nil }); err != nil {
		return nil, fmt.Errorf("read faq meta: %w", err)
	}
	return m, nil
}

// Feedback is a client's «Помогло» / «Не помогло» on an answer.
type Feedback struct {
	EntryID string
	Helpful bool
	Query   string    // what the client asked
	Channel string    // telegram, vk, webchat, …
	At      time.Time // now when zero
}

// FeedbackStat sums up the feedback on one entry.
type FeedbackStat struct {
	Helpful, Unhelpful int
	Last               time.Time
}

// AddFeedback records feedback on an entry.
func (s *Store) AddFeedback(ctx context.Context, f Feedback) error {
	if f.EntryID == "" {
		return &FieldError{Field: "entry_id", Msg: "is empty"}
	}
	var at *time.Time
	if !f.At.IsZero() {
		at = &f.At
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO faq_feedback (entry_id, helpful, query, channel, created_at)
		VALUES ($1, $2, $3, $4, coalesce($5, now()))`, f.EntryID, f.Helpful, f.Query, f.Channel, at)
	if err != nil {
		return fmt.Errorf("add feedback on faq entry %s: %w", f.EntryID, err)
	}
	return nil
}

// FeedbackStats sums up the feedback given since (everything when zero),
// by entry id.
func (s *Store) FeedbackStats(ctx context.Context, since time.Time) (map[string]FeedbackStat, error) {
	rows, err := s.pool.Query(ctx, `SELECT entry_id, count(*) FILTER (WHERE helpful), count(*) FILTER (WHERE NOT helpful),
		max(created_at) FROM faq_feedback WHERE created_at >= $1 GROUP BY entry_id`, since)
	if err != nil {
		return nil, fmt.Errorf("faq feedback stats: %w", err)
	}
	stats := map[string]FeedbackStat{}
	var id string
	var st FeedbackStat
	if _, err := pgx.ForEachRow(rows, []any{&id, &st.Helpful, &st.Unhelpful, &st.Last}, func() error {
		stats[id] = st
		return nil
	}); err != nil {
		return nil, fmt.Errorf("faq feedback stats: %w", err)
	}
	return stats, nil
}

// Listen calls onChange with the ids of changed entries as their changes
// are committed, on any replica. After it has connected, and after every
// reconnect, it calls onChange(nil): anything may have changed, reload
// everything. It reconnects a second after losing the connection and
// returns ctx.Err() when ctx ends. onChange runs on the listening
// connection's goroutine, so it should only signal other work.
func (s *Store) Listen(ctx context.Context, onChange func(ids []string)) error {
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	l := &pgxlisten.Listener{
		Connect: func(ctx context.Context) (*pgx.Conn, error) {
			return pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
		},
		LogError: func(ctx context.Context, err error) {
			if ctx.Err() == nil {
				log.Warn("faq change listener", "err", err)
			}
		},
		ReconnectDelay: time.Second,
	}
	l.Handle(Channel, listenHandler(onChange))
	return l.Listen(ctx)
}

type listenHandler func(ids []string)

func (h listenHandler) HandleNotification(_ context.Context, n *pgconn.Notification, _ *pgx.Conn) error {
	h([]string{n.Payload})
	return nil
}

func (h listenHandler) HandleBacklog(context.Context, string, *pgx.Conn) error {
	h(nil)
	return nil
}
