package console

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"

	"kontakt/bot"
	"kontakt/bot/telegram"
	"kontakt/bot/telegram/telegramtest"
	"kontakt/escalation"
	"kontakt/faq"
	"kontakt/knowledge"
)

// These tests drive the console in headless Chromium (Debian's chromium
// package, installed by scripts/test.sh) through chromedp.

// site is a console served over HTTP whose replies go to a fake Telegram.
type site struct {
	*env
	url  string
	tg   *telegramtest.Server
	pass map[escalation.Role]string
	lgn  map[escalation.Role]string
}

func newSite(t *testing.T) *site {
	t.Helper()
	rurl := os.Getenv("KONTAKT_TEST_REDIS_URL")
	if rurl == "" {
		t.Fatal("KONTAKT_TEST_REDIS_URL is not set: run the tests with scripts/test.sh")
	}
	opt, err := redis.ParseURL(rurl)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	fake := telegramtest.New("123:CONSOLE", telegramtest.Limits{})
	t.Cleanup(fake.Close)
	ch, err := telegram.New(telegram.Config{Token: fake.Token, BaseURL: fake.URL, Redis: rdb, Prefix: unique("test:console:") + ":",
		Handler: bot.HandlerFunc(func(context.Context, bot.Message) ([]bot.Reply, error) { return nil, nil })})
	if err != nil {
		t.Fatal(err)
	}
	svc := escalation.New(pool, escalation.Config{})
	e := newEnv(t, &Senders{Appeals: svc, By: map[escalation.Channel]bot.Sender{escalation.Telegram: ch}})
	hs := httptest.NewServer(e.srv)
	t.Cleanup(hs.Close)
	s := &site{env: e, url: hs.URL, tg: fake, pass: map[escalation.Role]string{}, lgn: map[escalation.Role]string{}}
	for r, p := range e.staff {
		s.lgn[r], s.pass[r] = unique("u"), "пароль-"+unique("")
		if err := SetPassword(context.Background(), pool, p.ID, s.lgn[r], s.pass[r]); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// chrome is one headless Chromium for the package's tests, started on
// first use; every test person gets a browser context of their own (own
// cookies), as a separate profile would give.
var chrome struct {
	once sync.Once
	ctx  context.Context
	stop func()
	err  error
}

// stopChrome ends the shared browser; TestMain calls it.
func stopChrome() {
	if chrome.stop != nil {
		chrome.stop()
	}
}

// browser returns a fresh browser context in the shared headless Chromium.
func browser(t *testing.T) context.Context {
	t.Helper()
	chrome.once.Do(func() {
		path := ""
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				path = p
				break
			}
		}
		if path == "" {
			chrome.err = errors.New("Chromium is not installed: scripts/test.sh installs Debian's chromium package")
			return
		}
		dir, err := os.MkdirTemp("", "console-chromium-")
		if err != nil {
			chrome.err = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path),
			chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
			chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
			chromedp.UserDataDir(dir), chromedp.WindowSize(1280, 900))
		actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelC := chromedp.NewContext(actx)
		chrome.ctx = ctx
		chrome.stop = func() { cancelC(); cancelA(); os.RemoveAll(dir) }
		if err := chromedp.Do(ctx); err != nil {
			chrome.err = fmt.Errorf("start Chromium: %w", err)
		}
	})
	if chrome.err != nil {
		t.Fatal(chrome.err)
	}
	ctx, cancelC := chromedp.NewContext(chrome.ctx, chromedp.WithNewBrowserContext())
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelT(); cancelC() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("new browser context: %v", err)
	}
	return ctx
}

