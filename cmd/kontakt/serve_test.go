package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"kontakt/bot/telegram/telegramtest"
)

// TestServeEndToEnd starts the whole program, as `kontakt serve` does, on a
// database of its own: migrations, the knowledge base seeded from the
// sample file, the Telegram channel against a fake Bot API, the console's
// health check; then a client asks a question and gets the answer, and
// the program stops cleanly when told to.
func TestServeEndToEnd(t *testing.T) {
	dsn, rurl := os.Getenv("KONTAKT_TEST_DATABASE_URL"), os.Getenv("KONTAKT_TEST_REDIS_URL")
	if dsn == "" || rurl == "" {
		t.Fatal("KONTAKT_TEST_DATABASE_URL and KONTAKT_TEST_REDIS_URL are not set: run the tests with scripts/test.sh")
	}
	db := freshDatabase(t, dsn)
	// A bot of its own: update ids start at 1 on every fake, and the
	// channel keeps its offset in Redis under the bot's id.
	fake := telegramtest.New(fmt.Sprintf("%d:E2E", uniqueChat()), telegramtest.TelegramLimits)
	defer fake.Close()
	addr := freeAddr(t)
	env := map[string]string{
		"DATABASE_URL": db, "REDIS_URL": rurl,
		"TELEGRAM_TOKEN": fake.Token, "TELEGRAM_API_URL": fake.URL,
		"KONTAKT_KB_FILE": "../../faq/testdata/kb.yaml", "KONTAKT_HTTP_ADDR": addr,
		"KONTAKT_COOKIE_SECURE": "false", "KONTAKT_INSTITUTE_NAME": "Приволжского института технологий и управления",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), &logs, &logs)
	}()

	healthy := false
	for start := time.Now(); time.Since(start) < 60*time.Second; time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("kontakt serve stopped: %v\n%s", err, logs.String())
		default:
		}
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				healthy = true
				break
			}
		}
	}
	if !healthy {
		t.Fatalf("no /healthz within a minute\n%s", logs.String())
	}

	chat := uniqueChat()
	fake.Text(chat, "/start")
	got := fake.WaitSent(chat, 1, 20*time.Second)
	if len(got) == 0 || !strings.Contains(got[0].Text, "Приволжского института") {
		t.Fatalf("greeting: %+v\n%s", got, logs.String())
	}
	fake.Press(chat, "aud:student")
	fake.WaitSent(chat, 2, 20*time.Second)
	n := len(fake.SentTo(chat))
	fake.Text(chat, "скока стоит общага")
	got = fake.WaitSent(chat, n+1, 20*time.Second)
	if len(got) <= n || !strings.Contains(got[n].Text, "950 руб") {
		t.Fatalf("answer to the dormitory question: %+v\n%s", got, logs.String())
	}
	if fake.TooManyRequests() != 0 {
		t.Errorf("the fake answered %d 429s", fake.TooManyRequests())
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("kontakt serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("kontakt serve did not stop")
	}
	if strings.Contains(logs.String(), fake.Token) {
		t.Error("the log shows the bot token")
	}
}

// freshDatabase creates an empty database on the test server and returns
// its URL; it is dropped when the test ends.
func freshDatabase(t *testing.T, dsn string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := "kontakt_e2e_" + strings.ToLower(rand.Text()[:10])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		conn.Close(context.Background())
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// syncBuffer is a bytes.Buffer safe for the program's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
