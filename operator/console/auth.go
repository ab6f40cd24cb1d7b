package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/crypto/argon2"

	"kontakt/escalation"
)

// Argon2id parameters (RFC 9106's second recommendation, with 64 MiB).
const (
	argonTime    = 2
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
	saltLen      = 16
)

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 10

// HashPassword returns the argon2id hash of password in the PHC string
// format ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
func HashPassword(password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches an argon2id hash made by
// HashPassword (with whatever parameters it records).
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when the login is unknown, so that the
// response time does not tell which logins exist. It is made on first use.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("not a password of anybody")
	return h
})

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// SetPassword sets (or replaces) the login and password of a staff member.
// Existing sessions of the person end.
func SetPassword(ctx context.Context, db Execer, staffID int64, login, password string) error {
	login = strings.ToLower(strings.TrimSpace(login))
	if login == "" {
		return fmt.Errorf("set password: %w: login is empty", escalation.ErrInvalid)
	}
	if len([]rune(password)) < MinPasswordLen {
		return fmt.Errorf("set password: %w: password shorter than %d characters", escalation.ErrInvalid, MinPasswordLen)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	if _, err := db.Exec(ctx, `INSERT INTO con_accounts (staff_id, login, password_hash, updated_at) VALUES ($1, $2, $3, now())
		ON CONFLICT (staff_id) DO UPDATE SET login = excluded.login, password_hash = excluded.password_hash, updated_at = now()`,
		staffID, login, hash); err != nil {
		return fmt.Errorf("set password of staff %d: %w", staffID, err)
	}
	if _, err := db.Exec(ctx, `DELETE FROM con_sessions WHERE staff_id = $1`, staffID); err != nil {
		return fmt.Errorf("end sessions of staff %d: %w", staffID, err)
	}
	return nil
}

// SetLogin gives a staff member a login without a password (it is set
// through a reset link); an existing password is kept.
func SetLogin(ctx context.Context, db Execer, staffID int64, login string) error {
	login = strings.ToLower(strings.TrimSpace(login))
	if login == "" {
		return fmt.Errorf("set login: %w: login is empty", escalation.ErrInvalid)
	}
	_, err := db.Exec(ctx, `INSERT INTO con_accounts (staff_id, login) VALUES ($1, $2)
		ON CONFLICT (staff_id) DO UPDATE SET login = excluded.login`, staffID, login)
	if err != nil {
		return fmt.Errorf("set login of staff %d: %w", staffID, err)
	}
	return nil
}

// ResetLink returns a one-time link (valid for ttl) that lets a staff
// member who has a login set a new password.
func ResetLink(ctx context.Context, db Execer, baseURL string, staffID int64, ttl time.Duration) (string, error) {
	tok := randomToken()
	tag, err := db.Exec(ctx, `INSERT INTO con_password_resets (token_hash, staff_id, expires_at)
		SELECT $1, staff_id, now() + $3::interval FROM con_accounts WHERE staff_id = $2`,
		tokenHash(tok), staffID, ttl.String())
	if err != nil {
		return "", fmt.Errorf("reset link for staff %d: %w", staffID, err)
	}
	if tag.RowsAffected() == 0 {
		return "", fmt.Errorf("reset link for staff %d: %w: no login (set one first)", staffID, escalation.ErrNotFound)
	}
	return strings.TrimRight(baseURL, "/") + "/password/" + tok, nil
}

// Execer is a pool, a connection or a transaction.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// session is a signed-in person.
type session struct {
	Staff *escalation.Staff
	CSRF  string
	token string
}

func (ss *session) has(roles ...escalation.Role) bool {
	for _, r := range roles {
		if slices.Contains(ss.Staff.Roles, r) {
			return true
		}
	}
	return false
}

const (
	sessionCookie = "kontakt_session"
	loginCookie   = "kontakt_login" // CSRF token of the sign-in form
)

// Login throttling: failures allowed per login and per address within
// throttleWindow.
const (
	throttleWindow   = 15 * time.Minute
	maxLoginFailures = 5
	maxAddrFailures  = 30
)

var errThrottled = errors.New("console: too many failed sign-ins")

// login checks a login and password and opens a session.
func (s *Server) login(ctx context.Context, login, password, addr string) (string, int64, error) {
	login = strings.ToLower(strings.TrimSpace(login))
	now := s.now()
	var byLogin, byAddr int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE login = $1), count(*) FILTER (WHERE addr = $2)
		FROM con_login_failures WHERE at > $3 AND (login = $1 OR addr = $2)`, login, addr, now.Add(-throttleWindow)).
		Scan(&byLogin, &byAddr); err != nil {
		return "", 0, err
	}
	if byLogin >= maxLoginFailures || byAddr >= maxAddrFailures {
		return "", 0, errThrottled
	}
	var (
		staffID int64
		hash    string
		active  bool
	)
	err := s.db.QueryRow(ctx, `SELECT a.staff_id, a.password_hash, s.active FROM con_accounts a
		JOIN esc_staff s ON s.id = a.staff_id WHERE a.login = $1`, login).Scan(&staffID, &hash, &active)
	if errors.Is(err, pgx.ErrNoRows) {
		hash = dummyHash()
		staffID = 0
	} else if err != nil {
		return "", 0, err
	}
	if !CheckPassword(hash, password) || staffID == 0 || !active {
		if _, err := s.db.Exec(ctx, `INSERT INTO con_login_failures (login, addr, at) VALUES ($1, $2, $3)`, login, addr, now); err != nil {
			return "", 0, err
		}
		return "", 0, escalation.ErrNotFound
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM con_login_failures WHERE login = $1`, login); err != nil {
		return "", 0, err
	}
	tok, err := s.newSession(ctx, staffID)
	return tok, staffID, err
}

