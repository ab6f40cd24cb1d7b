package console

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"kontakt/escalation"
	"kontakt/faq"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("правильный пароль")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=2,p=2$") {
		t.Fatalf("hash %q is not argon2id in PHC format", h)
	}
	if !CheckPassword(h, "правильный пароль") {
		t.Fatal("the right password is refused")
	}
	for _, bad := range []string{"неправильный", "", "правильный пароль "} {
		if CheckPassword(h, bad) {
			t.Fatalf("%q accepted", bad)
		}
	}
	if h2, _ := HashPassword("правильный пароль"); h2 == h {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	if CheckPassword("$argon2id$v=19$garbage", "x") || CheckPassword("", "") {
		t.Fatal("a malformed hash accepted")
	}
}

// route is one console route with who may use it on the fixtures.
type route struct {
	method, path string
	form         url.Values
	allowed      []escalation.Role // roles that get through (others: 403)
}

var (
	all       = escalation.Roles
	contactH  = []escalation.Role{escalation.RoleContact, escalation.RoleHead}
	editorH   = []escalation.Role{escalation.RoleEditor, escalation.RoleHead}
	kbAll     = escalation.Roles
	noEditor  = []escalation.Role{escalation.RoleContact, escalation.RoleAdmission, escalation.RoleStudy, escalation.RoleDepartment, escalation.RoleHead}
	headOnlyR = []escalation.Role{escalation.RoleHead}
)

