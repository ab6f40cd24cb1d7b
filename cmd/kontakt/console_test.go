package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"kontakt/bot"
	"kontakt/escalation"
	"kontakt/operator/console"
)

// TestStaffConsoleAccounts runs `kontakt staff add` (which prints the link
// for the first password), `staff passwd` and `staff reset-link`, then
// signs in to the console that `kontakt serve` mounts with the password.
func TestStaffConsoleAccounts(t *testing.T) {
	dsn := os.Getenv("KONTAKT_TEST_DATABASE_URL")
	if dsn == "" {
		t.Fatal("KONTAKT_TEST_DATABASE_URL is not set: run the tests with scripts/test.sh")
	}
	env := map[string]string{"DATABASE_URL": dsn, "KONTAKT_CONSOLE_URL": "https://console.example", "KONTAKT_COOKIE_SECURE": "false"}
	kontakt := func(stdin string, args ...string) (string, error) {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(stdin), &stdout, &stderr)
		return stdout.String() + stderr.String(), err
	}
	email := "op-" + strings.ToLower(rand.Text()[:10]) + "@example.org"
	out, err := kontakt("", "staff", "add", "--name", "Оператор Консоли", "--roles", "contact", "--email", email)
	if err != nil {
		t.Fatalf("staff add: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Логин в консоли: "+email) || !strings.Contains(out, "https://console.example/password/") {
		t.Fatalf("staff add does not give the first-password link:\n%s", out)
	}
	var id string
	for _, f := range strings.Fields(out) {
		if strings.HasPrefix(f, "#") {
			id = strings.TrimPrefix(f, "#")
			break
		}
	}
	if out, err := kontakt("короткий\n", "staff", "passwd", "--id", id); err == nil {
		t.Fatalf("a short password accepted:\n%s", out)
	}
	if out, err := kontakt("длинный-пароль-оператора\n", "staff", "passwd", "--id", id); err != nil {
		t.Fatalf("staff passwd: %v\n%s", err, out)
	}
	out, err = kontakt("", "staff", "reset-link", "--id", id, "--ttl", "1h")
	if err != nil || !strings.HasPrefix(out, "https://console.example/password/") {
		t.Fatalf("staff reset-link: %v\n%s", err, out)
	}

	// The console as serve wires it: sign in with the password set above.
	cfg, err := loadConfig(func(k string) string { return env[k] }, "DATABASE_URL")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool, err := openPool(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	kb, err := openKnowledge(ctx, cfg, pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer kb.Close()
	a := &app{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil)), pool: pool, kb: kb,
		svc: escalation.New(pool, escalation.Config{}), senders: map[bot.Channel]bot.Sender{}}
	srv, err := a.newConsole(false)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	jar := &cookieJar{}
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(hs.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.PostForm(hs.URL+"/login", url.Values{"csrf": {jar.get("kontakt_login")}, "login": {email}, "password": {"длинный-пароль-оператора"}, "next": {"/appeals"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/appeals" || jar.get("kontakt_session") == "" {
		t.Fatalf("sign in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var hash string
	if err := pool.QueryRow(ctx, `SELECT password_hash FROM con_accounts WHERE login = $1`, email).Scan(&hash); err != nil || !console.CheckPassword(hash, "длинный-пароль-оператора") {
		t.Fatalf("stored hash %q: %v", hash, err)
	}
}

func TestConsoleConfig(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://x/y"}
	get := func(extra map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return base[k]
		}
	}
	cfg, err := loadConfig(get(nil))
	if err != nil || !cfg.CookieSecure || consoleAddr(cfg) != cfg.HTTPAddr {
		t.Fatalf("defaults: %+v, %v", cfg, err)
	}
	if _, err := loadConfig(get(map[string]string{"KONTAKT_CONSOLE_URL": "http://console.example"})); err == nil || !strings.Contains(err.Error(), "KONTAKT_COOKIE_SECURE") {
		t.Fatalf("secure cookies over http: %v", err)
	}
	if _, err := loadConfig(get(map[string]string{"KONTAKT_CONSOLE_URL": "console.example"})); err == nil || !strings.Contains(err.Error(), "KONTAKT_CONSOLE_URL") {
		t.Fatalf("console URL without scheme: %v", err)
	}
	cfg, err = loadConfig(get(map[string]string{"KONTAKT_CONSOLE_ADDR": "127.0.0.1:9000", "KONTAKT_COOKIE_SECURE": "false"}))
	if err != nil || cfg.CookieSecure || consoleAddr(cfg) != "127.0.0.1:9000" || consoleURL(cfg) != "http://127.0.0.1:9000" {
		t.Fatalf("console address: %+v, %v", cfg, err)
	}
}

// cookieJar keeps the cookies of one test client, whatever their Secure flag.
type cookieJar struct{ c map[string]string }

func (j *cookieJar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	if j.c == nil {
		j.c = map[string]string{}
	}
	for _, c := range cs {
		if c.MaxAge < 0 {
			delete(j.c, c.Name)
			continue
		}
		j.c[c.Name] = c.Value
	}
}

func (j *cookieJar) Cookies(*url.URL) []*http.Cookie {
	var out []*http.Cookie
	for k, v := range j.c {
		out = append(out, &http.Cookie{Name: k, Value: v})
	}
	return out
}

func (j *cookieJar) get(name string) string { return j.c[name] }
