package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"kontakt/bot"
	"kontakt/bot/vk"
	"kontakt/bot/vk/vktest"
	"kontakt/dialog"
	"kontakt/escalation"
	"kontakt/faq"
	"kontakt/knowledge"
)

const (
	vkGroup  = 218000001
	vkSecret = "vk-callback-s3cret"
)

// vkPipeline is the whole VK path of Kontakt against a fake VK API: queue
// and dialog state in the real Redis, appeals in the real PostgreSQL.
type vkPipeline struct {
	fake    *vktest.Server
	ch      *vk.Channel
	machine *dialog.Machine
	svc     *escalation.Service
	pool    *pgxpool.Pool
	rdb     *redis.Client
}

func newVKPipeline(t testing.TB, lim bot.Limits, fakeLim vktest.Limits) *vkPipeline {
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
	prefix := "test:vk:" + hex.EncodeToString(b) + ":"
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
		Appeals: a, Finder: a, Feedback: vkTestFeedback{faq.NewStore(pool)}, Institute: "Приволжского института технологий и управления",
	})
	fake := vktest.New("vk1.a.COMMUNITY-TOKEN", vkGroup, fakeLim)
	cfg := Config{VKToken: fake.Token, VKGroupID: vkGroup, VKAPIURL: fake.APIURL(), VKAPIVersion: "5.199",
		VKCallbackSecret: vkSecret, VKConfirmation: "c0nf1rm"}
	if _, err := newVK(cfg, rdb, machine, nil); err != nil { // the wiring builds a channel
		t.Fatal(err)
	}
	// The test's own limiter, lanes, prefix and long-poll wait.
	ch, err := vk.New(vk.Config{Token: fake.Token, GroupID: vkGroup, APIURL: fake.APIURL(), APIVersion: "5.199", Redis: rdb,
		Prefix: prefix + "vk:", Handler: machine, Limiter: bot.NewLimiter(lim), Lanes: 256, Wait: 1,
		CallbackSecret: vkSecret, Confirmation: "c0nf1rm", RetryBase: 50 * time.Millisecond, PerSecond: vkPerSecond(lim)})
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
	return &vkPipeline{fake: fake, ch: ch, machine: machine, svc: svc, pool: pool, rdb: rdb}
}

// vkPerSecond turns the shared per-second cap off without limits (the
// benchmark).
func vkPerSecond(lim bot.Limits) int {
	if lim.Global == rate.Inf {
		return -1
	}
	return 0
}

// vkTestFeedback records answer feedback in the faq store.
type vkTestFeedback struct{ s *faq.Store }

func (f vkTestFeedback) AddFeedback(ctx context.Context, fb dialog.Feedback) error {
	return f.s.AddFeedback(ctx, faq.Feedback{EntryID: fb.EntryID, Helpful: fb.Helpful, Query: fb.Query, Channel: string(fb.Channel)})
}

// uniquePeer returns a VK user id no other test run uses, since the
// database is shared (user ids are below 2e9; chats start there).
func uniquePeer() int {
	n, _ := rand.Int(rand.Reader, big.NewInt(900_000_000))
	return 1_000_000_000 + int(n.Int64())
}

// buttonData is the dialog's data behind a VK button.
func buttonData(b vktest.Button) string {
	var p struct {
		D string `json:"d"`
	}
	json.Unmarshal([]byte(b.Payload), &p)
	return p.D
}

// vkClient plays one VK user against the pipeline.
type vkClient struct {
	t    *testing.T
	p    *vkPipeline
	peer int
	seen int
}