// TestRoutesRolesCSRF runs every route as every role, and every POST
// without and with a wrong CSRF token, and signed out.
func TestRoutesRolesCSRF(t *testing.T) {
	e := newEnv(t, &fakeNotifier{})
	ctx := context.Background()
	// Fixtures: an appeal in the contact managers' queue (so personal
	// managers and department heads don't see it, nor its client), a
	// client to merge into it and one to delete, an entry.
	a := e.appeal("Не могу найти расписание", escalation.Student)
	other := e.appeal("Дубль клиента", escalation.Student)
	gone := e.appeal("Удалите мои данные", escalation.Other)
	en := e.entry(unique("route-entry-"), "Как пройти в библиотеку", "Второй этаж.")
	doomed := e.entry(unique("route-doomed-"), "Устаревший вопрос", "Устаревший ответ.")
	ap := fmt.Sprintf("/appeals/%d", a.ID)
	cl := fmt.Sprintf("/clients/%d", a.ClientID)
	routes := []route{
		{"GET", "/", nil, all},
		{"GET", "/appeals", nil, noEditor},
		{"GET", "/appeals?status=all&channel=telegram&topic=other&assignee=me&overdue=1&q=Пётр", nil, noEditor},
		{"GET", "/appeals/new", nil, contactH},
		{"GET", "/appeals/new?find=Пётр", nil, contactH},
		{"GET", ap, nil, contactH},
		{"POST", ap + "/note", url.Values{"text": {"заметка"}}, contactH},
		{"POST", ap + "/take", url.Values{}, contactH},
		{"POST", ap + "/reply", url.Values{"text": {"ответ"}}, contactH},
		{"POST", ap + "/forward", url.Values{"to": {"queue:contact"}, "text": {"коллегам"}}, contactH},
		{"POST", ap + "/resolve", url.Values{"text": {"решено"}}, contactH},
		{"POST", ap + "/reopen", url.Values{"text": {"ещё вопрос"}}, contactH},
		{"POST", ap + "/close", url.Values{"text": {"по телефону"}}, contactH},
		{"POST", "/appeals/new", url.Values{"name": {"Гость"}, "consent": {"1"}, "channel": {"walkin"}, "topic": {"other"}, "text": {"вопрос"}}, contactH},
		{"GET", "/clients", nil, contactH},
		{"GET", "/clients?q=Пётр", nil, contactH},
		{"GET", cl, nil, contactH},
		{"GET", cl + "/export", nil, contactH},
		{"POST", cl + "/merge", url.Values{"other": {fmt.Sprint(other.ClientID)}}, contactH},
		{"POST", cl + "/link", url.Values{"other": {fmt.Sprint(other.ClientID)}, "as": {"child"}}, contactH},
		{"POST", fmt.Sprintf("/clients/%d/delete", gone.ClientID), url.Values{"confirm": {"1"}}, headOnlyR},
		{"GET", "/kb", nil, kbAll},
		{"GET", "/kb?q=библиотек", nil, kbAll},
		{"GET", "/kb/try?q=библиотека", nil, kbAll},
		{"GET", "/kb/new", nil, editorH},
		{"POST", "/kb/new", url.Values{"id": {unique("new-")}, "category": {e.cat}, "audience": {"student"}, "question": {"Вопрос"}, "answer": {"Ответ"}}, editorH},
		{"GET", "/kb/entries/" + en.ID, nil, editorH},
		{"POST", "/kb/entries/" + en.ID, url.Values{"category": {e.cat}, "audience": {"student"}, "question": {en.Question}, "answer": {"Третий этаж."}, "version": {"1"}}, editorH},
		{"GET", "/kb/entries/" + en.ID + "/history", nil, editorH},
		{"POST", "/kb/entries/" + en.ID + "/restore", url.Values{"version": {"1"}}, editorH},
		{"POST", "/kb/entries/" + doomed.ID + "/delete", url.Values{"confirm": {"1"}}, editorH},
		{"GET", "/kb/export", nil, editorH},
		{"GET", "/kb/unanswered?q=" + e.cat, nil, editorH},
		{"POST", "/kb/unanswered", url.Values{"do": {"dismiss"}, "norms": {unique("norm")}}, editorH},
		{"GET", "/stats", nil, headOnlyR},
		{"GET", "/audit", nil, headOnlyR},
		{"GET", "/appeals/events", nil, noEditor},
	}
	cookies, tokens := map[escalation.Role]*http.Cookie{}, map[escalation.Role]string{}
	for _, r := range escalation.Roles {
		cookies[r], tokens[r] = e.session(r)
	}
	for _, rt := range routes {
		for _, role := range escalation.Roles {
			t.Run(rt.method+" "+rt.path+" as "+string(role), func(t *testing.T) {
				if rt.method == "POST" {
					// Without the token, and with another session's token.
					if w := e.do("POST", rt.path, cookies[role], rt.form); w.Code != http.StatusForbidden {
						t.Fatalf("without CSRF: %d, want 403", w.Code)
					}
					f := url.Values{"csrf": {"x" + tokens[role]}}
					for k, v := range rt.form {
						f[k] = v
					}
					if w := e.do("POST", rt.path, cookies[role], f); w.Code != http.StatusForbidden {
						t.Fatalf("wrong CSRF: %d, want 403", w.Code)
					}
				}
				var w *httptest.ResponseRecorder
				if rt.path == "/appeals/events" {
					w = e.stream(rt.path, cookies[role])
				} else {
					f := rt.form
					if rt.method == "POST" {
						f = url.Values{"csrf": {tokens[role]}}
						for k, v := range rt.form {
							f[k] = v
						}
					}
					w = e.do(rt.method, rt.path, cookies[role], f)
				}
				allowed := slices.Contains(rt.allowed, role)
				switch {
				case allowed && (w.Code == http.StatusForbidden || w.Code >= 500):
					t.Fatalf("%s allowed, got %d:\n%s", role, w.Code, w.Body.String())
				case !allowed && w.Code != http.StatusForbidden:
					t.Fatalf("%s not allowed, got %d", role, w.Code)
				case !allowed && !strings.Contains(w.Body.String(), "Нет доступа"):
					t.Fatalf("403 page without explanation:\n%s", w.Body.String())
				}
			})
		}
		t.Run(rt.method+" "+rt.path+" signed out", func(t *testing.T) {
			w := e.do(rt.method, rt.path, nil, rt.form)
			switch {
			case rt.method == "GET" && rt.path != "/appeals/events":
				if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/login?next=") {
					t.Fatalf("got %d %s, want a redirect to /login", w.Code, w.Header().Get("Location"))
				}
			default:
				if w.Code != http.StatusUnauthorized && w.Code != http.StatusSeeOther {
					t.Fatalf("got %d, want 401", w.Code)
				}
			}
		})
	}
	// The fixtures really changed where allowed.
	if got := e.notify.to(a.ID); len(got) == 0 {
		t.Fatal("no reply or result reached the client")
	}
	if c, _ := e.svc.Client(ctx, gone.ClientID); c.Name != "" || c.Phone != "" || len(c.Identities) != 0 {
		t.Fatalf("deleted client keeps personal data: %+v", c)
	}
	if g, _ := e.svc.Get(ctx, gone.ID); g.Number != gone.Number || strings.Contains(g.Text, "Удалите") {
		t.Fatalf("deleted client's appeal: %+v", g)
	}
}

