package console

import (
	"io/fs"
	"net/http"
)

// routes lists every page and action of the console with the roles that
// may use it. POST routes check the session's CSRF token (authed).
func (s *Server) routes() {
	static, _ := fs.Sub(staticFS, "static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))

	s.mux.Handle("GET /login", s.handleLoginForm())
	s.mux.Handle("POST /login", s.handleLogin())
	s.mux.Handle("POST /logout", s.authed(anyStaff, s.handleLogout()))
	s.mux.Handle("GET /password/{token}", s.handlePasswordForm())
	s.mux.Handle("POST /password/{token}", s.handlePassword())

	s.mux.Handle("GET /{$}", s.authed(anyStaff, s.handleHome()))

	// Appeals.
	s.mux.Handle("GET /appeals", s.authed(appealRoles, s.handleInbox()))
	s.mux.Handle("GET /appeals/events", s.authed(appealRoles, s.handleEvents()))
	s.mux.Handle("GET /appeals/new", s.authed(frontDesk, s.handleRegisterForm()))
	s.mux.Handle("POST /appeals/new", s.authed(frontDesk, s.handleRegister()))
	s.mux.Handle("GET /appeals/{id}", s.authed(appealRoles, s.handleAppeal()))
	s.mux.Handle("POST /appeals/{id}/reply", s.authed(appealRoles, s.handleAppealAction(actReply)))
	s.mux.Handle("POST /appeals/{id}/note", s.authed(appealRoles, s.handleAppealAction(actNote)))
	s.mux.Handle("POST /appeals/{id}/take", s.authed(appealRoles, s.handleAppealAction(actTake)))
	s.mux.Handle("POST /appeals/{id}/forward", s.authed(appealRoles, s.handleAppealAction(actForward)))
	s.mux.Handle("POST /appeals/{id}/resolve", s.authed(appealRoles, s.handleAppealAction(actResolve)))
	s.mux.Handle("POST /appeals/{id}/close", s.authed(appealRoles, s.handleAppealAction(actClose)))
	s.mux.Handle("POST /appeals/{id}/reopen", s.authed(appealRoles, s.handleAppealAction(actReopen)))

	// Clients.
	s.mux.Handle("GET /clients", s.authed(frontDesk, s.handleClients()))
	s.mux.Handle("GET /clients/{id}", s.authed(clientReader, s.handleClient()))
	s.mux.Handle("GET /clients/{id}/export", s.authed(frontDesk, s.handleClientExport()))
	s.mux.Handle("POST /clients/{id}/merge", s.authed(frontDesk, s.handleClientMerge()))
	s.mux.Handle("POST /clients/{id}/link", s.authed(frontDesk, s.handleClientLink()))
	s.mux.Handle("POST /clients/{id}/delete", s.authed(headOnly, s.handleClientDelete()))

	// Knowledge base.
	s.mux.Handle("GET /kb", s.authed(kbReaders, s.handleKB()))
	s.mux.Handle("GET /kb/try", s.authed(kbReaders, s.handleTry()))
	s.mux.Handle("GET /kb/new", s.authed(editors, s.handleEntryForm()))
	s.mux.Handle("POST /kb/new", s.authed(editors, s.handleEntrySave()))
	s.mux.Handle("GET /kb/entries/{eid}", s.authed(editors, s.handleEntryForm()))
	s.mux.Handle("POST /kb/entries/{eid}", s.authed(editors, s.handleEntrySave()))
	s.mux.Handle("GET /kb/entries/{eid}/history", s.authed(editors, s.handleEntryHistory()))
	s.mux.Handle("POST /kb/entries/{eid}/restore", s.authed(editors, s.handleEntryRestore()))
	s.mux.Handle("POST /kb/entries/{eid}/delete", s.authed(editors, s.handleEntryDelete()))
	s.mux.Handle("GET /kb/export", s.authed(editors, s.handleExport()))
	s.mux.Handle("POST /kb/import", s.authed(editors, s.handleImport()))
	s.mux.Handle("GET /kb/unanswered", s.authed(editors, s.handleUnanswered()))
	s.mux.Handle("POST /kb/unanswered", s.authed(editors, s.handleUnansweredSave()))

	// Supervision.
	s.mux.Handle("GET /stats", s.authed(headOnly, s.handleStats()))
	s.mux.Handle("GET /audit", s.authed(headOnly, s.handleAudit()))
}
