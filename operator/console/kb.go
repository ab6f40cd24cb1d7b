package console

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"kontakt/faq"
	"kontakt/knowledge"
)

type kbPage struct {
	Q, Category string
	Entries     []*faq.Entry
	Review      []*faq.Entry
	Categories  []struct{ ID, Title string }
	Problems    []string
}

func (s *Server) handleKB() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		p := kbPage{Q: strings.TrimSpace(q.Get("q")), Category: q.Get("category"), Categories: faq.Categories}
		var err error
		if p.Entries, err = s.faq.Find(r.Context(), faq.Filter{Category: p.Category, Text: p.Q}); err != nil {
			s.fail(w, r, err)
			return
		}
		if p.Review, err = s.faq.NeedsReview(r.Context(), s.now()); err != nil {
			s.fail(w, r, err)
			return
		}
		s.renderView(w, r, http.StatusOK, "kb", "layout", view{Title: "База знаний", Nav: "kb", D: p})
	})
}

type tryPage struct {
	Q        string
	Audience faq.Audience
	Aud      []faq.Audience
	D        *knowledge.Decision
	Answer   string
}

func (s *Server) handleTry() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		p := tryPage{Q: strings.TrimSpace(q.Get("q")), Audience: faq.Audience(q.Get("audience")), Aud: faq.Audiences}
		if p.Audience != "" && !p.Audience.Valid() {
			p.Audience = ""
		}
		if p.Q != "" {
			d := s.kb.Decide(r.Context(), p.Q, p.Audience)
			p.D = &d
			if d.Entry != nil {
				p.Answer = d.Entry.AnswerTo(p.Audience)
			}
		}
		s.renderView(w, r, http.StatusOK, "try", "layout", view{Title: "Проверить вопрос", Nav: "try", D: p})
	})
}

type entryPage struct {
	New        bool
	E          *faq.Entry
	Audiences  []faq.Audience
	Categories []struct{ ID, Title string }
	Error      string
	Field      string
}

func (s *Server) handleEntryForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := entryPage{Audiences: faq.Audiences, Categories: faq.Categories}
		if id := r.PathValue("eid"); id != "" {
			e, err := s.faq.Get(r.Context(), id)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			p.E = e
		} else {
			q := r.URL.Query()
			p.New = true
			p.E = &faq.Entry{Question: q.Get("question"), Category: q.Get("category"), Audience: faq.Audiences}
		}
		s.renderView(w, r, http.StatusOK, "entry", "layout", view{Title: "Запись базы знаний", Nav: "kb", D: p})
	})
}

// entryFromForm reads the entry form.
func entryFromForm(r *http.Request) (*faq.Entry, error) {
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	e := &faq.Entry{ID: f("id"), Category: f("category"), Question: f("question"), Answer: f("answer"),
		Department: f("department"), AnswerFor: map[faq.Audience]string{}}
	if e.ID == "" {
		e.ID = r.PathValue("eid")
	}
	e.Version, _ = strconv.Atoi(f("version"))
	for _, a := range r.PostForm["audience"] {
		e.Audience = append(e.Audience, faq.Audience(a))
	}
	for _, line := range strings.Split(r.PostFormValue("alternatives"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			e.Alternatives = append(e.Alternatives, line)
		}
	}
	for _, t := range strings.Split(f("tags"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			e.Tags = append(e.Tags, t)
		}
	}
	for _, a := range faq.Audiences {
		if v := f("answer_for_" + string(a)); v != "" {
			e.AnswerFor[a] = v
		}
	}
	if len(e.AnswerFor) == 0 {
		e.AnswerFor = nil
	}
	for _, d := range []struct {
		key string
		dst **time.Time
	}{{"valid_from", &e.ValidFrom}, {"valid_until", &e.ValidUntil}} {
		if v := f(d.key); v != "" {
			t, err := time.Parse(faq.DateLayout, v)
			if err != nil {
				return e, &faq.FieldError{Entry: e.ID, Field: d.key, Msg: "дата должна быть в виде ГГГГ-ММ-ДД"}
			}
			*d.dst = &t
		}
	}
	return e, nil
}

func (s *Server) handleEntrySave() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ss := sessionFrom(r.Context())
		isNew := r.PathValue("eid") == ""
		e, err := entryFromForm(r)
		if err == nil {
			if isNew {
				err = s.faq.Create(r.Context(), e, ss.Staff.Name)
			} else {
				err = s.faq.Update(r.Context(), e, ss.Staff.Name)
			}
		}
		if err != nil {
			p := entryPage{New: isNew, E: e, Audiences: faq.Audiences, Categories: faq.Categories}
			var fe *faq.FieldError
			switch {
			case errors.As(err, &fe):
				p.Field, p.Error = fe.Field, "Поле «"+fe.Field+"»: "+fe.Msg
			case errors.Is(err, faq.ErrConflict):
				p.Error = "Запись уже изменил кто-то другой. Откройте её заново и повторите правку."
			case errors.Is(err, faq.ErrExists):
				p.Field, p.Error = "id", "Запись с таким идентификатором уже есть."
			case errors.Is(err, faq.ErrNotFound):
				p.Error = "Записи больше нет (её удалили)."
			default:
				s.fail(w, r, err)
				return
			}
			s.renderView(w, r, http.StatusBadRequest, "entry", "layout", view{Title: "Запись базы знаний", Nav: "kb", D: p})
			return
		}
		redirect(w, r, "/kb/entries/"+e.ID, "saved")
	})
}

