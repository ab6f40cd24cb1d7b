package email_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"kontakt/bot"
	"kontakt/bot/email"
)

func TestSubject(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"number", "Ваше обращение № 2026-000123 рассмотрено: приходите в среду.", "Ваше обращение № 2026-000123"},
		{"registration", "Ваше обращение зарегистрировано, номер 2026-000042. Мы сообщим о результате.", "Ваше обращение № 2026-000042"},
		{"no number", "Здравствуйте! Документы готовы.", "Контакт-центр института"},
		{"phone is not a number", "Позвоните 8-800-555-35-35", "Контакт-центр института"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := email.Subject(tc.text); got != tc.want {
				t.Errorf("Subject(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestSend(t *testing.T) {
	const text = "Ваше обращение № 2026-000123 рассмотрено: справка готова, её можно забрать в каб. 101.\nСтрока с «кавычками» и ё.\n" +
		"Очень длинная строка, которая заведомо длиннее семидесяти шести символов quoted-printable, чтобы проверить мягкие переносы."
	for _, tc := range []struct {
		name   string
		scheme string
		tls    string // "", "starttls", "implicit"
		auth   bool
	}{
		{"plain loopback with auth", "smtp", "", true},
		{"plain without auth", "smtp", "", false},
		{"starttls with auth", "smtp", "starttls", true},
		{"implicit tls with auth", "smtps", "implicit", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := startFake(t, tc.tls)
			u := tc.scheme + "://" + fs.addr
			if tc.auth {
				u = tc.scheme + "://kc%40example.edu:p%40ss%20word@" + fs.addr
			}
			s, err := email.New(email.Config{URL: u, From: "Контакт-центр <kc@example.edu>", ReplyTo: "priem@example.edu",
				TLS: fs.clientTLS, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(s.String(), "ss word") || strings.Contains(s.String(), "p@ss") {
				t.Errorf("String() shows the password: %s", s)
			}
			err = s.Send(context.Background(), bot.Chat{Channel: bot.Email, ID: "Иван Петров <ivan@example.org>"},
				bot.Reply{Text: text, Buttons: [][]bot.Button{{{Text: "Помогло", Data: "x"}}}})
			if err != nil {
				t.Fatal(err)
			}
			m := fs.only(t)
			if m.from != "kc@example.edu" || len(m.to) != 1 || m.to[0] != "ivan@example.org" {
				t.Errorf("envelope from %q to %q", m.from, m.to)
			}
			if tc.auth && (m.user != "kc@example.edu" || m.pass != "p@ss word") {
				t.Errorf("AUTH as %q/%q, want kc@example.edu/p@ss word", m.user, m.pass)
			}
			if !tc.auth && m.user != "" {
				t.Errorf("AUTH used without credentials: %q", m.user)
			}
			if (tc.tls != "") != m.tls {
				t.Errorf("TLS = %v, want %v", m.tls, tc.tls != "")
			}
			msg, err := mail.ReadMessage(bytes.NewReader(m.data))
			if err != nil {
				t.Fatal(err)
			}
			dec := new(mime.WordDecoder)
			subj, err := dec.DecodeHeader(msg.Header.Get("Subject"))
			if err != nil || subj != "Ваше обращение № 2026-000123" {
				t.Errorf("Subject %q decodes to %q (%v)", msg.Header.Get("Subject"), subj, err)
			}
			if !isASCII(msg.Header.Get("Subject")) || !isASCII(msg.Header.Get("From")) {
				t.Errorf("raw headers are not ASCII: %q, %q", msg.Header.Get("Subject"), msg.Header.Get("From"))
			}
			from, err := msg.Header.AddressList("From")
			if err != nil || len(from) != 1 || from[0].Name != "Контакт-центр" || from[0].Address != "kc@example.edu" {
				t.Errorf("From %q: %v %v", msg.Header.Get("From"), from, err)
			}
			to, err := msg.Header.AddressList("To")
			if err != nil || len(to) != 1 || to[0].Name != "Иван Петров" || to[0].Address != "ivan@example.org" {
				t.Errorf("To %q: %v %v", msg.Header.Get("To"), to, err)
			}
			if got := msg.Header.Get("Reply-To"); got != "<priem@example.edu>" {
				t.Errorf("Reply-To = %q", got)
			}
			if got := msg.Header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type = %q", got)
			}
			if msg.Header.Get("Date") == "" || msg.Header.Get("Message-Id") == "" {
				t.Errorf("no Date or Message-ID: %v", msg.Header)
			}
			body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimRight(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n"); got != text {
				t.Errorf("body:\n%s\nwant:\n%s", got, text)
			}
			if strings.Contains(string(m.data), "Помогло") {
				t.Errorf("buttons were sent: %s", m.data)
			}
			for _, line := range strings.Split(string(m.data), "\r\n") {
				if len(line) > 78 {
					t.Errorf("line longer than 78: %q", line)
				}
			}
		})
	}
}

func TestSendFailures(t *testing.T) {
	dead := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}
	mute := func() string { // accepts and never greets
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				t.Cleanup(func() { c.Close() })
			}
		}()
		return l.Addr().String()
	}
	chat := bot.Chat{Channel: bot.Email, ID: "ivan@example.org"}
	for _, tc := range []struct {
		name        string
		url         func() string
		chat        bot.Chat
		want        string
		unreachable bool
	}{
		{"dead server", func() string { return "smtp://" + dead() }, chat, "connect", false},
		{"silent server", func() string { return "smtp://" + mute() }, chat, "deadline", false},
		{"refused recipient", func() string { return "smtp://" + startFake(t, "").addr }, bot.Chat{Channel: bot.Email, ID: "nobody@example.org"}, "RCPT TO", true},
		{"bad address", func() string { return "smtp://" + dead() }, bot.Chat{Channel: bot.Email, ID: "не адрес"}, "invalid address", true},
		{"wrong password", func() string { return "smtp://kc:wrong@" + startFake(t, "").addr }, chat, "authenticate", false},
		{"not an e-mail chat", func() string { return "smtp://" + dead() }, bot.Chat{Channel: bot.Telegram, ID: "1"}, "not an e-mail chat", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := email.New(email.Config{URL: tc.url(), From: "kc@example.edu", Timeout: 500 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err = s.Send(context.Background(), tc.chat, bot.Reply{Text: "Здравствуйте"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one with %q", err, tc.want)
			}
			if errors.Is(err, bot.ErrUnreachable) != tc.unreachable {
				t.Errorf("errors.Is(%v, ErrUnreachable) = %v", err, !tc.unreachable)
			}
			if strings.Contains(err.Error(), "wrong") {
				t.Errorf("error shows the password: %v", err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestSendCancelled(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			defer c.Close()
			io.Copy(io.Discard, c)
		}
	}()
	s, err := email.New(email.Config{URL: "smtp://" + l.Addr().String(), From: "kc@example.edu", Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = s.Send(ctx, bot.Chat{Channel: bot.Email, ID: "ivan@example.org"}, bot.Reply{Text: "x"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct{ name, url, from, replyTo, want string }{
		{"scheme", "http://mail.example.edu", "kc@example.edu", "", "smtp:// or smtps://"},
		{"no host", "smtp://", "kc@example.edu", "", "no host"},
		{"from", "smtp://mail.example.edu", "контакт-центр", "", "sender address"},
		{"reply-to", "smtp://mail.example.edu", "kc@example.edu", "@", "reply-to"},
		{"password not echoed", "smtp://u:se%cret@mail.example.edu", "kc@example.edu", "", "does not parse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := email.New(email.Config{URL: tc.url, From: tc.from, ReplyTo: tc.replyTo})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "cret") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// fake is an in-process SMTP server that records the letters it accepts.
// It knows one account (kc@example.edu / "p@ss word") and refuses the
// recipient nobody@example.org.
type fake struct {
	addr      string
	clientTLS *tls.Config

	mu   sync.Mutex
	msgs []letter
}

type letter struct {
	user, pass string
	tls        bool
	from       string
	to         []string
	data       []byte
}

// startFake starts a fake server: mode "" (plain), "starttls" or "implicit".
func startFake(t *testing.T, mode string) *fake {
	t.Helper()
	f := &fake{}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &session{f: f, l: letter{tls: isTLS}}, nil
	}))
	srv.Domain = "mail.example.edu"
	srv.AllowInsecureAuth = mode == ""
	srv.ReadTimeout = 5 * time.Second
	srv.WriteTimeout = 5 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if mode != "" {
		ts := httptest.NewUnstartedServer(nil)
		ts.StartTLS()
		pool := x509.NewCertPool()
		pool.AddCert(ts.Certificate())
		f.clientTLS = &tls.Config{RootCAs: pool}
		srv.TLSConfig = &tls.Config{Certificates: ts.TLS.Certificates}
		ts.Close()
		if mode == "implicit" {
			l = tls.NewListener(l, srv.TLSConfig)
		}
	}
	f.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return f
}

func (f *fake) only(t *testing.T) letter {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.msgs) != 1 {
		t.Fatalf("the server got %d letters, want 1", len(f.msgs))
	}
	return f.msgs[0]
}

type session struct {
	f *fake
	l letter
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != "kc@example.edu" || password != "p@ss word" {
			return errors.New("invalid credentials")
		}
		s.l.user, s.l.pass = username, password
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.l.from = from; return nil }

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if to == "nobody@example.org" {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.l.to = append(s.l.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.l.data = b
	s.f.mu.Lock()
	s.f.msgs = append(s.f.msgs, s.l)
	s.f.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.l = letter{tls: s.l.tls, user: s.l.user, pass: s.l.pass} }
func (s *session) Logout() error { return nil }
