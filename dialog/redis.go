package dialog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"kontakt/bot"
)

// ErrConflict: the state was changed by someone else since it was loaded.
var ErrConflict = errors.New("dialog: state changed concurrently")

// RedisStore keeps each chat's State in a Redis hash {ver, data} with a
// TTL refreshed on every write. Writes are compare-and-set on ver, in one
// Lua script, so two replicas can never interleave one chat's steps.
type RedisStore struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
}

// NewRedisStore returns a store whose keys start with prefix (e.g.
// "dlg:") and expire ttl after the last write.
func NewRedisStore(rdb redis.UniversalClient, prefix string, ttl time.Duration) *RedisStore {
	return &RedisStore{rdb: rdb, prefix: prefix, ttl: ttl}
}

func (s *RedisStore) key(chat bot.Chat) string { return s.prefix + "{" + chat.String() + "}" }

// Load returns the chat's state and its version; a chat Redis does not
// know has the zero State and version 0.
func (s *RedisStore) Load(ctx context.Context, chat bot.Chat) (State, int64, error) {
	vals, err := s.rdb.HMGet(ctx, s.key(chat), "ver", "data").Result()
	if err != nil {
		return State{}, 0, fmt.Errorf("load dialog of %v: %w", chat, err)
	}
	var st State
	verStr, _ := vals[0].(string)
	data, _ := vals[1].(string)
	if verStr == "" {
		return st, 0, nil
	}
	ver, err := strconv.ParseInt(verStr, 10, 64)
	if err != nil {
		return st, 0, fmt.Errorf("load dialog of %v: bad version %q", chat, verStr)
	}
	if err := json.Unmarshal([]byte(data), &st); err != nil {
		// A state we cannot read is a fresh start, not an outage.
		return State{}, ver, nil
	}
	return st, ver, nil
}

// casScript: KEYS[1] the hash; ARGV: expected version, data, ttl in ms.
// Returns the new version, or 0 when the stored version differs.
var casScript = redis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'ver') or '0')
if cur ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'ver', cur + 1, 'data', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return cur + 1
`)

// Save writes st if the stored version is still ver and returns the new
// version; otherwise it returns ErrConflict.
func (s *RedisStore) Save(ctx context.Context, chat bot.Chat, ver int64, st State) (int64, error) {
	data, err := json.Marshal(st)
	if err != nil {
		return 0, fmt.Errorf("save dialog of %v: %w", chat, err)
	}
	n, err := casScript.Run(ctx, s.rdb, []string{s.key(chat)}, ver, data, s.ttl.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("save dialog of %v: %w", chat, err)
	}
	if n == 0 {
		return 0, ErrConflict
	}
	return n, nil
}
