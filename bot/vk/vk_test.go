package vk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"kontakt/bot"
	"kontakt/bot/vk/vktest"
)

const group = 212345678

func testRedis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	url := os.Getenv("KONTAKT_TEST_REDIS_URL")
	if url == "" {
		t.Fatal("KONTAKT_TEST_REDIS_URL is not set: run the tests with scripts/test.sh")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "test:vk:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		rdb.Close()
	})
	return rdb, prefix
}

// recorder records messages and echoes them, with a button.
type recorder struct {
	mu   sync.Mutex
	msgs []bot.Message
}

func (r *recorder) Handle(ctx context.Context, m bot.Message) ([]bot.Reply, error) {
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	r.mu.Unlock()
	return []bot.Reply{{Text: "echo: " + m.Text + m.Data + m.Command, Buttons: [][]bot.Button{{{Text: "Да", Data: "yes"}}}}}, nil
}

func (r *recorder) got() []bot.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

func (r *recorder) wait(n int, d time.Duration) []bot.Message {
	deadline := time.Now().Add(d)
	for len(r.got()) < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return r.got()
}

var fast = bot.Limits{Global: rate.Inf}

// perSecond turns the shared cap off for tests without limits.
func perSecond(lim bot.Limits) int {
	if lim.Global == rate.Inf {
		return -1
	}
	return 0
}

