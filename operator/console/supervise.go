package console

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

type countRow struct {
	Key   string
	Count int
}

type statsPage struct {
	ByStatus, ByChannel, ByQueue, ByTopic []countRow
	Overdue, Last30, Resolved30           int
	FirstResponse                         string // median first response, last 30 days
	Since                                 time.Time
}

func (s *Server) handleStats() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		now := s.now()
		since := now.Add(-30 * 24 * time.Hour)
		p := statsPage{Since: since}
		count := func(q string, args ...any) ([]countRow, error) {
			rows, err := s.db.Query(ctx, q, args...)
			if err != nil {
				return nil, err
			}
			return pgx.CollectRows(rows, pgx.RowToStructByPos[countRow])
		}
		var err error
		if p.ByStatus, err = count(`SELECT status, count(*)::int FROM esc_appeals WHERE created_at > $1 GROUP BY 1 ORDER BY 2 DESC`, since); err == nil {
			if p.ByChannel, err = count(`SELECT channel, count(*)::int FROM esc_appeals WHERE created_at > $1 GROUP BY 1 ORDER BY 2 DESC`, since); err == nil {
				if p.ByQueue, err = count(`SELECT queue, count(*)::int FROM esc_appeals WHERE status = ANY($1) GROUP BY 1 ORDER BY 2 DESC LIMIT 20`, openStatuses); err == nil {
					p.ByTopic, err = count(`SELECT topic, count(*)::int FROM esc_appeals WHERE created_at > $1 GROUP BY 1 ORDER BY 2 DESC LIMIT 15`, since)
				}
			}
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var median *float64
		err = s.db.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE status = ANY($1) AND (resolve_due < $2 OR (first_response_at IS NULL AND first_response_due < $2))),
			count(*) FILTER (WHERE created_at > $3),
			count(*) FILTER (WHERE resolved_at > $3),
			percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_response_at - created_at))
				FILTER (WHERE created_at > $3 AND first_response_at IS NOT NULL)
			FROM esc_appeals`, openStatuses, now, since).Scan(&p.Overdue, &p.Last30, &p.Resolved30, &median)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p.FirstResponse = "—"
		if median != nil {
			p.FirstResponse = (time.Duration(*median) * time.Second).Round(time.Minute).String()
		}
		s.renderView(w, r, http.StatusOK, "stats", "layout", view{Title: "Статистика", Nav: "stats", D: p})
	})
}

type auditRow struct {
	ID       int64
	At       time.Time
	Staff    string
	Action   string
	Object   string
	ClientID int64
	Detail   string
	Addr     string
}

type auditPage struct {
	Rows   []auditRow
	Client string
	Staff  string
}

func (s *Server) handleAudit() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		p := auditPage{Client: q.Get("client"), Staff: q.Get("staff")}
		client, _ := strconv.ParseInt(p.Client, 10, 64)
		staff, _ := strconv.ParseInt(p.Staff, 10, 64)
		rows, err := s.db.Query(r.Context(), `SELECT l.id, l.at, coalesce(st.name, ''), l.action, l.object,
				coalesce(l.client_id, 0), l.detail, l.addr
			FROM con_audit l LEFT JOIN esc_staff st ON st.id = l.staff_id
			WHERE ($1 = 0 OR l.client_id = $1) AND ($2 = 0 OR l.staff_id = $2)
			ORDER BY l.id DESC LIMIT 300`, client, staff)
		if err == nil {
			p.Rows, err = pgx.CollectRows(rows, pgx.RowToStructByPos[auditRow])
		}
		if err != nil {
			s.fail(w, r, fmt.Errorf("audit log: %w", err))
			return
		}
		s.renderView(w, r, http.StatusOK, "audit", "layout", view{Title: "Журнал доступа к персональным данным", Nav: "audit", D: p})
	})
}