// expect waits for the bot's next n messages and checks that they
// contain want; it returns the data of their buttons.
func (c *vkClient) expect(what string, n int, want string) []string {
	c.t.Helper()
	got := c.p.fake.WaitSent(c.peer, c.seen+n, 15*time.Second)
	if len(got) < c.seen+n {
		var last string
		if len(got) > 0 {
			last = got[len(got)-1].Text
		}
		c.t.Fatalf("%s: got %d messages, want %d more after %d; last %q", what, len(got), n, c.seen, last)
	}
	fresh := got[c.seen : c.seen+n]
	c.seen += n
	var text strings.Builder
	var data []string
	for _, m := range fresh {
		text.WriteString(m.Text + "\n")
		for _, row := range m.Keyboard {
			for _, b := range row {
				data = append(data, buttonData(b))
			}
		}
	}
	if !strings.Contains(text.String(), want) {
		c.t.Fatalf("%s: replies do not contain %q:\n%s", what, want, text.String())
	}
	return data
}

// press presses the button with data in the last keyboard, as the VK app
// does (callback button or text button, whichever the bot sent).
func (c *vkClient) press(data string) {
	c.t.Helper()
	for _, row := range c.p.fake.Buttons(c.peer) {
		for _, b := range row {
			if buttonData(b) == data {
				c.p.fake.Press(c.peer, b)
				return
			}
		}
	}
	c.t.Fatalf("no button %q in the last keyboard %+v", data, c.p.fake.Buttons(c.peer))
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestVKConversationEndToEnd: a VK client, by Bots Long Poll, gets the
// greeting, chooses the audience with a keyboard, has a question answered,
// clarifies an ambiguous one with the keyboard, hands off to a manager
// (consent, name, phone, confirmation) and gets an appeal in PostgreSQL;
// a photo and a document reach the appeal as links; an operator's answer
// sent through bot.Sender reaches the client once, even when sent twice
// (the relay's retry).
func TestVKConversationEndToEnd(t *testing.T) {
	p := newVKPipeline(t, vk.Limits, vktest.VKLimits)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.ch.Run(ctx)
	go p.ch.Poll(ctx)
	waitFor(t, "the long poll", func() bool { return p.fake.Calls("a_check") > 0 })
	c := &vkClient{t: t, p: p, peer: uniquePeer()}

	p.fake.Start(c.peer)
	if b := c.expect("Начать", 1, "Приволжского института"); !slices.Contains(b, "aud:student") {
		t.Fatalf("no audience buttons: %v", b)
	}
	c.press("aud:student")
	c.expect("audience", 1, "Чем могу помочь")

	// An ambiguous question: clarification by keyboard. (Which one-word
	// questions are ambiguous depends on the knowledge base's tuning: the
	// first of these that the bot clarifies is used.)
	var pick string
	for _, q := range []string{"стипендия", "документы", "экзамен", "перевод", "общежитие"} {
		p.fake.Text(c.peer, q)
		b := c.expect("ambiguous "+q, 1, "")
		for _, d := range b {
			if strings.HasPrefix(d, "q:") && slices.Contains(b, "clar:other") {
				pick = d
				break
			}
		}
		if pick != "" {
			break
		}
		if slices.Contains(b, "fb:yes") { // answered at once
			c.press("fb:yes")
			c.expect("helpful", 1, "")
		}
	}
	if pick == "" {
		t.Fatal("none of the ambiguous questions got a clarification keyboard")
	}
	c.press(pick)
	c.expect("clarified", 1, "Этот ответ помог?")
	c.press("fb:yes")
	c.expect("helpful", 1, "")

	// A question answered, with the feedback keyboard; not helpful: hand-off.
	p.fake.Text(c.peer, "сколько стоит общежитие")
	if b := c.expect("question", 1, "Этот ответ помог?"); !slices.Contains(b, "fb:no") {
		t.Fatalf("no feedback buttons: %v", b)
	}
	c.press("fb:no")
	b := c.expect("not helpful", 1, "")
	if slices.Contains(b, "clar:other") {
		c.press("clar:other")
		b = c.expect("other", 1, "менеджер")
	}
	if !slices.Contains(b, "m:human") {
		t.Fatalf("no manager button: %v", b)
	}
	c.press("m:human")
	c.expect("hand-off", 1, "персональных данных")
	c.press("consent:yes")
	c.expect("consent", 1, "Как к вам обращаться")
	p.fake.Text(c.peer, "Ольга Смирнова")
	c.expect("name", 1, "телефон или e-mail")
	p.fake.Text(c.peer, "+7 (927) 555-12-34")
	c.expect("contact", 1, "Вопрос:")
	c.press("confirm:yes")
	c.expect("registered", 1, "зарегистрировано")

	peer := strconv.Itoa(c.peer)
	a, err := p.svc.OpenAppealFor(ctx, escalation.Channel(bot.VK), peer)
	if err != nil || a == nil {
		t.Fatalf("no open appeal in PostgreSQL: %v", err)
	}
	if a.Channel != escalation.Channel(bot.VK) || a.Group != escalation.Student || !strings.Contains(p.fake.SentTo(c.peer)[c.seen-1].Text, a.Number) {
		t.Errorf("appeal %+v", a)
	}
	cl, err := p.svc.ClientByIdentity(ctx, escalation.Channel(bot.VK), peer)
	if err != nil || cl.Name != "Ольга Смирнова" || !strings.HasSuffix(cl.Phone, "79275551234") {
		t.Errorf("client %+v, %v", cl, err)
	}

	// Files reach the appeal as links.
	p.fake.Photo(c.peer, "квитанция", "https://sun9-77.userapi.com/impg/receipt.jpg")
	p.fake.Doc(c.peer, "заявление", "pdf", "https://vk.com/doc1_61234?hash=abc", 52000)
	var msgs []escalation.Message
	waitFor(t, "files in the appeal", func() bool {
		msgs, _ = p.svc.Messages(ctx, a.ID)
		return len(msgs) >= 2
	})
	if len(msgs[0].Attachments) != 1 || msgs[0].Attachments[0].URL != "https://sun9-77.userapi.com/impg/receipt.jpg" || msgs[0].Text != "квитанция" ||
		len(msgs[1].Attachments) != 1 || msgs[1].Attachments[0].URL != "https://vk.com/doc1_61234?hash=abc" || msgs[1].Attachments[0].Name != "заявление.pdf" {
		t.Errorf("appeal messages: %+v", msgs)
	}

	// An operator's answer through bot.Sender (as the relay sends it, with
	// its outbox key as the reply's id): delivered once, even if the relay
	// sends it again after a crash.
	before := len(p.fake.SentTo(c.peer))
	answer := bot.Reply{Text: "Здравствуйте, Ольга! Квитанцию получили, оплата прошла.", ID: "msg:" + strconv.FormatInt(a.ID, 10)}
	var sender bot.Sender = p.ch
	for range 2 {
		if err := sender.Send(ctx, bot.Chat{Channel: bot.VK, ID: peer}, answer); err != nil {
			t.Fatal(err)
		}
	}
	got := p.fake.SentTo(c.peer)[before:]
	if len(got) != 1 || got[0].Text != answer.Text {
		t.Errorf("operator's answer delivered as %+v", got)
	}
	if n := p.fake.TooManyRequests(); n != 0 {
		t.Errorf("%d error-6 answers from the fake", n)
	}
}

// TestVKCallbackEndToEnd: the Callback API endpoint confirms the server,
// refuses a wrong secret without queueing anything, answers "ok" to VK's
// retries of one event and the client is answered once.
func TestVKCallbackEndToEnd(t *testing.T) {
	p := newVKPipeline(t, vk.Limits, vktest.VKLimits)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.ch.Run(ctx)
	srv := httptest.NewServer(p.ch.CallbackHandler())
	defer srv.Close()
	post := func(body []byte, retry int) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/vk/callback", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if retry > 0 {
			req.Header.Set("X-Retry-Counter", strconv.Itoa(retry))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		return resp.StatusCode, buf.String()
	}
	conf, _ := json.Marshal(map[string]any{"type": "confirmation", "group_id": vkGroup, "secret": vkSecret})
	if code, body := post(conf, 0); code != 200 || body != "c0nf1rm" {
		t.Errorf("confirmation: %d %q", code, body)
	}
	peer := uniquePeer()
	_, ev := p.fake.Start(peer)
	if code, body := post(vktest.WithSecret(ev, "not-the-secret"), 0); code != http.StatusForbidden || body == "ok" {
		t.Errorf("wrong secret: %d %q", code, body)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(p.fake.SentTo(peer)); n != 0 {
		t.Fatalf("an event with a wrong secret was answered: %d messages", n)
	}
	for retry := range 3 {
		if code, body := post(vktest.WithSecret(ev, vkSecret), retry); code != 200 || body != "ok" {
			t.Errorf("post %d: %d %q", retry, code, body)
		}
	}
	got := p.fake.WaitSent(peer, 1, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	if got = p.fake.SentTo(peer); len(got) != 1 || !strings.Contains(got[0].Text, "Приволжского института") {
		t.Errorf("replies to three deliveries of one event: %+v", got)
	}
}

// cleanVK deletes the Redis keys a whole-program run left for a community
// and its clients.
func cleanVK(t *testing.T, rurl string, group int, peers ...int) {
	t.Cleanup(func() {
		opt, err := redis.ParseURL(rurl)
		if err != nil {
			return
		}
		rdb := redis.NewClient(opt)
		defer rdb.Close()
		ctx := context.Background()
		patterns := []string{"vk:" + strconv.Itoa(group) + ":*"}
		for _, p := range peers {
			patterns = append(patterns, "*{vk:"+strconv.Itoa(p)+"}*")
		}
		for _, pat := range patterns {
			iter := rdb.Scan(ctx, 0, pat, 1000).Iterator()
			for iter.Next(ctx) {
				rdb.Del(ctx, iter.Val())
			}
		}
	})
}

// TestServeVK starts the whole program, as `kontakt serve` does, with the
// VK channel alone in Callback API mode on a database of its own: the
// listener confirms the server, refuses a wrong secret, and a client's
// "Начать" and question are answered through Redis and PostgreSQL.
func TestServeVK(t *testing.T) {
	dsn, rurl := os.Getenv("KONTAKT_TEST_DATABASE_URL"), os.Getenv("KONTAKT_TEST_REDIS_URL")
	if dsn == "" || rurl == "" {
		t.Fatal("KONTAKT_TEST_DATABASE_URL and KONTAKT_TEST_REDIS_URL are not set: run the tests with scripts/test.sh")
	}
	db := freshDatabase(t, dsn)
	group := 300_000_000 + uniquePeer()%100_000_000 // keys are scoped by the community
	fake := vktest.New("vk1.a.SERVE-TOKEN", group, vktest.VKLimits)
	defer fake.Close()
	addr, vkAddr := freeAddr(t), freeAddr(t)
	env := map[string]string{
		"DATABASE_URL": db, "REDIS_URL": rurl, "KONTAKT_KB_FILE": "../../faq/testdata/kb.yaml", "KONTAKT_HTTP_ADDR": addr,
		"KONTAKT_COOKIE_SECURE": "false", "KONTAKT_INSTITUTE_NAME": "Приволжского института технологий и управления",
		"VK_TOKEN": fake.Token, "VK_GROUP_ID": strconv.Itoa(group), "VK_API_URL": fake.APIURL(), "VK_API_VERSION": "5.199",
		"VK_MODE": "callback", "VK_CALLBACK_SECRET": vkSecret, "VK_CONFIRMATION": "c0nf1rm", "VK_LISTEN_ADDR": vkAddr,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), &logs, &logs)
	}()
	post := func(body []byte) (int, string) {
		resp, err := http.Post("http://"+vkAddr+"/vk/callback", "application/json", bytes.NewReader(body))
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		return resp.StatusCode, buf.String()
	}
	conf, _ := json.Marshal(map[string]any{"type": "confirmation", "group_id": group, "secret": vkSecret})
	confirmed := false
	for start := time.Now(); time.Since(start) < 60*time.Second && !confirmed; time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("kontakt serve stopped: %v\n%s", err, logs.String())
		default:
		}
		code, body := post(conf)
		confirmed = code == http.StatusOK && body == "c0nf1rm"
	}
	if !confirmed {
		t.Fatalf("the Callback API server was not confirmed within a minute\n%s", logs.String())
	}
	peer := uniquePeer()
	cleanVK(t, rurl, group, peer)
	_, ev := fake.Start(peer)
	if code, _ := post(vktest.WithSecret(ev, "wrong")); code != http.StatusForbidden {
		t.Errorf("wrong secret: %d", code)
	}
	if code, body := post(vktest.WithSecret(ev, vkSecret)); code != http.StatusOK || body != "ok" {
		t.Errorf("event: %d %q", code, body)
	}
	got := fake.WaitSent(peer, 1, 20*time.Second)
	if len(got) != 1 || !strings.Contains(got[0].Text, "Приволжского института") || got[0].Keyboard == nil {
		t.Fatalf("greeting: %+v\n%s", got, logs.String())
	}
	var aud vktest.Button
	for _, row := range got[0].Keyboard {
		for _, b := range row {
			if buttonData(b) == "aud:student" {
				aud = b
			}
		}
	}
	_, ev = fake.Press(peer, aud)
	post(vktest.WithSecret(ev, vkSecret))
	fake.WaitSent(peer, 2, 20*time.Second)
	_, ev = fake.Text(peer, "скока стоит общага")
	post(vktest.WithSecret(ev, vkSecret))
	got = fake.WaitSent(peer, 3, 20*time.Second)
	if len(got) < 3 || !strings.Contains(got[2].Text, "950 руб") {
		t.Fatalf("answer to the dormitory question: %+v\n%s", got, logs.String())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("kontakt serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("kontakt serve did not stop")
	}
	if strings.Contains(logs.String(), fake.Token) || strings.Contains(logs.String(), vkSecret) {
		t.Error("the log shows the token or the callback secret")
	}
}

