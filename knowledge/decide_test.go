package knowledge

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"kontakt/faq"
)

// The messages here are written for these tests; none comes from the
// evaluation queries.
func TestDecide(t *testing.T) {
	b := sampleBase(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		text  string
		kind  Kind
		entry string // for Answer; for Clarify, one of the candidates
	}{
		{"greeting", "Привет!", Smalltalk, ""},
		{"greeting on the wrong layout", "plhfdcndeqnt", Smalltalk, ""},
		{"thanks", "спасибо, всё понятно", Smalltalk, ""},
		{"emoji only", "🙂🙂", Smalltalk, ""},
		{"are you a bot", "а ты случайно не робот?", Smalltalk, ""},
		{"off-topic", "какой прогноз погоды на выходные", Smalltalk, ""},
		{"greeting with a question is a question", "добрый день, сколько стоит общежитие в месяц", Answer, "dormitory-cost"},
		{"slang", "скока стоит общага", Answer, "dormitory-cost"},
		{"layout", "ctccbz rjulf yfxbyftncz", Answer, "study-session-schedule"},
		{"translit", "kak vosstanovitsya posle otchisleniya", Answer, "study-reinstatement"},
		{"typos", "где посмотреть расписане занятй", Answer, "study-timetable"},
		{"military slang", "военка у вас есть? как туда попасть", Answer, "military-training-centre"},
		{"asks for a person", "можно поговорить с живым сотрудником?", Escalate, ""},
		{"asks for a person on the wrong layout", "gjpjdbnt jgthfnjhf", Escalate, ""},
		{"complaint with knowledge-base words", "хочу пожаловаться на коменданта общежития, он грубит", Escalate, ""},
		{"dispute about a payment", "деньги за общежитие списали два раза, хотя я платил один, верните", Escalate, ""},
		{"own case status", "мое заявление на общежитие уже месяц в статусе на рассмотрении", Escalate, ""},
		{"unknown institute question", "какая зарплата у преподавателей в вашем институте", Escalate, ""},
		{"something did not happen", "комендант не выдает ключи от комнаты", Escalate, ""},
		{"a condition is a reference question", "что делать если не пришел на вступительный экзамен", Answer, "admission-exam-retake"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := b.Decide(ctx, tt.text, "")
			if d.Kind != tt.kind {
				t.Fatalf("Decide(%q) = %s (%s), want %s; candidates %v", tt.text, d.Kind, d.Reason, tt.kind, ids(d.Candidates))
			}
			switch tt.kind {
			case Answer:
				if d.Entry == nil || d.Entry.ID != tt.entry {
					t.Errorf("Decide(%q) answered %v, want %s", tt.text, d.Entry, tt.entry)
				}
			case Clarify:
				found := false
				for _, c := range d.Candidates {
					found = found || c.Entry.ID == tt.entry
				}
				if !found {
					t.Errorf("Decide(%q) offers %v, want %s among them", tt.text, ids(d.Candidates), tt.entry)
				}
			}
			if d.Reason == "" {
				t.Errorf("Decide(%q) gave no reason", tt.text)
			}
		})
	}
}

func ids(ms []Match) []string {
	var s []string
	for _, m := range ms {
		s = append(s, fmt.Sprintf("%s(%.2f)", m.Entry.ID, m.Confidence))
	}
	return s
}

func TestAudiencePicksAnswerVariant(t *testing.T) {
	e := &faq.Entry{ID: "x", Category: "other", Audience: []faq.Audience{faq.Student, faq.Parent}, Question: "Q", Answer: "общий", AnswerFor: map[faq.Audience]string{faq.Parent: "для родителей"}}
	if got := e.AnswerTo(faq.Parent); got != "для родителей" {
		t.Errorf("AnswerTo(parent) = %q", got)
	}
	if got := e.AnswerTo(faq.Student); got != "общий" {
		t.Errorf("AnswerTo(student) = %q", got)
	}
}

func TestExpiredEntryIsNotAnswered(t *testing.T) {
	entries := loadSample(t)
	yesterday := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	for _, e := range entries {
		if e.ID == "dormitory-cost" {
			e.ValidUntil = &yesterday
		}
	}
	now := func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }
	b, err := New(entries, WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	d := b.Decide(context.Background(), "сколько стоит проживание в общежитии", "")
	if d.Entry != nil && d.Entry.ID == "dormitory-cost" {
		t.Fatalf("expired entry answered: %+v", d)
	}
	for _, c := range d.Candidates {
		if c.Entry.ID == "dormitory-cost" {
			t.Fatalf("expired entry offered: %v", ids(d.Candidates))
		}
	}
}

// TestReloadUnderLoad swaps the entries while searches run: no search may
// fail or see a half-built index.
func TestReloadUnderLoad(t *testing.T) {
	entries := loadSample(t)
	b, err := New(entries)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				ms, err := b.Search(ctx, "сколько стоит общежитие", "", 3)
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					errs <- err.Error()
					return
				}
				if len(ms) == 0 || ms[0].Entry.ID != "dormitory-cost" {
					errs <- fmt.Sprintf("got %v", ids(ms))
					return
				}
			}
		}()
	}
	for i := 0; i < 5; i++ {
		if err := b.Reload(entries); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestQuality guards the figures measured on the evaluation set's
// development queries and on the sets written for this package (extra:
// apart from the development queries; probe-* and probe2-*: by topic,
// each before the round of the thesauri of its topic was written) against
// regressions. A hidden
// set of the same style scores lower; see the note of issue 2.
func TestQuality(t *testing.T) {
	b := sampleBase(t)
	type floor struct {
		name      string
		got, want float64
		max       bool
	}
	for _, set := range []struct {
		file                              string
		top1, self, wrong, esc, smalltalk float64
	}{
		{"testdata/queries-dev.jsonl", 0.875, 0.95, 0.03, 0.95, 0.95},
		{"testdata/queries-extra.jsonl", 0.9, 0.95, 0.02, 0.95, 0.8},
		{"testdata/queries-probe-admission.jsonl", 0.95, 0.975, 0.01, 0.95, 0},
		{"testdata/queries-probe-money.jsonl", 0.91, 0.945, 0.045, 0.95, 0},
		{"testdata/queries-probe-people.jsonl", 0.885, 0.885, 0.025, 0.98, 0.95},
		{"testdata/queries-probe-study.jsonl", 0.95, 0.955, 0.03, 0.95, 0},
		{"testdata/queries-probe2-admission.jsonl", 0.925, 0.97, 0.015, 0, 0},
		{"testdata/queries-probe2-money.jsonl", 0.89, 0.95, 0.04, 0, 0},
		{"testdata/queries-probe2-study.jsonl", 0.9, 0.93, 0.04, 0, 0},
	} {
		t.Run(set.file, func(t *testing.T) {
			f, err := os.Open(set.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			qs, err := ReadQueries(f)
			if err != nil {
				t.Fatal(err)
			}
			_, s := b.Evaluate(context.Background(), qs)
			t.Logf("%+v", s)
			for _, f := range []floor{
				{"answer_top1", s.AnswerTop1, set.top1, false},
				{"self_service", s.SelfService, set.self, false},
				{"wrong_answers", s.WrongAnswers, set.wrong, true},
				{"escalate_recall", s.EscalateRecall, set.esc, false},
				{"smalltalk_recall", s.SmalltalkRecall, set.smalltalk, false},
			} {
				if f.max && f.got > f.want || !f.max && f.got < f.want {
					t.Errorf("%s = %.3f, want %s %.3f", f.name, f.got, map[bool]string{true: "≤", false: "≥"}[f.max], f.want)
				}
			}
		})
	}
}
