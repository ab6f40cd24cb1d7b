package operator_test

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"kontakt/bot"
	"kontakt/bot/telegram/telegramtest"
	"kontakt/escalation"
	"kontakt/operator"
)

// These tests drive the relay as the running program does — escalation's
// events, Pump, the handler staff and clients write to — with settable
// clocks: the relay's, and escalation's for deadlines. Appeals whose
// deadlines matter are registered at a random moment of 2001–2010, so that
// the reminders and overdue marks of these tests concern their own appeals
// only (the rest of the shared database lives in the present).

// (c *fakeClock) Set moves the clock to t.
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// pastMoment is a random minute of 2001–2010, in Moscow.
func pastMoment() time.Time {
	base := time.Date(2001, 1, 1, 0, 0, 0, 0, escalation.Moscow)
	return base.Add(time.Duration(rand.Int64N(9*365*24*60)) * time.Minute)
}

// useService gives the env an escalation service of its own configuration
// (calendar, clock) and a relay on it.
func (e *env) useService(cfg escalation.Config) {
	e.svc = escalation.New(pool, cfg)
	e.cfg.Appeals = e.svc
	e.restart()
}

// staffTG adds an active staff member whose Telegram account is
// registered; it returns them and their Telegram user (= private chat) id.
func staffTG(t *testing.T, svc *escalation.Service, name string, roles ...escalation.Role) (*escalation.Staff, int64) {
	t.Helper()
	user := uid()
	p, err := svc.AddStaff(context.Background(), escalation.Staff{Name: name, Roles: roles, Active: true,
		Reach: map[escalation.Channel]string{escalation.Telegram: strconv.FormatInt(user, 10)}})
	if err != nil {
		t.Fatal(err)
	}
	return p, user
}

// handle passes a message to the relay as the Telegram channel would; what
// the relay does not take gets no answer.
func (e *env) handle(ctx context.Context, m bot.Message) []bot.Reply {
	e.t.Helper()
	h := e.relay.Wrap(bot.HandlerFunc(func(context.Context, bot.Message) ([]bot.Reply, error) { return nil, nil }))
	replies, err := h.Handle(ctx, m)
	if err != nil {
		e.t.Fatalf("handle %+v: %v", m, err)
	}
	return replies
}

// pressInTopic is a staff member pressing a button in an appeal's topic.
func (e *env) pressInTopic(ctx context.Context, th, user int64, data string) {
	e.handle(ctx, bot.Message{Chat: bot.Chat{Channel: bot.Telegram, ID: strconv.FormatInt(e.group, 10), Group: true},
		From: bot.User{ID: strconv.FormatInt(user, 10)}, Kind: bot.Callback, Data: data, Thread: strconv.FormatInt(th, 10)})
}

// private is a message (a text, or a button press if data is set) in a
// private chat with the bot.
func (e *env) private(ctx context.Context, user int64, text, data string) []bot.Reply {
	m := bot.Message{Chat: bot.Chat{Channel: bot.Telegram, ID: strconv.FormatInt(user, 10)},
		From: bot.User{ID: strconv.FormatInt(user, 10)}, Kind: bot.Text, Text: text}
	if data != "" {
		m.Kind, m.Data, m.Text = bot.Callback, data, ""
	}
	return e.handle(ctx, m)
}