// TestVKSender: the send-only instance the relay and the console use
// delivers to a VK client, and is absent without VK_TOKEN.
func TestVKSender(t *testing.T) {
	rurl := os.Getenv("KONTAKT_TEST_REDIS_URL")
	if rurl == "" {
		t.Fatal("KONTAKT_TEST_REDIS_URL is not set: run the tests with scripts/test.sh")
	}
	ctx := context.Background()
	if s, closeFn, err := vkSender(ctx, Config{}, nil); s != nil || err != nil {
		t.Errorf("without VK_TOKEN: %v, %v", s, err)
	} else {
		closeFn()
	}
	group := 300_000_000 + uniquePeer()%100_000_000
	fake := vktest.New("vk1.a.SENDER", group, vktest.VKLimits)
	defer fake.Close()
	s, closeFn, err := vkSender(ctx, Config{VKToken: fake.Token, VKGroupID: group, VKAPIURL: fake.APIURL(), VKAPIVersion: "5.131", RedisURL: rurl}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	peer := uniquePeer()
	cleanVK(t, rurl, group, peer)
	if err := s.Send(ctx, bot.Chat{Channel: bot.VK, ID: strconv.Itoa(peer)}, bot.Reply{Text: "Ответ оператора", ID: "msg:1"}); err != nil {
		t.Fatal(err)
	}
	if got := fake.SentTo(peer); len(got) != 1 || got[0].Text != "Ответ оператора" {
		t.Errorf("delivered %+v", got)
	}
}

func TestVKConfig(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://x/y", "REDIS_URL": "redis://localhost:6379/0", "KONTAKT_KB_FILE": "kb.yaml"}
	tests := []struct {
		name string
		env  map[string]string
		want string // "" for valid
	}{
		{"off", map[string]string{}, ""},
		{"long poll", map[string]string{"VK_TOKEN": "t", "VK_GROUP_ID": "218000001"}, ""},
		{"no group", map[string]string{"VK_TOKEN": "t"}, "VK_GROUP_ID"},
		{"bad mode", map[string]string{"VK_MODE": "webhook"}, "VK_MODE must be longpoll or callback"},
		{"callback without secret", map[string]string{"VK_TOKEN": "t", "VK_GROUP_ID": "1", "VK_MODE": "callback", "VK_CONFIRMATION": "x"}, "VK_CALLBACK_SECRET"},
		{"callback", map[string]string{"VK_TOKEN": "t", "VK_GROUP_ID": "1", "VK_MODE": "callback", "VK_CONFIRMATION": "x", "VK_CALLBACK_SECRET": "s3cret-key"}, ""},
		{"bad version", map[string]string{"VK_API_VERSION": "5.x"}, "VK_API_VERSION"},
		{"bad URL", map[string]string{"VK_API_URL": "api.vk.com"}, "VK_API_URL"},
		{"group not a number", map[string]string{"VK_GROUP_ID": "club1"}, "VK_GROUP_ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			cfg, err := loadConfig(func(k string) string { return env[k] })
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one naming %s", err, tt.want)
			}
			if err == nil && (cfg.VKAPIURL != "https://api.vk.com/method/" && tt.env["VK_API_URL"] == "" || cfg.VKAPIVersion == "") {
				t.Errorf("defaults: %q %q", cfg.VKAPIURL, cfg.VKAPIVersion)
			}
		})
	}
}

