package escalation_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kontakt/escalation"
)

func TestOpen(t *testing.T) {
	ctx := context.Background()
	s, clk := newService(t)
	chat := unique("tg")
	a, err := s.Open(ctx, escalation.OpenAppeal{
		Client: escalation.ClientInfo{Channel: escalation.Telegram, ExternalID: chat, Name: "Мария Петрова",
			Group: escalation.Applicant, Phone: "8 (912) 345-67-89",
			Consent: &escalation.Consent{At: monday10, Channel: escalation.Telegram, Version: "2025-09"}},
		Kind:        escalation.Request,
		Topic:       "dormitory",
		Text:        "Нужна справка о проживании в общежитии",
		Transcript:  []escalation.TranscriptLine{{At: monday10, From: "client", Text: "общага справка"}, {At: monday10, From: "bot", Text: "Не нашёл ответа"}},
		Attachments: []escalation.Attachment{{Kind: "photo", FileID: "AgAC-1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^2026-\d{6}$`).MatchString(a.Number) {
		t.Errorf("number %q, want 2026-NNNNNN", a.Number)
	}
	if a.Status != escalation.StatusNew || a.Queue != escalation.QueueContact || a.Route != escalation.QueueAdmission {
		t.Errorf("status %s queue %s route %s, want new, contact, admission", a.Status, a.Queue, a.Route)
	}
	got, err := s.Get(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != escalation.Request || got.Topic != "dormitory" || got.Group != escalation.Applicant ||
		len(got.Transcript) != 2 || got.Transcript[1].Text != "Не нашёл ответа" ||
		len(got.Attachments) != 1 || got.Attachments[0].FileID != "AgAC-1" || got.ExternalID != chat {
		t.Errorf("stored appeal differs: %+v", got)
	}
	c, err := s.ClientByIdentity(ctx, escalation.Telegram, chat)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != a.ClientID || c.Name != "Мария Петрова" || c.Phone != "79123456789" || c.Consent == nil || c.Consent.Version != "2025-09" {
		t.Errorf("client %+v", c)
	}
	if byNum, err := s.GetByNumber(ctx, a.Number); err != nil || byNum.ID != a.ID {
		t.Errorf("GetByNumber(%s) = %v, %v", a.Number, byNum, err)
	}

	// Numbers increase within a year and restart in the next.
	b := openFor(t, s, escalation.Student, "tuition")
	if b.Number <= a.Number {
		t.Errorf("second number %s not after %s", b.Number, a.Number)
	}
	clk.Set(msk(2099, 1, 12, 10, 0))
	c99 := openFor(t, s, escalation.Student, "tuition")
	if !strings.HasPrefix(c99.Number, "2099-") {
		t.Errorf("number in 2099 is %s", c99.Number)
	}
}

// The first appeals of a year, opened at once, make the year's number
// sequence once and are numbered from 1.
func TestFirstAppealsOfAYear(t *testing.T) {
	ctx := context.Background()
	year := 2100
	for ; ; year++ { // a year no test has numbered yet
		var exists bool
		if err := pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, fmt.Sprintf("esc_appeal_number_%d", year)).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if !exists {
			break
		}
	}
	now, _ := newService(t)
	known := openFor(t, now, escalation.Student, "other") // a chat known before the year
	s, _ := newService(t, msk(year, time.January, 9, 10, 0))
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		numbers []string
	)
	for i := range 8 {
		wg.Go(func() {
			req := escalation.OpenAppeal{Client: escalation.ClientInfo{Channel: escalation.Telegram, ExternalID: unique("tg")}, Text: "Вопрос"}
			if i%2 == 0 {
				req.Client.ExternalID = known.ExternalID // a known chat: the one-statement path
			}
			a, err := s.Open(ctx, req)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			numbers = append(numbers, a.Number)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(numbers)
	var want []string
	for i := range 8 {
		want = append(want, fmt.Sprintf("%d-%06d", year, i+1))
	}
	if !slices.Equal(numbers, want) {
		t.Errorf("numbers %v, want %v", numbers, want)
	}
}

func TestOpenRefusesBadRequests(t *testing.T) {
	s, _ := newService(t)
	good := func() escalation.OpenAppeal {
		return escalation.OpenAppeal{Client: escalation.ClientInfo{Channel: escalation.VK, ExternalID: unique("vk")}, Text: "Вопрос"}
	}
	tests := []struct {
		name   string
		modify func(*escalation.OpenAppeal)
	}{
		{"no channel", func(r *escalation.OpenAppeal) { r.Client.Channel = "" }},
		{"no external id", func(r *escalation.OpenAppeal) { r.Client.ExternalID = "" }},
		{"unknown kind", func(r *escalation.OpenAppeal) { r.Kind = "wish" }},
		{"unknown group", func(r *escalation.OpenAppeal) { r.Client.Group = "teacher" }},
		{"empty text", func(r *escalation.OpenAppeal) { r.Text = "  " }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good()
			tt.modify(&r)
			if _, err := s.Open(context.Background(), r); !errors.Is(err, escalation.ErrInvalid) {
				t.Errorf("Open = %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := s.Open(context.Background(), good()); err != nil {
		t.Errorf("the good request fails: %v", err)
	}
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	s, clk := newService(t)
	dept := unique("dept")
	contact := addStaff(t, s, "", 0, escalation.RoleContact)
	head := addStaff(t, s, dept, 0, escalation.RoleDepartment)

	a := openFor(t, s, escalation.Parent, "other")
	chat := a.ExternalID
	if got, err := s.OpenAppealFor(ctx, escalation.Telegram, chat); err != nil || got == nil || got.ID != a.ID {
		t.Fatalf("OpenAppealFor = %v, %v; want appeal %d", got, err, a.ID)
	}
	step := func(what string, fn func() (*escalation.Appeal, error), want escalation.Status) *escalation.Appeal {
		t.Helper()
		clk.Add(time.Minute)
		a, err := fn()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if a.Status != want {
			t.Fatalf("%s: status %s, want %s", what, a.Status, want)
		}
		return a
	}
	message := func(m escalation.Message) {
		t.Helper()
		clk.Add(time.Minute)
		if _, err := s.AddMessage(ctx, a.ID, m); err != nil {
			t.Fatalf("AddMessage %s: %v", m.Author, err)
		}
	}

	a = step("assign", func() (*escalation.Appeal, error) { return s.Assign(ctx, a.ID, contact.ID, contact.ID) }, escalation.StatusAssigned)
	if a.AssigneeID != contact.ID {
		t.Errorf("assignee %d, want %d", a.AssigneeID, contact.ID)
	}
	message(escalation.Message{Author: escalation.FromNote, StaffID: contact.ID, Text: "Не типовой, в деканат"})
	a = step("forward", func() (*escalation.Appeal, error) {
		return s.Forward(ctx, a.ID, escalation.Forwarding{Queue: escalation.DepartmentQueue(dept), Note: "Просьба ответить родителю", By: contact.ID})
	}, escalation.StatusForwarded)
	if a.AssigneeID != head.ID || a.Queue != escalation.DepartmentQueue(dept) || a.ForwardNote == "" {
		t.Errorf("forwarded to %d in %s note %q, want %d in dept:%s", a.AssigneeID, a.Queue, a.ForwardNote, head.ID, dept)
	}
	message(escalation.Message{Author: escalation.FromOperator, StaffID: head.ID, Text: "Здравствуйте! Уточняем."})
	a, _ = s.Get(ctx, a.ID)
	if a.Status != escalation.StatusAnswered || a.FirstResponseAt == nil {
		t.Fatalf("after the operator's reply: status %s, first response %v", a.Status, a.FirstResponseAt)
	}
	message(escalation.Message{Author: escalation.FromClient, Text: "Спасибо, жду"})
	a = step("resolve", func() (*escalation.Appeal, error) {
		return s.Resolve(ctx, a.ID, "Справка готова, заберите в 101", head.ID)
	}, escalation.StatusResolved)
	a = step("close", func() (*escalation.Appeal, error) { return s.Close(ctx, a.ID, "клиент уведомлён", 0) }, escalation.StatusClosed)
	if got, _ := s.OpenAppealFor(ctx, escalation.Telegram, chat); got != nil {
		t.Errorf("OpenAppealFor a closed appeal = %d, want nil", got.ID)
	}
	// The client writes again the next day: the appeal comes back to its owner.
	clk.Add(24 * time.Hour)
	message(escalation.Message{Author: escalation.FromClient, Text: "А где кабинет 101?"})
	a, _ = s.Get(ctx, a.ID)
	if a.Status != escalation.StatusAssigned || a.AssigneeID != head.ID || a.Reopened != 1 || a.ClosedAt != nil {
		t.Fatalf("after the client wrote again: %+v", a)
	}
	a = step("resolve again", func() (*escalation.Appeal, error) { return s.Resolve(ctx, a.ID, "Второй этаж", head.ID) }, escalation.StatusResolved)
	a = step("close again", func() (*escalation.Appeal, error) { return s.Close(ctx, a.ID, "", 0) }, escalation.StatusClosed)
	// Too late to reopen.
	clk.Add(8 * 24 * time.Hour)
	if _, err := s.AddMessage(ctx, a.ID, escalation.Message{Author: escalation.FromClient, Text: "Ещё вопрос"}); !errors.Is(err, escalation.ErrReopenWindow) {
		t.Errorf("a message after the window: %v, want ErrReopenWindow", err)
	}
	if _, err := s.Reopen(ctx, a.ID, "", head.ID); !errors.Is(err, escalation.ErrReopenWindow) {
		t.Errorf("Reopen after the window: %v, want ErrReopenWindow", err)
	}

	hist, err := s.History(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var moves []string
	for _, h := range hist {
		moves = append(moves, fmt.Sprintf("%s>%s", h.From, h.To))
	}
	wantMoves := []string{">new", "new>assigned", "assigned>forwarded", "forwarded>answered", "answered>resolved",
		"resolved>closed", "closed>assigned", "assigned>resolved", "resolved>closed"}
	if !slices.Equal(moves, wantMoves) {
		t.Errorf("history\n got %v\nwant %v", moves, wantMoves)
	}
	if hist[2].StaffID != contact.ID || !strings.Contains(hist[2].Comment, "Просьба ответить родителю") || hist[6].Actor != "client" {
		t.Errorf("history entries lack who/comment: %+v", hist)
	}
	for i := 1; i < len(hist); i++ {
		if !hist[i].At.After(hist[i-1].At) {
			t.Errorf("history entry %d at %v is not after %v", i, hist[i].At, hist[i-1].At)
		}
	}
	msgs, err := s.Messages(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var authors []escalation.Author
	for _, m := range msgs {
		authors = append(authors, m.Author)
	}
	wantAuthors := []escalation.Author{escalation.FromNote, escalation.FromOperator, escalation.FromClient, escalation.FromClient}
	if !slices.Equal(authors, wantAuthors) {
		t.Errorf("messages by %v, want %v", authors, wantAuthors)
	}
	var kinds []escalation.EventKind
	for _, e := range outboxEvents(t, a.ID) {
		kinds = append(kinds, e.Kind)
	}
	wantKinds := []escalation.EventKind{"opened", "assigned", "forwarded", "answered", "message", "resolved", "closed",
		"reopened", "message", "resolved", "closed"}
	if !slices.Equal(kinds, wantKinds) {
		t.Errorf("events\n got %v\nwant %v", kinds, wantKinds)
	}
}

// appealIn makes a fresh appeal in status st, with staff (a contact
// manager, a head of department) to act on it.
func appealIn(t *testing.T, s *escalation.Service, st escalation.Status) (a *escalation.Appeal, contact, head *escalation.Staff) {
	t.Helper()
	ctx := context.Background()
	dept := unique("dept")
	contact = addStaff(t, s, "", 0, escalation.RoleContact)
	head = addStaff(t, s, dept, 0, escalation.RoleDepartment)
	a = openFor(t, s, escalation.Other, "other")
	path := map[escalation.Status][]func() error{
		escalation.StatusNew: nil,
	}
	assign := func() error { _, err := s.Assign(ctx, a.ID, contact.ID, contact.ID); return err }
	forward := func() error {
		_, err := s.Forward(ctx, a.ID, escalation.Forwarding{Queue: escalation.DepartmentQueue(dept), By: contact.ID})
		return err
	}
	answer := func() error {
		_, err := s.AddMessage(ctx, a.ID, escalation.Message{Author: escalation.FromOperator, StaffID: head.ID, Text: "Ответ"})
		return err
	}
	resolve := func() error { _, err := s.Resolve(ctx, a.ID, "Итог", head.ID); return err }
	closeIt := func() error { _, err := s.Close(ctx, a.ID, "", 0); return err }
	path[escalation.StatusAssigned] = []func() error{assign}
	path[escalation.StatusForwarded] = []func() error{assign, forward}
	path[escalation.StatusAnswered] = []func() error{assign, forward, answer}
	path[escalation.StatusResolved] = []func() error{assign, forward, answer, resolve}
	path[escalation.StatusClosed] = []func() error{assign, forward, answer, resolve, closeIt}
	for _, f := range path[st] {
		if err := f(); err != nil {
			t.Fatalf("bring appeal to %s: %v", st, err)
		}
	}
	a, err := s.Get(ctx, a.ID)
	if err != nil || a.Status != st {
		t.Fatalf("appeal in %v (%v), want %s", a, err, st)
	}
	return a, contact, head
}

func TestTransitions(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	type op struct {
		name string
		do   func(a *escalation.Appeal, contact, head *escalation.Staff) error
	}
	ops := []op{
		{"assign", func(a *escalation.Appeal, c, h *escalation.Staff) error {
			_, err := s.Assign(ctx, a.ID, c.ID, c.ID)
			return err
		}},
		{"forward", func(a *escalation.Appeal, c, h *escalation.Staff) error {
			_, err := s.Forward(ctx, a.ID, escalation.Forwarding{StaffID: h.ID, By: c.ID})
			return err
		}},
		{"answer", func(a *escalation.Appeal, c, h *escalation.Staff) error {
			_, err := s.AddMessage(ctx, a.ID, escalation.Message{Author: escalation.FromOperator, StaffID: c.ID, Text: "Ответ"})
			return err
		}},
		{"resolve", func(a *escalation.Appeal, c, h *escalation.Staff) error {
			_, err := s.Resolve(ctx, a.ID, "Итог", c.ID)
			return err
		}},
		{"close", func(a *escalation.Appeal, c, h *escalation.Staff) error {
			_, err := s.Close(ctx, a.ID, "", c.ID)
			return err
		}},
		{"reopen", func(a *escalation.Appeal, c, h *escalation.Staff) error {
			_, err := s.Reopen(ctx, a.ID, "", c.ID)
			return err
		}},
		{"release", func(a *escalation.Appeal, c, h *escalation.Staff) error {
			_, err := s.Release(ctx, a.ID, c.ID)
			return err
		}},
	}
	// legal[from] lists the operations allowed from each status.
	legal := map[escalation.Status][]string{
		escalation.StatusNew:       {"assign"},
		escalation.StatusAssigned:  {"forward", "answer", "resolve", "release"},
		escalation.StatusForwarded: {"forward", "answer", "resolve", "release"},
		escalation.StatusAnswered:  {"forward", "answer", "resolve", "release"},
		escalation.StatusResolved:  {"close", "reopen"},
		escalation.StatusClosed:    {"reopen"},
	}
	for from, allowed := range legal {
		for _, o := range ops {
			ok := slices.Contains(allowed, o.name)
			t.Run(fmt.Sprintf("%s from %s", o.name, from), func(t *testing.T) {
				a, contact, head := appealIn(t, s, from)
				before, _ := s.History(ctx, a.ID)
				err := o.do(a, contact, head)
				after, _ := s.History(ctx, a.ID)
				got, _ := s.Get(ctx, a.ID)
				switch {
				case ok && err != nil:
					t.Errorf("legal %s from %s refused: %v", o.name, from, err)
				case ok && len(after) != len(before)+1 && !(o.name == "answer" && from == escalation.StatusAnswered):
					t.Errorf("legal %s from %s recorded %d history entries", o.name, from, len(after)-len(before))
				case !ok && !errors.Is(err, escalation.ErrIllegalTransition):
					t.Errorf("illegal %s from %s: err %v, want ErrIllegalTransition", o.name, from, err)
				case !ok && !strings.Contains(err.Error(), string(from)+" → "):
					t.Errorf("error %q does not name the transition from %s", err, from)
				case !ok && (got.Status != from || len(after) != len(before)):
					t.Errorf("refused %s changed the appeal: status %s, history %d → %d", o.name, got.Status, len(before), len(after))
				}
			})
		}
	}
}

// TestRelease: an owned appeal goes back to its queue without an owner —
// new again in the contact managers' queue, still forwarded (and waiting)
// in a personal manager's or department queue — with a history entry and
// a released event; one nobody owns, or resolved, or closed, stays as it is.
func TestRelease(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	cases := []struct {
		name      string
		from      escalation.Status
		wantErr   bool
		want      escalation.Status
		wantQueue func(a *escalation.Appeal) escalation.Queue
	}{
		{name: "taken by a contact manager", from: escalation.StatusAssigned, want: escalation.StatusNew,
			wantQueue: func(*escalation.Appeal) escalation.Queue { return escalation.QueueContact }},
		{name: "with a department head", from: escalation.StatusForwarded, want: escalation.StatusForwarded,
			wantQueue: func(a *escalation.Appeal) escalation.Queue { return a.Queue }},
		{name: "answered by the head", from: escalation.StatusAnswered, want: escalation.StatusForwarded,
			wantQueue: func(a *escalation.Appeal) escalation.Queue { return a.Queue }},
		{name: "waiting, nobody owns it", from: escalation.StatusNew, wantErr: true},
		{name: "resolved", from: escalation.StatusResolved, wantErr: true},
		{name: "closed", from: escalation.StatusClosed, wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, contact, _ := appealIn(t, s, c.from)
			before, err := s.History(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Release(ctx, a.ID, contact.ID)
			after, _ := s.History(ctx, a.ID)
			stored, gerr := s.Get(ctx, a.ID)
			if gerr != nil {
				t.Fatal(gerr)
			}
			if c.wantErr {
				if !errors.Is(err, escalation.ErrIllegalTransition) {
					t.Fatalf("err %v, want ErrIllegalTransition", err)
				}
				if stored.Status != a.Status || stored.AssigneeID != a.AssigneeID || len(after) != len(before) {
					t.Fatalf("refused release changed the appeal: %s/%d → %s/%d, history %d → %d",
						a.Status, a.AssigneeID, stored.Status, stored.AssigneeID, len(before), len(after))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != c.want || stored.Status != c.want || stored.AssigneeID != 0 || stored.Queue != c.wantQueue(a) {
				t.Fatalf("released: status %s, owner %d, queue %s; want %s, nobody, %s", stored.Status, stored.AssigneeID, stored.Queue, c.want, c.wantQueue(a))
			}
			if stored.FirstResponseAt != nil && a.FirstResponseAt == nil || stored.ResolveDue != a.ResolveDue {
				t.Fatalf("release changed the deadlines: %+v → %+v", a, stored)
			}
			if len(after) != len(before)+1 {
				t.Fatalf("%d history entries added, want 1", len(after)-len(before))
			}
			h := after[len(after)-1]
			if h.From != c.from || h.To != c.want || h.StaffID != contact.ID || h.Comment != "возвращено в очередь: "+stored.Queue.Title() {
				t.Fatalf("history entry %+v", h)
			}
			var kind string
			if err := pool.QueryRow(ctx, `SELECT kind FROM esc_outbox WHERE appeal_id = $1 ORDER BY id DESC LIMIT 1`, a.ID).Scan(&kind); err != nil {
				t.Fatal(err)
			}
			if kind != string(escalation.EventReleased) {
				t.Fatalf("last event %q, want released", kind)
			}
			// Whoever takes it next owns it again.
			if _, err := s.Assign(ctx, a.ID, contact.ID, contact.ID); err != nil {
				t.Fatalf("take the released appeal: %v", err)
			}
		})
	}
}

func TestConcurrentAssign(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	ann := addStaff(t, s, "", 0, escalation.RoleContact)
	bob := addStaff(t, s, "", 0, escalation.RoleContact)
	wins := map[int64]int{}
	for range 20 {
		a := openFor(t, s, escalation.Student, "other")
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  [2]error
		)
		for i, p := range []*escalation.Staff{ann, bob} {
			wg.Go(func() {
				<-start
				_, errs[i] = s.Assign(ctx, a.ID, p.ID, p.ID)
			})
		}
		close(start)
		wg.Wait()
		var won int
		for i, err := range errs {
			switch {
			case err == nil:
				won++
				wins[[]int64{ann.ID, bob.ID}[i]]++
			case !errors.Is(err, escalation.ErrIllegalTransition):
				t.Errorf("loser's error %v, want ErrIllegalTransition", err)
			}
		}
		if won != 1 {
			t.Fatalf("appeal %d: %d assignments won, want exactly 1 (%v)", a.ID, won, errs)
		}
		hist, err := s.History(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(hist); n != 2 || hist[1].To != escalation.StatusAssigned {
			t.Errorf("appeal %d history %+v, want registration and one assignment", a.ID, hist)
		}
		got, _ := s.Get(ctx, a.ID)
		if got.AssigneeID != ann.ID && got.AssigneeID != bob.ID {
			t.Errorf("assignee %d", got.AssigneeID)
		}
	}
	t.Logf("wins: %v", wins)
}

func TestOverdue(t *testing.T) {
	ctx := context.Background()
	s, clk := newService(t)
	late := openFor(t, s, escalation.Applicant, "admission")
	answered := openFor(t, s, escalation.Applicant, "admission")
	p := addStaff(t, s, "", 0, escalation.RoleContact)
	if _, err := s.Assign(ctx, answered.ID, p.ID, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMessage(ctx, answered.ID, escalation.Message{Author: escalation.FromOperator, StaffID: p.ID, Text: "Смотрим"}); err != nil {
		t.Fatal(err)
	}
	ids := func() []int64 {
		list, err := s.List(ctx, escalation.Filter{Overdue: true, Limit: 100000})
		if err != nil {
			t.Fatal(err)
		}
		var own []int64
		for _, a := range list {
			if a.ID == late.ID || a.ID == answered.ID {
				own = append(own, a.ID)
			}
		}
		return own
	}
	if got := ids(); len(got) != 0 {
		t.Errorf("overdue at once: %v", got)
	}
	clk.Add(16 * time.Minute) // first response is late for the unanswered one
	if got := ids(); !slices.Equal(got, []int64{late.ID}) {
		t.Errorf("overdue after 16 minutes: %v, want [%d]", got, late.ID)
	}
	clk.Add(4 * 24 * time.Hour) // resolution is late for both
	if got := ids(); !slices.Equal(got, []int64{answered.ID, late.ID}) {
		t.Errorf("overdue after 4 days: %v, want both", got)
	}
	for range 2 { // events once, not on every run
		if _, err := s.MarkOverdue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []*escalation.Appeal{late, answered} {
		n := 0
		for _, e := range outboxEvents(t, a.ID) {
			if e.Kind == escalation.EventOverdue {
				n++
			}
		}
		if n != 1 {
			t.Errorf("appeal %d: %d overdue events, want 1", a.ID, n)
		}
	}
}
