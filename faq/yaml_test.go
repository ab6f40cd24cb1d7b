package faq

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func readSample(t *testing.T) (*File, []byte) {
	t.Helper()
	data, err := os.ReadFile("testdata/kb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read testdata/kb.yaml: %v", err)
	}
	return f, data
}

func TestReadSample(t *testing.T) {
	f, _ := readSample(t)
	if len(f.Entries) != 120 {
		t.Errorf("got %d entries, want 120", len(f.Entries))
	}
	if f.Meta["hotline"] != "+7 (800) 000-00-00" {
		t.Errorf("meta hotline = %q", f.Meta["hotline"])
	}
	e := f.Entries[0]
	if e.ID != "admission-documents" || e.Category != "admission" || len(e.Alternatives) != 3 ||
		!reflect.DeepEqual(e.Audience, []Audience{Applicant, Parent}) || strings.Contains(e.Answer, "\n") {
		t.Errorf("first entry = %+v", e)
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	f, _ := readSample(t)
	from := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	until := time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)
	extra := &Entry{
		ID: "extra", Category: "dormitory", Audience: []Audience{Student, Applicant},
		Question: "Вопрос: с двоеточием и #решёткой?", Answer: "Строка первая.\nСтрока вторая:  два пробела.\n\n- не список",
		AnswerFor:  map[Audience]string{Applicant: strings.Repeat("Длинный ответ абитуриенту, ", 10) + "конец.", Student: "yes"},
		Department: "Студенческий городок", ValidFrom: &from, ValidUntil: &until, Tags: []string{"123", "null", "true"},
	}
	f.Entries = append(f.Entries, extra)
	var buf bytes.Buffer
	if err := Encode(&buf, f.Meta, f.Entries); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	g, err := ReadFile(&buf)
	if err != nil {
		t.Fatalf("read back: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(f, g) {
		for i := range f.Entries {
			if !reflect.DeepEqual(f.Entries[i], g.Entries[i]) {
				t.Errorf("entry %d:\n got %+v\nwant %+v", i, g.Entries[i], f.Entries[i])
			}
		}
		t.Fatal("round trip changed the file")
	}
	// Readable: long answers are wrapped blocks, multi-line ones literal.
	if !strings.Contains(out, "  answer: >-\n    Для поступления на бакалавриат") {
		t.Errorf("long answer is not a folded block:\n%.600s", out)
	}
	if !strings.Contains(out, "  answer: |-\n    Строка первая.\n") {
		t.Errorf("multi-line answer is not a literal block")
	}
	for i, line := range strings.Split(out, "\n") {
		if n := len([]rune(line)); n > 130 {
			t.Errorf("line %d has %d characters", i+1, n)
		}
	}
	// Stable: encoding again gives the same bytes.
	var again bytes.Buffer
	if err := Encode(&again, g.Meta, g.Entries); err != nil {
		t.Fatal(err)
	}
	if again.String() != out {
		t.Error("encoding is not stable")
	}
}

const goodEntry = `- id: first
  category: dormitory
  audience: [student]
  question: Сколько стоит общежитие?
  answer: 1500 рублей в месяц.
`

func TestReadFileErrors(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		line  int
		field string
		msg   string
	}{
		{"duplicate id", goodEntry + goodEntry, 6, "id", "first used at line 2"},
		{"empty answer", goodEntry + "- id: second\n  category: dormitory\n  audience: [student]\n  question: Где?\n  answer: \"  \"\n", 10, "answer", "is empty"},
		{"missing answer", goodEntry + "- id: second\n  category: dormitory\n  audience: [student]\n  question: Где?\n", 6, "answer", "is empty"},
		{"unknown audience", goodEntry + "- id: second\n  category: dormitory\n  audience:\n  - student\n  - teacher\n  question: Где?\n  answer: Там.\n", 10, "audience", `unknown audience "teacher"`},
		{"unknown audience in answer_for", goodEntry + "- id: second\n  category: dormitory\n  audience: [student]\n  question: Где?\n  answer: Там.\n  answer_for:\n    teacher: Тут.\n", 12, "answer_for", `unknown audience "teacher"`},
		{"bad date", goodEntry + "  valid_until: 2026-13-01\n", 6, "valid_until", "bad date"},
		{"bad date format", goodEntry + "  valid_from: 01.09.2026\n", 6, "valid_from", "YYYY-MM-DD"},
		{"unknown field", goodEntry + "  anwser: Опечатка.\n", 6, "anwser", "did you mean answer?"},
		{"wrong type", goodEntry + "  tags: {a: b}\n", 6, "tags", "must be a list"},
		{"bad id", "- id: Общежитие\n  category: dormitory\n  audience: [student]\n  question: Где?\n  answer: Там.\n", 1, "id", "latin slug"},
		{"syntax error", goodEntry + "- id: second\n  question: \"unterminated\n", 7, "yaml", "syntax error"},
		{"bad indentation", goodEntry + "- id: second\n   category: dormitory\n  answer: x\n", 7, "yaml", "syntax error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, err := Decode(strings.NewReader("entries:\n" + tt.yaml))
			if err == nil {
				t.Fatalf("no error; entries %+v", entries)
			}
			if entries != nil {
				t.Errorf("a broken file gave %d entries", len(entries))
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FieldError", err)
			}
			// The test wraps the entries in "entries:", one line down.
			if fe.Line != tt.line+1 || fe.Field != tt.field || !strings.Contains(fe.Msg, tt.msg) {
				t.Errorf("got %q (line %d, field %q), want line %d, field %q, message with %q",
					err, fe.Line, fe.Field, tt.line+1, tt.field, tt.msg)
			}
		})
	}
}

func TestReadFileManyProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("entries:\n")
	for range 30 {
		b.WriteString("- id: same\n  category: dormitory\n  audience: [student]\n  question: Где?\n  answer: \"\"\n")
	}
	_, err := Decode(strings.NewReader(b.String()))
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("want a joined error, got %v", err)
	}
	errs := j.Unwrap()
	if len(errs) != MaxProblems+1 || !strings.Contains(errs[MaxProblems].Error(), "stopped") {
		t.Errorf("got %d problems:\n%v", len(errs), err)
	}
	if !strings.Contains(errs[0].Error(), "line 6: entry \"same\": answer: is empty") {
		t.Errorf("first problem: %v", errs[0])
	}
}
