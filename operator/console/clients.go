package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"kontakt/escalation"
)

// clientRow is a client in search results.
type clientRow struct {
	ID      int64
	Name    string
	Group   escalation.Group
	Phone   string
	Email   string
	Appeals int
}

// findClients searches clients by name, phone, e-mail, appeal number or id.
func (s *Server) findClients(ctx context.Context, q string) ([]clientRow, error) {
	q = strings.TrimSpace(q)
	like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(q)) + "%"
	digits := escalation.NormalizePhone(q)
	id, _ := strconv.ParseInt(q, 10, 64)
	rows, err := s.db.Query(ctx, `SELECT c.id, c.name, c.client_group, c.phone, c.email,
			(SELECT count(*) FROM esc_appeals a WHERE a.client_id = c.id)
		FROM esc_clients c
		WHERE c.merged_into IS NULL AND (lower(c.name) LIKE $1 OR lower(c.email) LIKE $1
			OR (length($2) >= 4 AND c.phone LIKE '%' || $2 || '%') OR c.id = $3
			OR c.id IN (SELECT client_id FROM esc_appeals WHERE number = $4))
		ORDER BY c.id DESC LIMIT 50`, like, digits, id, q)
	if err != nil {
		return nil, fmt.Errorf("find clients: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[clientRow])
	if err != nil {
		return nil, fmt.Errorf("find clients: %w", err)
	}
	return list, nil
}

type clientsPage struct {
	Q    string
	Rows []clientRow
}

func (s *Server) handleClients() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := clientsPage{Q: strings.TrimSpace(r.URL.Query().Get("q"))}
		if p.Q != "" {
			var err error
			if p.Rows, err = s.findClients(r.Context(), p.Q); err != nil {
				s.fail(w, r, err)
				return
			}
			s.audit(r, 0, "поиск клиентов", "", 0, p.Q)
		}
		s.renderView(w, r, http.StatusOK, "clients", "layout", view{Title: "Клиенты", Nav: "clients", D: p})
	})
}

// canSeeClient: contact managers and the head see every client; personal
// managers and department heads only the clients of appeals they may see.
func (s *Server) canSeeClient(ctx context.Context, ss *session, clientID int64) (bool, error) {
	if ss.has(frontDesk...) {
		return true, nil
	}
	if !ss.has(appealRoles...) {
		return false, nil
	}
	args := []any{clientID}
	sc := scope(ss, &args)
	var ok bool
	err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM esc_appeals a WHERE a.client_id = $1 AND `+sc+`)`, args...).Scan(&ok)
	return ok, err
}

type clientPage struct {
	C       *escalation.Client
	Appeals []escalation.Appeal
	Related []*escalation.Client
}

func (s *Server) loadClient(w http.ResponseWriter, r *http.Request) (*escalation.Client, bool) {
	id, ok := pathID(r)
	if !ok {
		s.fail(w, r, escalation.ErrNotFound)
		return nil, false
	}
	ss := sessionFrom(r.Context())
	c, err := s.svc.Client(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	ok, err = s.canSeeClient(r.Context(), ss, c.ID)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	if !ok {
		s.forbidden(w, r)
		return nil, false
	}
	return c, true
}

func (s *Server) handleClient() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.loadClient(w, r)
		if !ok {
			return
		}
		p := clientPage{C: c}
		var err error
		if p.Appeals, err = s.svc.ClientAppeals(r.Context(), c.ID); err != nil {
			s.fail(w, r, err)
			return
		}
		for _, id := range c.Related {
			rc, err := s.svc.Client(r.Context(), id)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			p.Related = append(p.Related, rc)
		}
		s.audit(r, 0, "просмотр клиента", "", c.ID, "")
		s.renderView(w, r, http.StatusOK, "client", "layout", view{Title: "Клиент", Nav: "clients", D: p})
	})
}

// clientExport is everything Kontakt keeps about a client, for a request
// under the law on personal data.
type clientExport struct {
	ExportedAt time.Time            `json:"exported_at"`
	Client     *escalation.Client   `json:"client"`
	Appeals    []appealExport       `json:"appeals"`
	Related    []*escalation.Client `json:"related,omitempty"`
}

type appealExport struct {
	escalation.Appeal
	Messages []escalation.Message `json:"messages"`
}

func (s *Server) handleClientExport() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.loadClient(w, r)
		if !ok {
			return
		}
		ctx := r.Context()
		out := clientExport{ExportedAt: s.now(), Client: c, Appeals: []appealExport{}}
		list, err := s.svc.ClientAppeals(ctx, c.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, a := range list {
			msgs, err := s.svc.Messages(ctx, a.ID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			out.Appeals = append(out.Appeals, appealExport{Appeal: a, Messages: msgs})
		}
		s.audit(r, 0, "выгрузка персональных данных", "", c.ID, "")
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="client-%d.json"`, c.ID))
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(out)
	})
}