// stream opens the SSE endpoint for a moment and returns what it got.
func (e *env) stream(path string, cookie *http.Cookie) *httptest.ResponseRecorder {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req := httptest.NewRequest("GET", path, nil).WithContext(ctx)
	req.AddCookie(cookie)
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, req)
	return w
}

func TestLoginFormCSRFThrottleAndReset(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	p := e.staff[escalation.RoleContact]
	login := unique("user")
	if err := SetPassword(ctx, pool, p.ID, login, "короткий"); err == nil {
		t.Fatal("a short password accepted")
	}
	if err := SetPassword(ctx, pool, p.ID, login, "верный-пароль-1"); err != nil {
		t.Fatal(err)
	}
	// The sign-in form sets its CSRF cookie; a POST without it is refused.
	w := e.do("GET", "/login?next=/kb", nil, nil)
	var loginTok *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == loginCookie {
			loginTok = c
		}
	}
	if loginTok == nil || !loginTok.HttpOnly || loginTok.SameSite != http.SameSiteStrictMode {
		t.Fatalf("login cookie %+v", loginTok)
	}
	form := func(pw string) url.Values {
		return url.Values{"csrf": {loginTok.Value}, "login": {login}, "password": {pw}, "next": {"/kb"}}
	}
	if w := e.do("POST", "/login", nil, form("верный-пароль-1")); w.Code != http.StatusForbidden {
		t.Fatalf("login without the form's cookie: %d", w.Code)
	}
	w = e.do("POST", "/login", loginTok, form("верный-пароль-1"))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/kb" {
		t.Fatalf("login: %d %s", w.Code, w.Header().Get("Location"))
	}
	var sess *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == sessionCookie {
			sess = c
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie %+v", sess)
	}
	if w := e.do("GET", "/appeals", sess, nil); w.Code != http.StatusOK {
		t.Fatalf("inbox with the new session: %d", w.Code)
	}
	// An open redirect is not followed.
	f := form("верный-пароль-1")
	f.Set("next", "//evil.example")
	if w := e.do("POST", "/login", loginTok, f); w.Header().Get("Location") != "/" {
		t.Fatalf("next=//evil.example redirected to %q", w.Header().Get("Location"))
	}
	// Five failures lock the login for a while, even with the right password.
	for i := range maxLoginFailures {
		if w := e.do("POST", "/login", loginTok, form("неверный")); w.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, w.Code)
		}
	}
	if w := e.do("POST", "/login", loginTok, form("верный-пароль-1")); w.Code != http.StatusTooManyRequests {
		t.Fatalf("after %d failures: %d, want 429", maxLoginFailures, w.Code)
	}
	// A reset link sets a new password once and ends the old sessions.
	link, err := ResetLink(ctx, pool, "https://console.example", p.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	path := strings.TrimPrefix(link, "https://console.example")
	w = e.do("GET", path, nil, nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), login) {
		t.Fatalf("reset page: %d", w.Code)
	}
	var formTok *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == loginCookie {
			formTok = c
		}
	}
	pf := url.Values{"csrf": {formTok.Value}, "password": {"новый-пароль-22"}, "password2": {"новый-пароль-22"}}
	if w := e.do("POST", path, nil, pf); w.Code != http.StatusForbidden {
		t.Fatalf("reset without the form cookie: %d", w.Code)
	}
	if w := e.do("POST", path, formTok, pf); w.Code != http.StatusSeeOther {
		t.Fatalf("reset: %d %s", w.Code, w.Body.String())
	}
	if w := e.do("POST", path, formTok, pf); w.Code != http.StatusNotFound {
		t.Fatalf("reset link used twice: %d", w.Code)
	}
	if w := e.do("GET", "/appeals", sess, nil); w.Code != http.StatusSeeOther {
		t.Fatalf("old session after a password change: %d", w.Code)
	}
	var hash string
	if err := pool.QueryRow(ctx, `SELECT password_hash FROM con_accounts WHERE staff_id = $1`, p.ID).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !CheckPassword(hash, "новый-пароль-22") {
		t.Fatal("the new password is not stored")
	}
}

