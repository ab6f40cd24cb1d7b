// Package inbox is the durable inbound queue that channel adapters share.
// An adapter adds each raw platform update once (deduplicated by the
// platform's id for the update, for a day) to a Redis Stream before it
// confirms the update to the platform; Run reads the stream through a
// consumer group into per-chat lanes, so that the updates of one chat are
// handled one at a time in order and different chats concurrently. An
// update is acknowledged only after it was handled, so a process killed
// midway leaves it pending and the next Run with the same Consumer handles
// it again: processing is at least once.
package inbox

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Config configures an Inbox. Redis and Prefix are required.
type Config struct {
	Redis redis.UniversalClient
	// Prefix of the keys: the stream is Prefix+"{upd}:stream", the
	// deduplication markers Prefix+"{upd}:seen:<id>".
	Prefix string
	// Lanes is how many chats are handled at once (64 by default).
	Lanes int
	// Consumer names this replica in the stream's consumer group; it must
	// be stable across restarts so a restarted replica takes over its own
	// unacknowledged updates. "kontakt" by default.
	Consumer string
	// SeenFor is how long update ids are remembered (a day by default).
	SeenFor time.Duration
	Log     *slog.Logger
}

// Inbox is a durable, deduplicating, per-chat ordered queue of updates.
type Inbox struct {
	cfg    Config
	stream string
	group  string
	seen   string
}

// New returns an Inbox; it makes no calls to Redis.
func New(cfg Config) *Inbox {
	if cfg.Lanes <= 0 {
		cfg.Lanes = 64
	}
	if cfg.Consumer == "" {
		cfg.Consumer = "kontakt"
	}
	if cfg.SeenFor <= 0 {
		cfg.SeenFor = 24 * time.Hour
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Inbox{cfg: cfg, stream: cfg.Prefix + "{upd}:stream", group: "kontakt", seen: cfg.Prefix + "{upd}:seen:"}
}

// Stream is the key of the Redis Stream.
func (q *Inbox) Stream() string { return q.stream }

// addScript adds an update to the stream unless its id was seen recently,
// atomically: KEYS[1] the seen marker, KEYS[2] the stream; ARGV the
// update, the lane key and the marker's lifetime in seconds. Returns 1 if
// added.
var addScript = redis.NewScript(`
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[3]) then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', 1000000, '*', 'u', ARGV[1], 'c', ARGV[2])
  return 1
end
return 0
`)

// Add stores an update durably unless an update with the same id was
// added before; it returns whether the update was new. lane is the
// ordering key (the chat): updates with the same lane are handled in the
// order they were added.
func (q *Inbox) Add(ctx context.Context, id, lane string, raw []byte) (bool, error) {
	if id == "" {
		return false, errors.New("inbox: update without id")
	}
	n, err := addScript.Run(ctx, q.cfg.Redis, []string{q.seen + id, q.stream}, raw, lane, int(q.cfg.SeenFor/time.Second)).Int()
	if err != nil {
		return false, fmt.Errorf("queue update %s: %w", id, err)
	}
	return n == 1, nil
}

// Run consumes the queue until ctx is done, calling handle with each
// update: one at a time per lane, in order; different lanes concurrently.
// An update is acknowledged and deleted when handle returns, unless ctx
// was cancelled meanwhile (then it stays pending for the next Run).
// Updates another consumer left unacknowledged for over a minute are
// taken over.
func (q *Inbox) Run(ctx context.Context, handle func(ctx context.Context, raw []byte)) error {
	rdb := q.cfg.Redis
	if err := rdb.XGroupCreateMkStream(ctx, q.stream, q.group, "0").Err(); err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("inbox: create consumer group: %w", err)
	}
	lanes := make([]chan redis.XMessage, q.cfg.Lanes)
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
					raw, _ := m.Values["u"].(string)
					handle(ctx, []byte(raw))
					if ctx.Err() != nil {
						return // killed midway: leave it pending for the next run
					}
					q.ack(ctx, m.ID)
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
			msgs, _, err := rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: q.stream, Group: q.group, Consumer: q.cfg.Consumer,
				MinIdle: time.Minute, Start: "0-0", Count: 100}).Result()
			if err == nil && len(msgs) > 0 {
				q.cfg.Log.Warn("claimed stale updates", "count", len(msgs))
				dispatch(msgs)
			}
		}
		res, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: q.group, Consumer: q.cfg.Consumer,
			Streams: []string{q.stream, start}, Count: 256, Block: time.Second}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			q.cfg.Log.Error("read update queue", "err", err)
			Sleep(ctx, time.Second)
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
			q.cfg.Log.Info("resuming unacknowledged updates", "count", len(msgs))
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

func (q *Inbox) ack(ctx context.Context, id string) {
	if err := q.cfg.Redis.XAck(ctx, q.stream, q.group, id).Err(); err != nil {
		q.cfg.Log.Error("ack update", "entry", id, "err", err)
	}
	q.cfg.Redis.XDel(ctx, q.stream, id)
}

// Sleep waits for d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