func (s *Server) handleClientMerge() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.loadClient(w, r)
		if !ok {
			return
		}
		drop, err := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("other")), 10, 64)
		if err != nil || drop <= 0 {
			s.actionFailed(w, r, fmt.Sprintf("/clients/%d", c.ID), fmt.Errorf("%w: номер второго клиента", escalation.ErrInvalid))
			return
		}
		if _, err := s.svc.Merge(r.Context(), c.ID, drop); err != nil {
			s.actionFailed(w, r, fmt.Sprintf("/clients/%d", c.ID), err)
			return
		}
		s.audit(r, 0, "объединение клиентов", strconv.FormatInt(drop, 10), c.ID, "")
		redirect(w, r, fmt.Sprintf("/clients/%d", c.ID), "merged")
	})
}

// handleClientLink links a parent and a child (student or applicant):
// "parent" makes the other client this one's parent, "child" its child.
func (s *Server) handleClientLink() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.loadClient(w, r)
		if !ok {
			return
		}
		back := fmt.Sprintf("/clients/%d", c.ID)
		other, err := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("other")), 10, 64)
		if err != nil || other <= 0 {
			s.actionFailed(w, r, back, fmt.Errorf("%w: номер связанного клиента", escalation.ErrInvalid))
			return
		}
		oc, err := s.svc.Client(r.Context(), other)
		if err != nil {
			s.actionFailed(w, r, back, err)
			return
		}
		other = oc.ID // the surviving client, if other was merged
		if other == c.ID {
			s.actionFailed(w, r, back, fmt.Errorf("%w: клиент не может быть связан сам с собой", escalation.ErrInvalid))
			return
		}
		parent, child := other, c.ID
		if r.PostFormValue("as") == "child" {
			parent, child = c.ID, other
		}
		if err := s.svc.LinkParent(r.Context(), parent, child); err != nil {
			s.actionFailed(w, r, back, err)
			return
		}
		s.audit(r, 0, "связь родитель — ребёнок", strconv.FormatInt(other, 10), c.ID, fmt.Sprintf("родитель %d, ребёнок %d", parent, child))
		redirect(w, r, back, "linked")
	})
}

// handleClientDelete erases a client's personal data on request: name,
// contacts, consent, identities, and what the client wrote; the appeals
// stay as an anonymised trace (number, dates, topic, channel, status).
func (s *Server) handleClientDelete() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.loadClient(w, r)
		if !ok {
			return
		}
		if r.PostFormValue("confirm") != "1" {
			s.actionFailed(w, r, fmt.Sprintf("/clients/%d", c.ID), fmt.Errorf("%w: подтвердите удаление", escalation.ErrInvalid))
			return
		}
		if err := anonymize(r.Context(), s.db, c.ID); err != nil {
			s.fail(w, r, err)
			return
		}
		s.audit(r, 0, "удаление персональных данных", "", c.ID, "")
		redirect(w, r, fmt.Sprintf("/clients/%d", c.ID), "deleted")
	})
}

// anonymize erases the personal data of a client (and of the clients
// merged into it). TODO(escalation): this belongs in escalation.Service.
func anonymize(ctx context.Context, db interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}, clientID int64) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var b pgx.Batch
	ids := `(SELECT id FROM esc_clients WHERE id = $1 OR merged_into = $1)`
	b.Queue(`UPDATE esc_clients SET name = '', phone = '', phone_verified = false, email = '', email_verified = false,
		consent_at = NULL, consent_channel = '', consent_version = '' WHERE id IN `+ids, clientID)
	b.Queue(`DELETE FROM esc_identities WHERE client_id IN `+ids, clientID)
	b.Queue(`DELETE FROM esc_client_links WHERE parent_id IN `+ids+` OR child_id IN `+ids, clientID)
	b.Queue(`UPDATE esc_appeals SET text = '[удалено по запросу клиента]', transcript = '[]', attachments = '[]',
		external_id = '', result = CASE WHEN result = '' THEN '' ELSE '[удалено]' END WHERE client_id IN `+ids, clientID)
	b.Queue(`UPDATE esc_messages SET text = '[удалено по запросу клиента]', attachments = '[]'
		WHERE author = 'client' AND appeal_id IN (SELECT id FROM esc_appeals WHERE client_id IN `+ids+`)`, clientID)
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("anonymize client %d: %w", clientID, err)
	}
	return tx.Commit(ctx)
}
