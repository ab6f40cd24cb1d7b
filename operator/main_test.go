package operator_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"kontakt/bot"
	"kontakt/bot/telegram"
	"kontakt/bot/telegram/telegramtest"
	"kontakt/escalation"
	"kontakt/operator"
)

// pool and rdb are the test database and Redis (scripts/test.sh). Other
// packages' tests use them at the same time: every test makes its own
// chats, groups and staff and looks only at them. The escalation outbox is
// read, not drained (see events), so other tests' dispatchers are not
// disturbed and do not disturb these tests.
var (
	pool *pgxpool.Pool
	rdb  *redis.Client
)

func TestMain(m *testing.M) {
	dsn, rurl := os.Getenv("KONTAKT_TEST_DATABASE_URL"), os.Getenv("KONTAKT_TEST_REDIS_URL")
	if dsn == "" || rurl == "" {
		fmt.Fprintln(os.Stderr, "KONTAKT_TEST_DATABASE_URL and KONTAKT_TEST_REDIS_URL are not set: run the tests with scripts/test.sh")
		os.Exit(1)
	}
	var err error
	if pool, err = pgxpool.New(context.Background(), dsn); err == nil {
		err = pool.Ping(context.Background())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect to test database:", err)
		os.Exit(1)
	}
	opt, err := redis.ParseURL(rurl)
	if err != nil {
		fmt.Fprintln(os.Stderr, "KONTAKT_TEST_REDIS_URL:", err)
		os.Exit(1)
	}
	rdb = redis.NewClient(opt)
	code := m.Run()
	pool.Close()
	rdb.Close()
	os.Exit(code)
}

// uid is a number unique enough to keep tests' rows apart.
func uid() int64 { return 1_000_000_000 + rand.Int64N(8_000_000_000) }

// forum adapts the Telegram channel to operator.Forum, as cmd/kontakt does.
type forum struct{ ch *telegram.Channel }

func gone(err error) error {
	if errors.Is(err, telegram.ErrThreadNotFound) {
		return fmt.Errorf("%w: %v", operator.ErrTopicGone, err)
	}
	return err
}

func (f forum) CreateTopic(ctx context.Context, g int64, name string) (int64, error) {
	return f.ch.CreateTopic(ctx, g, name)
}
func (f forum) SendToThread(ctx context.Context, g, th int64, r bot.Reply) error {
	return gone(f.ch.SendToThread(ctx, g, th, r))
}
func (f forum) SendFile(ctx context.Context, g, th int64, k bot.Kind, id, caption string) error {
	return gone(f.ch.SendFile(ctx, g, th, k, id, caption))
}

// alwaysOpen is a calendar with no time off, so that tests do not depend on
// the hour they run at.
func alwaysOpen() escalation.Calendar {
	c := escalation.DefaultCalendar()
	c.Start, c.End, c.Weekend = 0, 24*time.Hour, nil
	return c
}

// fakeClock is a settable clock for the group limits.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// events feeds a relay the escalation events of some chats, in order, as
// the Dispatcher would, without marking them delivered.
type events struct {
	relay *operator.Relay
	mu    sync.Mutex
	last  int64
	chats []string
}

func (e *events) watch(chat string) { e.mu.Lock(); e.chats = append(e.chats, chat); e.mu.Unlock() }

func (e *events) drain(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	rows, err := pool.Query(ctx, `SELECT id, payload FROM esc_outbox WHERE id > $1 AND payload->>'external_id' = ANY($2) ORDER BY id`, e.last, e.chats)
	if err != nil {
		return err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (escalation.Event, error) {
		var (
			id int64
			ev escalation.Event
		)
		err := r.Scan(&id, &ev)
		ev.ID = id
		return ev, err
	})
	if err != nil {
		return err
	}
	for _, ev := range list {
		if err := e.relay.HandleEvent(ctx, ev); err != nil {
			return fmt.Errorf("event %d %s: %w", ev.ID, ev.Kind, err)
		}
		e.last = ev.ID
	}
	return nil
}

// env is a relay against the fake Bot API with its own group.
type env struct {
	t     testing.TB
	fake  *telegramtest.Server
	ch    *telegram.Channel
	svc   *escalation.Service
	relay *operator.Relay
	ev    *events
	group int64
	cfg   operator.Config
	// handler gets what the channel receives (set before running it).
	handler bot.Handler
}

func newEnv(t testing.TB, lim telegramtest.Limits, mod func(*operator.Config)) *env {
	t.Helper()
	e := &env{t: t, fake: telegramtest.New("T"+strconv.FormatInt(uid(), 10), lim), group: -1_000_000_000_000 - uid()}
	t.Cleanup(e.fake.Close)
	e.svc = escalation.New(pool, escalation.Config{Calendar: alwaysOpen()})
	var h bot.HandlerFunc = func(ctx context.Context, m bot.Message) ([]bot.Reply, error) {
		if e.handler == nil {
			return nil, nil
		}
		return e.handler.Handle(ctx, m)
	}
	ch, err := telegram.New(telegram.Config{Token: e.fake.Token, BaseURL: e.fake.URL, Redis: rdb,
		Prefix: "optest:" + strconv.FormatInt(uid(), 10) + ":", Handler: h, Limiter: bot.NewLimiter(bot.Limits{}),
		PollTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e.ch = ch
	e.cfg = operator.Config{Appeals: e.svc, DB: pool, Forum: forum{ch}, Senders: map[bot.Channel]bot.Sender{bot.Telegram: ch},
		Groups: []int64{e.group}, SignNames: true}
	if mod != nil {
		mod(&e.cfg)
	}
	e.relay, err = operator.New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.ev = &events{relay: e.relay}
	return e
}

// restart replaces the relay by a new one on the same tables, as after a
// crash of the process.
func (e *env) restart() {
	r, err := operator.New(e.cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.relay = r
	e.ev.mu.Lock()
	e.ev.relay = r
	e.ev.mu.Unlock()
}

// open registers an appeal from a new Telegram chat, as the dialog does.
func (e *env) open(ctx context.Context, text string) *escalation.Appeal {
	e.t.Helper()
	chat := strconv.FormatInt(uid(), 10)
	e.ev.watch(chat)
	a, err := e.svc.Open(ctx, escalation.OpenAppeal{Client: escalation.ClientInfo{Channel: escalation.Telegram, ExternalID: chat,
		Name: "Анна Иванова", Group: escalation.Applicant, Phone: "+79990001122",
		Consent: &escalation.Consent{At: time.Now(), Channel: escalation.Telegram, Version: "test"}},
		Topic: "dormitory", Text: text})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// pump delivers events and posts once.
func (e *env) pump(ctx context.Context) int {
	e.t.Helper()
	if err := e.ev.drain(ctx); err != nil {
		e.t.Fatal(err)
	}
	n, _, err := e.relay.Pump(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// thread is the topic mapped to an appeal (0 if none yet).
func thread(t testing.TB, appealID int64) int64 {
	var th *int64
	err := pool.QueryRow(context.Background(), `SELECT thread_id FROM op_topics WHERE appeal_id = $1`, appealID).Scan(&th)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatal(err)
	}
	if th == nil {
		return 0
	}
	return *th
}

// waitFor polls cond until it holds or 15 seconds pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func plain(list []telegramtest.Sent) []string {
	out := make([]string, len(list))
	for i, m := range list {
		out[i] = m.Plain
	}
	return out
}

func contains(list []telegramtest.Sent, sub string) bool {
	for _, m := range list {
		if strings.Contains(m.Plain, sub) {
			return true
		}
	}
	return false
}