func TestAppealPageEscapesAndAudits(t *testing.T) {
	e := newEnv(t, &fakeNotifier{})
	ctx := context.Background()
	a := e.appeal(`<script>alert("x")</script> помогите`, escalation.Applicant)
	if _, err := e.svc.AddMessage(ctx, a.ID, escalation.Message{Author: escalation.FromClient, Text: `<img src=x onerror=alert(1)>`}); err != nil {
		t.Fatal(err)
	}
	c, _ := e.session(escalation.RoleContact)
	for _, path := range []string{fmt.Sprintf("/appeals/%d", a.ID), "/appeals?status=all&q=" + url.QueryEscape(a.Number)} {
		w := e.do("GET", path, c, nil)
		body := w.Body.String()
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d", path, w.Code)
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Fatalf("%s: client text not escaped", path)
		}
		if !strings.Contains(body, "&lt;script&gt;alert") {
			t.Fatalf("%s: client text missing", path)
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Fatalf("CSP %q", csp)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM con_audit WHERE client_id = $1 AND staff_id = $2 AND action = 'просмотр обращения'`,
		a.ClientID, e.staff[escalation.RoleContact].ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("audit rows for the view: %d, %v", n, err)
	}
	// The head reads the audit log.
	hc, _ := e.session(escalation.RoleHead)
	w := e.do("GET", fmt.Sprintf("/audit?client=%d", a.ClientID), hc, nil)
	if !strings.Contains(w.Body.String(), e.staff[escalation.RoleContact].Name) {
		t.Fatal("audit page does not name who viewed the client")
	}
}

func TestVisibilityFollowsForwarding(t *testing.T) {
	e := newEnv(t, &fakeNotifier{})
	ctx := context.Background()
	a := e.appeal("Нужна справка об обучении", escalation.Student)
	contact, ctok := e.session(escalation.RoleContact)
	dept, _ := e.session(escalation.RoleDepartment)
	path := fmt.Sprintf("/appeals/%d", a.ID)
	if w := e.do("GET", path, dept, nil); w.Code != http.StatusForbidden {
		t.Fatalf("department head sees a contact-queue appeal: %d", w.Code)
	}
	// Forwarded to the department head's queue, it is theirs to see, and
	// the client's page too; the contact manager's list no longer has it.
	w := e.do("POST", path+"/forward", contact, url.Values{"csrf": {ctok}, "to": {"queue:dept:" + e.dept}, "text": {"по вашей части"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("forward: %d %s", w.Code, w.Body.String())
	}
	if w := e.do("GET", path, dept, nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "по вашей части") {
		t.Fatalf("department head after forwarding: %d", w.Code)
	}
	if w := e.do("GET", fmt.Sprintf("/clients/%d", a.ClientID), dept, nil); w.Code != http.StatusOK {
		t.Fatalf("department head, client page: %d", w.Code)
	}
	w = e.do("GET", "/appeals?status=all&q="+url.QueryEscape(a.Number), dept, nil)
	if !strings.Contains(w.Body.String(), a.Number) {
		t.Fatal("forwarded appeal missing from the department head's inbox")
	}
	h, _ := e.svc.History(ctx, a.ID)
	if last := h[len(h)-1]; last.To != escalation.StatusForwarded || last.StaffID != e.staff[escalation.RoleContact].ID {
		t.Fatalf("history: %+v", last)
	}
}

func TestReplyResolveAndRegister(t *testing.T) {
	n := &fakeNotifier{}
	e := newEnv(t, n)
	ctx := context.Background()
	a := e.appeal("Когда стипендия?", escalation.Student)
	c, tok := e.session(escalation.RoleContact)
	path := fmt.Sprintf("/appeals/%d", a.ID)
	w := e.do("POST", path+"/reply", c, url.Values{"csrf": {tok}, "text": {"Стипендия 25 числа."}})
	if w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Location"), "ok=replied") {
		t.Fatalf("reply: %d %s", w.Code, w.Header().Get("Location"))
	}
	got, _ := e.svc.Get(ctx, a.ID)
	if got.Status != escalation.StatusAnswered || got.AssigneeID != e.staff[escalation.RoleContact].ID {
		t.Fatalf("after reply: %s assignee %d", got.Status, got.AssigneeID)
	}
	w = e.do("POST", path+"/resolve", c, url.Values{"csrf": {tok}, "text": {"Ответили о сроках."}})
	if !strings.Contains(w.Header().Get("Location"), "ok=resolved") {
		t.Fatalf("resolve: %d %s", w.Code, w.Header().Get("Location"))
	}
	if got, _ = e.svc.Get(ctx, a.ID); got.Status != escalation.StatusClosed {
		t.Fatalf("after resolve and notice: %s", got.Status)
	}
	if sent := n.to(a.ID); len(sent) != 2 || sent[0] != "Стипендия 25 числа." || !strings.Contains(sent[1], "Ответили о сроках.") {
		t.Fatalf("sent to the client: %q", sent)
	}
	// Reopen brings it back.
	w = e.do("POST", path+"/reopen", c, url.Values{"csrf": {tok}})
	if got, _ = e.svc.Get(ctx, a.ID); got.Status != escalation.StatusAssigned {
		t.Fatalf("after reopen: %s", got.Status)
	}
	// Walk-in registration for a client found by search: the appeal is
	// the known client's, routed like any other.
	w = e.do("GET", "/appeals/new?find="+url.QueryEscape(got.Number), c, nil)
	if !strings.Contains(w.Body.String(), fmt.Sprintf("client=%d", a.ClientID)) {
		t.Fatal("the client is not found by appeal number")
	}
	w = e.do("POST", "/appeals/new", c, url.Values{"csrf": {tok}, "client": {fmt.Sprint(a.ClientID)}, "channel": {"walkin"},
		"topic": {"dormitory"}, "kind": {"request"}, "text": {"Пришёл лично: нужно место в общежитии"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("register: %d %s", w.Code, w.Body.String())
	}
	list, _ := e.svc.ClientAppeals(ctx, a.ClientID)
	last := list[len(list)-1]
	if len(list) != 2 || last.Channel != escalation.WalkIn || last.Route != "dept:campus" || last.Kind != escalation.Request {
		t.Fatalf("walk-in appeal: %d appeals, last %+v", len(list), last)
	}
	// A new visitor without consent is refused; with it, registered.
	f := url.Values{"csrf": {tok}, "name": {"Анна Гостева"}, "phone": {"8 (900) 111-22-33"}, "channel": {"phone"}, "topic": {"tuition"}, "text": {"Звонок: сколько стоит обучение"}}
	if w := e.do("POST", "/appeals/new", c, f); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "согласия") {
		t.Fatalf("without consent: %d", w.Code)
	}
	f.Set("consent", "1")
	if w = e.do("POST", "/appeals/new", c, f); w.Code != http.StatusSeeOther {
		t.Fatalf("new visitor: %d %s", w.Code, w.Body.String())
	}
	if page := e.do("GET", w.Header().Get("Location"), c, nil); !strings.Contains(page.Body.String(), "Анна Гостева") ||
		!strings.Contains(page.Body.String(), "Обращение зарегистрировано") {
		t.Fatalf("registered appeal page (%s) does not show the client:\n%s", w.Header().Get("Location"), page.Body.String())
	}
	// A walk-in visitor has no channel: the result is recorded, the
	// manager tells them by phone and closes the appeal.
	walk := strings.Split(w.Header().Get("Location"), "?")[0]
	w = e.do("POST", walk+"/resolve", c, url.Values{"csrf": {tok}, "text": {"Стоимость — 150 000 ₽ в год."}})
	if !strings.Contains(w.Header().Get("Location"), "ok=resolved-nc") {
		t.Fatalf("walk-in resolve: %s", w.Header().Get("Location"))
	}
	if page := e.do("GET", walk, c, nil); !strings.Contains(page.Body.String(), `id="close"`) {
		t.Fatal("no close button for a resolved appeal")
	}
	w = e.do("POST", walk+"/close", c, url.Values{"csrf": {tok}, "text": {"сообщили по телефону"}})
	if !strings.Contains(w.Header().Get("Location"), "ok=closed") {
		t.Fatalf("close: %d %s", w.Code, w.Body.String())
	}
}

func TestEntryEditValidationAndHistory(t *testing.T) {
	e := newEnv(t, nil)
	en := e.entry(unique("lib-"), "Как пройти в библиотеку", "Второй этаж.")
	c, tok := e.session(escalation.RoleEditor)
	path := "/kb/entries/" + en.ID
	f := url.Values{"csrf": {tok}, "category": {e.cat}, "audience": {"student", "applicant"}, "question": {en.Question},
		"answer": {""}, "version": {"1"}}
	w := e.do("POST", path, c, f)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "answer") {
		t.Fatalf("empty answer: %d", w.Code)
	}
	f.Set("answer", "Третий этаж, налево.")
	f.Set("alternatives", "где библиотека\nбиблиотека где находится")
	if w := e.do("POST", path, c, f); w.Code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", w.Code, w.Body.String())
	}
	// Someone saving over a newer version is told so.
	if w := e.do("POST", path, c, f); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "изменил кто-то другой") {
		t.Fatalf("stale save: %d", w.Code)
	}
	w = e.do("GET", path+"/history", c, nil)
	body := w.Body.String()
	if !strings.Contains(body, `"ddel">- ответ: Второй этаж.`) || !strings.Contains(body, `"dadd">&#43; ответ: Третий этаж, налево.`) {
		t.Fatalf("history diff missing:\n%s", body)
	}
	w = e.do("POST", path+"/restore", c, url.Values{"csrf": {tok}, "version": {"1"}})
	if got, _ := e.store.Get(context.Background(), en.ID); got.Answer != "Второй этаж." || got.Version != 3 {
		t.Fatalf("after restore: %+v", got)
	}
	// Export is the YAML of the store; a broken import changes nothing.
	w = e.do("GET", "/kb/export", c, nil)
	if !strings.Contains(w.Body.String(), "id: "+en.ID) {
		t.Fatal("export lacks the entry")
	}
}

