package console

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"kontakt/bot"
	"kontakt/bot/email"
	"kontakt/escalation"
)

// A walk-in client who left only an e-mail address hears from the console
// by e-mail: the registration notice, the reply and the result.
func TestWalkInClientNotifiedByEmail(t *testing.T) {
	mbox := startMailbox(t)
	snd, err := email.New(email.Config{URL: "smtp://" + mbox.addr, From: "Контакт-центр <kc@example.edu>", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	n := &Senders{By: map[escalation.Channel]bot.Sender{escalation.Email: snd}}
	e := newEnv(t, n)
	n.Appeals = e.svc
	c, tok := e.session(escalation.RoleContact)
	addr := unique("walkin") + "@example.org"

	w := e.do("POST", "/appeals/new", c, url.Values{"csrf": {tok}, "name": {"Ольга Почтовая"}, "email": {addr}, "consent": {"1"},
		"channel": {"walkin"}, "topic": {"other"}, "text": {"Пришла лично: нужна справка об обучении"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("register: %d %s", w.Code, w.Body.String())
	}
	path := strings.Split(w.Header().Get("Location"), "?")[0]
	var id int64
	if _, err := fmt.Sscanf(path, "/appeals/%d", &id); err != nil {
		t.Fatalf("location %q: %v", w.Header().Get("Location"), err)
	}
	a, err := e.svc.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if a.Channel != escalation.WalkIn {
		t.Fatalf("channel %s", a.Channel)
	}
	got := mbox.wait(t, addr, 1)
	got[0].check(t, addr, "Ваше обращение № "+a.Number, "Ваше обращение зарегистрировано, номер "+a.Number)

	w = e.do("POST", path+"/reply", c, url.Values{"csrf": {tok}, "text": {"Справка готова, заберите её в каб. 101 — с паспортом."}})
	if !strings.Contains(w.Header().Get("Location"), "ok=replied") {
		t.Fatalf("reply: %d %s", w.Code, w.Header().Get("Location"))
	}
	got = mbox.wait(t, addr, 2)
	got[1].check(t, addr, "Контакт-центр института", "Справка готова, заберите её в каб. 101 — с паспортом.")

	w = e.do("POST", path+"/resolve", c, url.Values{"csrf": {tok}, "text": {"Справка выдана."}})
	if !strings.Contains(w.Header().Get("Location"), "ok=resolved") || strings.Contains(w.Header().Get("Location"), "-nc") {
		t.Fatalf("resolve: %d %s", w.Code, w.Header().Get("Location"))
	}
	got = mbox.wait(t, addr, 3)
	got[2].check(t, addr, "Ваше обращение № "+a.Number, "рассмотрено: Справка выдана.")
}

// A dead mail server makes the reply fail visibly; nothing else breaks.
func TestEmailServerDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	snd, err := email.New(email.Config{URL: "smtp://" + dead, From: "kc@example.edu", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	n := &Senders{By: map[escalation.Channel]bot.Sender{escalation.Email: snd}}
	e := newEnv(t, n)
	n.Appeals = e.svc
	c, tok := e.session(escalation.RoleContact)
	w := e.do("POST", "/appeals/new", c, url.Values{"csrf": {tok}, "name": {"Олег Звонков"}, "email": {unique("phone") + "@example.org"},
		"consent": {"1"}, "channel": {"phone"}, "topic": {"other"}, "text": {"Звонок: когда сессия"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("register with the mail server down: %d %s", w.Code, w.Body.String())
	}
	path := strings.Split(w.Header().Get("Location"), "?")[0]
	w = e.do("POST", path+"/reply", c, url.Values{"csrf": {tok}, "text": {"Сессия с 10 января."}})
	if !strings.Contains(w.Header().Get("Location"), "reply-failed") {
		t.Fatalf("reply: %d %s", w.Code, w.Header().Get("Location"))
	}
}

// mailbox is an in-process SMTP server that keeps every letter.
type mailbox struct {
	addr string
	mu   sync.Mutex
	got  []letter
}

type letter struct {
	from string
	to   []string
	data []byte
}

func startMailbox(t *testing.T) *mailbox {
	t.Helper()
	m := &mailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{m: m}, nil }))
	srv.Domain = "mail.example.edu"
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return m
}

// wait returns the letters to addr once there are n of them.
func (m *mailbox) wait(t *testing.T, addr string, n int) []letter {
	t.Helper()
	var out []letter
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		out = out[:0]
		m.mu.Lock()
		for _, l := range m.got {
			if len(l.to) == 1 && l.to[0] == addr {
				out = append(out, l)
			}
		}
		m.mu.Unlock()
		if len(out) >= n {
			return out
		}
	}
	t.Fatalf("%d letters to %s, want %d", len(out), addr, n)
	return nil
}

func (l letter) check(t *testing.T, to, subject, body string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(l.data))
	if err != nil {
		t.Fatal(err)
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subj != subject {
		t.Errorf("subject %q (%v), want %q", subj, err, subject)
	}
	if l.from != "kc@example.edu" {
		t.Errorf("from %q", l.from)
	}
	if got, _ := msg.Header.AddressList("To"); len(got) != 1 || got[0].Address != to {
		t.Errorf("To: %q", msg.Header.Get("To"))
	}
	b, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil || !strings.Contains(string(b), body) {
		t.Errorf("body %q (%v), want it to contain %q", b, err, body)
	}
}

type mailSession struct {
	m *mailbox
	l letter
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error { s.l.from = from; return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.l.to = append(s.l.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.l.data = b
	s.m.mu.Lock()
	s.m.got = append(s.m.got, s.l)
	s.m.mu.Unlock()
	s.l = letter{}
	return nil
}
func (s *mailSession) Reset()        { s.l = letter{} }
func (s *mailSession) Logout() error { return nil }