func (s *Server) newSession(ctx context.Context, staffID int64) (string, error) {
	tok := randomToken()
	now := s.now()
	_, err := s.db.Exec(ctx, `INSERT INTO con_sessions (token_hash, staff_id, csrf, created_at, seen_at, expires_at)
		VALUES ($1, $2, $3, $4, $4, $5)`, tokenHash(tok), staffID, randomToken(), now, now.Add(s.cfg.SessionTTL))
	if err != nil {
		return "", fmt.Errorf("new session: %w", err)
	}
	return tok, nil
}

// sessionOf returns the session of the request's cookie, or nil.
func (s *Server) sessionOf(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	now := s.now()
	var (
		staffID int64
		csrf    string
	)
	err = s.db.QueryRow(r.Context(), `UPDATE con_sessions SET seen_at = $2, expires_at = $3
		WHERE token_hash = $1 AND expires_at > $2 RETURNING staff_id, csrf`,
		tokenHash(c.Value), now, now.Add(s.cfg.SessionTTL)).Scan(&staffID, &csrf)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	st, err := s.svc.StaffMember(r.Context(), staffID)
	if err != nil {
		return nil, err
	}
	if !st.Active {
		return nil, nil
	}
	return &session{Staff: st, CSRF: csrf, token: c.Value}, nil
}

func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.cfg.CookieSecure, SameSite: http.SameSiteStrictMode})
}

// clientAddr is the remote address without the port.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// maxForm bounds a form, a knowledge base file included.
const maxForm = 16 << 20

type ctxKey struct{}

func sessionFrom(ctx context.Context) *session {
	ss, _ := ctx.Value(ctxKey{}).(*session)
	return ss
}

// Access rules: which roles may use a page. Every role may see the inbox
// (it shows what the person may see); the rest is listed here.
var (
	anyStaff     = escalation.Roles
	appealRoles  = []escalation.Role{escalation.RoleContact, escalation.RoleAdmission, escalation.RoleStudy, escalation.RoleDepartment, escalation.RoleHead}
	frontDesk    = []escalation.Role{escalation.RoleContact, escalation.RoleHead}
	editors      = []escalation.Role{escalation.RoleEditor, escalation.RoleHead}
	kbReaders    = []escalation.Role{escalation.RoleEditor, escalation.RoleHead, escalation.RoleContact, escalation.RoleAdmission, escalation.RoleStudy, escalation.RoleDepartment}
	headOnly     = []escalation.Role{escalation.RoleHead}
	clientReader = appealRoles
)

// authed wraps h: the request needs a session of a person with one of
// roles, and a POST needs the session's CSRF token.
func (s *Server) authed(roles []escalation.Role, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ss, err := s.sessionOf(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if ss == nil {
			if r.Method == http.MethodGet && r.Header.Get("Accept") != "text/event-stream" {
				http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "Требуется вход", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			tok := r.PostFormValue("csrf")
			if tok == "" {
				tok = r.Header.Get("X-CSRF-Token")
			}
			if subtle.ConstantTimeCompare([]byte(tok), []byte(ss.CSRF)) != 1 {
				s.render(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, ss)), http.StatusForbidden, "error",
					errorPage{Title: "Форма устарела", Text: "Форма устарела или отправлена не со страницы консоли. Обновите страницу и повторите."})
				return
			}
		}
		ctx := context.WithValue(r.Context(), ctxKey{}, ss)
		if !ss.has(roles...) {
			s.forbidden(w, r.WithContext(ctx))
			return
		}
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (s *Server) forbidden(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusForbidden, "error", errorPage{Title: "Нет доступа",
		Text: "У вашей роли нет доступа к этой странице."})
}