func TestImportRejectsBadFileWithLines(t *testing.T) {
	e := newEnv(t, nil)
	c, tok := e.session(escalation.RoleEditor)
	body := &strings.Builder{}
	mw := newMultipart(body, map[string]string{"csrf": tok}, "file", "kb.yaml",
		"entries:\n  - id: "+unique("imp-")+"\n    category: "+e.cat+"\n    audience: [student]\n    question: Вопрос\n    answr: Ответ\n")
	req := httptest.NewRequest("POST", "/kb/import", strings.NewReader(body.String()))
	req.Header.Set("Content-Type", mw)
	req.AddCookie(c)
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, req)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "line") {
		t.Fatalf("bad import: %d\n%s", w.Code, w.Body.String())
	}
}

func TestUnansweredToEntryAndAlternative(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	word := uniqueWord("квот") // a word only this test's questions have
	for _, q := range []string{"где взять " + word + " для практики", "Где взять " + word + " для практики?", "как получить " + word + " для практики, мой телефон +7 900 123-45-67"} {
		if err := e.store.AddFeedback(ctx, faq.Feedback{EntryID: "x", Helpful: false, Query: q, Channel: "telegram"}); err != nil {
			t.Fatal(err)
		}
	}
	e.appeal("Нужен "+word+" для практики срочно", escalation.Student)
	c, tok := e.session(escalation.RoleEditor)
	w := e.do("GET", "/kb/unanswered?q="+url.QueryEscape(word), c, nil)
	body := w.Body.String()
	if !strings.Contains(body, `<span class="count-badge">4</span>`) && !strings.Contains(body, `<span class="count-badge">3</span>`) {
		t.Fatalf("no group of similar questions:\n%s", body)
	}
	if strings.Contains(body, "123-45-67") || strings.Contains(body, "Пётр Тестов") {
		t.Fatal("personal data shown to the editor")
	}
	norms := hiddenValue(body, "norms")
	id := unique("practice-")
	w = e.do("POST", "/kb/unanswered", c, url.Values{"csrf": {tok}, "do": {"entry"}, "norms": {norms}, "id": {id},
		"category": {e.cat}, "question": {"Где взять " + word + " для практики"}, "answer": {"В деканате, кабинет 101."}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("new entry: %d %s", w.Code, w.Body.String())
	}
	e.waitKB("где взять "+word+" для практики", id, "кабинет 101")
	w = e.do("GET", "/kb/unanswered?q="+url.QueryEscape(word), c, nil)
	if strings.Contains(w.Body.String(), "count-badge") {
		t.Fatalf("the group is still listed after it became an entry:\n%s", w.Body.String())
	}
	// A new phrasing of the same thing becomes an alternative in one step.
	e.store.AddFeedback(ctx, faq.Feedback{EntryID: id, Helpful: false, Query: word + " на практику откуда", Channel: "vk"})
	w = e.do("GET", "/kb/unanswered?q="+url.QueryEscape(word), c, nil)
	norms = hiddenValue(w.Body.String(), "norms")
	w = e.do("POST", "/kb/unanswered", c, url.Values{"csrf": {tok}, "do": {"alternative"}, "norms": {norms}, "entry": {id},
		"phrase": {word + " на практику откуда"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("alternative: %d %s", w.Code, w.Body.String())
	}
	if got, _ := e.store.Get(ctx, id); !slices.Contains(got.Alternatives, word+" на практику откуда") {
		t.Fatalf("alternatives: %q", got.Alternatives)
	}
}

func TestLiveEvents(t *testing.T) {
	e := newEnv(t, nil)
	c, _ := e.session(escalation.RoleContact)
	srv := httptest.NewServer(e.srv)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/appeals/events", nil)
	req.AddCookie(c)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	<-lines // ": connected"
	a := e.appeal("Живое обновление", escalation.Other)
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("stream ended")
			}
			if strings.HasPrefix(l, "data: ") && strings.Contains(l, a.Number) {
				return
			}
		case <-timeout:
			t.Fatal("no event for the new appeal")
		}
	}
}

