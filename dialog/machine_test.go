package dialog

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kontakt/bot"
	"kontakt/faq"
	"kontakt/knowledge"
)

func (k *fakeKB) Decide(_ context.Context, text string, _ faq.Audience) knowledge.Decision {
	if d, ok := k.decide[text]; ok {
		return d
	}
	return knowledge.Decision{Kind: knowledge.Escalate}
}

// fakeAppeals is an in-memory escalation service.
type fakeAppeals struct {
	mu       sync.Mutex
	appeals  map[bot.Chat]*Appeal
	requests []OpenRequest
	messages map[int64][]bot.Message
	failOpen bool
	feedback []Feedback
}

func newFakeAppeals() *fakeAppeals {
	return &fakeAppeals{appeals: map[bot.Chat]*Appeal{}, messages: map[int64][]bot.Message{}}
}

func (f *fakeAppeals) Open(_ context.Context, r OpenRequest) (Appeal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failOpen {
		return Appeal{}, errors.New("database is down")
	}
	f.requests = append(f.requests, r)
	a := &Appeal{ID: int64(len(f.requests)), Number: "2026-00000" + string(rune('0'+len(f.requests))), Status: "new", Open: true, Due: now.Add(24 * time.Hour)}
	f.appeals[r.Chat] = a
	return *a, nil
}

func (f *fakeAppeals) AddMessage(_ context.Context, id int64, m bot.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.messages[id] = append(f.messages[id], m)
	return nil
}

func (f *fakeAppeals) OpenAppeal(_ context.Context, c bot.Chat) (*Appeal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a := f.appeals[c]; a != nil && a.Open {
		cp := *a
		return &cp, nil
	}
	return nil, nil
}

func (f *fakeAppeals) Appeals(_ context.Context, c bot.Chat) ([]Appeal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a := f.appeals[c]; a != nil {
		return []Appeal{*a}, nil
	}
	return nil, nil
}

func (f *fakeAppeals) AddFeedback(_ context.Context, fb Feedback) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.feedback = append(f.feedback, fb)
	return nil
}

func newTestMachine(t *testing.T) (*Machine, *fakeAppeals, *RedisStore) {
	rdb, prefix := testRedis(t)
	kb, fa := testKB(), newFakeAppeals()
	st := NewRedisStore(rdb, prefix+"dlg:", time.Hour)
	m := New(Config{Store: st, Knowledge: kb, Catalog: kb, Appeals: fa, Finder: fa, Feedback: fa, Institute: "ПИТУ", Now: func() time.Time { return now }})
	return m, fa, st
}

func say(t *testing.T, m *Machine, msg bot.Message, want string) []bot.Reply {
	t.Helper()
	r, err := m.Handle(context.Background(), msg)
	if err != nil {
		t.Fatalf("%s: %v", describe(msg), err)
	}
	if !strings.Contains(allText(r), want) {
		t.Fatalf("%s: replies do not contain %q:\n%s", describe(msg), want, allText(r))
	}
	return r
}

func TestMachineConversation(t *testing.T) {
	m, fa, st := newTestMachine(t)
	say(t, m, cmd("start", ""), "Подскажите, пожалуйста, кто вы")
	say(t, m, press("aud:student"), "Чем могу помочь")
	say(t, m, text("сколько стоит общага"), "1500 ₽")
	say(t, m, press("fb:no"), "Уточните")
	say(t, m, press("clar:other"), "передам ваш вопрос менеджеру")
	say(t, m, press("m:human"), "персональных данных")
	say(t, m, press("consent:yes"), "Как к вам обращаться")
	say(t, m, text("Анна"), "телефон или e-mail")
	// The unanswered question is carried into the appeal; the client may edit it.
	say(t, m, text("+7 900 123-45-67"), "Вопрос: сколько стоит общага")
	say(t, m, press("confirm:edit"), "Опишите")
	say(t, m, text("Можно ли заселиться в общежитие раньше 1 сентября?"), "Вопрос: Можно ли заселиться в общежитие раньше 1 сентября?")
	say(t, m, press("confirm:yes"), "№ 2026-000001 зарегистрировано")
	say(t, m, media(bot.Photo), "") // acknowledged by the registration message just before

	if len(fa.requests) != 1 {
		t.Fatalf("%d appeals opened", len(fa.requests))
	}
	r := fa.requests[0]
	if r.Name != "Анна" || r.Phone != "+79001234567" || r.Audience != faq.Student || r.Topic != "dormitory" || len(r.Transcript) < 5 {
		t.Errorf("request = %+v", r)
	}
	if got := fa.messages[1]; len(got) != 1 || got[0].Kind != bot.Photo || got[0].Attachments[0].FileID != "F1" {
		t.Errorf("appeal messages = %+v", got)
	}
	if len(fa.feedback) != 1 || fa.feedback[0].Helpful || fa.feedback[0].EntryID != "dormitory-cost" {
		t.Errorf("feedback = %+v", fa.feedback)
	}

	// Redis loses the dialog: PostgreSQL still routes the client to the appeal.
	st.rdb.Del(context.Background(), st.key(chat))
	r2, err := m.Handle(context.Background(), text("сколько стоит общага"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(allText(r2), "1500") || len(fa.messages[1]) != 2 {
		t.Errorf("after losing Redis state the FAQ answered (%q) or the message missed the appeal (%d)", allText(r2), len(fa.messages[1]))
	}

	// The appeal is closed: the bot answers again.
	fa.appeals[chat].Open = false
	say(t, m, text("сколько стоит общага"), "1500 ₽")
}

func TestMachineOpenFailureIsPolite(t *testing.T) {
	m, fa, _ := newTestMachine(t)
	fa.failOpen = true
	for _, step := range []struct {
		msg  bot.Message
		want string
	}{
		{cmd("start", ""), "кто вы"}, {press("aud:other"), "Чем могу"}, {press("m:human"), "персональных"},
		{press("consent:yes"), "обращаться"}, {text("Иван"), "e-mail"}, {text("ivan@example.ru"), "Опишите"},
		{text("вопрос"), "Проверьте"}, {press("confirm:yes"), "Нажмите «Отправить» ещё раз"},
	} {
		say(t, m, step.msg, step.want)
	}
	fa.failOpen = false
	say(t, m, press("confirm:yes"), "зарегистрировано")
}

// BenchmarkMachine measures one dialog step with its state in the real
// Redis (load, step, compare-and-set) for many chats in parallel, with a
// hand-written knowledge base: the dialog's own cost in the pipeline.
func BenchmarkMachine(b *testing.B) {
	rdb, prefix := testRedis(b)
	kb, fa := testKB(), newFakeAppeals()
	m := New(Config{Store: NewRedisStore(rdb, prefix+"dlg:", time.Hour), Knowledge: kb, Catalog: kb, Appeals: fa, Finder: fa, Feedback: fa})
	ctx := context.Background()
	var n atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(8) // 8 goroutines per CPU: Redis round trips overlap
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			c := bot.Chat{Channel: bot.Telegram, ID: strconv.FormatInt(n.Add(1)%1000, 10)}
			t0 := time.Now()
			if _, err := m.Handle(ctx, bot.Message{Chat: c, Kind: bot.Text, Text: "сколько стоит общага"}); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "steps/s")
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
	}
}