func newChannel(t *testing.T, fake *vktest.Server, rdb *redis.Client, prefix string, h bot.Handler, lim bot.Limits) *Channel {
	t.Helper()
	c, err := New(Config{Token: fake.Token, GroupID: fake.GroupID, APIURL: fake.APIURL(), APIVersion: "5.199", Redis: rdb, Prefix: prefix,
		Handler: h, Limiter: bot.NewLimiter(lim), CallbackSecret: "cb-s3cret", Confirmation: "a1b2c3d4",
		RetryBase: 50 * time.Millisecond, Wait: 1, Log: testLog, PerSecond: perSecond(lim)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func labels(kb [][]vktest.Button) (n int, rows int) {
	for _, r := range kb {
		n += len(r)
	}
	return n, len(kb)
}

func TestKeyboardLayout(t *testing.T) {
	row := func(n int) []bot.Button {
		var r []bot.Button
		for i := range n {
			r = append(r, bot.Button{Text: "Кнопка " + strconv.Itoa(i), Data: "b" + strconv.Itoa(i)})
		}
		return r
	}
	modern := clientInfo{ButtonActions: []string{"text", "callback"}, Keyboard: true, InlineKeyboard: true}
	tests := []struct {
		name            string
		rows            [][]bot.Button
		ci              clientInfo
		inline          bool
		typ             string
		buttons, layout int // buttons shown, rows
		dropped         int
	}{
		{"audience row of 7 wraps", [][]bot.Button{row(7)}, modern, true, "callback", 7, 2, 0},
		{"10 buttons fit inline", [][]bot.Button{row(2), row(2), row(2), row(2), row(2)}, modern, true, "callback", 10, 5, 0},
		{"7 rows go standard", [][]bot.Button{row(1), row(1), row(1), row(1), row(1), row(1), row(1)}, modern, false, "callback", 7, 7, 0},
		{"11 buttons go standard", [][]bot.Button{row(5), row(5), row(1)}, modern, false, "callback", 11, 3, 0},
		{"over 10 rows truncated", slices.Repeat([][]bot.Button{row(1)}, 12), modern, false, "callback", 10, 10, 2},
		{"over 40 truncated", slices.Repeat([][]bot.Button{row(5)}, 9), modern, false, "callback", 40, 8, 5},
		{"old app: text buttons", [][]bot.Button{row(3)}, clientInfo{ButtonActions: []string{"text"}, Keyboard: true, InlineKeyboard: true}, true, "text", 3, 1, 0},
		{"no inline support", [][]bot.Button{row(2)}, clientInfo{ButtonActions: []string{"text"}, Keyboard: true}, false, "text", 2, 1, 0},
		{"inline only, too many", slices.Repeat([][]bot.Button{row(1)}, 8), clientInfo{ButtonActions: []string{"text"}, InlineKeyboard: true}, true, "text", 6, 6, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kb, dropped := keyboard(tt.rows, tt.ci)
			if kb == nil {
				t.Fatal("no keyboard")
			}
			if bool(kb.Inline) != tt.inline || dropped != tt.dropped || len(kb.Buttons) != tt.layout {
				t.Errorf("inline %v dropped %d rows %d", kb.Inline, dropped, len(kb.Buttons))
			}
			n := 0
			for _, r := range kb.Buttons {
				if len(r) > maxCols {
					t.Errorf("row of %d", len(r))
				}
				for _, b := range r {
					n++
					if b.Action.Type != tt.typ {
						t.Errorf("button type %s", b.Action.Type)
					}
					if p, ok := parsePayload([]byte(b.Action.Payload)); !ok || !strings.HasPrefix(p.Data, "b") {
						t.Errorf("payload %q", b.Action.Payload)
					}
				}
			}
			if n != tt.buttons {
				t.Errorf("%d buttons, want %d", n, tt.buttons)
			}
			if !tt.ci.Keyboard && !tt.ci.InlineKeyboard {
				t.Error("unreachable")
			}
		})
	}
	if kb, dropped := keyboard([][]bot.Button{row(2)}, clientInfo{}); kb != nil || dropped != 2 {
		t.Errorf("client without keyboards got %v", kb)
	}
	long := [][]bot.Button{{{Text: strings.Repeat("очень длинная подпись ", 4), Data: "x"}}}
	if kb, _ := keyboard(long, modern); len([]rune(kb.Buttons[0][0].Action.Label)) != maxLabel {
		t.Errorf("label %q", kb.Buttons[0][0].Action.Label)
	}
}

func TestConvert(t *testing.T) {
	rdb, prefix := testRedis(t)
	fake := vktest.New("vk1.a.TEST", group, vktest.Limits{})
	defer fake.Close()
	rec := &recorder{}
	c := newChannel(t, fake, rdb, prefix, rec, fast)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	const peer = 501
	for _, raw := range [][]byte{
		second(fake.Start(peer)),
		second(fake.Text(peer, "/start общежитие")),
		second(fake.Photo(peer, "справка", "https://sun9-1.userapi.com/photo.jpg")),
		second(fake.Doc(peer, "заявление", "pdf", "https://vk.com/doc501_61234?hash=h", 20480)),
		second(fake.Text(peer, "привет")),
	} {
		if _, err := c.enqueue(ctx, raw); err != nil {
			t.Fatal(err)
		}
	}
	got := rec.wait(5, 5*time.Second)
	if len(got) != 5 {
		t.Fatalf("%d messages handled", len(got))
	}
	if got[0].Kind != bot.Command || got[0].Command != "start" || got[1].Command != "start" || got[1].Payload != "общежитие" {
		t.Errorf("start: %+v / %+v", got[0], got[1])
	}
	p := got[2]
	if p.Kind != bot.Photo || p.Text != "справка" || len(p.Attachments) != 1 || p.Attachments[0].URL != "https://sun9-1.userapi.com/photo.jpg" || p.Attachments[0].FileID != "photo501_457239017_ak1" {
		t.Errorf("photo: %+v", p)
	}
	d := got[3]
	if d.Kind != bot.Document || d.Attachments[0].FileName != "заявление.pdf" || d.Attachments[0].URL != "https://vk.com/doc501_61234?hash=h" || d.Attachments[0].Size != 20480 {
		t.Errorf("doc: %+v", d)
	}
	if got[4].Kind != bot.Text || got[4].Chat != (bot.Chat{Channel: bot.VK, ID: "501"}) || got[4].From.ID != "501" {
		t.Errorf("text: %+v", got[4])
	}
}

func second(_ string, b []byte) []byte { return b }

func TestButtonsRoundTrip(t *testing.T) {
	rdb, prefix := testRedis(t)
	fake := vktest.New("vk1.a.TEST", group, vktest.Limits{})
	defer fake.Close()
	rec := &recorder{}
	c := newChannel(t, fake, rdb, prefix, rec, fast)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	const modern, old = 601, 602
	fake.SetClient(old, vktest.Client{ButtonActions: []string{"text"}, Keyboard: true})
	for _, peer := range []int{modern, old} {
		c.enqueue(ctx, second(fake.Text(peer, "вопрос")))
		got := fake.WaitSent(peer, 1, 5*time.Second)
		if len(got) != 1 || got[0].Keyboard == nil {
			t.Fatalf("peer %d: %+v", peer, got)
		}
		b := got[0].Keyboard[0][0]
		if peer == modern && (b.Type != "callback" || !got[0].Inline) || peer == old && (b.Type != "text" || got[0].Inline || !got[0].OneTime) {
			t.Errorf("peer %d: keyboard %+v inline %v", peer, got[0].Keyboard, got[0].Inline)
		}
		c.enqueue(ctx, second(fake.Press(peer, b)))
		fake.WaitSent(peer, 2, 5*time.Second)
	}
	var presses []bot.Message
	for _, m := range rec.wait(4, 5*time.Second) {
		if m.Kind == bot.Callback {
			presses = append(presses, m)
		}
	}
	if len(presses) != 2 || presses[0].Data != "yes" || presses[1].Data != "yes" {
		t.Errorf("presses: %+v", presses)
	}
	if a := fake.Answers(); len(a) != 1 || a[0].PeerID != modern || a[0].EventID == "" {
		t.Errorf("callback press answered %+v, want once with sendMessageEventAnswer", a)
	}
	if v := fake.Versions(); !slices.Equal(v, []string{"5.199"}) {
		t.Errorf("API versions sent: %v", v)
	}
}

func TestSendSplitsAndRetriedSendIsNotDuplicated(t *testing.T) {
	rdb, prefix := testRedis(t)
	fake := vktest.New("vk1.a.TEST", group, vktest.Limits{})
	defer fake.Close()
	c := newChannel(t, fake, rdb, prefix, &recorder{}, fast)
	ctx := context.Background()
	chat := bot.Chat{Channel: bot.VK, ID: "701"}
	text := strings.Repeat("Общежитие предоставляется иногородним студентам. ", 200) // ~10,000 characters
	r := bot.Reply{Text: text, Buttons: [][]bot.Button{{{Text: "Помогло", Data: "fb:yes"}}}, ID: "outbox:42"}

	// VK delivers the first part but the answer is lost (error 10): the
	// retry carries the same random_id and VK drops it.
	fake.FailNext(vktest.Failure{Code: 10, Deliver: true})
	if err := c.Send(ctx, chat, r); err != nil {
		t.Fatal(err)
	}
	sent := fake.SentTo(701)
	if len(sent) != 3 {
		t.Fatalf("%d messages delivered, want 3 parts", len(sent))
	}
	joined := 0
	for i, m := range sent {
		if n := len([]rune(m.Text)); n > MaxText {
			t.Errorf("part %d has %d characters", i, n)
		}
		joined += len([]rune(strings.ReplaceAll(m.Text, " ", "")))
		if m.RandomID != RandomID(chat, "outbox:42", i) {
			t.Errorf("part %d random_id %d", i, m.RandomID)
		}
		if (m.Keyboard != nil) != (i == 2) {
			t.Errorf("part %d keyboard %v", i, m.Keyboard)
		}
	}
	if want := len([]rune(strings.ReplaceAll(text, " ", ""))); joined != want {
		t.Errorf("%d characters delivered, want %d", joined, want)
	}
	if n := fake.Calls("messages.send"); n != 4 {
		t.Errorf("messages.send called %d times, want 4 (3 parts + 1 retry)", n)
	}
	// The whole reply again (the queue redelivers after a crash): nothing new.
	if err := c.Send(ctx, chat, r); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.SentTo(701)); n != 3 {
		t.Errorf("after resending the same reply %d delivered, want 3", n)
	}
	// A keyboard VK refuses (911): the text still goes, without it.
	fake.FailNext(vktest.Failure{Code: 911})
	if err := c.Send(ctx, chat, bot.Reply{Text: "с кнопками", Buttons: r.Buttons, ID: "outbox:44"}); err != nil {
		t.Fatal(err)
	}
	if got := fake.SentTo(701); len(got) != 4 || got[3].Text != "с кнопками" || got[3].Keyboard != nil {
		t.Errorf("after 911: %+v", got[len(got)-1])
	}
	// Another reply is another message.
	c.Send(ctx, chat, bot.Reply{Text: "ещё", ID: "outbox:43"})
	c.Send(ctx, chat, bot.Reply{Text: "ещё"})
	if n := len(fake.SentTo(701)); n != 6 {
		t.Errorf("%d delivered, want 6", n)
	}
}

func TestSendBacksOffAndMarksUnreachable(t *testing.T) {
	rdb, prefix := testRedis(t)
	fake := vktest.New("vk1.a.TEST", group, vktest.Limits{})
	defer fake.Close()
	rec := &recorder{}
	c := newChannel(t, fake, rdb, prefix, rec, fast)
	ctx := context.Background()
	chat := bot.Chat{Channel: bot.VK, ID: "801"}

	fake.FailNext(vktest.Failure{Code: 6}, vktest.Failure{Code: 9})
	start := time.Now()
	if err := c.Send(ctx, chat, bot.Reply{Text: "после паузы"}); err != nil {
		t.Fatalf("send after 6 and 9: %v", err)
	}
	// 50ms after error 6, then 3×100ms after error 9 (plus jitter).
	if d := time.Since(start); d < 350*time.Millisecond {
		t.Errorf("retried after %v: no backoff", d)
	}
	if n := len(fake.SentTo(801)); n != 1 {
		t.Errorf("%d delivered", n)
	}
	fake.FailNext(vktest.Failure{Code: 6}, vktest.Failure{Code: 6}, vktest.Failure{Code: 6}, vktest.Failure{Code: 6})
	if err := c.Send(ctx, chat, bot.Reply{Text: "x"}); !errors.Is(err, bot.ErrRateLimited) {
		t.Errorf("after bounded retries err = %v, want ErrRateLimited", err)
	}

	fake.Block(802)
	blocked := bot.Chat{Channel: bot.VK, ID: "802"}
	for range 5 {
		if err := c.Send(ctx, blocked, bot.Reply{Text: "x"}); !errors.Is(err, bot.ErrUnreachable) {
			t.Errorf("send to blocked peer: err = %v", err)
		}
	}
	before := fake.Calls("messages.send")
	fake.FailNext(vktest.Failure{Code: 902})
	priv := bot.Chat{Channel: bot.VK, ID: "803"}
	c.Send(ctx, priv, bot.Reply{Text: "x"})
	c.Send(ctx, priv, bot.Reply{Text: "x"})
	if n := fake.Calls("messages.send") - before; n != 1 {
		t.Errorf("VK asked %d times after 902, want 1 (no retries)", n)
	}
	if !c.Unreachable(ctx, blocked) || !c.Unreachable(ctx, priv) {
		t.Error("not marked unreachable")
	}
	// Allowing messages (or writing) makes the chat reachable again.
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go c.Run(runCtx)
	c.enqueue(ctx, second(fake.Allow(803)))
	c.enqueue(ctx, second(fake.Deny(804)))
	deadline := time.Now().Add(5 * time.Second)
	for (c.Unreachable(ctx, priv) || !c.Unreachable(ctx, bot.Chat{Channel: bot.VK, ID: "804"})) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if c.Unreachable(ctx, priv) || !c.Unreachable(ctx, bot.Chat{Channel: bot.VK, ID: "804"}) {
		t.Error("message_allow / message_deny not applied")
	}
}

func TestSharedRateLimit(t *testing.T) {
	rdb, prefix := testRedis(t)
	fake := vktest.New("vk1.a.TEST", group, vktest.VKLimits)
	defer fake.Close()
	// Two instances on one token and one Redis (a replica, or the relay's
	// send-only instance): the 20 calls a second are shared.
	c1 := newChannel(t, fake, rdb, prefix, &recorder{}, Limits)
	c2 := newChannel(t, fake, rdb, prefix, &recorder{}, Limits)
	ctx := context.Background()
	var wg sync.WaitGroup
	start := time.Now()
	for i := range 45 { // 45 sends to 15 chats at once
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := c1
			if i%2 == 1 {
				c = c2
			}
			if err := c.Send(ctx, bot.Chat{Channel: bot.VK, ID: strconv.Itoa(900 + i%15)}, bot.Reply{Text: "ответ " + strconv.Itoa(i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := fake.TooManyRequests(); n != 0 {
		t.Errorf("the fake answered error 6 %d times", n)
	}
	if n := len(fake.Sent()); n != 45 {
		t.Errorf("%d of 45 delivered", n)
	}
	if d := time.Since(start); d < 2*time.Second {
		t.Errorf("45 calls in %v: faster than 20/s", d)
	}
}

func TestLongPollRecovers(t *testing.T) {
	rdb, prefix := testRedis(t)
	fake := vktest.New("vk1.a.TEST", group, vktest.Limits{})
	defer fake.Close()
	rec := &recorder{}
	c := newChannel(t, fake, rdb, prefix, rec, fast)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{}, 2)
	go func() { c.Run(ctx); done <- struct{}{} }()
	go func() { c.Poll(ctx); done <- struct{}{} }()
	waitCalls := func(method string, n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for fake.Calls(method) < n && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if fake.Calls(method) < n {
			t.Fatalf("%s called %d times, want %d", method, fake.Calls(method), n)
		}
	}
	waitCalls("a_check", 1)
	if fake.Calls("groups.setLongPollSettings") != 1 {
		t.Error("long poll settings not set")
	}
	fake.Text(1001, "1")
	rec.wait(1, 5*time.Second)

	// failed:2 — the key expired: a new key, the same ts, nothing lost.
	fake.ExpireKey()
	fake.Text(1001, "2")
	rec.wait(2, 5*time.Second)
	if n := fake.Calls("groups.getLongPollServer"); n != 2 {
		t.Errorf("getLongPollServer called %d times after failed:2, want 2", n)
	}
	// A 502 and a failed:1 answer (history lost: VK gives the new ts, and
	// events before it are gone): backoff, then polling goes on.
	checks := fake.Calls("a_check")
	fake.FailPoll(-1, 1)
	waitCalls("a_check", checks+3) // the 502, the failed:1, the next poll
	fake.Text(1001, "3")
	// failed:3 — a new key and ts (VK says events in between are lost).
	rec.wait(3, 10*time.Second)
	servers := fake.Calls("groups.getLongPollServer")
	fake.LoseInfo()
	fake.Text(1001, "lost in failed:3")
	waitCalls("groups.getLongPollServer", servers+1)
	fake.Text(1001, "4")
	got := rec.wait(4, 10*time.Second)
	var texts []string
	for _, m := range got {
		texts = append(texts, m.Text)
	}
	if !slices.Equal(texts, []string{"1", "2", "3", "4"}) {
		t.Errorf("handled %v, want 1 2 3 4 once each, in order", texts)
	}
	if n := fake.Calls("groups.getLongPollServer"); n < 3 {
		t.Errorf("getLongPollServer called %d times after failed:3", n)
	}
	ts, _ := rdb.Get(context.Background(), c.tsKey).Result()
	if ts != strconv.Itoa(fake.Pending()) {
		t.Errorf("saved ts %q, want %d", ts, fake.Pending())
	}

	// A restarted poller continues from the saved ts: an event sent while
	// it was down is not lost, and none is handled twice.
	cancel()
	<-done
	<-done
	fake.Text(1001, "5")
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go c.Run(ctx2)
	go c.Poll(ctx2)
	got = rec.wait(5, 10*time.Second)
	time.Sleep(200 * time.Millisecond)
	if got = rec.got(); len(got) != 5 || got[4].Text != "5" {
		t.Errorf("after restart handled %d messages, last %q", len(got), got[len(got)-1].Text)
	}
}

func TestCallbackAPI(t *testing.T) {
	rdb, prefix := testRedis(t)
	fake := vktest.New("vk1.a.TEST", group, vktest.Limits{})
	defer fake.Close()
	rec := &recorder{}
	c := newChannel(t, fake, rdb, prefix, rec, fast)
	srv := httptest.NewServer(c.CallbackHandler())
	defer srv.Close()
	post := func(body []byte, retry int) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		if retry > 0 {
			req.Header.Set("X-Retry-Counter", strconv.Itoa(retry))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 512)
		n, _ := resp.Body.Read(buf)
		b.Write(buf[:n])
		return resp.StatusCode, b.String()
	}
	confirm, _ := json.Marshal(map[string]any{"type": "confirmation", "group_id": group, "secret": "cb-s3cret"})
	if code, body := post(confirm, 0); code != 200 || body != "a1b2c3d4" {
		t.Errorf("confirmation: %d %q", code, body)
	}
	_, ev := fake.Text(1101, "привет")
	if code, body := post(vktest.WithSecret(ev, "wrong"), 0); code != http.StatusForbidden || body == "ok" {
		t.Errorf("wrong secret: %d %q", code, body)
	}
	if code, _ := post(ev, 0); code != http.StatusForbidden {
		t.Errorf("no secret: %d", code)
	}
	other, _ := json.Marshal(map[string]any{"type": "confirmation", "group_id": 1, "secret": "cb-s3cret"})
	if code, body := post(other, 0); code != http.StatusForbidden || body == "a1b2c3d4" {
		t.Errorf("another community: %d %q", code, body)
	}
	if n := rdb.XLen(context.Background(), c.inbox.Stream()).Val(); n != 0 {
		t.Fatalf("refused posts queued %d events", n)
	}
	good := vktest.WithSecret(ev, "cb-s3cret")
	for retry := range 3 { // VK retries: queued once
		if code, body := post(good, retry); code != 200 || body != "ok" {
			t.Errorf("post %d: %d %q", retry, code, body)
		}
	}
	// "ok" means durably queued: it is in Redis before anything handles it,
	// without the secret.
	msgs := rdb.XRange(context.Background(), c.inbox.Stream(), "-", "+").Val()
	if len(msgs) != 1 || strings.Contains(msgs[0].Values["u"].(string), "cb-s3cret") {
		t.Fatalf("stream: %+v", msgs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	if got := fake.WaitSent(1101, 1, 5*time.Second); len(got) != 1 || got[0].Text != "echo: привет" {
		t.Errorf("replies = %+v", got)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(rec.got()); n != 1 {
		t.Errorf("handled %d times", n)
	}
}

var testLog = func() *slog.Logger {
	if os.Getenv("VK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return nil
}()
