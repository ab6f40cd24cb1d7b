package dialog

import (
	"slices"
	"strings"
	"testing"
	"time"

	"kontakt/bot"
	"kontakt/faq"
	"kontakt/knowledge"
)

// fakeKB is a hand-written catalog and answerer over a few entries.
type fakeKB struct {
	entries []*faq.Entry
	// decide maps a question to the decision; anything else escalates.
	decide map[string]knowledge.Decision
}

func (k *fakeKB) Entry(id string) *faq.Entry {
	for _, e := range k.entries {
		if e.ID == id {
			return e
		}
	}
	return nil
}

func (k *fakeKB) Categories() []string {
	var cs []string
	for _, e := range k.entries {
		if !slices.Contains(cs, e.Category) {
			cs = append(cs, e.Category)
		}
	}
	return cs
}

func (k *fakeKB) EntriesIn(c string) []*faq.Entry {
	var es []*faq.Entry
	for _, e := range k.entries {
		if e.Category == c {
			es = append(es, e)
		}
	}
	return es
}

var (
	dormCost = &faq.Entry{ID: "dormitory-cost", Category: "dormitory", Audience: []faq.Audience{faq.Student, faq.Applicant},
		Question: "Сколько стоит общежитие?", Answer: "Общежитие стоит 1500 ₽ в месяц.",
		AnswerFor: map[faq.Audience]string{faq.Applicant: "Для первокурсников общежитие стоит 1000 ₽ в месяц."}}
	dormApply = &faq.Entry{ID: "dormitory-apply", Category: "dormitory", Audience: []faq.Audience{faq.Student},
		Question: "Как заселиться в общежитие?", Answer: "Подайте заявление в студгородок."}
	tuition = &faq.Entry{ID: "tuition-cost", Category: "tuition", Audience: []faq.Audience{faq.Applicant},
		Question: "Сколько стоит обучение?", Answer: "От 150 000 ₽ в год."}
)

func testKB() *fakeKB {
	return &fakeKB{
		entries: []*faq.Entry{dormCost, dormApply, tuition},
		decide: map[string]knowledge.Decision{
			"сколько стоит общага": {Kind: knowledge.Answer, Entry: dormCost, Candidates: []knowledge.Match{{Entry: dormCost}, {Entry: dormApply}}},
			"общежитие":            {Kind: knowledge.Clarify, Candidates: []knowledge.Match{{Entry: dormCost}, {Entry: dormApply}}},
			"привет":               {Kind: knowledge.Smalltalk, Smalltalk: "greeting"},
		},
	}
}

var now = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

var chat = bot.Chat{Channel: bot.Telegram, ID: "42"}

func text(s string) bot.Message  { return bot.Message{Chat: chat, Kind: bot.Text, Text: s} }
func press(d string) bot.Message { return bot.Message{Chat: chat, Kind: bot.Callback, Data: d} }
func cmd(c, p string) bot.Message {
	return bot.Message{Chat: chat, Kind: bot.Command, Command: c, Payload: p}
}
func media(k bot.Kind) bot.Message {
	return bot.Message{Chat: chat, Kind: k, Attachments: []bot.Attachment{{Kind: k, FileID: "F1"}}}
}

// run feeds m to step the way Machine does, with a decision when asked.
func run(kb *fakeKB, s State, m bot.Message) (State, []bot.Reply, []Effect) {
	in := Input{Msg: m, Now: now}
	if q, _, ok := wantsDecision(s, m, now); ok {
		d, found := kb.decide[q]
		if !found {
			d = knowledge.Decision{Kind: knowledge.Escalate}
		}
		in.Decision = &d
	}
	return step(env{catalog: kb, institute: "ПИТУ"}, s, in)
}

func buttons(r []bot.Reply) []string {
	var ds []string
	for _, rep := range r {
		for _, row := range rep.Buttons {
			for _, b := range row {
				ds = append(ds, b.Data)
			}
		}
	}
	return ds
}

func allText(r []bot.Reply) string {
	var b strings.Builder
	for _, rep := range r {
		b.WriteString(rep.Text + "\n")
	}
	return b.String()
}

func consented() *time.Time { t := now.Add(-time.Minute); return &t }