// signIn fills the sign-in form as role.
func (s *site) signIn(t *testing.T, ctx context.Context, r escalation.Role) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.url+"/login"),
		chromedp.SendKeys(chromedp.ID("login"), s.lgn[r]),
		chromedp.SendKeys(chromedp.ID("password"), s.pass[r]),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("me")),
	); err != nil {
		t.Fatalf("sign in as %s: %v", r, err)
	}
	me, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("me")))
	if err != nil || me != s.staff[r].Name {
		t.Fatalf("signed in as %q, want %q (%v)", me, s.staff[r].Name, err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(v)
}

// TestBrowserRoles signs in as each role and checks where each lands and
// what each may open: a contact manager is denied an editor's page, an
// editor a client's page; the head reads statistics and the audit log.
func TestBrowserRoles(t *testing.T) {
	s := newSite(t)
	a := s.appeal("Вопрос для проверки ролей", escalation.Other)
	en := s.entry(s.cat+"-roles", "Когда открыта библиотека", "С 9 до 18.")
	for _, r := range escalation.Roles {
		t.Run(string(r), func(t *testing.T) {
			ctx := browser(t)
			s.signIn(t, ctx, r)
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			want := "/appeals"
			if r == escalation.RoleEditor {
				want = "/kb"
			}
			if !strings.HasSuffix(loc, want) {
				t.Fatalf("%s landed on %s, want %s", r, loc, want)
			}
			switch r {
			case escalation.RoleContact:
				chromedp.Do(ctx, chromedp.Navigate(s.url+"/kb/entries/"+en.ID))
				if got := text(t, ctx, "#title"); got != "Нет доступа" {
					t.Fatalf("contact manager on an editor's page sees %q", got)
				}
				chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/clients/%d", s.url, a.ClientID)))
				if got := text(t, ctx, "#client-name"); got != "Пётр Тестов" {
					t.Fatalf("contact manager on the client's page: %q", got)
				}
			case escalation.RoleEditor:
				chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/clients/%d", s.url, a.ClientID)))
				if got := text(t, ctx, "#title"); got != "Нет доступа" {
					t.Fatalf("editor on a client's page sees %q", got)
				}
				chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/appeals/%d", s.url, a.ID)))
				if got := text(t, ctx, "#title"); got != "Нет доступа" {
					t.Fatalf("editor on an appeal sees %q", got)
				}
			case escalation.RoleHead:
				chromedp.Do(ctx, chromedp.Navigate(s.url+"/stats"))
				if text(t, ctx, "#last30") == "" {
					t.Fatal("no statistics")
				}
				chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/audit?client=%d", s.url, a.ClientID)))
				if got := text(t, ctx, "#audit"); !strings.Contains(got, s.staff[escalation.RoleContact].Name) {
					t.Fatalf("audit log lacks the contact manager's view of the client:\n%s", got)
				}
			default: // personal managers and department heads: not theirs
				chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/appeals/%d", s.url, a.ID)))
				if got := text(t, ctx, "#title"); got != "Нет доступа" {
					t.Fatalf("%s on a contact-queue appeal sees %q", r, got)
				}
			}
		})
	}
}

// TestBrowserReplyReachesTelegram answers an appeal in the browser and
// sees the reply arrive at the client's Telegram chat; the inbox meanwhile
// shows a new appeal without reloading.
func TestBrowserReplyReachesTelegram(t *testing.T) {
	s := newSite(t)
	a := s.appeal("<script>alert('x')</script>Когда приказ о зачислении?", escalation.Other)
	chat, _ := strconv.ParseInt(a.ExternalID, 10, 64)
	ctx := browser(t)
	s.signIn(t, ctx, escalation.RoleContact)

	// Live inbox: a new appeal appears without a reload.
	if err := chromedp.Do(ctx, chromedp.Navigate(s.url+"/appeals?status=all")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("inbox").dataset.connected === "1"`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("inbox live connection: %v", err)
	}
	fresh := s.appeal("Новое обращение, пока открыт список", escalation.Other)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("inbox").innerText.includes("`+fresh.Number+`")`,
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("the new appeal %s did not appear in the open inbox: %v", fresh.Number, err)
	}

	reply := "Приказ будет 1 августа. Ваш контактный менеджер."
	if err := chromedp.Do(ctx,
		chromedp.Navigate(fmt.Sprintf("%s/appeals/%d", s.url, a.ID)),
		chromedp.SendKeys(chromedp.ID("reply"), reply),
		chromedp.Click(chromedp.ID("send-reply")),
		chromedp.WaitVisible(chromedp.ID("flash")),
	); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "#flash"); got != flashes["replied"] {
		t.Fatalf("flash %q", got)
	}
	if got := text(t, ctx, "#appeal-text"); !strings.HasPrefix(got, "<script>alert('x')</script>") {
		t.Fatalf("client's text is not shown as text: %q", got)
	}
	sent := s.tg.WaitSent(chat, 1, 10*time.Second)
	if len(sent) != 1 || sent[0].Plain != reply {
		t.Fatalf("the client's Telegram chat got %+v, want %q", sent, reply)
	}
	got, _ := s.svc.Get(context.Background(), a.ID)
	if got.Status != escalation.StatusAnswered || got.FirstResponseAt == nil {
		t.Fatalf("appeal after the reply: %s", got.Status)
	}
}