// BenchmarkVKPipeline measures the whole VK path: an event posted to the
// Callback API endpoint (secret check, queued in the Redis Stream), read
// from the stream into its chat's lane, the dialog step with the
// knowledge base's decision and the state CAS in Redis, and the reply sent
// by messages.send to the fake VK API over HTTP on localhost. The clients
// each cycle over their own chats (1024 chats in all), sending a question
// and waiting for the answer (4 clients: the latency of a quiet system);
// no rate limits. It reports updates/s, the latency from the post to the
// reply's last message (p50 and p99) and the CPU per update.
func BenchmarkVKPipeline(b *testing.B) {
	for _, clients := range []int{4, 64} {
		b.Run("clients="+strconv.Itoa(clients), func(b *testing.B) { benchVKPipeline(b, clients) })
	}
}

func benchVKPipeline(b *testing.B, clients int) {
	p := newVKPipeline(b, bot.Limits{Global: rate.Inf}, vktest.Limits{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	perClient := 1024 / clients
	base := uniquePeer()
	var mu sync.Mutex
	waiting := map[int]chan struct{}{}
	p.fake.OnSend(func(m vktest.Sent) {
		if m.Keyboard == nil { // the last message of every reply has a keyboard
			return
		}
		mu.Lock()
		if c := waiting[m.PeerID]; c != nil {
			delete(waiting, m.PeerID)
			close(c)
		}
		mu.Unlock()
	})
	go p.ch.Run(ctx)
	cb := p.ch.CallbackHandler()
	post := func(raw []byte) {
		req := httptest.NewRequest(http.MethodPost, "/vk/callback", bytes.NewReader(vktest.WithSecret(raw, vkSecret)))
		rec := httptest.NewRecorder()
		cb.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.String() != "ok" {
			b.Errorf("callback answered %d %q", rec.Code, rec.Body.String())
		}
	}
	roundTrip := func(peer int, raw []byte) time.Duration {
		done := make(chan struct{})
		mu.Lock()
		waiting[peer] = done
		mu.Unlock()
		t0 := time.Now()
		post(raw)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			b.Fatalf("no reply to peer %d", peer)
		}
		return time.Since(t0)
	}
	for i := range clients * perClient {
		peer := base + i
		_, raw := p.fake.Start(peer)
		roundTrip(peer, raw)
		var aud vktest.Button
		for _, row := range p.fake.Buttons(peer) {
			for _, bt := range row {
				if buttonData(bt) == "aud:student" {
					aud = bt
				}
			}
		}
		_, raw = p.fake.Press(peer, aud)
		roundTrip(peer, raw)
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
				peer := base + c*perClient + k%perClient
				_, raw := p.fake.Text(peer, questions[int(n)%len(questions)])
				latencies[c] = append(latencies[c], roundTrip(peer, raw))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	// CPU of this process (pipeline and fake VK API; Redis not included).
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu_us/update")
	all := slices.Concat(latencies...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "updates/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99_ms")
	b.ReportMetric(0, "ns/op")
}