func TestStep(t *testing.T) {
	tests := []struct {
		name        string
		state       State
		msg         bot.Message
		wantStep    Step
		wantText    string   // a substring of the replies
		wantButtons []string // button data that must be offered
		noButtons   []string // button data that must not be offered
		wantEffect  Effect   // the one effect expected, if any
		anyEffects  bool     // effects are not checked
		check       func(t *testing.T, s State)
	}{
		{name: "start greets and asks audience", msg: cmd("start", ""), wantStep: StepAudience,
			wantText: "бот-помощник ПИТУ", wantButtons: []string{"aud:applicant", "aud:parent", "aud:other"}},
		{name: "start with deep link keeps payload", msg: cmd("start", "dormitory"), wantStep: StepAudience,
			check: func(t *testing.T, s State) {
				if s.Payload != "dormitory" {
					t.Errorf("payload = %q", s.Payload)
				}
			}},
		{name: "audience chosen opens menu", state: State{Step: StepAudience}, msg: press("aud:student"), wantStep: StepMenu,
			wantButtons: []string{"m:faq", "m:ask", "m:human", "m:appeals"},
			check: func(t *testing.T, s State) {
				if s.Audience != faq.Student {
					t.Errorf("audience = %q", s.Audience)
				}
			}},
		{name: "audience typed by title", state: State{Step: StepAudience}, msg: text("родитель"), wantStep: StepMenu,
			check: func(t *testing.T, s State) {
				if s.Audience != faq.Parent {
					t.Errorf("audience = %q", s.Audience)
				}
			}},
		{name: "deep link shows its category after audience", state: State{Step: StepAudience, Payload: "dormitory"}, msg: press("aud:student"),
			wantStep: StepMenu, wantText: "Общежитие", wantButtons: []string{"q:dormitory-cost", "q:dormitory-apply"}},
		{name: "known audience with deep link goes straight to category", state: State{Step: StepMenu, Audience: faq.Applicant}, msg: cmd("start", "dormitory"),
			wantStep: StepMenu, wantButtons: []string{"q:dormitory-cost"},
			check: func(t *testing.T, s State) {
				if s.Audience != faq.Applicant {
					t.Error("audience forgotten by /start")
				}
			}},
		{name: "question before audience is kept and answered after", state: State{}, msg: text("сколько стоит общага"), wantStep: StepAudience,
			check: func(t *testing.T, s State) {
				if s.Pending != "сколько стоит общага" {
					t.Errorf("pending = %q", s.Pending)
				}
			}},
		{name: "pending question answered for chosen audience", state: State{Step: StepAudience, Pending: "сколько стоит общага"}, msg: press("aud:applicant"),
			wantStep: StepAnswered, wantText: "1000 ₽", wantButtons: []string{"fb:yes", "fb:no", "m:human"}},
		{name: "faq menu lists categories", state: State{Step: StepMenu, Audience: faq.Student}, msg: press("m:faq"), wantStep: StepMenu,
			wantText: "Выберите тему", wantButtons: []string{"cat:dormitory", "cat:tuition", "m:menu"}},
		{name: "category lists questions for the audience only", state: State{Step: StepMenu, Audience: faq.Applicant}, msg: press("cat:dormitory"),
			wantStep: StepMenu, wantButtons: []string{"q:dormitory-cost"}, noButtons: []string{"q:dormitory-apply"}},
		{name: "question button answers with audience variant", state: State{Step: StepMenu, Audience: faq.Student}, msg: press("q:dormitory-cost"),
			wantStep: StepAnswered, wantText: "1500 ₽"},
		{name: "free text answered", state: State{Step: StepMenu, Audience: faq.Student}, msg: text("сколько стоит общага"),
			wantStep: StepAnswered, wantText: "1500 ₽", check: func(t *testing.T, s State) {
				if s.Entry != "dormitory-cost" || s.Query != "сколько стоит общага" {
					t.Errorf("entry %q query %q", s.Entry, s.Query)
				}
			}},
		{name: "clarify offers up to three plus other", state: State{Step: StepMenu, Audience: faq.Student}, msg: text("общежитие"),
			wantStep: StepClarify, wantButtons: []string{"q:dormitory-cost", "q:dormitory-apply", "clar:other"}},
		{name: "clarify choice answers", state: State{Step: StepClarify, Audience: faq.Student, Query: "общежитие", Candidates: []string{"dormitory-cost", "dormitory-apply"}},
			msg: press("q:dormitory-apply"), wantStep: StepAnswered, wantText: "студгородок"},
		{name: "smalltalk gets a short reply and the menu", state: State{Step: StepMenu}, msg: text("привет"), wantStep: StepMenu,
			wantText: "Здравствуйте", wantButtons: []string{"m:faq"}},
		{name: "helpful stores feedback", state: State{Step: StepAnswered, Entry: "dormitory-cost", Query: "q", Misses: 1}, msg: press("fb:yes"),
			wantStep: StepMenu, wantEffect: FeedbackEffect{Feedback{EntryID: "dormitory-cost", Helpful: true, Query: "q", Channel: bot.Telegram}},
			check: func(t *testing.T, s State) {
				if s.Misses != 0 {
					t.Error("misses not reset")
				}
			}},
		{name: "unhelpful stores feedback and clarifies with the others", state: State{Step: StepAnswered, Entry: "dormitory-cost", Query: "q", Candidates: []string{"dormitory-cost", "dormitory-apply"}},
			msg: press("fb:no"), wantStep: StepClarify, wantButtons: []string{"q:dormitory-apply", "clar:other"},
			wantEffect: FeedbackEffect{Feedback{EntryID: "dormitory-cost", Helpful: false, Query: "q", Channel: bot.Telegram}}},
		{name: "second unhelpful turn offers a manager", state: State{Step: StepClarify, Misses: 1}, msg: press("clar:other"),
			wantStep: StepAsk, wantText: "передам ваш вопрос менеджеру", wantButtons: []string{"m:human"}},
		{name: "unhelpful without alternatives asks to rephrase", state: State{Step: StepAnswered, Entry: "tuition-cost"}, msg: press("fb:no"),
			wantStep: StepAsk, wantText: "по-другому", anyEffects: true},
		{name: "escalate asks consent first", state: State{Step: StepMenu}, msg: text("хочу перевестись на другой факультет"),
			wantStep: StepConsent, wantText: "персональных данных", wantButtons: []string{"consent:yes", "consent:no"},
			check: func(t *testing.T, s State) {
				if s.Question != "хочу перевестись на другой факультет" {
					t.Errorf("question = %q", s.Question)
				}
			}},
		{name: "manager button carries the last question", state: State{Step: StepAnswered, Query: "сколько стоит общага"}, msg: press("m:human"),
			wantStep: StepConsent, check: func(t *testing.T, s State) {
				if s.Question != "сколько стоит общага" {
					t.Errorf("question = %q", s.Question)
				}
			}},
		{name: "consent refused is respected", state: State{Step: StepConsent, Question: "q"}, msg: press("consent:no"),
			wantStep: StepMenu, wantText: "ничего не сохраняем", check: func(t *testing.T, s State) {
				if s.ConsentAt != nil || s.Question != "" {
					t.Error("consent or question kept after refusal")
				}
			}},
		{name: "consent given asks name", state: State{Step: StepConsent}, msg: press("consent:yes"), wantStep: StepName,
			check: func(t *testing.T, s State) {
				if s.ConsentAt == nil || !s.ConsentAt.Equal(now) {
					t.Error("consent time not recorded")
				}
			}},
		{name: "no personal data asked without consent", state: State{Step: StepMenu}, msg: press("m:human"), wantStep: StepConsent},
		{name: "bad name", state: State{Step: StepName, ConsentAt: consented()}, msg: text("12345"), wantStep: StepName, wantText: "Не похоже на имя"},
		{name: "name asks contact", state: State{Step: StepName, ConsentAt: consented()}, msg: text("  Анна   Петрова "), wantStep: StepContact,
			check: func(t *testing.T, s State) {
				if s.Name != "Анна Петрова" {
					t.Errorf("name = %q", s.Name)
				}
			}},
		{name: "bad contact explained", state: State{Step: StepContact, ConsentAt: consented(), Name: "Анна"}, msg: text("позвоните мне"),
			wantStep: StepContact, wantText: "+7 900 123-45-67"},
		{name: "phone normalised, question asked", state: State{Step: StepContact, ConsentAt: consented(), Name: "Анна"}, msg: text("8 (900) 123-45-67"),
			wantStep: StepQuestion, check: func(t *testing.T, s State) {
				if s.Phone != "+79001234567" {
					t.Errorf("phone = %q", s.Phone)
				}
			}},
		{name: "email accepted, goes to confirm when question known", state: State{Step: StepContact, ConsentAt: consented(), Name: "Анна", Question: "q"},
			msg: text("Anna@Mail.ru"), wantStep: StepConfirm, wantText: "anna@mail.ru", wantButtons: []string{"confirm:yes", "confirm:edit", "confirm:no"}},
		{name: "question too long for an appeal", state: State{Step: StepQuestion, ConsentAt: consented(), Name: "А", Phone: "+79001234567"},
			msg: text(strings.Repeat("я", 4001)), wantStep: StepQuestion, wantText: "до 4000"},
		{name: "photo with caption during question is kept", state: State{Step: StepQuestion, ConsentAt: consented(), Name: "Анна", Phone: "+79001234567"},
			msg:      bot.Message{Chat: chat, Kind: bot.Photo, Text: "вот справка", Attachments: []bot.Attachment{{Kind: bot.Photo, FileID: "P"}}},
			wantStep: StepConfirm, wantText: "Вложений: 1"},
		{name: "confirm opens the appeal", state: State{Step: StepConfirm, ConsentAt: consented(), Name: "Анна", Phone: "+79001234567", Question: "q", Audience: faq.Student, Topic: "dormitory"},
			msg: press("confirm:yes"), wantStep: StepOpening, anyEffects: true},
		{name: "cancel drops the appeal", state: State{Step: StepConfirm, Question: "q"}, msg: press("confirm:no"), wantStep: StepMenu, wantText: "не отправлено"},
		{name: "appeal opened tells number and due", state: State{Step: StepOpening},
			wantStep: StepHuman, wantText: "№ 2026-000123 зарегистрировано. Менеджер ответит до 26 ноября, 12:00 (МСК)"},
		{name: "human: text goes to appeal with ack", state: State{Step: StepHuman, AppealID: 7, AppealNumber: "2026-000007"}, msg: text("ещё вопрос"),
			wantStep: StepHuman, wantText: "Передал", wantEffect: AddMessageEffect{AppealID: 7, Msg: text("ещё вопрос")}},
		{name: "human: photo goes to appeal, ack throttled", state: State{Step: StepHuman, AppealID: 7, AckAt: now.Add(-time.Minute)}, msg: media(bot.Photo),
			wantStep: StepHuman, wantEffect: AddMessageEffect{AppealID: 7, Msg: media(bot.Photo)}, check: func(t *testing.T, s State) {
				if !s.AckAt.Equal(now.Add(-time.Minute)) {
					t.Error("acknowledged again within the throttle interval")
				}
			}},
		{name: "human: FAQ is not answered", state: State{Step: StepHuman, AppealID: 7, AckAt: now}, msg: text("сколько стоит общага"),
			wantStep: StepHuman, wantEffect: AddMessageEffect{AppealID: 7, Msg: text("сколько стоит общага")}},
		{name: "sticker outside hand-off", state: State{Step: StepMenu}, msg: media(bot.Sticker), wantStep: StepMenu, wantText: "только текст"},
		{name: "voice outside hand-off", state: State{Step: StepMenu}, msg: media(bot.Voice), wantStep: StepMenu, wantText: "только текст"},
		{name: "location outside hand-off", state: State{Step: StepAnswered}, msg: bot.Message{Chat: chat, Kind: bot.Location, Text: "53.2,50.1"}, wantStep: StepAnswered, wantText: "только текст"},
		{name: "photo outside hand-off", state: State{Step: StepMenu}, msg: media(bot.Photo), wantStep: StepMenu, wantText: "не умею читать", wantButtons: []string{"m:human"}},
		{name: "empty text", state: State{Step: StepMenu}, msg: text("   "), wantStep: StepMenu, wantText: "пустое"},
		{name: "10,000 characters", state: State{Step: StepMenu}, msg: text(strings.Repeat("а", 10000)), wantStep: StepMenu, wantText: "слишком длинное"},
		{name: "unknown command", state: State{Step: StepAnswered}, msg: cmd("foo", ""), wantStep: StepMenu, wantText: "Не знаю такой команды"},
		{name: "stale button", state: State{Step: StepMenu}, msg: press("q:deleted-entry"), wantStep: StepMenu, wantText: "уже не действует"},
		{name: "cancel leaves a form", state: State{Step: StepContact, Question: "q"}, msg: cmd("cancel", ""), wantStep: StepMenu},
		{name: "old half-filled form is forgotten", state: State{Step: StepName, Seen: now.Add(-3 * time.Hour), ConsentAt: consented()}, msg: text("сколько стоит общага"),
			wantStep: StepAnswered},
		{name: "my appeals asks for the list", state: State{Step: StepMenu}, msg: press("m:appeals"), wantStep: StepMenu, wantEffect: ListAppealsEffect{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s State
			var r []bot.Reply
			var eff []Effect
			if tt.msg.Kind == "" { // an event: the appeal was opened
				a := Appeal{ID: 123, Number: "2026-000123", Due: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
				s, r, eff = step(env{catalog: testKB()}, tt.state, Input{Now: now, Opened: &a})
			} else {
				s, r, eff = run(testKB(), tt.state, tt.msg)
			}
			if s.Step != tt.wantStep {
				t.Errorf("step = %q, want %q; replies:\n%s", s.Step, tt.wantStep, allText(r))
			}
			if tt.wantText != "" && !strings.Contains(allText(r), tt.wantText) {
				t.Errorf("replies do not contain %q:\n%s", tt.wantText, allText(r))
			}
			got := buttons(r)
			for _, b := range tt.wantButtons {
				if !slices.Contains(got, b) {
					t.Errorf("button %q missing; got %v", b, got)
				}
			}
			if tt.wantEffect != nil {
				if len(eff) != 1 || !equalEffect(eff[0], tt.wantEffect) {
					t.Errorf("effects = %#v, want %#v", eff, tt.wantEffect)
				}
			} else if !tt.anyEffects && len(eff) != 0 {
				t.Errorf("unexpected effects %#v", eff)
			}
			for _, b := range tt.noButtons {
				if slices.Contains(got, b) {
					t.Errorf("button %q offered; got %v", b, got)
				}
			}
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

func equalEffect(a, b Effect) bool {
	switch a := a.(type) {
	case AddMessageEffect:
		b, ok := b.(AddMessageEffect)
		return ok && a.AppealID == b.AppealID && a.Msg.Kind == b.Msg.Kind && a.Msg.Text == b.Msg.Text
	case FeedbackEffect:
		b, ok := b.(FeedbackEffect)
		return ok && a == b
	case ListAppealsEffect:
		_, ok := b.(ListAppealsEffect)
		return ok
	}
	return false
}

func TestStepOpenAppealRequest(t *testing.T) {
	s := State{Step: StepConfirm, ConsentAt: consented(), Name: "Анна", Phone: "+79001234567", Question: "Можно ли заселиться раньше?",
		Audience: faq.Student, Topic: "dormitory", Attachments: []bot.Attachment{{Kind: bot.Photo, FileID: "P"}},
		Transcript: []Line{{From: "client", Text: "общежитие"}}}
	_, _, eff := run(testKB(), s, press("confirm:yes"))
	if len(eff) != 1 {
		t.Fatalf("effects = %#v", eff)
	}
	r := eff[0].(OpenAppealEffect).Request
	if r.Name != "Анна" || r.Phone != "+79001234567" || r.Text != s.Question || r.Topic != "dormitory" || r.Audience != faq.Student ||
		len(r.Attachments) != 1 || r.ConsentAt.IsZero() || r.ConsentVersion == "" || len(r.Transcript) == 0 || r.Chat != chat {
		t.Errorf("request = %+v", r)
	}
}

func TestStepPostgresIsSourceOfTruth(t *testing.T) {
	open := &Appeal{ID: 9, Number: "2026-000009", Open: true}
	// Redis lost the state, PostgreSQL says an appeal is open: the message goes to it.
	s, _, eff := step(env{catalog: testKB()}, State{}, Input{Msg: text("где ответ?"), Now: now, Looked: true, Open: open})
	if s.Step != StepHuman || s.AppealID != 9 || len(eff) != 1 {
		t.Errorf("lost state: step %q appeal %d effects %#v", s.Step, s.AppealID, eff)
	}
	// Redis says human, PostgreSQL says the appeal is closed: back to the bot.
	m := text("сколько стоит общага")
	d := testKB().decide["сколько стоит общага"]
	s, r, eff := step(env{catalog: testKB()}, State{Step: StepHuman, AppealID: 9, Audience: faq.Student}, Input{Msg: m, Now: now, Looked: true, Decision: &d})
	if s.Step != StepAnswered || len(eff) != 0 || !strings.Contains(allText(r), "1500") {
		t.Errorf("closed appeal: step %q effects %#v replies %s", s.Step, eff, allText(r))
	}
}

func TestStepOpeningInterruptedIsRetried(t *testing.T) {
	s := State{Step: StepOpening, ConsentAt: consented(), Name: "Анна", Phone: "+79001234567", Question: "q"}
	// The process died after saving "opening"; the press is delivered again.
	s2, _, eff := step(env{catalog: testKB()}, s, Input{Msg: press("confirm:yes"), Now: now, Looked: true})
	if s2.Step != StepOpening || len(eff) != 1 {
		t.Fatalf("step %q effects %#v", s2.Step, eff)
	}
	if _, ok := eff[0].(OpenAppealEffect); !ok {
		t.Errorf("effect %#v, want OpenAppealEffect", eff[0])
	}
	// It was registered after all: the chat belongs to the appeal.
	s3, _, _ := step(env{catalog: testKB()}, s, Input{Msg: press("confirm:yes"), Now: now, Looked: true, Open: &Appeal{ID: 5, Number: "2026-000005"}})
	if s3.Step != StepHuman || s3.AppealID != 5 {
		t.Errorf("step %q appeal %d", s3.Step, s3.AppealID)
	}
}

func TestStepAppealsList(t *testing.T) {
	list := []Appeal{{Number: "2026-000001", Status: "assigned", Open: true, Created: now, Due: now.Add(24 * time.Hour)}, {Number: "2026-000002", Status: "closed", Created: now}}
	_, r, _ := step(env{catalog: testKB()}, State{Step: StepMenu}, Input{Now: now, Listed: true, Appeals: list})
	got := allText(r)
	for _, want := range []string{"№ 2026-000001 от 25.11.2026 — в работе, ответ до 26 ноября, 13:00 (МСК)", "№ 2026-000002 от 25.11.2026 — закрыто"} {
		if !strings.Contains(got, want) {
			t.Errorf("list lacks %q:\n%s", want, got)
		}
	}
	_, r, _ = step(env{catalog: testKB()}, State{Step: StepMenu}, Input{Now: now, Listed: true, Appeals: []Appeal{}})
	if !strings.Contains(allText(r), "нет обращений") {
		t.Errorf("empty list: %s", allText(r))
	}
}

func TestNormalize(t *testing.T) {
	phones := map[string]string{"+7 900 123-45-67": "+79001234567", "89001234567": "+79001234567", "9001234567": "+79001234567",
		"+375 29 123 45 67": "+375291234567", "12345": "", "+7 900 abc": "", "8-900-123-45-6": ""}
	for in, want := range phones {
		got, ok := normalizePhone(in)
		if got != want || ok != (want != "") {
			t.Errorf("normalizePhone(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	emails := map[string]string{"a@b.ru": "a@b.ru", "Name.X@Mail.RU": "name.x@mail.ru", "a@b": "", "Anna <a@b.ru>": "", "a b@c.ru": "", "@b.ru": ""}
	for in, want := range emails {
		got, ok := normalizeEmail(in)
		if got != want || ok != (want != "") {
			t.Errorf("normalizeEmail(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestTranscriptIsBounded(t *testing.T) {
	s := State{Step: StepMenu}
	for range 30 {
		s, _, _ = run(testKB(), s, text("привет"))
	}
	if len(s.Transcript) != transcriptLines {
		t.Errorf("transcript has %d lines, want %d", len(s.Transcript), transcriptLines)
	}
}

func TestMergeReplies(t *testing.T) {
	b := [][]bot.Button{{{Text: "x", Data: "x"}}}
	got := merge([]bot.Reply{{Text: "a"}, {Text: "b", Buttons: b}, {Text: "c"}, {Text: strings.Repeat("я", 3499)}})
	if len(got) != 3 || got[0].Text != "a\n\nb" || got[0].Buttons == nil || got[1].Text != "c" {
		t.Errorf("merge = %+v", got)
	}
}

func TestLongEntryIDsGetNoButton(t *testing.T) {
	long := &faq.Entry{ID: strings.Repeat("a", 70), Category: "dormitory", Audience: []faq.Audience{faq.Student}, Question: "Длинный?", Answer: "Да."}
	kb := testKB()
	kb.entries = append(kb.entries, long)
	_, r, _ := run(kb, State{Step: StepMenu, Audience: faq.Student}, press("cat:dormitory"))
	for _, d := range buttons(r) {
		if len(d) > 64 {
			t.Errorf("button data of %d bytes", len(d))
		}
	}
	if !slices.Contains(buttons(r), "q:dormitory-apply") {
		t.Error("other entries lost")
	}
}
