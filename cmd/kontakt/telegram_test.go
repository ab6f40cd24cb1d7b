package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"kontakt/bot"
	"kontakt/bot/telegram"
	"kontakt/bot/telegram/telegramtest"
	"kontakt/dialog"
	"kontakt/escalation"
	"kontakt/faq"
	"kontakt/knowledge"
)

// pipeline is the whole Telegram path of Kontakt against a fake Bot API:
// queue and dialog state in the real Redis, appeals in the real PostgreSQL.
type pipeline struct {
	fake *telegramtest.Server
	ch   *telegram.Channel
	svc  *escalation.Service
	pool *pgxpool.Pool
	rdb  *redis.Client
}

func newPipeline(t testing.TB, lim bot.Limits, fakeLim telegramtest.Limits) *pipeline {
	t.Helper()
	dsn, rurl := os.Getenv("KONTAKT_TEST_DATABASE_URL"), os.Getenv("KONTAKT_TEST_REDIS_URL")
	if dsn == "" || rurl == "" {
		t.Fatal("KONTAKT_TEST_DATABASE_URL and KONTAKT_TEST_REDIS_URL are not set: run the tests with scripts/test.sh")
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	opt, err := redis.ParseURL(rurl)
	if err != nil {
		t.Fatal(err)
	}
	opt.PoolSize = 200
	rdb := redis.NewClient(opt)
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "test:" + hex.EncodeToString(b) + ":"

	f, err := os.Open("../../faq/testdata/kb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := faq.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	kb, err := knowledge.New(entries)
	if err != nil {
		t.Fatal(err)
	}
	svc := escalation.New(pool, escalation.Config{})
	a := appeals{svc}
	machine := dialog.New(dialog.Config{
		Store: dialog.NewRedisStore(rdb, prefix+"dlg:", time.Hour), Knowledge: kb, Catalog: kb,
		Appeals: a, Finder: a, Feedback: feedbackTable{pool}, Institute: "Приволжского института технологий и управления",
	})
	fake := telegramtest.New("123:TEST", fakeLim)
	ch, err := telegram.New(telegram.Config{Token: fake.Token, BaseURL: fake.URL, Redis: rdb, Prefix: prefix + "tg:",
		Handler: machine, Limiter: bot.NewLimiter(lim), PollTimeout: time.Second, Lanes: 256, WebhookSecret: benchSecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		fake.Close()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		rdb.Close()
		kb.Close()
		pool.Close()
	})
	return &pipeline{fake: fake, ch: ch, svc: svc, pool: pool, rdb: rdb}
}

const benchSecret = "bench-secret"

// uniqueChat returns a chat id no other test run uses, since the database
// is shared.
func uniqueChat() int64 {
	n, _ := rand.Int(rand.Reader, big.NewInt(1<<40))
	return 1<<41 + n.Int64()
}

func TestTelegramConversationEndToEnd(t *testing.T) {
	p := newPipeline(t, bot.TelegramLimits, telegramtest.TelegramLimits)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.ch.Poll(ctx)
	go p.ch.Run(ctx)
	chat := uniqueChat()

	seen := 0
	// expect waits for the bot's next messages and checks the last one
	// contains want; it returns the buttons' data of all of them.
	expect := func(what string, n int, want string) []string {
		t.Helper()
		got := p.fake.WaitSent(chat, seen+n, 15*time.Second)
		if len(got) < seen+n {
			t.Fatalf("%s: got %d messages, want %d more after %d", what, len(got), n, seen)
		}
		fresh := got[seen : seen+n]
		seen += n
		var text strings.Builder
		var data []string
		for _, m := range fresh {
			text.WriteString(m.Plain + "\n")
			for _, row := range m.Buttons {
				for _, b := range row {
					data = append(data, b.Data)
				}
			}
		}
		if !strings.Contains(text.String(), want) {
			t.Fatalf("%s: replies do not contain %q:\n%s", what, want, text.String())
		}
		return data
	}

	p.fake.Text(chat, "/start")
	if b := expect("/start", 1, "Приволжского института"); !slices.Contains(b, "aud:student") {
		t.Fatalf("no audience buttons: %v", b)
	}
	p.fake.Press(chat, "aud:student")
	expect("audience", 1, "Чем могу помочь")
	p.fake.Text(chat, "сколько стоит общежитие")
	expect("question", 1, "Этот ответ помог?")
	p.fake.Press(chat, "fb:no")
	b := expect("not helpful", 1, "")
	if slices.Contains(b, "clar:other") { // clarification offered: none fits
		p.fake.Press(chat, "clar:other")
		b = expect("other", 1, "менеджер")
	}
	if !slices.Contains(b, "m:human") {
		t.Fatalf("no manager button after unhelpful turns: %v", b)
	}
	p.fake.Press(chat, "m:human")
	expect("hand-off", 1, "персональных данных")
	p.fake.Press(chat, "consent:yes")
	expect("consent", 1, "Как к вам обращаться")
	p.fake.Text(chat, "Анна Петрова")
	expect("name", 1, "телефон или e-mail")
	p.fake.Text(chat, "позвоните мне")
	expect("bad contact", 1, "Не получается распознать")
	p.fake.Text(chat, "+7 (900) 123-45-67")
	expect("contact", 1, "Вопрос: сколько стоит общежитие")
	p.fake.Press(chat, "confirm:yes")
	expect("registered", 1, "зарегистрировано")

	a, err := p.svc.OpenAppealFor(ctx, escalation.Telegram, strconv.FormatInt(chat, 10))
	if err != nil || a == nil {
		t.Fatalf("no open appeal in PostgreSQL: %v", err)
	}
	if !strings.Contains(p.fake.SentTo(chat)[seen-1].Plain, a.Number) || a.Text != "сколько стоит общежитие" || a.Group != escalation.Student || len(a.Transcript) == 0 {
		t.Errorf("appeal %+v", a)
	}
	c, err := p.svc.ClientByIdentity(ctx, escalation.Telegram, strconv.FormatInt(chat, 10))
	if err != nil || c.Name != "Анна Петрова" || !strings.HasSuffix(c.Phone, "9001234567") || c.Consent == nil {
		t.Errorf("client %+v, %v", c, err)
	}

	// The client's photo lands in the appeal; FAQ questions go there too.
	p.fake.Photo(chat, "PHOTO-FILE-1", "справка")
	p.fake.Text(chat, "сколько стоит общежитие")
	deadline := time.Now().Add(10 * time.Second)
	var msgs []escalation.Message
	for time.Now().Before(deadline) {
		if msgs, err = p.svc.Messages(ctx, a.ID); err == nil && len(msgs) >= 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(msgs) < 2 || len(msgs[0].Attachments) != 1 || msgs[0].Attachments[0].FileID != "PHOTO-FILE-1" || msgs[0].Text != "справка" || msgs[1].Text != "сколько стоит общежитие" {
		t.Fatalf("appeal messages: %+v", msgs)
	}
	for _, m := range p.fake.SentTo(chat)[seen:] {
		if strings.Contains(m.Plain, "руб") {
			t.Errorf("the bot answered from the FAQ while a person owns the chat: %q", m.Plain)
		}
	}

	var helpful bool
	var n int
	if err := p.pool.QueryRow(ctx, `SELECT count(*), bool_or(helpful) FROM faq_feedback WHERE query = 'сколько стоит общежитие' AND channel = 'telegram' AND created_at > now() - interval '1 minute'`).Scan(&n, &helpful); err != nil || n < 1 || helpful {
		t.Errorf("feedback rows %d helpful %v err %v", n, helpful, err)
	}

	// Redis loses the dialog: PostgreSQL still routes the client to the appeal.
	iter := p.rdb.Scan(ctx, 0, "*dlg:{telegram:"+strconv.FormatInt(chat, 10)+"}", 10).Iterator()
	for iter.Next(ctx) {
		p.rdb.Del(ctx, iter.Val())
	}
	p.fake.Text(chat, "добавлю ещё")
	deadline = time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if msgs, _ = p.svc.Messages(ctx, a.ID); len(msgs) >= 3 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(msgs) < 3 || msgs[2].Text != "добавлю ещё" {
		t.Errorf("after losing Redis state the message did not reach the appeal: %+v", msgs)
	}
	if n := p.fake.TooManyRequests(); n != 0 {
		t.Errorf("%d 429s from the fake", n)
	}
}

func TestTelegramUnsupportedInputIsAnsweredPolitely(t *testing.T) {
	p := newPipeline(t, bot.Limits{PerChat: rate.Inf, Global: rate.Inf}, telegramtest.Limits{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.ch.Poll(ctx)
	go p.ch.Run(ctx)
	chat := uniqueChat()
	p.fake.Text(chat, "/start")
	p.fake.Press(chat, "aud:applicant")
	inputs := []struct {
		send func()
		want string
	}{
		{func() {
			p.fake.Raw(chat, map[string]any{"sticker": map[string]any{"file_id": "S", "file_unique_id": "s", "type": "regular", "width": 512, "height": 512}})
		}, "только текст"},
		{func() {
			p.fake.Raw(chat, map[string]any{"voice": map[string]any{"file_id": "V", "file_unique_id": "v", "duration": 3}})
		}, "только текст"},
		{func() {
			p.fake.Raw(chat, map[string]any{"location": map[string]any{"latitude": 53.2, "longitude": 50.1}})
		}, "только текст"},
		{func() { p.fake.Text(chat, strings.Repeat("очень длинный вопрос ", 500)) }, "слишком длинное"},
		{func() { p.fake.Raw(chat, map[string]any{"poll": map[string]any{"id": "p", "question": "?"}}) }, "только текст"},
		{func() { p.fake.Text(chat, "привет /help") }, ""},
		{func() { p.fake.Text(chat, "/помощь") }, "Не знаю такой команды"},
	}
	seen := len(p.fake.WaitSent(chat, 2, 10*time.Second))
	for i, in := range inputs {
		in.send()
		got := p.fake.WaitSent(chat, seen+1, 10*time.Second)
		if len(got) <= seen {
			t.Fatalf("input %d got no reply", i)
		}
		time.Sleep(50 * time.Millisecond) // let multi-part replies arrive
		got = p.fake.SentTo(chat)
		var all strings.Builder
		for _, m := range got[seen:] {
			all.WriteString(m.Plain)
		}
		seen = len(got)
		if !strings.Contains(all.String(), in.want) {
			t.Errorf("input %d: reply %q lacks %q", i, all.String(), in.want)
		}
	}
}

// BenchmarkPipeline measures the whole path: an update posted to the
// webhook handler (secret check, queued in the Redis Stream), read from
// the stream into its chat's lane, the dialog step with the knowledge
// base's decision and the state CAS in Redis, and the reply sent to the
// fake Bot API over HTTP on localhost. Clients each cycle over their
// own 16 chats, sending a question and waiting for the answer; no rate
// limits. It reports updates/s and the latency from the webhook post to
// the reply's last message, p50 and p99. With 64 clients it measures
// throughput (latency then includes queueing, by Little's law); with 4 it
// measures latency under light load.
func BenchmarkPipeline(b *testing.B) {
	for _, clients := range []int{4, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchPipeline(b, clients) })
	}
}

func benchPipeline(b *testing.B, clients int) {
	p := newPipeline(b, bot.Limits{PerChat: rate.Inf, Global: rate.Inf}, telegramtest.Limits{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const perClient = 16
	base := uniqueChat()
	var mu sync.Mutex
	waiting := map[int64]chan struct{}{}
	p.fake.OnSend(func(m telegramtest.Sent) {
		if m.Buttons == nil { // the last message of every reply has buttons
			return
		}
		mu.Lock()
		if c := waiting[m.ChatID]; c != nil {
			delete(waiting, m.ChatID)
			close(c)
		}
		mu.Unlock()
	})
	go p.ch.Run(ctx)
	wh := p.ch.WebhookHandler()
	post := func(raw []byte) {
		req := httptest.NewRequest(http.MethodPost, "/telegram/webhook", bytes.NewReader(raw))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", benchSecret)
		rec := httptest.NewRecorder()
		wh.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Errorf("webhook answered %d", rec.Code)
		}
	}
	// roundTrip sends one update and waits for the reply's last message.
	roundTrip := func(chat int64, raw []byte) time.Duration {
		done := make(chan struct{})
		mu.Lock()
		waiting[chat] = done
		mu.Unlock()
		t0 := time.Now()
		post(raw)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			b.Fatalf("no reply to chat %d", chat)
		}
		return time.Since(t0)
	}
	// Every chat gets past the greeting first.
	for i := range clients * perClient {
		chat := base + int64(i)
		_, raw := p.fake.Text(chat, "/start")
		roundTrip(chat, raw)
		_, raw = p.fake.Press(chat, "aud:student")
		roundTrip(chat, raw)
	}
	questions := []string{"сколько стоит общежитие", "какие документы нужны для поступления", "как получить справку об обучении",
		"когда будет стипендия", "как перевестись на бюджет"}
	var (
		next      atomic.Int64
		latencies = make([][]time.Duration, clients)
		wg        sync.WaitGroup
	)
	cpu0 := cpuTime()
	b.ResetTimer()
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				n := next.Add(1)
				if n > int64(b.N) {
					return
				}
				chat := base + int64(c*perClient+k%perClient)
				_, raw := p.fake.Text(chat, questions[int(n)%len(questions)])
				latencies[c] = append(latencies[c], roundTrip(chat, raw))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	// CPU of this process (pipeline and fake Bot API; Redis not included)
	// per update: a load-independent measure when the machine is busy.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu_us/update")
	all := slices.Concat(latencies...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "updates/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99_ms")
	b.ReportMetric(0, "ns/op")
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
