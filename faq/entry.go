// Package faq holds the knowledge base as staff edit it: entries with a
// question, alternative phrasings and answers per audience, their full
// version history in PostgreSQL, YAML import and export, and change
// notifications that keep every replica's search index current.
package faq

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Audience is a group of clients an entry is written for.
type Audience string

// The audiences of the institute's regulation.
const (
	Applicant Audience = "applicant"
	Student   Audience = "student"
	Listener  Audience = "listener"
	Graduate  Audience = "graduate"
	Parent    Audience = "parent"
	Other     Audience = "other"
)

// Audiences lists every valid audience in a stable order.
var Audiences = []Audience{Applicant, Student, Listener, Graduate, Parent, Other}

// Valid reports whether a is one of Audiences.
func (a Audience) Valid() bool { return slices.Contains(Audiences, a) }

// Title is the Russian name of the audience, as clients see it.
func (a Audience) Title() string {
	switch a {
	case Applicant:
		return "Абитуриент"
	case Student:
		return "Студент"
	case Listener:
		return "Слушатель курсов"
	case Graduate:
		return "Выпускник"
	case Parent:
		return "Родитель"
	case Other:
		return "Другое"
	}
	return string(a)
}

// Entry is one question of the knowledge base with its answer.
type Entry struct {
	ID           string              `json:"id"`
	Category     string              `json:"category"`
	Audience     []Audience          `json:"audience"`
	Question     string              `json:"question"`
	Alternatives []string            `json:"alternatives,omitempty"`
	Answer       string              `json:"answer"`
	AnswerFor    map[Audience]string `json:"answer_for,omitempty"`
	Tags         []string            `json:"tags,omitempty"`
	Department   string              `json:"department,omitempty"`
	ValidFrom    *time.Time          `json:"valid_from,omitempty"`
	ValidUntil   *time.Time          `json:"valid_until,omitempty"`
	Version      int                 `json:"version"`
	UpdatedBy    string              `json:"updated_by,omitempty"`
	UpdatedAt    time.Time           `json:"updated_at"`
}

// AnswerTo returns the answer written for audience a, or the general one.
func (e *Entry) AnswerTo(a Audience) string {
	if s := e.AnswerFor[a]; s != "" {
		return s
	}
	return e.Answer
}

// ActiveAt reports whether the entry may be answered at t: an entry before
// its valid_from or after its valid_until date is not shown to clients.
func (e *Entry) ActiveAt(t time.Time) bool {
	day := t.Truncate(24 * time.Hour)
	if e.ValidFrom != nil && day.Before(e.ValidFrom.Truncate(24*time.Hour)) {
		return false
	}
	if e.ValidUntil != nil && day.After(e.ValidUntil.Truncate(24*time.Hour)) {
		return false
	}
	return true
}

// NeedsReview reports whether staff should look at the entry at t: it has
// expired, or expires within the next 14 days.
func (e *Entry) NeedsReview(t time.Time) bool {
	return e.ValidUntil != nil && t.Add(14*24*time.Hour).After(*e.ValidUntil)
}

// Categories of the sample knowledge base with their Russian titles, in the
// order the bot's menu shows them. Other categories are allowed and shown
// by their id.
var Categories = []struct{ ID, Title string }{
	{"admission", "Поступление"},
	{"tuition", "Оплата обучения"},
	{"dormitory", "Общежитие"},
	{"scholarship", "Стипендии"},
	{"study-process", "Учебный процесс"},
	{"certificates", "Справки и документы"},
	{"military", "Военный учёт"},
	{"graduates", "Выпускникам"},
	{"additional-education", "Дополнительное образование"},
	{"contacts", "Контакты"},
	{"foreign-applicants", "Иностранным гражданам"},
	{"accessibility", "Доступная среда"},
	{"other", "Другое"},
}

// CategoryTitle returns the Russian title of a category id.
func CategoryTitle(id string) string {
	for _, c := range Categories {
		if c.ID == id {
			return c.Title
		}
	}
	return id
}

// Errors callers branch on.
var (
	ErrNotFound = errors.New("faq: entry not found")
	ErrConflict = errors.New("faq: entry was changed by someone else")
	ErrExists   = errors.New("faq: entry already exists")
)

// FieldError says which field of an entry is wrong and why. Line is the
// line of the YAML file it came from, when there was one.
type FieldError struct {
	Line  int
	Entry string
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Entry != "" {
		fmt.Fprintf(&b, "entry %q: ", e.Entry)
	}
	fmt.Fprintf(&b, "%s: %s", e.Field, e.Msg)
	return b.String()
}

var slugRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// Limits on what staff may write, so that an entry always fits a message.
const (
	MaxQuestionLen = 500
	MaxAnswerLen   = 4000
)

// Validate checks an entry the same way for the editor, the store and the
// import. It normalises white space in place.
func (e *Entry) Validate() error {
	e.ID = strings.TrimSpace(e.ID)
	e.Category = strings.TrimSpace(e.Category)
	e.Question = strings.TrimSpace(e.Question)
	e.Answer = strings.TrimSpace(e.Answer)
	fe := func(field, msg string, args ...any) error {
		return &FieldError{Entry: e.ID, Field: field, Msg: fmt.Sprintf(msg, args...)}
	}
	switch {
	case e.ID == "":
		return fe("id", "is empty")
	case len(e.ID) > 100 || !slugRE.MatchString(e.ID):
		return fe("id", "must be a latin slug like dormitory-cost, not %q", e.ID)
	case e.Category == "":
		return fe("category", "is empty")
	case !slugRE.MatchString(e.Category):
		return fe("category", "must be a latin slug, not %q", e.Category)
	case e.Question == "":
		return fe("question", "is empty")
	case len([]rune(e.Question)) > MaxQuestionLen:
		return fe("question", "is longer than %d characters", MaxQuestionLen)
	case e.Answer == "":
		return fe("answer", "is empty")
	case len([]rune(e.Answer)) > MaxAnswerLen:
		return fe("answer", "is longer than %d characters", MaxAnswerLen)
	}
	if len(e.Audience) == 0 {
		return fe("audience", "is empty: name at least one of %s", audienceList())
	}
	for _, a := range e.Audience {
		if !a.Valid() {
			return fe("audience", "unknown audience %q (use %s)", a, audienceList())
		}
	}
	for a, text := range e.AnswerFor {
		if !a.Valid() {
			return fe("answer_for", "unknown audience %q (use %s)", a, audienceList())
		}
		if strings.TrimSpace(text) == "" {
			return fe("answer_for."+string(a), "is empty")
		}
		e.AnswerFor[a] = strings.TrimSpace(text)
	}
	alts := e.Alternatives[:0]
	for _, s := range e.Alternatives {
		if s = strings.TrimSpace(s); s != "" {
			alts = append(alts, s)
		}
	}
	e.Alternatives = alts
	if e.ValidFrom != nil && e.ValidUntil != nil && e.ValidUntil.Before(*e.ValidFrom) {
		return fe("valid_until", "is before valid_from")
	}
	return nil
}

func audienceList() string {
	s := make([]string, len(Audiences))
	for i, a := range Audiences {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}
