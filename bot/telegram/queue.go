package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/redis/go-redis/v9"

	"kontakt/bot"
)

// enqueueScript adds an update to the stream unless its update_id was seen
// in the last day, atomically: KEYS[1] the seen marker, KEYS[2] the stream;
// ARGV the update's JSON and the chat key. Returns 1 if added.
var enqueueScript = redis.NewScript(`
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', 86400) then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', 1000000, '*', 'u', ARGV[1], 'c', ARGV[2])
  return 1
end
return 0
`)

// enqueue stores an update durably; duplicates (same update_id) are
// dropped. It returns whether the update was new.
func (c *Channel) enqueue(ctx context.Context, raw []byte) (bool, error) {
	var u models.Update
	if err := json.Unmarshal(raw, &u); err != nil {
		return false, fmt.Errorf("decode update: %w", err)
	}
	if u.ID <= 0 {
		return false, errors.New("decode update: no update_id")
	}
	seen := c.cfg.Prefix + "{upd}:seen:" + strconv.FormatInt(u.ID, 10)
	n, err := enqueueScript.Run(ctx, c.cfg.Redis, []string{seen, c.stream}, raw, chatKey(&u)).Int()
	if err != nil {
		return false, fmt.Errorf("queue update %d: %w", u.ID, err)
	}
	return n == 1, nil
}

// Run consumes the queue until ctx is done: updates of one chat are handled
// one at a time in order, different chats concurrently. An update is
// acknowledged only after it was handled and its replies sent, so a
// process killed midway leaves it pending, and the next Run with the same
// Consumer handles it (at least once).
func (c *Channel) Run(ctx context.Context) error {
	rdb := c.cfg.Redis
	if err := rdb.XGroupCreateMkStream(ctx, c.stream, c.group, "0").Err(); err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("telegram: create consumer group: %w", err)
	}
	lanes := make([]chan redis.XMessage, c.cfg.Lanes)
	var wg sync.WaitGroup
	for i := range lanes {
		lanes[i] = make(chan redis.XMessage, 64)
		wg.Add(1)
		go func(ch chan redis.XMessage) {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case m := <-ch:
					c.process(ctx, m)
				}
			}
		}(lanes[i])
	}
	dispatch := func(msgs []redis.XMessage) bool {
		for _, m := range msgs {
			key, _ := m.Values["c"].(string)
			h := fnv.New32a()
			h.Write([]byte(key))
			select {
			case lanes[h.Sum32()%uint32(len(lanes))] <- m:
			case <-ctx.Done():
				return false
			}
		}
		return true
	}
	// First what this consumer left unacknowledged (a crash), then new ones.
	start := "0"
	lastClaim := time.Time{}
	for ctx.Err() == nil {
		if start == ">" && time.Since(lastClaim) > 30*time.Second {
			lastClaim = time.Now()
			// Take over updates another consumer left for over a minute.
			msgs, _, err := rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: c.stream, Group: c.group, Consumer: c.cfg.Consumer,
				MinIdle: time.Minute, Start: "0-0", Count: 100}).Result()
			if err == nil && len(msgs) > 0 {
				c.log.Warn("claimed stale updates", "count", len(msgs))
				dispatch(msgs)
			}
		}
		res, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: c.group, Consumer: c.cfg.Consumer,
			Streams: []string{c.stream, start}, Count: 256, Block: time.Second}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			c.log.Error("read update queue", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		var msgs []redis.XMessage
		for _, s := range res {
			msgs = append(msgs, s.Messages...)
		}
		if start != ">" && len(msgs) == 0 {
			start = ">"
			continue
		}
		if start != ">" {
			c.log.Info("resuming unacknowledged updates", "count", len(msgs))
			// The next page of pending entries starts after the last one.
			start = msgs[len(msgs)-1].ID
		}
		if !dispatch(msgs) {
			break
		}
	}
	wg.Wait()
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// process handles one queued update and acknowledges it.
func (c *Channel) process(ctx context.Context, m redis.XMessage) {
	raw, _ := m.Values["u"].(string)
	var u models.Update
	if err := json.Unmarshal([]byte(raw), &u); err != nil {
		c.log.Error("undecodable update in queue; dropping", "entry", m.ID, "err", err)
		c.ack(ctx, m.ID)
		return
	}
	c.handleUpdate(ctx, &u)
	if ctx.Err() != nil {
		return // killed midway: leave it pending for the next run
	}
	c.ack(ctx, m.ID)
}

func (c *Channel) ack(ctx context.Context, id string) {
	if err := c.cfg.Redis.XAck(ctx, c.stream, c.group, id).Err(); err != nil {
		c.log.Error("ack update", "entry", id, "err", err)
	}
	c.cfg.Redis.XDel(ctx, c.stream, id)
}

// handleUpdate turns an update into a message, runs the handler and sends
// the replies.
func (c *Channel) handleUpdate(ctx context.Context, u *models.Update) {
	if cm := u.MyChatMember; cm != nil {
		c.memberChanged(ctx, cm)
		return
	}
	msg, ok := toMessage(u)
	if !ok {
		c.log.Debug("ignored update", "update", u.ID)
		return
	}
	log := c.log.With("chat", msg.Chat.String(), "update", u.ID)
	if u.CallbackQuery != nil {
		if _, err := c.api.AnswerCallbackQuery(ctx, &tg.AnswerCallbackQueryParams{CallbackQueryID: u.CallbackQuery.ID}); err != nil {
			log.Warn("answer callback query", "err", err)
		}
	}
	c.cfg.Redis.Del(ctx, c.unreachableKey(msg.Chat)) // they wrote: reachable again
	replies, err := c.cfg.Handler.Handle(ctx, msg)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		log.Error("handle message", "err", err)
		replies = []bot.Reply{{Text: bot.SorryText}}
	}
	for _, r := range replies {
		if err := c.Send(ctx, msg.Chat, r); err != nil {
			if !errors.Is(err, bot.ErrUnreachable) && ctx.Err() == nil {
				log.Error("send reply", "err", err)
			}
			return
		}
	}
}

// memberChanged notes that a user blocked (or unblocked) the bot.
func (c *Channel) memberChanged(ctx context.Context, cm *models.ChatMemberUpdated) {
	chat := bot.Chat{Channel: bot.Telegram, ID: strconv.FormatInt(cm.Chat.ID, 10), Group: cm.Chat.Type != "private"}
	if cm.NewChatMember.Type == models.ChatMemberTypeBanned || cm.NewChatMember.Type == models.ChatMemberTypeLeft {
		c.markUnreachable(ctx, chat)
		return
	}
	c.cfg.Redis.Del(ctx, c.unreachableKey(chat))
}
