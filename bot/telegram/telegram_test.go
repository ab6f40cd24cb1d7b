package telegram

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"kontakt/bot"
	"kontakt/bot/telegram/telegramtest"
)

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
	prefix := "test:" + hex.EncodeToString(b) + ":"
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

// recorder is a handler that records messages and echoes texts.
type recorder struct {
	mu   sync.Mutex
	msgs []bot.Message
	// block, if set, is waited on before handling (a slow handler).
	block chan struct{}
}

func (r *recorder) Handle(ctx context.Context, m bot.Message) ([]bot.Reply, error) {
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	r.mu.Unlock()
	return []bot.Reply{{Text: "echo: " + m.Text + m.Data}}, nil
}

func (r *recorder) got() []bot.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

func newChannel(t *testing.T, fake *telegramtest.Server, rdb *redis.Client, prefix string, h bot.Handler, lim bot.Limits) *Channel {
	t.Helper()
	c, err := New(Config{Token: fake.Token, BaseURL: fake.URL, Redis: rdb, Prefix: prefix, Handler: h,
		Limiter: bot.NewLimiter(lim), WebhookSecret: "s3cret-token", PollTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var fast = bot.Limits{PerChat: rate.Inf, Global: rate.Inf}

func TestParseCommand(t *testing.T) {
	tests := []struct{ in, cmd, payload string }{
		{"/start", "start", ""},
		{"/start dormitory", "start", "dormitory"},
		{"/Start@kontakt_bot  общежитие ", "start", "общежитие"},
		{"/помощь", "помощь", ""},
		{"привет /help", "", ""},
		{"/", "", ""},
	}
	for _, tt := range tests {
		cmd, payload, ok := parseCommand(tt.in)
		if cmd != tt.cmd || payload != tt.payload || ok != (tt.cmd != "") {
			t.Errorf("parseCommand(%q) = %q, %q, %v", tt.in, cmd, payload, ok)
		}
	}
}

func TestSplit(t *testing.T) {
	long := strings.Repeat("Общежитие предоставляется иногородним студентам. ", 200) // ~10,000 runes
	emoji := strings.Repeat("😀", 3000)                                               // 6000 UTF-16 units
	for name, s := range map[string]string{"words": long, "emoji": emoji, "no spaces": strings.Repeat("я", 9000)} {
		parts := split(s, MaxText)
		if len(parts) < 2 {
			t.Errorf("%s: %d parts", name, len(parts))
		}
		joined := 0
		for _, p := range parts {
			if n := len(utf16.Encode([]rune(p))); n > MaxText || n == 0 {
				t.Errorf("%s: part of %d UTF-16 units", name, n)
			}
			joined += len([]rune(strings.ReplaceAll(p, " ", "")))
		}
		if want := len([]rune(strings.ReplaceAll(s, " ", ""))); joined != want {
			t.Errorf("%s: %d characters after split, want %d", name, joined, want)
		}
	}
	if got := escapeHTML(`<b>A&B</b> "q"`); got != `&lt;b&gt;A&amp;B&lt;/b&gt; "q"` {
		t.Errorf("escapeHTML = %q", got)
	}
}

func TestSendEscapesSplitsAndAddsButtons(t *testing.T) {
	rdb, prefix := testRedis(t)
	fake := telegramtest.New("T1", telegramtest.Limits{})
	defer fake.Close()
	c := newChannel(t, fake, rdb, prefix, &recorder{}, fast)
	chat := bot.Chat{Channel: bot.Telegram, ID: "77"}
	text := "<script>1 & 2</script>\n" + strings.Repeat("слово ", 1000)
	err := c.Send(context.Background(), chat, bot.Reply{Text: text, Buttons: [][]bot.Button{{{Text: "Помогло", Data: "fb:yes"}}}})
	if err != nil {
		t.Fatal(err)
	}
	sent := fake.SentTo(77)
	if len(sent) != 2 {
		t.Fatalf("%d messages sent, want 2", len(sent))
	}
	if !strings.HasPrefix(sent[0].Text, "&lt;script&gt;1 &amp; 2") || sent[0].ParseMode != "HTML" || !strings.HasPrefix(sent[0].Plain, "<script>") {
		t.Errorf("first part = %q (%s)", sent[0].Text[:40], sent[0].ParseMode)
	}
	if sent[0].Buttons != nil || len(sent[1].Buttons) != 1 || sent[1].Buttons[0][0].Data != "fb:yes" {
		t.Errorf("buttons: first %v, last %v", sent[0].Buttons, sent[1].Buttons)
	}
}

func TestSendHonours429AndMarks403(t *testing.T) {
	rdb, prefix := testRedis(t)
	fake := telegramtest.New("T2", telegramtest.Limits{RetryAfter: 1})
	defer fake.Close()
	c := newChannel(t, fake, rdb, prefix, &recorder{}, fast)
	ctx := context.Background()
	chat := bot.Chat{Channel: bot.Telegram, ID: "5"}

	fake.FailNext(429)
	start := time.Now()
	if err := c.Send(ctx, chat, bot.Reply{Text: "после паузы"}); err != nil {
		t.Fatalf("send after one 429: %v", err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("retried after %v, before retry_after of 1s", d)
	}
	if n := len(fake.SentTo(5)); n != 1 {
		t.Errorf("%d delivered", n)
	}

	c.cfg.MaxRetries = 1
	fake.FailNext(429, 429)
	if err := c.Send(ctx, chat, bot.Reply{Text: "x"}); !errors.Is(err, bot.ErrRateLimited) {
		t.Errorf("after bounded retries err = %v, want ErrRateLimited", err)
	}

	fake.Block(6)
	blocked := bot.Chat{Channel: bot.Telegram, ID: "6"}
	for range 5 {
		if err := c.Send(ctx, blocked, bot.Reply{Text: "x"}); !errors.Is(err, bot.ErrUnreachable) {
			t.Errorf("send to blocked chat: err = %v", err)
		}
	}
	if n := fake.Forbidden(); n != 1 {
		t.Errorf("Telegram was asked %d times after the 403, want 1 (no retry storm)", n)
	}
	if !c.Unreachable(ctx, blocked) {
		t.Error("blocked chat not marked unreachable")
	}
}

func TestBurstToOneChatRespectsLimits(t *testing.T) {
	rdb, prefix := testRedis(t)
	fake := telegramtest.New("T3", telegramtest.TelegramLimits)
	defer fake.Close()
	c := newChannel(t, fake, rdb, prefix, &recorder{}, bot.TelegramLimits)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 4 { // four replies at once to one private chat
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Send(ctx, bot.Chat{Channel: bot.Telegram, ID: "9"}, bot.Reply{Text: "часть " + strconv.Itoa(i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	// and two to a group
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Send(ctx, bot.Chat{Channel: bot.Telegram, ID: "-1009", Group: true}, bot.Reply{Text: "группа " + strconv.Itoa(i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := fake.TooManyRequests(); n != 0 {
		t.Errorf("the fake answered %d 429s", n)
	}
	if n := len(fake.SentTo(9)); n != 4 {
		t.Errorf("%d of 4 delivered", n)
	}
}

func TestWebhook(t *testing.T) {
	rdb, prefix := testRedis(t)
	fake := telegramtest.New("T4", telegramtest.Limits{})
	defer fake.Close()
	rec := &recorder{}
	c := newChannel(t, fake, rdb, prefix, rec, fast)
	srv := httptest.NewServer(c.WebhookHandler())
	defer srv.Close()
	_, upd := fake.Text(31, "привет")
	post := func(secret string, body string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("wrong", string(upd)); code != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d", code)
	}
	if code := post("", string(upd)); code != http.StatusUnauthorized {
		t.Errorf("no secret: %d", code)
	}
	if code := post("s3cret-token", "{}"); code != http.StatusBadRequest {
		t.Errorf("not an update: %d", code)
	}
	if n := rdb.XLen(context.Background(), c.stream).Val(); n != 0 {
		t.Fatalf("rejected posts queued %d updates", n)
	}
	// Telegram retries: the same update twice is queued once.
	if code := post("s3cret-token", string(upd)); code != http.StatusOK {
		t.Errorf("good post: %d", code)
	}
	if code := post("s3cret-token", string(upd)); code != http.StatusOK {
		t.Errorf("repeated post: %d", code)
	}
	// 200 means durably queued: it is in Redis before anything handles it.
	if n := rdb.XLen(context.Background(), c.stream).Val(); n != 1 {
		t.Fatalf("stream has %d entries after two posts of one update, want 1", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	if got := fake.WaitSent(31, 1, 5*time.Second); len(got) != 1 || got[0].Plain != "echo: привет" {
		t.Errorf("replies = %+v", got)
	}
}

func TestPollingOrderAndKilledProcessLosesNothing(t *testing.T) {
	rdb, prefix := testRedis(t)
	fake := telegramtest.New("T5", telegramtest.Limits{})
	defer fake.Close()
	const chats, perChat = 5, 20
	for i := range perChat {
		for ch := range chats {
			fake.Text(int64(100+ch), strconv.Itoa(i))
		}
	}
	fake.Press(100, "btn") // a callback query from a message with a date
	fake.Text(100, "/start общежитие")

	// First process: handles a few updates, then is killed midway.
	slow := &recorder{block: make(chan struct{})}
	ctx1, kill := context.WithCancel(context.Background())
	c1 := newChannel(t, fake, rdb, prefix, slow, fast)
	done := make(chan struct{}, 2)
	go func() { c1.Poll(ctx1); done <- struct{}{} }()
	go func() { c1.Run(ctx1); done <- struct{}{} }()
	for range 7 {
		slow.block <- struct{}{}
	}
	deadline := time.Now().Add(5 * time.Second)
	for fake.Pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	kill()
	<-done
	<-done
	first := slow.got()
	if len(first) < 7 || len(first) >= chats*perChat {
		t.Fatalf("first process handled %d updates", len(first))
	}

	// Second process, same consumer: finishes every update.
	rec := &recorder{}
	ctx2, stop := context.WithCancel(context.Background())
	defer stop()
	c2 := newChannel(t, fake, rdb, prefix, rec, fast)
	go c2.Poll(ctx2)
	go c2.Run(ctx2)
	total := chats*perChat + 2
	deadline = time.Now().Add(10 * time.Second)
	for len(slow.got())+len(rec.got()) < total && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	all := append(first, rec.got()...)
	seen := map[string]map[string]int{}
	var order = map[string][]string{}
	for _, m := range all {
		if seen[m.Chat.ID] == nil {
			seen[m.Chat.ID] = map[string]int{}
		}
		seen[m.Chat.ID][m.Text+m.Data]++
		order[m.Chat.ID] = append(order[m.Chat.ID], m.Text)
	}
	for ch := range chats {
		id := strconv.Itoa(100 + ch)
		for i := range perChat {
			// At least once: an update handled just as the process died
			// may be handled again, but none is lost.
			if seen[id][strconv.Itoa(i)] < 1 {
				t.Errorf("chat %s update %d lost", id, i)
			}
		}
		// Per-chat order: the numbers come in sequence.
		var nums []int
		for _, s := range order[id] {
			if n, err := strconv.Atoi(s); err == nil {
				nums = append(nums, n)
			}
		}
		if !slices.IsSorted(nums) {
			t.Errorf("chat %s handled out of order: %v", id, nums)
		}
	}
	var cb, cmd bool
	for _, m := range all {
		cb = cb || (m.Kind == bot.Callback && m.Data == "btn" && m.Chat.ID == "100")
		cmd = cmd || (m.Kind == bot.Command && m.Command == "start" && m.Payload == "общежитие")
	}
	if !cb || !cmd {
		t.Errorf("callback handled %v, command parsed %v", cb, cmd)
	}
	if n := fake.Calls("answerCallbackQuery"); n < 1 {
		t.Error("callback query not answered")
	}
}
