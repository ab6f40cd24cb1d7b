package escalation

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// AddStaff registers a person who answers appeals. Queues are derived from
// Roles and Department.
func (s *Service) AddStaff(ctx context.Context, p Staff) (*Staff, error) {
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" {
		return nil, fmt.Errorf("add staff: %w: name is required", ErrInvalid)
	}
	if len(p.Roles) == 0 {
		return nil, fmt.Errorf("add staff %q: %w: at least one role is required", p.Name, ErrInvalid)
	}
	for _, r := range p.Roles {
		if !r.Valid() {
			return nil, fmt.Errorf("add staff %q: %w: unknown role %q", p.Name, ErrInvalid, r)
		}
		if r == RoleDepartment && p.Department == "" {
			return nil, fmt.Errorf("add staff %q: %w: a department head needs a department", p.Name, ErrInvalid)
		}
	}
	if p.MaxOpen < 0 {
		return nil, fmt.Errorf("add staff %q: %w: negative cap", p.Name, ErrInvalid)
	}
	p.Queues = QueuesOf(p.Roles, p.Department)
	if p.Reach == nil {
		p.Reach = map[Channel]string{}
	}
	err := s.db.QueryRow(ctx, `INSERT INTO esc_staff (name, roles, department, queues, reach, hours, active, max_open)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, created_at`,
		p.Name, p.Roles, p.Department, p.Queues, p.Reach, p.Hours, p.Active, p.MaxOpen).Scan(&p.ID, &p.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("add staff %q: %w", p.Name, err)
	}
	s.recent.seeStaff(p.ID, p.Name, p.Active)
	return &p, nil
}

const staffCols = `id, name, roles, department, queues, reach, hours, active, max_open, created_at`

func scanStaff(r pgx.Row) (Staff, error) {
	var p Staff
	err := r.Scan(&p.ID, &p.Name, &p.Roles, &p.Department, &p.Queues, &p.Reach, &p.Hours, &p.Active, &p.MaxOpen, &p.CreatedAt)
	return p, err
}

// StaffMember returns the person with id.
func (s *Service) StaffMember(ctx context.Context, id int64) (*Staff, error) {
	p, err := scanStaff(s.db.QueryRow(ctx, `SELECT `+staffCols+` FROM esc_staff WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("staff %d: %w", id, err)
	}
	return &p, nil
}

// ListStaff returns every person, by id; with q set, only the people of that
// queue.
func (s *Service) ListStaff(ctx context.Context, q Queue) ([]Staff, error) {
	rows, err := s.db.Query(ctx, `SELECT `+staffCols+` FROM esc_staff WHERE $1 = '' OR $1 = ANY(queues) ORDER BY id`, q)
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Staff, error) { return scanStaff(r) })
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	return list, nil
}

// SetStaffActive makes a person available for assignment or not.
func (s *Service) SetStaffActive(ctx context.Context, id int64, active bool) error {
	tag, err := s.db.Exec(ctx, `UPDATE esc_staff SET active = $2 WHERE id = $1`, id, active)
	if err == nil && tag.RowsAffected() == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("set staff %d active=%v: %w", id, active, err)
	}
	if !active {
		s.recent.seeStaff(id, "", false)
	}
	return nil
}

// Route returns the queue the routing rules give for an appeal on topic
// from a client of group g: the rule for both, else for the group, else for
// the topic, else the default rule, else the contact managers.
func (s *Service) Route(ctx context.Context, topic string, g Group) (Queue, error) {
	var q Queue
	err := s.db.QueryRow(ctx, `SELECT queue FROM esc_routes
		WHERE topic IN ($1, '*') AND client_group IN ($2, '*')
		ORDER BY client_group <> '*' DESC, topic <> '*' DESC LIMIT 1`, topic, g).Scan(&q)
	if errors.Is(err, pgx.ErrNoRows) {
		return QueueContact, nil
	}
	if err != nil {
		return "", fmt.Errorf("route %s/%s: %w", topic, g, err)
	}
	return q, nil
}

// SetRule adds or replaces the routing rule for (Topic, Group).
func (s *Service) SetRule(ctx context.Context, r Rule) error {
	if r.Topic == "" || r.Group == "" || r.Queue == "" {
		return fmt.Errorf("set routing rule: %w: topic, group and queue are required", ErrInvalid)
	}
	if r.Group != "*" && !Group(r.Group).Valid() {
		return fmt.Errorf("set routing rule: %w: unknown group %q", ErrInvalid, r.Group)
	}
	_, err := s.db.Exec(ctx, `INSERT INTO esc_routes (topic, client_group, queue) VALUES ($1, $2, $3)
		ON CONFLICT (topic, client_group) DO UPDATE SET queue = excluded.queue`, r.Topic, r.Group, r.Queue)
	if err != nil {
		return fmt.Errorf("set routing rule %s/%s: %w", r.Topic, r.Group, err)
	}
	return nil
}

// DeleteRule removes the routing rule for (topic, group).
func (s *Service) DeleteRule(ctx context.Context, topic, group string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM esc_routes WHERE topic = $1 AND client_group = $2`, topic, group); err != nil {
		return fmt.Errorf("delete routing rule %s/%s: %w", topic, group, err)
	}
	return nil
}

// Rules returns every routing rule.
func (s *Service) Rules(ctx context.Context) ([]Rule, error) {
	rows, err := s.db.Query(ctx, `SELECT topic, client_group, queue FROM esc_routes ORDER BY topic, client_group`)
	if err != nil {
		return nil, fmt.Errorf("routing rules: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Rule])
	if err != nil {
		return nil, fmt.Errorf("routing rules: %w", err)
	}
	return list, nil
}
