// Package email is Kontakt's outbound e-mail channel: a bot.Sender that
// delivers replies as plain-text UTF-8 letters through an SMTP submission
// server. Chat.ID is the client's address. E-mail has no buttons, so the
// buttons of a reply are dropped; only its text is sent.
//
// Each Send opens its own connection: implicit TLS for smtps://, STARTTLS
// when the server offers it for smtp://, and AUTH PLAIN when credentials
// are configured. The password is never sent over an unencrypted
// connection, except to a loopback server.
package email

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"kontakt/bot"
)

// Subjects of the letters.
const (
	// SubjectFmt is the subject of a letter whose text names an appeal
	// number.
	SubjectFmt = "Ваше обращение № %s"
	// SubjectDefault is the subject of any other letter.
	SubjectDefault = "Контакт-центр института"
)

// Config configures a Sender.
type Config struct {
	// URL is smtp://[user:password@]host[:port] (STARTTLS when offered,
	// port 587 by default) or smtps://… (implicit TLS, port 465).
	URL string
	// From is the sender's address, optionally with a name
	// ("Контакт-центр <kc@example.edu>").
	From string
	// ReplyTo, if set, is where clients' answers go.
	ReplyTo string
	// Timeout bounds one Send: connecting, the dialogue and the data
	// (30s if zero).
	Timeout time.Duration
	// TLS is the TLS configuration (a test's root CAs); nil for the
	// system's defaults. ServerName is set from the URL's host.
	TLS *tls.Config
	// LocalName is sent in EHLO; "localhost" if empty.
	LocalName string
	// Now is the clock for the Date header (time.Now if nil).
	Now func() time.Time
}

// Sender sends replies by e-mail.
type Sender struct {
	cfg      Config
	addr     string // host:port
	host     string
	implicit bool   // smtps://
	user     string // empty: no AUTH
	pass     string
	from     *mail.Address
	replyTo  *mail.Address
}

var _ bot.Sender = (*Sender)(nil)

// New checks cfg and returns a Sender. It does not connect.
func New(cfg Config) (*Sender, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, errors.New("email: the SMTP URL does not parse") // the error would echo the password
	}
	s := &Sender{cfg: cfg, host: u.Hostname()}
	port := u.Port()
	switch u.Scheme {
	case "smtp":
		if port == "" {
			port = "587"
		}
	case "smtps":
		s.implicit = true
		if port == "" {
			port = "465"
		}
	default:
		return nil, fmt.Errorf("email: the SMTP URL must start with smtp:// or smtps://, not %q", u.Scheme+"://")
	}
	if s.host == "" {
		return nil, errors.New("email: the SMTP URL has no host")
	}
	s.addr = net.JoinHostPort(s.host, port)
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	if s.from, err = mail.ParseAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("email: sender address %q: %w", cfg.From, err)
	}
	if cfg.ReplyTo != "" {
		if s.replyTo, err = mail.ParseAddress(cfg.ReplyTo); err != nil {
			return nil, fmt.Errorf("email: reply-to address %q: %w", cfg.ReplyTo, err)
		}
	}
	if s.cfg.Timeout <= 0 {
		s.cfg.Timeout = 30 * time.Second
	}
	if s.cfg.LocalName == "" {
		s.cfg.LocalName = "localhost"
	}
	if s.cfg.Now == nil {
		s.cfg.Now = time.Now
	}
	return s, nil
}

// String describes the sender for logs, without the password.
func (s *Sender) String() string {
	scheme := "smtp"
	if s.implicit {
		scheme = "smtps"
	}
	if s.user != "" {
		return fmt.Sprintf("%s://%s@%s from %s", scheme, s.user, s.addr, s.from.Address)
	}
	return fmt.Sprintf("%s://%s from %s", scheme, s.addr, s.from.Address)
}

// Send delivers r's text to the address chat.ID. An address that is
// invalid or that the server refuses permanently gives an error wrapping
// bot.ErrUnreachable.
func (s *Sender) Send(ctx context.Context, chat bot.Chat, r bot.Reply) error {
	if chat.Channel != bot.Email {
		return fmt.Errorf("email: send to %v: not an e-mail chat", chat)
	}
	to, err := mail.ParseAddress(chat.ID)
	if err != nil {
		return fmt.Errorf("email: send to %q: %w: invalid address", chat.ID, bot.ErrUnreachable)
	}
	msg, err := s.message(to, r.Text)
	if err != nil {
		return fmt.Errorf("email: compose letter to %s: %w", to.Address, err)
	}
	if err := s.deliver(ctx, to.Address, msg); err != nil {
		return fmt.Errorf("email: send to %s via %s: %w", to.Address, s.addr, err)
	}
	return nil
}

func (s *Sender) deliver(ctx context.Context, to string, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	c, err := s.connect(ctx)
	if err == nil {
		defer c.Close()
		err = s.dialogue(c, to, msg)
	}
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return err
}