// revisionView is a version with its difference from the previous one.
type revisionView struct {
	faq.Revision
	Diff []diffLine
}

type historyPage struct {
	ID   string
	Revs []revisionView
}

func (s *Server) handleEntryHistory() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("eid")
		revs, err := s.faq.History(r.Context(), id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p := historyPage{ID: id}
		var prev []string
		for _, rv := range revs {
			cur := entryLines(rv.Entry)
			p.Revs = append(p.Revs, revisionView{Revision: rv, Diff: diffLines(prev, cur)})
			prev = cur
		}
		slices.Reverse(p.Revs)
		s.renderView(w, r, http.StatusOK, "history", "layout", view{Title: "История записи " + id, Nav: "kb", D: p})
	})
}

func (s *Server) handleEntryRestore() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("eid")
		n, err := strconv.Atoi(r.PostFormValue("version"))
		if err != nil {
			s.fail(w, r, faq.ErrNotFound)
			return
		}
		if _, err := s.faq.Restore(r.Context(), id, n, sessionFrom(r.Context()).Staff.Name); err != nil {
			s.fail(w, r, err)
			return
		}
		redirect(w, r, "/kb/entries/"+id+"/history", "restored")
	})
}

func (s *Server) handleEntryDelete() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("eid")
		if err := s.faq.Delete(r.Context(), id, sessionFrom(r.Context()).Staff.Name); err != nil {
			s.fail(w, r, err)
			return
		}
		redirect(w, r, "/kb/entries/"+id+"/history", "entry-deleted")
	})
}

func (s *Server) handleExport() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entries, err := s.faq.List(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		meta, err := s.faq.Meta(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var buf bytes.Buffer
		if err := faq.Encode(&buf, meta, entries); err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="kb.yaml"`)
		w.Write(buf.Bytes())
	})
}

func (s *Server) handleImport() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		file, _, err := r.FormFile("file")
		if err != nil {
			s.render(w, r, http.StatusBadRequest, "error", errorPage{Title: "Импорт не выполнен", Text: "Выберите файл YAML."})
			return
		}
		defer file.Close()
		f, err := faq.ReadFile(file)
		if err == nil {
			var res faq.ImportResult
			res, err = s.faq.ImportFile(r.Context(), f, sessionFrom(r.Context()).Staff.Name)
			if err == nil {
				s.renderView(w, r, http.StatusOK, "kb", "layout", view{Title: "База знаний", Nav: "kb",
					Flash: fmt.Sprintf("Импорт выполнен: новых %d, изменено %d, без изменений %d.", res.Created, res.Updated, res.Unchanged),
					D:     s.kbPageOrEmpty(r)})
				return
			}
		}
		p := s.kbPageOrEmpty(r)
		for _, line := range strings.Split(err.Error(), "\n") {
			p.Problems = append(p.Problems, line)
		}
		s.renderView(w, r, http.StatusBadRequest, "kb", "layout", view{Title: "База знаний", Nav: "kb",
			Error: "Файл не импортирован: ничего не изменено.", D: p})
	})
}

func (s *Server) kbPageOrEmpty(r *http.Request) kbPage {
	p := kbPage{Categories: faq.Categories}
	p.Entries, _ = s.faq.List(r.Context())
	p.Review, _ = s.faq.NeedsReview(r.Context(), s.now())
	return p
}

// entryLines renders an entry one field a line, for diffs.
func entryLines(e *faq.Entry) []string {
	if e == nil {
		return nil
	}
	aud := make([]string, len(e.Audience))
	for i, a := range e.Audience {
		aud[i] = string(a)
	}
	out := []string{"категория: " + e.Category, "аудитория: " + strings.Join(aud, ", "), "вопрос: " + e.Question}
	for _, a := range e.Alternatives {
		out = append(out, "формулировка: "+a)
	}
	for _, l := range strings.Split(e.Answer, "\n") {
		out = append(out, "ответ: "+l)
	}
	for _, a := range faq.Audiences {
		if t := e.AnswerFor[a]; t != "" {
			for _, l := range strings.Split(t, "\n") {
				out = append(out, "ответ ("+string(a)+"): "+l)
			}
		}
	}
	if len(e.Tags) > 0 {
		out = append(out, "теги: "+strings.Join(e.Tags, ", "))
	}
	if e.Department != "" {
		out = append(out, "подразделение: "+e.Department)
	}
	if e.ValidFrom != nil {
		out = append(out, "действует с: "+e.ValidFrom.Format(faq.DateLayout))
	}
	if e.ValidUntil != nil {
		out = append(out, "действует до: "+e.ValidUntil.Format(faq.DateLayout))
	}
	return out
}

// diffLine is one line of a diff: Op is ' ', '+' or '-'.
type diffLine struct {
	Op   string
	Text string
}

// diffLines is a longest-common-subsequence line diff of a and b.
func diffLines(a, b []string) []diffLine {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []diffLine
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			out = append(out, diffLine{" ", a[i]})
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, diffLine{"-", a[i]})
			i++
		default:
			out = append(out, diffLine{"+", b[j]})
			j++
		}
	}
	for ; i < n; i++ {
		out = append(out, diffLine{"-", a[i]})
	}
	for ; j < m; j++ {
		out = append(out, diffLine{"+", b[j]})
	}
	return out
}