// settle delivers events and pumps until nothing waits in the env's
// groups, moving the relay's clock on a second a round (no waiting).
func (e *env) settle(ctx context.Context, clk *fakeClock) {
	e.t.Helper()
	for range 1000 {
		e.pump(ctx)
		var waiting int
		if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM op_feed WHERE group_chat = ANY($1) AND posted_at IS NULL)
			+ (SELECT count(*) FROM op_topics WHERE group_chat = ANY($1) AND (thread_id IS NULL OR card_pending))`, e.cfg.Groups).Scan(&waiting); err != nil {
			e.t.Fatal(err)
		}
		if waiting == 0 {
			e.pump(ctx) // private messages queued by the last posts
			return
		}
		clk.Add(time.Second)
	}
	e.t.Fatal("the relay queue does not drain")
}

func clientOf(t *testing.T, a *escalation.Appeal) int64 {
	t.Helper()
	id, err := strconv.ParseInt(a.ExternalID, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func count(list []telegramtest.Sent, sub string) int {
	n := 0
	for _, m := range list {
		if strings.Contains(m.Plain, sub) {
			n++
		}
	}
	return n
}

func buttonData(list []telegramtest.Sent, prefix string) string {
	for i := len(list) - 1; i >= 0; i-- {
		for _, row := range list[i].Buttons {
			for _, b := range row {
				if strings.HasPrefix(b.Data, prefix) {
					return b.Data
				}
			}
		}
	}
	return ""
}

// TestApproveMode: with MANAGER_ANSWER_MODE=approve a personal manager's
// answer is shown in the topic with «Отправить клиенту» / «Отклонить» and
// reaches the client only when a contact manager approves it, once; a
// rejected answer never reaches the client and its author is told.
func TestApproveMode(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	e := newEnv(t, telegramtest.Limits{}, func(c *operator.Config) { c.Now = clk.Now; c.ApproveAnswers = true })
	contact, opUser := staffTG(t, e.svc, "Ольга Смирнова", escalation.RoleContact)
	manager, mgr := staffTG(t, e.svc, "Петров Игорь Сергеевич", escalation.RoleAdmission)
	a := e.open(ctx, "Можно ли перевестись на бюджет?")
	client := clientOf(t, a)
	e.settle(ctx, clk)
	th := thread(t, a.ID)
	id := strconv.FormatInt(a.ID, 10)
	e.pressInTopic(ctx, th, opUser, "op:take:"+id)
	if _, err := e.svc.Forward(ctx, a.ID, escalation.Forwarding{Queue: escalation.QueueAdmission, StaffID: manager.ID, By: contact.ID}); err != nil {
		t.Fatal(err)
	}
	e.settle(ctx, clk)
	if !contains(e.fake.SentTo(mgr), "Вам передано обращение") {
		t.Fatalf("manager got %q", plain(e.fake.SentTo(mgr)))
	}

	answerFromPrivate := func(text string) {
		t.Helper()
		e.private(ctx, mgr, "", "op:ans:"+id)
		r := e.private(ctx, mgr, text, "")
		if len(r) != 1 || !strings.Contains(r[0].Text, "на согласование") {
			t.Fatalf("manager told %+v", r)
		}
		e.settle(ctx, clk)
	}

	// The first answer waits for approval: in the topic, not at the client.
	answerFromPrivate("Да, по результатам сессии — подайте заявление в деканат.")
	topic := e.fake.SentToThread(e.group, th)
	if !contains(topic, "на согласование:\nДа, по результатам сессии") {
		t.Fatalf("topic lacks the proposed answer: %q", plain(topic))
	}
	approve := buttonData(topic, "op:apr:")
	reject := buttonData(topic, "op:rej:")
	if approve == "" || reject == "" {
		t.Fatalf("no approve/reject buttons in the topic: %q", plain(topic))
	}
	if contains(e.fake.SentTo(client), "по результатам сессии") {
		t.Fatal("the answer reached the client before approval")
	}
	// Approved (pressed twice: sent once).
	e.pressInTopic(ctx, th, opUser, approve)
	e.pressInTopic(ctx, th, opUser, approve)
	e.settle(ctx, clk)
	if got := e.fake.SentTo(client); count(got, "Да, по результатам сессии — подайте заявление в деканат.\n\n— Игорь") != 1 {
		t.Fatalf("client got %q, want the approved answer once, signed by its author", plain(got))
	}
	if !contains(e.fake.SentToThread(e.group, th), "Ответ согласован и отправлен клиенту: Ольга Смирнова") {
		t.Fatalf("topic: %q", plain(e.fake.SentToThread(e.group, th)))
	}

	// The second answer is rejected: the client never gets it, its author is told.
	answerFromPrivate("Нет, перевод невозможен.")
	reject = buttonData(e.fake.SentToThread(e.group, th), "op:rej:")
	e.pressInTopic(ctx, th, opUser, reject)
	e.pressInTopic(ctx, th, opUser, strings.Replace(reject, "op:rej:", "op:apr:", 1)) // too late: decided
	e.settle(ctx, clk)
	if contains(e.fake.SentTo(client), "перевод невозможен") {
		t.Fatalf("a rejected answer reached the client: %q", plain(e.fake.SentTo(client)))
	}
	if !contains(e.fake.SentTo(mgr), "не согласован") {
		t.Fatalf("the author was not told of the rejection: %q", plain(e.fake.SentTo(mgr)))
	}
	if !contains(e.fake.SentToThread(e.group, th), "Ответ не согласован: Ольга Смирнова") {
		t.Fatalf("topic: %q", plain(e.fake.SentToThread(e.group, th)))
	}
	msgs, err := e.svc.Messages(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var toClient []string
	for _, m := range msgs {
		if m.Author == escalation.FromOperator {
			toClient = append(toClient, m.Text)
		}
	}
	if len(toClient) != 1 || toClient[0] != "Да, по результатам сессии — подайте заявление в деканат." {
		t.Fatalf("operator messages recorded: %q", toClient)
	}
}

// TestReminders: before a deadline passes the relay reminds of it in the
// topic and in the assignee's private chat, once per deadline: the first
// response shortly before its deadline, the resolution two hours before.
func TestReminders(t *testing.T) {
	ctx := context.Background()
	at := pastMoment()
	clk := &fakeClock{t: at}
	e := newEnv(t, telegramtest.Limits{}, func(c *operator.Config) { c.Now = clk.Now })
	e.useService(escalation.Config{Calendar: alwaysOpen(), Now: func() time.Time { return at }})
	contact, opUser := staffTG(t, e.svc, "Ольга Смирнова", escalation.RoleContact)
	a := e.open(ctx, "Когда выдадут студенческий билет?")
	e.settle(ctx, clk)
	th := thread(t, a.ID)
	remind := func(now time.Time, want int) {
		t.Helper()
		clk.Set(now)
		n, err := e.relay.Remind(ctx, 2*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Fatalf("at %v: %d reminders, want %d", now, n, want)
		}
		e.settle(ctx, clk)
	}

	// The first response is due in 15 minutes: reminded, once.
	remind(a.FirstResponseDue.Add(-10*time.Minute), 1)
	remind(a.FirstResponseDue.Add(-5*time.Minute), 0)
	first := "⏰ Срок «первый ответ» по обращению № " + a.Number
	if count(e.fake.SentToThread(e.group, th), first) != 1 {
		t.Fatalf("topic: %q", plain(e.fake.SentToThread(e.group, th)))
	}
	// Taken: the owner is reminded in private too.
	if _, err := e.svc.Assign(ctx, a.ID, contact.ID, contact.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddMessage(ctx, a.ID, escalation.Message{Author: escalation.FromOperator, StaffID: contact.ID, Text: "Уточняю."}); err != nil {
		t.Fatal(err)
	}
	e.settle(ctx, clk)
	remind(a.ResolveDue.Add(-3*time.Hour), 0) // too early
	remind(a.ResolveDue.Add(-90*time.Minute), 1)
	remind(a.ResolveDue.Add(-30*time.Minute), 0) // once
	remind(a.ResolveDue.Add(time.Minute), 0)     // passed: overdue, not a reminder
	resolve := "⏰ Срок «решение» по обращению № " + a.Number + " — " + a.ResolveDue.In(escalation.Moscow).Format("02.01 15:04") + " (осталось 1 ч 30 мин)."
	if got := e.fake.SentToThread(e.group, th); count(got, resolve) != 1 {
		t.Fatalf("topic lacks %q once: %q", resolve, plain(got))
	}
	if got := e.fake.SentTo(opUser); count(got, resolve) != 1 || contains(got, first) {
		t.Fatalf("owner got %q", plain(got))
	}
}

// TestOverdueReportedToHead: an appeal past its deadline (escalation's
// overdue mark) is reported in its topic, to its owner and to the head of
// the department in their linked Telegram; a head without Telegram is
// skipped and an inactive one is not told.
func TestOverdueReportedToHead(t *testing.T) {
	ctx := context.Background()
	at := pastMoment()
	clk := &fakeClock{t: at}
	svcNow := at
	e := newEnv(t, telegramtest.Limits{}, func(c *operator.Config) { c.Now = clk.Now })
	e.useService(escalation.Config{Calendar: alwaysOpen(), Now: func() time.Time { return svcNow }})
	contact, opUser := staffTG(t, e.svc, "Ольга Смирнова", escalation.RoleContact)
	_, headUser := staffTG(t, e.svc, "Начальник Отдела", escalation.RoleHead)
	gone, goneUser := staffTG(t, e.svc, "Бывший Начальник", escalation.RoleHead)
	if err := e.svc.SetStaffActive(ctx, gone.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddStaff(ctx, escalation.Staff{Name: "Начальник Без Телеграма", Roles: []escalation.Role{escalation.RoleHead}, Active: true}); err != nil {
		t.Fatal(err)
	}
	a := e.open(ctx, "Почему до сих пор не выдали справку?")
	if _, err := e.svc.Assign(ctx, a.ID, contact.ID, contact.ID); err != nil {
		t.Fatal(err)
	}
	e.settle(ctx, clk)
	th := thread(t, a.ID)
	// A minute past the first-response deadline; the deadline worker marks it.
	svcNow = a.FirstResponseDue.Add(time.Minute)
	clk.Set(svcNow)
	if n, err := e.svc.MarkOverdue(ctx); err != nil || n < 1 {
		t.Fatalf("MarkOverdue = %d, %v; want this appeal marked", n, err)
	}
	e.settle(ctx, clk)
	want := "⚠ Обращение № " + a.Number + " просрочено"
	if !contains(e.fake.SentToThread(e.group, th), want) {
		t.Fatalf("topic: %q", plain(e.fake.SentToThread(e.group, th)))
	}
	if got := e.fake.SentTo(headUser); count(got, want) != 1 || !contains(got, "Ольга Смирнова") {
		t.Fatalf("head got %q", plain(got))
	}
	if count(e.fake.SentTo(opUser), want) != 1 {
		t.Fatalf("owner got %q", plain(e.fake.SentTo(opUser)))
	}
	if len(e.fake.SentTo(goneUser)) != 0 {
		t.Fatalf("an inactive head got %q", plain(e.fake.SentTo(goneUser)))
	}
	// Marked once: no second report.
	if _, err := e.svc.MarkOverdue(ctx); err != nil {
		t.Fatal(err)
	}
	e.settle(ctx, clk)
	if count(e.fake.SentTo(headUser), want) != 1 || count(e.fake.SentToThread(e.group, th), want) != 1 {
		t.Fatalf("reported again: head %q", plain(e.fake.SentTo(headUser)))
	}
}

// TestOffHoursClientTold: an appeal registered outside working hours gets
// the client a message saying when the managers work and by when the
// answer comes; one registered in working hours does not.
func TestOffHoursClientTold(t *testing.T) {
	ctx := context.Background()
	// A Saturday, 23:10 in Moscow.
	sat := pastMoment()
	for sat.Weekday() != time.Saturday {
		sat = sat.Add(24 * time.Hour)
	}
	sat = time.Date(sat.Year(), sat.Month(), sat.Day(), 23, 10, 0, 0, escalation.Moscow)
	svcNow := sat
	clk := &fakeClock{t: sat}
	e := newEnv(t, telegramtest.Limits{}, func(c *operator.Config) { c.Now = clk.Now })
	e.useService(escalation.Config{Calendar: escalation.DefaultCalendar(), Now: func() time.Time { return svcNow }})
	a := e.open(ctx, "Нужна справка для военкомата")
	e.settle(ctx, clk)
	monday := time.Date(sat.Year(), sat.Month(), sat.Day()+2, 9, 15, 0, 0, escalation.Moscow)
	if !a.FirstResponseDue.Equal(monday) {
		t.Fatalf("first response due %v, want Monday 9:15", a.FirstResponseDue)
	}
	want := "Сейчас нерабочее время: менеджеры работают в будни с 9:00 до 18:00 (МСК). Ваше обращение № " + a.Number +
		" ждёт их — ответ придёт сюда до " + monday.Format("02.01 15:04") + "."
	if got := e.fake.SentTo(clientOf(t, a)); len(got) != 1 || got[0].Plain != want {
		t.Fatalf("client got %q, want %q", plain(got), want)
	}
	// Monday 10:00: no such message.
	svcNow = monday.Add(45 * time.Minute)
	clk.Set(svcNow)
	b := e.open(ctx, "Нужна ещё одна справка")
	e.settle(ctx, clk)
	if got := e.fake.SentTo(clientOf(t, b)); len(got) != 0 {
		t.Fatalf("client told %q in working hours", plain(got))
	}
}

// TestTopicsSpreadAcrossGroups: with several operators' groups configured,
// new appeals' topics are spread evenly across them, each with its card
// posted in its own group.
func TestTopicsSpreadAcrossGroups(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	e := newEnv(t, telegramtest.Limits{}, func(c *operator.Config) { c.Now = clk.Now })
	groups := []int64{e.group, e.group - 1, e.group - 2}
	e.cfg.Groups = groups
	e.restart()
	var list []*escalation.Appeal
	for i := range 6 {
		list = append(list, e.open(ctx, "Вопрос номер "+strconv.Itoa(i+1)))
	}
	e.settle(ctx, clk)
	per := map[int64]int{}
	for _, a := range list {
		var g int64
		if err := pool.QueryRow(ctx, `SELECT group_chat FROM op_topics WHERE appeal_id = $1`, a.ID).Scan(&g); err != nil {
			t.Fatal(err)
		}
		per[g]++
		th := thread(t, a.ID)
		if th == 0 || !strings.HasPrefix(e.fake.Topics(g)[th], "№ "+a.Number) {
			t.Fatalf("appeal %s: topic %d in group %d: %v", a.Number, th, g, e.fake.Topics(g))
		}
		if posts := e.fake.SentToThread(g, th); len(posts) == 0 || !strings.Contains(posts[0].Plain, "Обращение № "+a.Number) {
			t.Fatalf("appeal %s: no card in its topic: %q", a.Number, plain(posts))
		}
	}
	for _, g := range groups {
		if per[g] != 2 {
			t.Fatalf("topics per group %v, want 2 in each of %v", per, groups)
		}
	}
}

// TestResolvedElsewhereToldOnce: an appeal resolved outside the relay (the
// console calls only Resolve while the relay runs) gets the client exactly
// one «рассмотрено» message and the rating question, stays resolved until
// the client rates, then closes; a repeated resolved event (delivery is at
// least once) sends nothing more and keeps the rating.
func TestResolvedElsewhereToldOnce(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	e := newEnv(t, telegramtest.Limits{}, func(c *operator.Config) { c.Now = clk.Now })
	contact, _ := staffTG(t, e.svc, "Ольга Смирнова", escalation.RoleContact)
	a := e.open(ctx, "Когда начнётся приём документов?")
	client := clientOf(t, a)
	e.settle(ctx, clk)
	if _, err := e.svc.Assign(ctx, a.ID, contact.ID, contact.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Resolve(ctx, a.ID, "приём документов начнётся 20 июня", contact.ID); err != nil {
		t.Fatal(err)
	}
	e.settle(ctx, clk)
	result := "Ваше обращение № " + a.Number + " рассмотрено: приём документов начнётся 20 июня"
	got := e.fake.SentTo(client)
	if count(got, "рассмотрено") != 1 || count(got, result) != 1 {
		t.Fatalf("client got %q", plain(got))
	}
	id := strconv.FormatInt(a.ID, 10)
	if buttonData(got, "rate:"+id+":") == "" {
		t.Fatalf("no rating buttons: %q", plain(got))
	}
	redeliver := func() {
		e.ev.mu.Lock()
		e.ev.last = 0
		e.ev.mu.Unlock()
		e.settle(ctx, clk)
	}
	redeliver() // every event again, while it waits for the rating
	if got := e.fake.SentTo(client); count(got, "рассмотрено") != 1 || count(got, "оцените") != 1 {
		t.Fatalf("after redelivery the client got %q", plain(got))
	}
	if cur, _ := e.svc.Get(ctx, a.ID); cur.Status != escalation.StatusResolved {
		t.Fatalf("status %s before the rating, want resolved", cur.Status)
	}
	r := e.handle(ctx, bot.Message{Chat: bot.Chat{Channel: bot.Telegram, ID: a.ExternalID}, From: bot.User{ID: a.ExternalID},
		Kind: bot.Callback, Data: "rate:" + id + ":4"})
	if len(r) != 1 || !strings.Contains(r[0].Text, "Спасибо за оценку") {
		t.Fatalf("client told %+v", r)
	}
	if cur, _ := e.svc.Get(ctx, a.ID); cur.Status != escalation.StatusClosed {
		t.Fatalf("status %s after the rating, want closed", cur.Status)
	}
	redeliver() // and after it
	if got := e.fake.SentTo(client); count(got, "рассмотрено") != 1 || count(got, "оцените") != 1 {
		t.Fatalf("after redelivery the client got %q", plain(got))
	}
	if rt, err := e.relay.RatingOf(ctx, a.ID); err != nil || rt.Score != 4 {
		t.Fatalf("rating %+v, %v", rt, err)
	}
}

// TestReturnToQueue: «Вернуть в очередь» in the topic puts the appeal back
// in its queue without an owner (escalation.Release) and says so there.
func TestReturnToQueue(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	e := newEnv(t, telegramtest.Limits{}, func(c *operator.Config) { c.Now = clk.Now })
	_, opUser := staffTG(t, e.svc, "Ольга Смирнова", escalation.RoleContact)
	a := e.open(ctx, "Где расписание?")
	e.settle(ctx, clk)
	th := thread(t, a.ID)
	id := strconv.FormatInt(a.ID, 10)
	e.pressInTopic(ctx, th, opUser, "op:take:"+id)
	e.pressInTopic(ctx, th, opUser, "op:ret:"+id)
	e.settle(ctx, clk)
	cur, err := e.svc.Get(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Status != escalation.StatusNew || cur.AssigneeID != 0 || cur.Queue != escalation.QueueContact {
		t.Fatalf("after «Вернуть в очередь»: %s, owner %d, queue %s", cur.Status, cur.AssigneeID, cur.Queue)
	}
	if !contains(e.fake.SentToThread(e.group, th), "Возвращено в очередь") {
		t.Fatalf("topic: %q", plain(e.fake.SentToThread(e.group, th)))
	}
	// Again, with nobody owning it: refused, and said so.
	e.pressInTopic(ctx, th, opUser, "op:ret:"+id)
	e.settle(ctx, clk)
	if !contains(e.fake.SentToThread(e.group, th), "Не получилось") {
		t.Fatalf("topic: %q", plain(e.fake.SentToThread(e.group, th)))
	}
}
