package bot

import (
	"context"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestLimiterPacesOneChat(t *testing.T) {
	// 100 msgs/s per chat: ten messages to one chat cannot go out in less
	// than 9 intervals; ten messages to ten chats are not held back by it.
	l := NewLimiter(Limits{PerChat: 100, PerChatBurst: 1})
	ctx := context.Background()
	one := Chat{Channel: Telegram, ID: "1"}
	start := time.Now()
	for range 10 {
		if err := l.Wait(ctx, one); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 9*10*time.Millisecond-time.Millisecond {
		t.Errorf("10 messages to one chat took %v, want at least 89ms", d)
	}
	// The per-chat limit is per chat: a fresh chat has a full bucket.
	ctx2, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx2, Chat{Channel: Telegram, ID: "2"}); err != nil {
		t.Errorf("first message to another chat was held back: %v", err)
	}
}

func TestLimiterGroupAndGlobal(t *testing.T) {
	l := NewLimiter(Limits{PerChat: rate.Inf, PerGroup: rate.Every(time.Hour), PerGroupBurst: 1, Global: rate.Every(time.Hour), GlobalBurst: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	group := Chat{Channel: Telegram, ID: "-100", Group: true}
	if err := l.Wait(context.Background(), group); err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(ctx, group); err == nil {
		t.Error("second message to a group within the interval was not held back")
	}
	for i := range 2 {
		if err := l.Wait(context.Background(), Chat{Channel: Telegram, ID: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Wait(ctx, Chat{Channel: Telegram, ID: "z"}); err == nil {
		t.Error("global burst of 3 exceeded without waiting")
	}
}
