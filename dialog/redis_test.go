package dialog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"kontakt/bot"
	"kontakt/faq"
)

// testRedis connects to the test Redis and returns a key prefix unique to
// the test; keys under it are deleted at the end.
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

func TestRedisStore(t *testing.T) {
	rdb, prefix := testRedis(t)
	ctx := context.Background()
	st := NewRedisStore(rdb, prefix+"dlg:", time.Hour)
	c := bot.Chat{Channel: bot.Telegram, ID: "1001"}

	s, ver, err := st.Load(ctx, c)
	if err != nil || ver != 0 || s.Step != StepNew {
		t.Fatalf("empty load = %+v, %d, %v", s, ver, err)
	}
	v1, err := st.Save(ctx, c, 0, State{Step: StepMenu, Audience: faq.Student})
	if err != nil || v1 != 1 {
		t.Fatalf("first save = %d, %v", v1, err)
	}
	if _, err := st.Save(ctx, c, 0, State{Step: StepAsk}); !errors.Is(err, ErrConflict) {
		t.Errorf("stale save: err = %v, want ErrConflict", err)
	}
	s, ver, err = st.Load(ctx, c)
	if err != nil || ver != 1 || s.Step != StepMenu || s.Audience != faq.Student {
		t.Errorf("load = %+v, %d, %v", s, ver, err)
	}
	ttl := rdb.PTTL(ctx, st.key(c)).Val()
	if ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("TTL = %v, want about 1h", ttl)
	}
	// A write refreshes the TTL.
	rdb.PExpire(ctx, st.key(c), time.Minute)
	if _, err := st.Save(ctx, c, 1, State{Step: StepAsk}); err != nil {
		t.Fatal(err)
	}
	if ttl := rdb.PTTL(ctx, st.key(c)).Val(); ttl <= 59*time.Minute {
		t.Errorf("TTL after save = %v, want refreshed to about 1h", ttl)
	}
}

func TestRedisStoreConcurrentWritersNeverLoseAnUpdate(t *testing.T) {
	rdb, prefix := testRedis(t)
	ctx := context.Background()
	st := NewRedisStore(rdb, prefix+"dlg:", time.Hour)
	c := bot.Chat{Channel: bot.Telegram, ID: "1002"}
	// 20 writers each add 10 lines by load-modify-CAS with retry; every
	// line must survive.
	var wg sync.WaitGroup
	for w := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; {
				s, ver, err := st.Load(ctx, c)
				if err != nil {
					t.Error(err)
					return
				}
				s.Candidates = append(s.Candidates, string(rune('a'+w)))
				if _, err := st.Save(ctx, c, ver, s); errors.Is(err, ErrConflict) {
					continue
				} else if err != nil {
					t.Error(err)
					return
				}
				i++
			}
		}()
	}
	wg.Wait()
	s, ver, _ := st.Load(ctx, c)
	if len(s.Candidates) != 200 || ver != 200 {
		t.Errorf("after 200 writes: %d items, version %d", len(s.Candidates), ver)
	}
}
