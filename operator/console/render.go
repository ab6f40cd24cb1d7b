package console

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"kontakt/escalation"
	"kontakt/faq"
	"kontakt/knowledge"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds one template set per page, each with the layout.
type pages map[string]*template.Template

var funcs = template.FuncMap{
	"statusTitle":  escalation.Status.Title,
	"channelTitle": escalation.Channel.Title,
	"groupTitle":   groupTitle,
	"kindTitle":    escalation.Kind.Title,
	"queueTitle":   escalation.Queue.Title,
	"categoryTitle": func(id string) string {
		return faq.CategoryTitle(id)
	},
	"audienceTitle": func(a faq.Audience) string { return a.Title() },
	"roleTitle":     roleTitle,
	"decisionTitle": func(k knowledge.Kind) string {
		return map[knowledge.Kind]string{knowledge.Answer: "бот ответит записью", knowledge.Clarify: "бот предложит уточнить (кнопки)",
			knowledge.Escalate: "бот передаст менеджеру", knowledge.Smalltalk: "бот поддержит разговор"}[k]
	},
	"opTitle": func(op faq.Op) string {
		return map[faq.Op]string{faq.OpCreate: "создание", faq.OpUpdate: "изменение", faq.OpDelete: "удаление", faq.OpRestore: "восстановление"}[op]
	},
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(escalation.Moscow).Format("02.01.2006 15:04")
	},
	"whenp": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.In(escalation.Moscow).Format("02.01.2006 15:04")
	},
	"date": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(faq.DateLayout)
	},
	"pct":  func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
	"join": strings.Join,
	"lines": func(ss []string) string {
		return strings.Join(ss, "\n")
	},
	"add": func(a, b int) int { return a + b },
	"hasAudience": func(list []faq.Audience, a faq.Audience) bool {
		for _, x := range list {
			if x == a {
				return true
			}
		}
		return false
	},
	"answerFor": func(e *faq.Entry, a faq.Audience) string {
		if e == nil {
			return ""
		}
		return e.AnswerFor[a]
	},
}

func parsePages() (pages, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := pages{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("console templates: %w", err)
		}
		p[base] = t
	}
	return p, nil
}

// view is what every page template receives.
type view struct {
	S     *session
	Title string
	Flash string
	Error string
	Nav   string
	D     any
}

// Can reports whether the signed-in person has one of the named roles
// ("appeals", "kb", "kbedit", "clients", "head", "desk").
func (v view) Can(what string) bool {
	if v.S == nil {
		return false
	}
	switch what {
	case "appeals", "clients":
		return v.S.has(appealRoles...)
	case "desk":
		return v.S.has(frontDesk...)
	case "kb":
		return v.S.has(kbReaders...)
	case "kbedit":
		return v.S.has(editors...)
	case "head":
		return v.S.has(headOnly...)
	}
	return false
}

type errorPage struct{ Title, Text string }

// flashes are the messages a redirect may ask the next page to show.
var flashes = map[string]string{
	"replied":       "Ответ отправлен клиенту.",
	"replied-nc":    "Ответ записан, но отправить его клиенту некуда: свяжитесь с клиентом по телефону или лично.",
	"reply-failed":  "Ответ записан, но канал клиента не принял сообщение. Попробуйте позже или свяжитесь иначе.",
	"noted":         "Заметка добавлена.",
	"taken":         "Обращение ваше.",
	"forwarded":     "Обращение передано.",
	"resolved":      "Обращение решено, клиент уведомлён.",
	"resolved-nc":   "Обращение решено. Клиента нужно уведомить лично: у него нет канала для сообщений.",
	"resolved-bot":  "Обращение решено: бот сообщит клиенту итог и попросит оценить ответ, после оценки обращение закроется.",
	"reopened":      "Обращение снова открыто.",
	"registered":    "Обращение зарегистрировано.",
	"saved":         "Сохранено.",
	"restored":      "Версия восстановлена.",
	"imported":      "Импорт выполнен.",
	"merged":        "Клиенты объединены.",
	"linked":        "Клиенты связаны.",
	"entry-deleted": "Запись удалена; её история сохранена, её можно восстановить.",
	"deleted":       "Персональные данные клиента удалены; обращения сохранены обезличенными.",
	"password":      "Пароль установлен. Войдите с ним.",
	"done":          "Готово.",
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	s.renderView(w, r, status, page, "layout", view{D: data})
}

func (s *Server) renderView(w http.ResponseWriter, r *http.Request, status int, page, tmpl string, v view) {
	t := s.pages[page]
	if t == nil {
		http.Error(w, "no page "+page, http.StatusInternalServerError)
		return
	}
	v.S = sessionFrom(r.Context())
	if v.Flash == "" {
		v.Flash = flashes[r.URL.Query().Get("ok")]
	}
	if ep, ok := v.D.(errorPage); ok && v.Title == "" {
		v.Title = ep.Title
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, v); err != nil {
		s.log.Error("console: render", "page", page, "err", err)
		http.Error(w, "Ошибка отображения страницы", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail answers an unexpected error; the detail goes to the log only.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, escalation.ErrNotFound) || errors.Is(err, faq.ErrNotFound) {
		s.render(w, r, http.StatusNotFound, "error", errorPage{Title: "Не найдено", Text: "Такой записи нет."})
		return
	}
	s.log.Error("console", "method", r.Method, "path", r.URL.Path, "err", err)
	s.render(w, r, http.StatusInternalServerError, "error", errorPage{Title: "Ошибка",
		Text: "Что-то пошло не так. Подробности записаны в журнал сервера."})
}

func redirect(w http.ResponseWriter, r *http.Request, path, ok string) {
	if ok != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "ok=" + ok
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func groupTitle(g escalation.Group) string { return faq.Audience(g).Title() }

func roleTitle(r escalation.Role) string {
	switch r {
	case escalation.RoleContact:
		return "контактный менеджер"
	case escalation.RoleAdmission:
		return "менеджер по приёму"
	case escalation.RoleStudy:
		return "менеджер по обучению"
	case escalation.RoleDepartment:
		return "руководитель подразделения"
	case escalation.RoleHead:
		return "начальник отдела"
	case escalation.RoleEditor:
		return "редактор базы знаний"
	}
	return string(r)
}

var (
	emailRE = regexp.MustCompile(`[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}.\-]+\.\p{L}+`)
	phoneRE = regexp.MustCompile(`\+?\d[\d\s()\-]{5,}\d`)
)

// maskPersonal hides e-mail addresses and phone-like numbers in a text,
// for pages whose readers must not see clients' personal data.
func maskPersonal(s string) string {
	s = emailRE.ReplaceAllString(s, "[e-mail]")
	return phoneRE.ReplaceAllString(s, "[номер]")
}
