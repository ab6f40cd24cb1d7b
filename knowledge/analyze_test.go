package knowledge

import (
	"slices"
	"strings"
	"testing"
)

func sampleBase(t testing.TB) *Base {
	t.Helper()
	b, err := New(loadSample(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestAnalyze(t *testing.T) {
	b := sampleBase(t)
	an := b.cur.Load().an
	tests := []struct {
		name  string
		text  string
		want  []string // terms that must be present
		not   []string // terms that must be absent
		latin string
	}{
		{name: "yo folded", text: "Учёба", want: []string{snowStem("обучение")}},
		{name: "yo and e are one word", text: "приём документов", want: []string{snowStem("прием"), snowStem("документов")}},
		{name: "politeness is not content", text: "Здравствуйте, подскажите пожалуйста", not: []string{snowStem("здравствуйте"), snowStem("подскажите"), snowStem("пожалуйста")}},
		{name: "slang", text: "общага", want: []string{snowStem("общежитие")}, not: []string{snowStem("общага")}},
		{name: "slang inflected", text: "в общаге", want: []string{snowStem("общежитие")}},
		{name: "slang phrase", text: "военка есть?", want: []string{snowStem("военный"), snowStem("учебный"), snowStem("центр")}},
		{name: "student id", text: "студак потерял", want: []string{snowStem("студенческий"), snowStem("билет")}},
		{name: "budget place", text: "бюджетка", want: []string{snowStem("бюджетное"), snowStem("место")}},
		{name: "stipend", text: "стипуха", want: []string{snowStem("стипендия")}},
		{name: "typo counted in runes", text: "общежитте", want: []string{snowStem("общежитие")}},
		{name: "swapped letters", text: "стипнедия", want: []string{snowStem("стипендия")}},
		{name: "keyboard layout", text: "j,ofuf", want: []string{snowStem("общежитие")}, latin: "layout"},
		{name: "layout sentence", text: "cnbgtylbz ctyn.,hz", want: []string{snowStem("стипендия")}, latin: "layout"},
		{name: "translit", text: "obshchezhitie", want: []string{snowStem("общежитие")}, latin: "translit"},
		{name: "translit phrase", text: "stoimost obucheniya", want: []string{snowStem("стоимость")}, latin: "translit"},
		{name: "short words are not corrected", text: "кот", want: []string{"кот"}},
		{name: "numbers kept", text: "справка 086", want: []string{"086"}},
		{name: "long message is cut, not rejected", text: strings.Repeat("общежитие ", 5000), want: []string{snowStem("общежитие")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := an.analyze(tt.text)
			for _, w := range tt.want {
				if !slices.Contains(q.terms, w) {
					t.Errorf("analyze(%q).terms = %v, want %q among them", tt.text, q.terms, w)
				}
			}
			for _, w := range tt.not {
				if slices.Contains(q.terms, w) {
					t.Errorf("analyze(%q).terms = %v, want no %q", tt.text, q.terms, w)
				}
			}
			if tt.latin != "" && q.latin != tt.latin {
				t.Errorf("analyze(%q).latin = %q, want %q", tt.text, q.latin, tt.latin)
			}
		})
	}
}

func TestDamerauCountsRunes(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"общага", "общага", 0},
		{"общага", "обшага", 1},       // one Cyrillic letter = one edit, not two bytes
		{"стипендия", "стипнедия", 1}, // transposition
		{"приём", "прием", 1},
		{"сессия", "сесия", 1},
		{"кот", "кит", 1},
		{"абв", "где", 3},
	}
	for _, tt := range tests {
		if got := damerau([]rune(tt.a), []rune(tt.b), 5); got != tt.want {
			t.Errorf("damerau(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestConversions(t *testing.T) {
	if got := fromLayout("j,ofuf"); got != "общага" {
		t.Errorf("fromLayout = %q", got)
	}
	if got := fromLayout("ghbdtn"); got != "привет" {
		t.Errorf("fromLayout = %q", got)
	}
	for in, want := range map[string]string{
		"obshchezhitie": "общежитие",
		"stipendiya":    "стипендия",
		"zachyot":       "зачет",
		"dverei":        "дверей",
		"raspisanie":    "расписание",
	} {
		if got := fromTranslit(in); got != want {
			t.Errorf("fromTranslit(%q) = %q, want %q", in, got, want)
		}
	}
}