// TestBrowserWalkIn registers a walk-in visitor's appeal.
func TestBrowserWalkIn(t *testing.T) {
	s := newSite(t)
	ctx := browser(t)
	s.signIn(t, ctx, escalation.RoleContact)
	phone := "+7 (901) " + unique("")[:7]
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.url+"/appeals/new"),
		chromedp.SendKeys(chromedp.ID("name"), "Мария Пришедшая"),
		chromedp.SendKeys(chromedp.ID("phone"), phone),
		chromedp.SetValue(chromedp.ID("group"), "other"),
		chromedp.Click(chromedp.ID("consent")),
		chromedp.SetValue(chromedp.ID("topic"), "dormitory"),
		chromedp.SendKeys(chromedp.ID("text"), "Пришла на приём: нужна справка для общежития"),
		chromedp.Click(chromedp.ID("register")),
		chromedp.WaitVisible(chromedp.ID("number")),
	); err != nil {
		t.Fatal(err)
	}
	number := text(t, ctx, "#number")
	a, err := s.svc.GetByNumber(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := s.svc.Client(context.Background(), a.ClientID)
	if a.Channel != escalation.WalkIn || a.Route != "dept:campus" || a.Status != escalation.StatusNew ||
		c.Name != "Мария Пришедшая" || c.Phone != escalation.NormalizePhone(phone) || c.Consent == nil {
		t.Fatalf("registered appeal %+v, client %+v", a, c)
	}
}

// TestBrowserEditChangesAsk edits an entry's answer and sees the bot's
// decision change: on the "try a question" page and in a knowledge base
// built afresh from the store, as `kontakt faq ask` builds it.
func TestBrowserEditChangesAsk(t *testing.T) {
	s := newSite(t)
	q := "сколько стоит пропуск в спортзал"
	en := s.entry(s.cat+"-gym", "Сколько стоит пропуск в спортзал", "Пропуск в спортзал стоит 500 рублей в месяц.")
	s.waitKB(q, en.ID, "500 рублей")
	ctx := browser(t)
	s.signIn(t, ctx, escalation.RoleEditor)
	if err := chromedp.Do(ctx, chromedp.Navigate(s.url+"/kb/try?q="+q)); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "#answer"); !strings.Contains(got, "500 рублей") {
		t.Fatalf("before: %q", got)
	}
	newAnswer := "С 1 сентября пропуск в спортзал бесплатный для студентов."
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.url+"/kb/entries/"+en.ID),
		chromedp.SetValue(chromedp.ID("answer"), newAnswer),
		chromedp.Click(chromedp.ID("save")),
		chromedp.WaitVisible(chromedp.ID("flash")),
	); err != nil {
		t.Fatal(err)
	}
	s.waitKB(q, en.ID, "бесплатный")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.url+"/kb/try?q="+q)); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "#answer"); got != newAnswer {
		t.Fatalf("try a question after the edit: %q", got)
	}
	if got := text(t, ctx, "#kind"); got != string(knowledge.Answer) {
		t.Fatalf("decision %q", got)
	}
	// What `kontakt faq ask` does: entries from the store, a new base.
	entries, err := lister{s.store, s.cat}.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	kb, err := knowledge.New(entries)
	if err != nil {
		t.Fatal(err)
	}
	defer kb.Close()
	if d := kb.Decide(context.Background(), q, ""); d.Entry == nil || d.Entry.Answer != newAnswer {
		t.Fatalf("ask after the edit: %+v", d)
	}
}

// TestBrowserUnansweredToEntry turns a group of unanswered questions into
// an entry in one step, and the bot then answers them.
func TestBrowserUnansweredToEntry(t *testing.T) {
	s := newSite(t)
	word := uniqueWord("справк")
	for _, q := range []string{"где получить " + word + " для военкомата", "Где получить " + word + " для военкомата?"} {
		if err := s.store.AddFeedback(context.Background(), faq.Feedback{EntryID: "x", Query: q, Channel: "telegram"}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := browser(t)
	s.signIn(t, ctx, escalation.RoleEditor)
	id := s.cat + "-voenkomat"
	answer := "Справку для военкомата выдаёт отдел кадров, кабинет 12."
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.url+"/kb/unanswered?q="+word),
		chromedp.WaitVisible(chromedp.CSS("section.group")),
	); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "section.group .count-badge"); got != "2" {
		t.Fatalf("group count %q", got)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("section.group details summary")),
		chromedp.SendKeys(chromedp.CSS("section.group details input[name=id]"), id),
		chromedp.SetValue(chromedp.CSS("section.group details select[name=category]"), "military"),
		chromedp.SendKeys(chromedp.CSS("section.group details textarea[name=answer]"), answer),
		chromedp.Click(chromedp.CSS("section.group details button")),
		chromedp.WaitVisible(chromedp.ID("flash")),
	); err != nil {
		t.Fatal(err)
	}
	e, err := s.store.Get(context.Background(), id)
	if err != nil || e.Category != "military" || e.Answer != answer {
		t.Fatalf("entry %+v, %v", e, err)
	}
	s.waitKB("где получить "+word+" для военкомата", id, "кабинет 12")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.url+"/kb/unanswered?q="+word)); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "main"); strings.Contains(got, "для военкомата") {
		t.Fatalf("the group is still listed:\n%s", got)
	}
}
