package bot

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits are outbound message limits. A zero rate means no limit.
type Limits struct {
	// PerChat is the rate of messages to one private chat, PerChatBurst
	// how many may go at once.
	PerChat      rate.Limit
	PerChatBurst int
	// PerGroup is the rate of messages to one group chat.
	PerGroup      rate.Limit
	PerGroupBurst int
	// Global is the rate of messages to all chats together.
	Global      rate.Limit
	GlobalBurst int
}

// TelegramLimits are the limits Telegram enforces (its Bot FAQ): about one
// message a second per chat, 20 a minute per group, 30 a second overall.
var TelegramLimits = Limits{
	PerChat: 1, PerChatBurst: 1,
	PerGroup: rate.Every(3 * time.Second), PerGroupBurst: 1,
	Global: 30, GlobalBurst: 30,
}

// Limiter paces outbound messages per chat and globally. It is safe for
// concurrent use; one Limiter is shared by every sender of a channel.
type Limiter struct {
	lim    Limits
	global *rate.Limiter

	mu    sync.Mutex
	chats map[Chat]*chatLimiter
	sweep time.Time
}

type chatLimiter struct {
	l    *rate.Limiter
	used time.Time
}

// NewLimiter returns a limiter enforcing lim.
func NewLimiter(lim Limits) *Limiter {
	l := &Limiter{lim: lim, chats: make(map[Chat]*chatLimiter)}
	if lim.Global > 0 {
		l.global = rate.NewLimiter(lim.Global, max(lim.GlobalBurst, 1))
	}
	return l
}

// Wait blocks until a message may be sent to chat, or ctx is done.
func (l *Limiter) Wait(ctx context.Context, chat Chat) error {
	if cl := l.chat(chat); cl != nil {
		if err := cl.Wait(ctx); err != nil {
			return err
		}
	}
	if l.global != nil {
		return l.global.Wait(ctx)
	}
	return nil
}

func (l *Limiter) chat(chat Chat) *rate.Limiter {
	r, burst := l.lim.PerChat, l.lim.PerChatBurst
	if chat.Group {
		r, burst = l.lim.PerGroup, l.lim.PerGroupBurst
	}
	if r <= 0 {
		return nil
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	// Forget chats idle for a while; their limiters are full again anyway.
	if now.Sub(l.sweep) > time.Minute {
		for k, c := range l.chats {
			if now.Sub(c.used) > time.Minute {
				delete(l.chats, k)
			}
		}
		l.sweep = now
	}
	c := l.chats[chat]
	if c == nil {
		c = &chatLimiter{l: rate.NewLimiter(r, max(burst, 1))}
		l.chats[chat] = c
	}
	c.used = now
	return c.l
}
