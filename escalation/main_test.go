package escalation_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"kontakt/escalation"
)

// pool is the test database, migrated by scripts/test.sh. Other packages'
// tests use it at the same time: every test makes its own rows (unique
// chats, staff, departments) and filters what it checks to them.
var pool *pgxpool.Pool

func TestMain(m *testing.M) {
	url := os.Getenv("KONTAKT_TEST_DATABASE_URL")
	if url == "" {
		fmt.Fprintln(os.Stderr, "KONTAKT_TEST_DATABASE_URL is not set: run the tests with scripts/test.sh, which starts PostgreSQL and migrates a test database")
		os.Exit(1)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "KONTAKT_TEST_DATABASE_URL:", err)
		os.Exit(1)
	}
	cfg.MaxConns = 16
	pool, err = pgxpool.NewWithConfig(context.Background(), cfg)
	if err == nil {
		err = pool.Ping(context.Background())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect to test database:", err)
		os.Exit(1)
	}
	code := m.Run()
	pool.Close()
	os.Exit(code)
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// msk builds a Moscow time.
func msk(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, escalation.Moscow)
}

// monday10 is Monday 2 March 2026, 10:00 Moscow time: working hours.
var monday10 = msk(2026, time.March, 2, 10, 0)

// newService returns a service on the test database with a clock at
// monday10 (or at the time given).
func newService(t testing.TB, at ...time.Time) (*escalation.Service, *clock) {
	t.Helper()
	clk := &clock{t: monday10}
	if len(at) > 0 {
		clk.t = at[0]
	}
	return escalation.New(pool, escalation.Config{Now: clk.Now}), clk
}

var uniq atomic.Int64

// unique returns a name no other test (in any run) uses.
func unique(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), uniq.Add(1))
}

// openFor registers an appeal from a new Telegram chat.
func openFor(t testing.TB, s *escalation.Service, group escalation.Group, topic string) *escalation.Appeal {
	t.Helper()
	a, err := s.Open(context.Background(), escalation.OpenAppeal{
		Client: escalation.ClientInfo{Channel: escalation.Telegram, ExternalID: unique("tg"), Name: "Иван", Group: group},
		Topic:  topic,
		Text:   "Когда будет приказ о зачислении?",
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return a
}

// addStaff registers a person; roles and department as given.
func addStaff(t testing.TB, s *escalation.Service, dept string, maxOpen int, roles ...escalation.Role) *escalation.Staff {
	t.Helper()
	p, err := s.AddStaff(context.Background(), escalation.Staff{
		Name: unique("Менеджер"), Roles: roles, Department: dept, Active: true, MaxOpen: maxOpen,
	})
	if err != nil {
		t.Fatalf("AddStaff: %v", err)
	}
	return p
}
