package console

import (
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/jackc/pgx/v5"

	"kontakt/escalation"
)

type loginPage struct {
	Next, CSRF, Login, Error string
}

func (s *Server) handleLoginForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := randomToken()
		s.setCookie(w, loginCookie, tok, 3600)
		s.render(w, r, http.StatusOK, "login", loginPage{Next: safeNext(r.URL.Query().Get("next")), CSRF: tok})
	})
}

func (s *Server) handleLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(loginCookie)
		form := r.PostFormValue("csrf")
		if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(form)) != 1 {
			s.render(w, r, http.StatusForbidden, "error", errorPage{Title: "Форма устарела",
				Text: "Форма входа устарела. Откройте страницу входа заново."})
			return
		}
		login, next := r.PostFormValue("login"), safeNext(r.PostFormValue("next"))
		tok, staffID, err := s.login(r.Context(), login, r.PostFormValue("password"), clientAddr(r))
		page := loginPage{Next: next, CSRF: c.Value, Login: login}
		switch {
		case errors.Is(err, errThrottled):
			page.Error = "Слишком много неудачных попыток. Подождите 15 минут."
			s.render(w, r, http.StatusTooManyRequests, "login", page)
			return
		case errors.Is(err, escalation.ErrNotFound):
			page.Error = "Неверный логин или пароль."
			s.render(w, r, http.StatusUnauthorized, "login", page)
			return
		case err != nil:
			s.fail(w, r, err)
			return
		}
		s.audit(r, staffID, "вход", "", 0, "")
		s.setCookie(w, loginCookie, "", -1)
		s.setCookie(w, sessionCookie, tok, 0)
		http.Redirect(w, r, next, http.StatusSeeOther)
	})
}

func (s *Server) handleLogout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ss := sessionFrom(r.Context())
		if _, err := s.db.Exec(r.Context(), `DELETE FROM con_sessions WHERE token_hash = $1`, tokenHash(ss.token)); err != nil {
			s.fail(w, r, err)
			return
		}
		s.setCookie(w, sessionCookie, "", -1)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	})
}

type passwordPage struct {
	Token, Login, Error string
	Min                 int
}

// resetOf returns the staff member and login of a valid reset token.
func (s *Server) resetOf(r *http.Request) (int64, string, error) {
	var (
		id    int64
		login string
	)
	err := s.db.QueryRow(r.Context(), `SELECT p.staff_id, a.login FROM con_password_resets p
		JOIN con_accounts a ON a.staff_id = p.staff_id
		WHERE p.token_hash = $1 AND p.used_at IS NULL AND p.expires_at > $2`,
		tokenHash(r.PathValue("token")), s.now()).Scan(&id, &login)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", escalation.ErrNotFound
	}
	return id, login, err
}

func (s *Server) handlePasswordForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, login, err := s.resetOf(r)
		if errors.Is(err, escalation.ErrNotFound) {
			s.render(w, r, http.StatusNotFound, "error", errorPage{Title: "Ссылка недействительна",
				Text: "Ссылка устарела или уже использована. Попросите администратора выдать новую."})
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		tok := randomToken()
		s.setCookie(w, loginCookie, tok, 3600)
		s.render(w, r, http.StatusOK, "password", passwordPage{Token: tok, Login: login, Min: MinPasswordLen})
	})
}

func (s *Server) handlePassword() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(loginCookie)
		if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
			s.render(w, r, http.StatusForbidden, "error", errorPage{Title: "Форма устарела", Text: "Откройте ссылку заново."})
			return
		}
		id, login, err := s.resetOf(r)
		if errors.Is(err, escalation.ErrNotFound) {
			s.render(w, r, http.StatusNotFound, "error", errorPage{Title: "Ссылка недействительна",
				Text: "Ссылка устарела или уже использована."})
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p1, p2 := r.PostFormValue("password"), r.PostFormValue("password2")
		page := passwordPage{Token: c.Value, Login: login, Min: MinPasswordLen}
		switch {
		case len([]rune(p1)) < MinPasswordLen:
			page.Error = "Пароль слишком короткий."
		case p1 != p2:
			page.Error = "Пароли не совпадают."
		}
		if page.Error != "" {
			s.render(w, r, http.StatusBadRequest, "password", page)
			return
		}
		if err := SetPassword(r.Context(), s.db, id, login, p1); err != nil {
			s.fail(w, r, err)
			return
		}
		if _, err := s.db.Exec(r.Context(), `UPDATE con_password_resets SET used_at = $2 WHERE token_hash = $1`,
			tokenHash(r.PathValue("token")), s.now()); err != nil {
			s.fail(w, r, err)
			return
		}
		s.audit(r, id, "пароль установлен", "", 0, "")
		redirect(w, r, "/login", "password")
	})
}

func (s *Server) handleHome() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ss := sessionFrom(r.Context())
		if ss.has(appealRoles...) {
			http.Redirect(w, r, "/appeals", http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, "/kb", http.StatusSeeOther)
	})
}

// audit records a view or change of personal data (or a sign-in). A
// failure to record is logged; the action is not undone.
func (s *Server) audit(r *http.Request, staffID int64, action, object string, clientID int64, detail string) {
	if staffID == 0 {
		if ss := sessionFrom(r.Context()); ss != nil {
			staffID = ss.Staff.ID
		}
	}
	var client any
	if clientID != 0 {
		client = clientID
	}
	if _, err := s.db.Exec(r.Context(), `INSERT INTO con_audit (at, staff_id, action, object, client_id, detail, addr)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, s.now(), nullID(staffID), action, object, client, detail, clientAddr(r)); err != nil {
		s.log.Error("console: audit log", "action", action, "err", err)
	}
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
