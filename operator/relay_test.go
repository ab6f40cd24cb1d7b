package operator_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"kontakt/bot/telegram/telegramtest"
	"kontakt/escalation"
	"kontakt/operator"
)

// drainAll pumps, moving the fake clock on by the relay's interval, until
// nothing waits; it returns the virtual time it took.
func drainAll(ctx context.Context, e *env, clk *fakeClock) time.Duration {
	start := clk.Now()
	for range 1000 {
		e.pump(ctx)
		var waiting int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM op_feed WHERE group_chat = $1 AND posted_at IS NULL`, e.group).Scan(&waiting); err != nil {
			e.t.Fatal(err)
		}
		var topics int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM op_topics WHERE group_chat = $1 AND (thread_id IS NULL OR card_pending)`, e.group).Scan(&topics); err != nil {
			e.t.Fatal(err)
		}
		if waiting == 0 && topics == 0 {
			return clk.Now().Sub(start)
		}
		clk.Add(time.Second)
	}
	e.t.Fatal("the relay queue does not drain")
	return 0
}

// numbered reports whether the posts carry "сообщение 1" … "сообщение n",
// each once and in order.
func numbered(t *testing.T, posts []string, n int) {
	t.Helper()
	all := strings.Join(posts, "\n")
	pos := 0
	for i := 1; i <= n; i++ {
		w := fmt.Sprintf("сообщение %d.", i)
		if c := strings.Count(all, w); c != 1 {
			t.Fatalf("%q posted %d times", w, c)
		}
		at := strings.Index(all, w)
		if at < pos {
			t.Fatalf("%q out of order", w)
		}
		pos = at
	}
}

// TestSixtyMessagesAMinute: 60 client messages in one minute reach the
// group in order, merged into few posts, with no 429 from a fake that
// enforces Telegram's 20 a minute per group (on a fake clock: no waiting).
func TestSixtyMessagesAMinute(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	e := newEnv(t, telegramtest.TelegramLimits, func(c *operator.Config) { c.Now = clk.Now })
	e.fake.SetClock(clk.Now)
	a := e.open(ctx, "Когда заселение в общежитие?")
	drainAll(ctx, e, clk) // topic and card
	th := thread(t, a.ID)
	if th == 0 {
		t.Fatal("no topic")
	}
	before := len(e.fake.SentToThread(e.group, th))
	for i := 1; i <= 60; i++ {
		if _, err := e.svc.AddMessage(ctx, a.ID, escalation.Message{Author: escalation.FromClient, Text: fmt.Sprintf("сообщение %d.", i)}); err != nil {
			t.Fatal(err)
		}
		e.pump(ctx)
		clk.Add(time.Second)
	}
	tail := drainAll(ctx, e, clk)
	posts := e.fake.SentToThread(e.group, th)[before:]
	numbered(t, plain(posts), 60)
	if n := e.fake.TooManyRequests(); n != 0 {
		t.Fatalf("%d answers 429", n)
	}
	// At most 20 posts in any minute.
	for i := range posts {
		n := 0
		for _, p := range posts[i:] {
			if p.At.Sub(posts[i].At) < time.Minute {
				n++
			}
		}
		if n > 20 {
			t.Fatalf("%d posts within a minute from %v", n, posts[i].At)
		}
	}
	t.Logf("60 messages in 60s → %d posts (group limit 20/min), queue empty %v after the last message (virtual time)", len(posts), tail)
}

// TestRestartLosesNothing: a relay replaced midway (a crash after some
// posts) by a new one on the same tables posts the rest, each message once
// and in order.
func TestRestartLosesNothing(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	e := newEnv(t, telegramtest.TelegramLimits, func(c *operator.Config) { c.Now = clk.Now })
	e.fake.SetClock(clk.Now)
	a := e.open(ctx, "Где взять справку?")
	drainAll(ctx, e, clk)
	th := thread(t, a.ID)
	before := len(e.fake.SentToThread(e.group, th))
	// Long messages: a post holds only a few of them.
	long := strings.Repeat("текст ", 150)
	for i := 1; i <= 30; i++ {
		if _, err := e.svc.AddMessage(ctx, a.ID, escalation.Message{Author: escalation.FromClient, Text: fmt.Sprintf("сообщение %d. %s", i, long)}); err != nil {
			t.Fatal(err)
		}
	}
	e.pump(ctx)
	clk.Add(3 * time.Second)
	e.pump(ctx)
	mid := len(e.fake.SentToThread(e.group, th)) - before
	if mid == 0 {
		t.Fatal("nothing posted before the restart")
	}
	e.restart()
	drainAll(ctx, e, clk)
	posts := e.fake.SentToThread(e.group, th)[before:]
	numbered(t, plain(posts), 30)
	if len(posts) <= mid {
		t.Fatalf("nothing posted after the restart (%d before)", mid)
	}
	if n := e.fake.TooManyRequests(); n != 0 {
		t.Fatalf("%d answers 429", n)
	}
}

// TestDeletedTopicRecreated: a topic deleted by an admin is re-created in
// the same group, re-mapped, its card reposted with a short history, and
// the message that found it gone is posted there.
func TestDeletedTopicRecreated(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	e := newEnv(t, telegramtest.Limits{}, func(c *operator.Config) { c.Now = clk.Now })
	a := e.open(ctx, "Сколько стоит общежитие?")
	if _, err := e.svc.AddMessage(ctx, a.ID, escalation.Message{Author: escalation.FromClient, Text: "первое дополнение"}); err != nil {
		t.Fatal(err)
	}
	drainAll(ctx, e, clk)
	old := thread(t, a.ID)
	if !strings.Contains(e.fake.Topics(e.group)[old], "№ "+a.Number+" · Общежитие · Анна И.") {
		t.Fatalf("topic name %q", e.fake.Topics(e.group)[old])
	}
	e.fake.DeleteTopic(e.group, old)
	if _, err := e.svc.AddMessage(ctx, a.ID, escalation.Message{Author: escalation.FromClient, Text: "второе дополнение"}); err != nil {
		t.Fatal(err)
	}
	drainAll(ctx, e, clk)
	now := thread(t, a.ID)
	if now == 0 || now == old {
		t.Fatalf("topic not re-created: %d → %d", old, now)
	}
	posts := plain(e.fake.SentToThread(e.group, now))
	if len(posts) < 2 || !strings.Contains(posts[0], "создана заново") || !strings.Contains(posts[0], "первое дополнение") {
		t.Fatalf("re-created topic starts with %q", posts)
	}
	if !strings.Contains(strings.Join(posts[1:], "\n"), "второе дополнение") {
		t.Fatalf("the message that found the topic gone is lost: %q", posts)
	}
}