// hiddenValue returns the value of the first hidden input named name.
func hiddenValue(body, name string) string {
	i := strings.Index(body, `name="`+name+`" value="`)
	if i < 0 {
		return ""
	}
	rest := body[i+len(`name="`+name+`" value="`):]
	v := rest[:strings.Index(rest, `"`)]
	return strings.ReplaceAll(v, "&#10;", "\n")
}

// uniqueWord is prefix followed by letters no other run uses (digits would
// be masked as a phone number).
func uniqueWord(prefix string) string {
	letters := []rune("абвгдежзик")
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range unique("") {
		b.WriteRune(letters[r-'0'])
	}
	return b.String()
}

func TestClientLinkMergeExport(t *testing.T) {
	e := newEnv(t, &fakeNotifier{})
	ctx := context.Background()
	parent := e.appeal("Я мама студента, вопрос об оплате", escalation.Parent)
	child := e.appeal("Вопрос об оплате", escalation.Student)
	dup := e.appeal("Ещё раз об оплате, с другого аккаунта", escalation.Student)
	c, tok := e.session(escalation.RoleContact)
	path := fmt.Sprintf("/clients/%d", child.ClientID)
	if w := e.do("POST", path+"/link", c, url.Values{"csrf": {tok}, "other": {fmt.Sprint(parent.ClientID)}, "as": {"parent"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("link: %d %s", w.Code, w.Body.String())
	}
	if w := e.do("POST", path+"/merge", c, url.Values{"csrf": {tok}, "other": {fmt.Sprint(dup.ClientID)}}); w.Code != http.StatusSeeOther {
		t.Fatalf("merge: %d %s", w.Code, w.Body.String())
	}
	got, _ := e.svc.Client(ctx, child.ClientID)
	if !slices.Contains(got.Related, parent.ClientID) || len(got.Identities) != 2 {
		t.Fatalf("client after link and merge: %+v", got)
	}
	w := e.do("GET", path, c, nil)
	if !strings.Contains(w.Body.String(), fmt.Sprintf("/clients/%d", parent.ClientID)) || !strings.Contains(w.Body.String(), dup.Number) {
		t.Fatal("client page lacks the parent or the merged appeal")
	}
	w = e.do("GET", path+"/export", c, nil)
	if w.Header().Get("Content-Disposition") == "" || !strings.Contains(w.Body.String(), child.Number) || !strings.Contains(w.Body.String(), dup.Number) {
		t.Fatalf("export: %s", w.Body.String())
	}
	var n int
	pool.QueryRow(ctx, `SELECT count(*) FROM con_audit WHERE client_id = $1 AND action IN ('связь родитель — ребёнок', 'объединение клиентов', 'выгрузка персональных данных', 'просмотр клиента')`, child.ClientID).Scan(&n)
	if n != 4 {
		t.Fatalf("audit rows for link, merge, view, export: %d", n)
	}
}

func TestStaticAndPublicPages(t *testing.T) {
	e := newEnv(t, nil)
	for path, want := range map[string]string{
		"/static/console.css":  "text/css",
		"/static/console.js":   "text/javascript",
		"/login":               "text/html",
		"/password/not-a-link": "text/html",
	} {
		w := e.do("GET", path, nil, nil)
		if path == "/password/not-a-link" {
			if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "Ссылка недействительна") {
				t.Fatalf("%s: %d", path, w.Code)
			}
			continue
		}
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), want) {
			t.Fatalf("%s: %d %s", path, w.Code, w.Header().Get("Content-Type"))
		}
	}
	// Nothing the pages load comes from elsewhere.
	w := e.do("GET", "/login", nil, nil)
	if strings.Contains(w.Body.String(), "http://") || strings.Contains(w.Body.String(), "https://") {
		t.Fatal("the sign-in page refers to another site")
	}
}

