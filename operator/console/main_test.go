package console

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"kontakt/escalation"
	"kontakt/faq"
	"kontakt/knowledge"
)

// pool is the test database, migrated by scripts/test.sh and shared with
// other packages' tests: every test makes its own rows and checks only them.
var pool *pgxpool.Pool

func TestMain(m *testing.M) {
	dsn := os.Getenv("KONTAKT_TEST_DATABASE_URL")
	if dsn == "" {
		fmt.Fprintln(os.Stderr, "KONTAKT_TEST_DATABASE_URL is not set: run the tests with scripts/test.sh")
		os.Exit(1)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
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
	stopChrome()
	pool.Close()
	os.Exit(code)
}

var uniq atomic.Int64

// unique returns a name no other test (in any run) uses.
func unique(prefix string) string {
	return fmt.Sprintf("%s%d%d", prefix, time.Now().UnixNano()%1e12, uniq.Add(1))
}

// fakeNotifier records what would be sent to clients.
type fakeNotifier struct {
	mu   sync.Mutex
	sent map[int64][]string
}

func (n *fakeNotifier) Notify(_ context.Context, a *escalation.Appeal, text string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if a.Channel == escalation.WalkIn || a.Channel == escalation.Phone {
		return ErrNoChannel
	}
	if n.sent == nil {
		n.sent = map[int64][]string{}
	}
	n.sent[a.ID] = append(n.sent[a.ID], text)
	return nil
}

func (n *fakeNotifier) to(id int64) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.sent[id]...)
}

// env is a console on the test database with one person of every role.
type env struct {
	t      testing.TB
	srv    *Server
	svc    *escalation.Service
	store  *faq.Store
	kb     *knowledge.Base
	notify *fakeNotifier
	staff  map[escalation.Role]*escalation.Staff
	dept   string
	cat    string // the entries of this env are in this category
}

// newEnv builds a console whose knowledge base holds only the entries of
// its own category (created by the test), kept current by the store's
// change notifications as in production.
func newEnv(t testing.TB, n Notifier) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e := &env{t: t, svc: escalation.New(pool, escalation.Config{}), store: faq.NewStore(pool),
		staff: map[escalation.Role]*escalation.Staff{}, dept: unique("dept"), cat: unique("webtest")}
	if fn, ok := n.(*fakeNotifier); ok {
		e.notify = fn
	}
	kb, err := knowledge.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kb.Close() })
	e.kb = kb
	changed := make(chan struct{}, 1)
	listening := make(chan struct{})
	var once sync.Once
	go e.store.Listen(ctx, func(ids []string) {
		if ids == nil {
			once.Do(func() { close(listening) })
		}
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	go kb.Follow(ctx, lister{e.store, e.cat}, changed, 10*time.Millisecond, slog.New(slog.DiscardHandler))
	select {
	case <-listening:
	case <-time.After(10 * time.Second):
		t.Fatal("faq listener did not connect")
	}
	srv, err := New(Config{DB: pool, Appeals: e.svc, FAQ: e.store, Knowledge: kb, Notifier: n,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Run(ctx)
	e.srv = srv
	for _, r := range escalation.Roles {
		e.staff[r] = addStaff(t, e.svc, unique("Сотрудник-"+string(r)+"-"), e.dept, r)
	}
	return e
}

// lister lists the entries of one env.
type lister struct {
	s   *faq.Store
	cat string
}

// List returns the entries of the env: in its category, or with its
// category as the prefix of their id (made in the browser, in a category
// of the menu).
func (l lister) List(ctx context.Context) ([]*faq.Entry, error) {
	out, err := l.s.Find(ctx, faq.Filter{Category: l.cat})
	if err != nil {
		return nil, err
	}
	more, err := l.s.Find(ctx, faq.Filter{Text: l.cat + "-"})
	if err != nil {
		return nil, err
	}
	for _, e := range more {
		if e.Category != l.cat && strings.HasPrefix(e.ID, l.cat+"-") {
			out = append(out, e)
		}
	}
	return out, nil
}

// waitKB waits until the knowledge base decides text with entry id and
// the answer contains want.
func (e *env) waitKB(text, id, want string) knowledge.Decision {
	e.t.Helper()
	var d knowledge.Decision
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		d = e.kb.Decide(context.Background(), text, "")
		if d.Entry != nil && d.Entry.ID == id && strings.Contains(d.Entry.Answer, want) {
			return d
		}
	}
	e.t.Fatalf("knowledge base did not answer %q with %s containing %q: %+v", text, id, want, d)
	return d
}

// entry creates an entry in the env's category.
func (e *env) entry(id, question, answer string) *faq.Entry {
	e.t.Helper()
	en := &faq.Entry{ID: id, Category: e.cat, Audience: faq.Audiences, Question: question, Answer: answer}
	if err := e.store.Create(context.Background(), en, "test"); err != nil {
		e.t.Fatal(err)
	}
	return en
}

// appeal opens an appeal from a new Telegram chat.
func (e *env) appeal(text string, group escalation.Group) *escalation.Appeal {
	e.t.Helper()
	a, err := e.svc.Open(context.Background(), escalation.OpenAppeal{
		Client: escalation.ClientInfo{Channel: escalation.Telegram, ExternalID: unique("7"), Name: "Пётр Тестов",
			Group: group, Phone: "+7 900 " + unique("")[:7], Email: unique("p") + "@example.org"},
		Topic: "other", Text: text,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// session signs a person in without the form and returns the cookie and
// the CSRF token.
func (e *env) session(r escalation.Role) (*http.Cookie, string) {
	e.t.Helper()
	tok, err := e.srv.newSession(context.Background(), e.staff[r].ID)
	if err != nil {
		e.t.Fatal(err)
	}
	var csrf string
	if err := pool.QueryRow(context.Background(), `SELECT csrf FROM con_sessions WHERE token_hash = $1`, tokenHash(tok)).Scan(&csrf); err != nil {
		e.t.Fatal(err)
	}
	return &http.Cookie{Name: sessionCookie, Value: tok}, csrf
}

// do runs one request against the console.
func (e *env) do(method, path string, cookie *http.Cookie, form url.Values, header ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, req)
	return w
}

// addStaff registers a person with one role. escalation.AddStaff stores a
// nil queue list for roles without queues (head, editor), which the schema
// refuses; such people are inserted directly until that is fixed there.
func addStaff(t testing.TB, svc *escalation.Service, name, dept string, r escalation.Role) *escalation.Staff {
	t.Helper()
	ctx := context.Background()
	p, err := svc.AddStaff(ctx, escalation.Staff{Name: name, Roles: []escalation.Role{r}, Department: dept, Active: true})
	if err == nil {
		return p
	}
	if !strings.Contains(err.Error(), "queues") {
		t.Fatal(err)
	}
	var id int64
	if err := pool.QueryRow(ctx, `INSERT INTO esc_staff (name, roles, department, queues) VALUES ($1, $2, $3, '{}') RETURNING id`,
		name, []string{string(r)}, dept).Scan(&id); err != nil {
		t.Fatal(err)
	}
	p, err = svc.StaffMember(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
