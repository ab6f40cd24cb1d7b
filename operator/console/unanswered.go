package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/russian"
	"github.com/jackc/pgx/v5"

	"kontakt/faq"
)

// question is one text a client asked that the bot did not answer well:
// the text of an escalated appeal or the question of a «Не помогло».
type question struct {
	Text   string
	Source string // "appeal" or "feedback"
	Norm   string
	terms  map[string]bool
}

// cluster is a group of similar unanswered questions.
type cluster struct {
	Text      string // the most frequent phrasing
	Count     int
	Appeals   int
	Feedback  int
	Examples  []string
	Norms     []string
	Suggest   string // the entry the bot considers closest
	SuggestQ  string
	SuggestCf float64
	terms     map[string]bool
}

var stopWords = map[string]bool{"как": true, "что": true, "где": true, "мне": true, "мой": true, "моя": true,
	"для": true, "это": true, "или": true, "при": true, "если": true, "можно": true, "нужно": true, "надо": true,
	"здравствуйт": true, "добр": true, "день": true, "пожалуйст": true, "спасиб": true, "подскажит": true,
	"срочн": true, "телефон": true, "номер": true, "mail": true}

// normalize reduces a text to its sorted set of Russian stems.
func normalizeQuestion(text string) (string, map[string]bool) {
	terms := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(strings.ReplaceAll(text, "ё", "е")), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if len([]rune(w)) < 3 {
			continue
		}
		env := snowballstem.NewEnv(w)
		russian.Stem(env)
		st := env.Current()
		if stopWords[st] || stopWords[w] {
			continue
		}
		terms[st] = true
	}
	keys := make([]string, 0, len(terms))
	for k := range terms {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, " "), terms
}

// similar reports whether two questions (as stem sets) are about the same
// thing: they share most of the words of the shorter one (at least two),
// or half of all their words.
func similar(a, b map[string]bool) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	inter := 0
	for k := range a {
		if b[k] {
			inter++
		}
	}
	short := min(len(a), len(b))
	if short >= 2 && float64(inter)/float64(short) >= 0.6 {
		return true
	}
	return float64(inter)/float64(len(a)+len(b)-inter) >= 0.5
}

// unanswered groups the questions of the last 90 days that nobody has
// dealt with yet, biggest groups first.
// With filter set, only questions containing it (case-insensitive) count.
func (s *Server) unanswered(ctx context.Context, filter string) ([]*cluster, error) {
	since := s.now().Add(-90 * 24 * time.Hour)
	rows, err := s.db.Query(ctx, `
		(SELECT text, 'appeal' FROM esc_appeals WHERE created_at > $1 AND text <> '' ORDER BY id DESC LIMIT 3000)
		UNION ALL
		(SELECT query, 'feedback' FROM faq_feedback WHERE NOT helpful AND query <> '' AND created_at > $1 ORDER BY id DESC LIMIT 3000)`, since)
	if err != nil {
		return nil, fmt.Errorf("unanswered questions: %w", err)
	}
	qs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (question, error) {
		var q question
		err := r.Scan(&q.Text, &q.Source)
		return q, err
	})
	if err != nil {
		return nil, fmt.Errorf("unanswered questions: %w", err)
	}
	rows, err = s.db.Query(ctx, `SELECT norm FROM con_unanswered_done`)
	if err != nil {
		return nil, fmt.Errorf("unanswered questions: %w", err)
	}
	doneList, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("unanswered questions: %w", err)
	}
	done := map[string]bool{}
	for _, n := range doneList {
		done[n] = true
	}
	// Identical normalised texts first, then greedy grouping by Jaccard
	// similarity of their stems, biggest first.
	type group struct {
		norm   string
		terms  map[string]bool
		items  []question
		phrase map[string]int
	}
	byNorm := map[string]*group{}
	var order []*group
	for _, q := range qs {
		if strings.HasPrefix(q.Text, "[удалено") {
			continue
		}
		if filter != "" && !strings.Contains(strings.ToLower(q.Text), strings.ToLower(filter)) {
			continue
		}
		q.Text = maskPersonal(strings.TrimSpace(q.Text))
		q.Norm, q.terms = normalizeQuestion(q.Text)
		if q.Norm == "" || done[q.Norm] {
			continue
		}
		g := byNorm[q.Norm]
		if g == nil {
			g = &group{norm: q.Norm, terms: q.terms, phrase: map[string]int{}}
			byNorm[q.Norm] = g
			order = append(order, g)
		}
		g.items = append(g.items, q)
		g.phrase[q.Text]++
	}
	slices.SortStableFunc(order, func(a, b *group) int { return len(b.items) - len(a.items) })
	var out []*cluster
	for _, g := range order {
		var c *cluster
		for _, x := range out {
			if similar(x.terms, g.terms) {
				c = x
				break
			}
		}
		if c == nil {
			c = &cluster{terms: g.terms}
			out = append(out, c)
		}
		c.Norms = append(c.Norms, g.norm)
		best, bestN := "", 0
		for t, n := range g.phrase {
			if n > bestN || (n == bestN && t < best) {
				best, bestN = t, n
			}
		}
		if c.Text == "" {
			c.Text = best
		}
		for _, q := range g.items {
			c.Count++
			if q.Source == "appeal" {
				c.Appeals++
			} else {
				c.Feedback++
			}
			if len(c.Examples) < 5 && !slices.Contains(c.Examples, q.Text) {
				c.Examples = append(c.Examples, q.Text)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b *cluster) int { return b.Count - a.Count })
	if len(out) > 50 {
		out = out[:50]
	}
	for _, c := range out {
		d := s.kb.Decide(ctx, c.Text, "")
		if len(d.Candidates) > 0 {
			c.Suggest, c.SuggestQ, c.SuggestCf = d.Candidates[0].Entry.ID, d.Candidates[0].Entry.Question, d.Candidates[0].Confidence
		}
	}
	return out, nil
}