func TestInboxPaging(t *testing.T) {
	e := newEnv(t, nil)
	seedAppeals(t, e.dept, unique("P"), inboxPageSize+10)
	c, _ := e.session(escalation.RoleDepartment)
	seen := map[string]bool{}
	path := "/appeals?status=all"
	for page := 1; ; page++ {
		body := e.do("GET", path, c, nil).Body.String()
		n := strings.Count(body, "data-id=")
		for _, part := range strings.Split(body, `data-id="`)[1:] {
			id := part[:strings.Index(part, `"`)]
			if seen[id] {
				t.Fatalf("appeal %s on two pages", id)
			}
			seen[id] = true
		}
		next := ""
		if j := strings.Index(body, `" id="next">Дальше<`); j > 0 {
			next = body[strings.LastIndex(body[:j], `href="`)+6 : j]
		}
		if next == "" {
			if page != 2 || n != 10 {
				t.Fatalf("page %d has %d rows and no next link", page, n)
			}
			break
		}
		if n != inboxPageSize || strings.Count(next, "before=") != 1 {
			t.Fatalf("page %d: %d rows, next %q", page, n, next)
		}
		path = strings.ReplaceAll(next, "&amp;", "&")
	}
	if len(seen) != inboxPageSize+10 {
		t.Fatalf("saw %d appeals", len(seen))
	}
}