// connect dials the server and secures the connection: implicit TLS, or
// STARTTLS if the server offers it.
func (s *Sender) connect(ctx context.Context) (*smtp.Client, error) {
	d := &net.Dialer{Timeout: s.cfg.Timeout}
	tc := s.tlsConfig()
	if s.implicit {
		conn, err := (&tls.Dialer{NetDialer: d, Config: tc}).DialContext(ctx, "tcp", s.addr)
		if err != nil {
			return nil, fmt.Errorf("connect: %w", err)
		}
		return s.client(ctx, conn, false, tc)
	}
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	c, err := s.client(ctx, conn, true, tc)
	// go-smtp (v0.25) has no sentinel for "STARTTLS not offered", nor a way
	// to start TLS on a client that has already said EHLO: recognise its
	// message and start again without TLS. TestSend covers both ways.
	if err == nil || !strings.Contains(err.Error(), "support STARTTLS") {
		return c, err
	}
	// The server does not offer STARTTLS: a plain connection, without the
	// password unless the server is on this machine.
	if s.user != "" && !s.loopback() {
		return nil, errors.New("server does not offer STARTTLS; the password is not sent in clear (use smtps:// or a server with STARTTLS)")
	}
	conn, err = d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	return s.client(ctx, conn, false, tc)
}

// client starts the SMTP dialogue on conn. The library's deadlines are per
// command (and its constructors greet with their own default); closing the
// connection when ctx ends bounds the whole exchange.
func (s *Sender) client(ctx context.Context, conn net.Conn, startTLS bool, tc *tls.Config) (*smtp.Client, error) {
	context.AfterFunc(ctx, func() { conn.Close() })
	var c *smtp.Client
	if startTLS {
		var err error
		if c, err = smtp.NewClientStartTLS(conn, tc); err != nil {
			conn.Close()
			return nil, err
		}
	} else {
		c = smtp.NewClient(conn)
	}
	c.CommandTimeout = s.cfg.Timeout
	c.SubmissionTimeout = s.cfg.Timeout
	// After STARTTLS the client has not said EHLO yet (over TLS, which
	// also makes the handshake happen here).
	if err := c.Hello(s.cfg.LocalName); err != nil {
		c.Close()
		return nil, fmt.Errorf("hello: %w", err)
	}
	return c, nil
}

func (s *Sender) tlsConfig() *tls.Config {
	tc := &tls.Config{}
	if s.cfg.TLS != nil {
		tc = s.cfg.TLS.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = s.host
	}
	return tc
}

func (s *Sender) loopback() bool {
	if s.host == "localhost" {
		return true
	}
	ip := net.ParseIP(s.host)
	return ip != nil && ip.IsLoopback()
}

func (s *Sender) dialogue(c *smtp.Client, to string, msg []byte) error {
	if s.user != "" {
		if !c.SupportsAuth(sasl.Plain) {
			return errors.New("server does not offer AUTH PLAIN")
		}
		if err := c.Auth(sasl.NewPlainClient("", s.user, s.pass)); err != nil {
			return fmt.Errorf("authenticate as %s: %w", s.user, err)
		}
	}
	if err := c.Mail(s.from.Address, nil); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to, nil); err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code >= 500 {
			return fmt.Errorf("RCPT TO: %w: %w", bot.ErrUnreachable, err)
		}
		return fmt.Errorf("RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		w.Close()
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := c.Quit(); err != nil {
		// The letter was accepted; a failed goodbye changes nothing.
		return nil
	}
	return nil
}

var numberRE = regexp.MustCompile(`\b\d{4}-\d{4,}\b`)

// Subject returns the subject of a letter with text: the appeal number it
// names, if any.
func Subject(text string) string {
	if n := numberRE.FindString(text); n != "" {
		return fmt.Sprintf(SubjectFmt, n)
	}
	return SubjectDefault
}

// message composes the letter: headers (non-ASCII ones encoded per RFC
// 2047) and the text as quoted-printable UTF-8 with CRLF line ends.
func (s *Sender) message(to *mail.Address, text string) ([]byte, error) {
	var b bytes.Buffer
	h := func(name, value string) {
		b.WriteString(fold(name, value))
	}
	h("From", s.from.String())
	h("To", to.String())
	if s.replyTo != nil {
		h("Reply-To", s.replyTo.String())
	}
	h("Subject", mime.BEncoding.Encode("utf-8", Subject(text)))
	h("Date", s.cfg.Now().Format(time.RFC1123Z))
	h("Message-ID", "<"+randomID()+"@"+domain(s.from.Address)+">")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	h("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(text)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	b.WriteString("\r\n")
	return b.Bytes(), nil
}

// fold returns the header line "name: value" folded at spaces so that lines
// keep within 78 characters where the words allow (RFC 5322 2.2.3).
func fold(name, value string) string {
	var b strings.Builder
	b.WriteString(name + ":")
	n := b.Len()
	for _, w := range strings.Split(value, " ") {
		if n+1+len(w) > 78 && w != "" {
			b.WriteString("\r\n")
			n = 0
		}
		b.WriteString(" " + w)
		n += 1 + len(w)
	}
	b.WriteString("\r\n")
	return b.String()
}

func domain(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "localhost"
}

func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