type unansweredPage struct {
	Q          string
	Groups     []*cluster
	Entries    []*faq.Entry
	Categories []struct{ ID, Title string }
	Audiences  []faq.Audience
	Error      string
}

func (s *Server) handleUnanswered() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.unansweredPage(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.renderView(w, r, http.StatusOK, "unanswered", "layout", view{Title: "Вопросы без ответа", Nav: "unanswered", D: p})
	})
}

func (s *Server) unansweredPage(r *http.Request) (*unansweredPage, error) {
	filter := strings.TrimSpace(r.FormValue("q"))
	groups, err := s.unanswered(r.Context(), filter)
	if err != nil {
		return nil, err
	}
	entries, err := s.faq.List(r.Context())
	if err != nil {
		return nil, err
	}
	return &unansweredPage{Q: filter, Groups: groups, Entries: entries, Categories: faq.Categories, Audiences: faq.Audiences}, nil
}

// handleUnansweredSave turns a group into a new entry or a new phrasing of
// an entry, or dismisses it, in one step.
func (s *Server) handleUnansweredSave() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		by := sessionFrom(ctx).Staff
		f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
		norms := strings.Split(f("norms"), "\n")
		var (
			entryID string
			err     error
		)
		switch f("do") {
		case "entry":
			e := &faq.Entry{ID: f("id"), Category: f("category"), Question: f("question"), Answer: f("answer"),
				Audience: faq.Audiences}
			err = s.faq.Create(ctx, e, by.Name)
			entryID = e.ID
		case "alternative":
			var e *faq.Entry
			if e, err = s.faq.Get(ctx, f("entry")); err == nil {
				phrase := f("phrase")
				if phrase == "" {
					err = &faq.FieldError{Entry: e.ID, Field: "alternatives", Msg: "пустая формулировка"}
				} else {
					if !slices.Contains(e.Alternatives, phrase) && e.Question != phrase {
						e.Alternatives = append(e.Alternatives, phrase)
					}
					err = s.faq.Update(ctx, e, by.Name)
				}
				entryID = e.ID
			}
		case "dismiss":
		default:
			err = &faq.FieldError{Field: "do", Msg: "неизвестное действие"}
		}
		if err != nil {
			var fe *faq.FieldError
			msg := ""
			switch {
			case errors.As(err, &fe):
				msg = "Поле «" + fe.Field + "»: " + fe.Msg
			case errors.Is(err, faq.ErrExists):
				msg = "Запись с таким идентификатором уже есть."
			case errors.Is(err, faq.ErrNotFound):
				msg = "Такой записи нет."
			case errors.Is(err, faq.ErrConflict):
				msg = "Запись изменили одновременно с вами; повторите."
			default:
				s.fail(w, r, err)
				return
			}
			p, perr := s.unansweredPage(r)
			if perr != nil {
				s.fail(w, r, perr)
				return
			}
			p.Error = msg
			s.renderView(w, r, http.StatusBadRequest, "unanswered", "layout", view{Title: "Вопросы без ответа", Nav: "unanswered", D: p})
			return
		}
		for _, n := range norms {
			if n = strings.TrimSpace(n); n == "" {
				continue
			}
			if _, err := s.db.Exec(ctx, `INSERT INTO con_unanswered_done (norm, entry_id, staff_id) VALUES ($1, $2, $3)
				ON CONFLICT (norm) DO UPDATE SET entry_id = excluded.entry_id, staff_id = excluded.staff_id, at = now()`,
				n, entryID, by.ID); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		if entryID != "" {
			redirect(w, r, "/kb/entries/"+entryID, "saved")
			return
		}
		redirect(w, r, "/kb/unanswered", "done")
	})
}
