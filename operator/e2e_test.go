package operator_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"kontakt/bot"
	"kontakt/bot/telegram/telegramtest"
	"kontakt/dialog"
	"kontakt/escalation"
	"kontakt/faq"
	"kontakt/knowledge"
	"kontakt/operator"
)

// appeals adapts escalation to the dialog, as cmd/kontakt does.
type appeals struct{ svc *escalation.Service }

func (a appeals) Open(ctx context.Context, r dialog.OpenRequest) (dialog.Appeal, error) {
	req := escalation.OpenAppeal{Client: escalation.ClientInfo{Channel: escalation.Channel(r.Chat.Channel), ExternalID: r.Chat.ID,
		Name: r.Name, Group: escalation.Group(r.Audience), Phone: r.Phone, Email: r.Email,
		Consent: &escalation.Consent{At: r.ConsentAt, Channel: escalation.Channel(r.Chat.Channel), Version: r.ConsentVersion}},
		Topic: r.Topic, Text: r.Text}
	for _, l := range r.Transcript {
		req.Transcript = append(req.Transcript, escalation.TranscriptLine{At: l.At, From: l.From, Text: l.Text})
	}
	ap, err := a.svc.Open(ctx, req)
	if err != nil {
		return dialog.Appeal{}, err
	}
	return dialog.Appeal{ID: ap.ID, Number: ap.Number, Status: string(ap.Status), Open: true, Created: ap.CreatedAt, Due: ap.FirstResponseDue}, nil
}

func (a appeals) AddMessage(ctx context.Context, id int64, m bot.Message) error {
	_, err := a.svc.AddMessage(ctx, id, escalation.Message{Author: escalation.FromClient, Text: m.Text})
	return err
}

func (a appeals) OpenAppeal(ctx context.Context, chat bot.Chat) (*dialog.Appeal, error) {
	ap, err := a.svc.OpenAppealFor(ctx, escalation.Channel(chat.Channel), chat.ID)
	if err != nil || ap == nil {
		return nil, err
	}
	return &dialog.Appeal{ID: ap.ID, Number: ap.Number, Status: string(ap.Status), Open: ap.Status.Open()}, nil
}

func (a appeals) Appeals(ctx context.Context, chat bot.Chat) ([]dialog.Appeal, error) {
	return nil, nil
}

func newMachine(t *testing.T, svc *escalation.Service) *dialog.Machine {
	f, err := os.Open("../faq/testdata/kb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := faq.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := knowledge.New(entries)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kb.Close() })
	a := appeals{svc}
	return dialog.New(dialog.Config{Store: dialog.NewRedisStore(rdb, "optest:dlg:"+strconv.FormatInt(uid(), 10)+":", time.Hour),
		Knowledge: kb, Catalog: kb, Appeals: a, Finder: a})
}

// TestEndToEnd: a client's question the bot cannot answer becomes an
// appeal; its topic gets the card; a contact manager takes it and answers;
// the client receives the answer; an internal note stays inside; the
// appeal is forwarded to an admission manager (linked by an invite), who
// answers from a private chat; the client receives it and the topic shows
// it; the contact manager resolves it; the client is told the result, rates
// it and comments; the appeal is closed and the dialog is the bot's again.
func TestEndToEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := newEnv(t, telegramtest.Limits{}, nil)
	svc := e.svc
	contact, err := svc.AddStaff(ctx, escalation.Staff{Name: "Ольга Смирнова", Roles: []escalation.Role{escalation.RoleContact}, Active: true,
		Reach: map[escalation.Channel]string{escalation.Telegram: strconv.FormatInt(uid(), 10)}})
	if err != nil {
		t.Fatal(err)
	}
	opUser, _ := strconv.ParseInt(contact.Reach[escalation.Telegram], 10, 64)
	manager, err := svc.AddStaff(ctx, escalation.Staff{Name: "Петров Игорь Сергеевич", Roles: []escalation.Role{escalation.RoleAdmission}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	e.handler = e.relay.Wrap(newMachine(t, svc))
	go e.ch.Poll(ctx)
	go e.ch.Run(ctx)
	go func() {
		for ctx.Err() == nil {
			if err := e.ev.drain(ctx); err != nil && ctx.Err() == nil {
				t.Error(err)
				return
			}
			if _, _, err := e.relay.Pump(ctx); err != nil && ctx.Err() == nil {
				t.Log("pump:", err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()

	client := uid()
	e.ev.watch(strconv.FormatInt(client, 10))
	got := 0
	bot := func(what string) telegramtest.Sent {
		t.Helper()
		got++
		list := e.fake.WaitSent(client, got, 15*time.Second)
		if len(list) < got {
			t.Fatalf("no bot message %d (%s); got %q", got, what, plain(list))
		}
		return list[got-1]
	}
	botUntil := func(what string, ok func(telegramtest.Sent) bool) telegramtest.Sent {
		t.Helper()
		for {
			if m := bot(what); ok(m) {
				return m
			}
		}
	}
	hasButton := func(data string) func(telegramtest.Sent) bool {
		return func(m telegramtest.Sent) bool {
			for _, row := range m.Buttons {
				for _, b := range row {
					if b.Data == data {
						return true
					}
				}
			}
			return false
		}
	}

	// The client: /start, "who are you", a question the base cannot answer.
	e.fake.Text(client, "/start")
	botUntil("audience", hasButton("aud:applicant"))
	e.fake.Press(client, "aud:applicant")
	botUntil("menu", hasButton("m:human"))
	e.fake.Text(client, "Мой научный руководитель уволился посреди семестра, кто теперь подпишет индивидуальный план аспиранта?")
	e.fake.Press(client, "m:human")
	botUntil("consent", hasButton("consent:yes"))
	e.fake.Press(client, "consent:yes")
	botUntil("name", func(m telegramtest.Sent) bool {
		return strings.Contains(m.Plain, "Как к вам обращаться")
	})
	e.fake.Text(client, "Анна Иванова")
	botUntil("contact", func(m telegramtest.Sent) bool { return strings.Contains(m.Plain, "телефон или e-mail") })
	e.fake.Text(client, "+7 900 123-45-67")
	botUntil("confirm", hasButton("confirm:yes"))
	e.fake.Press(client, "confirm:yes")
	botUntil("registered", func(m telegramtest.Sent) bool { return strings.Contains(m.Plain, "зарегистрировано") })
	a, err := svc.OpenAppealFor(ctx, escalation.Telegram, strconv.FormatInt(client, 10))
	if err != nil || a == nil {
		t.Fatalf("no appeal: %v", err)
	}

	// The topic with the card.
	var th int64
	waitFor(t, "topic", func() bool { th = thread(t, a.ID); return th != 0 && len(e.fake.SentToThread(e.group, th)) > 0 })
	name := e.fake.Topics(e.group)[th]
	if !strings.HasPrefix(name, "№ "+a.Number+" · ") || !strings.HasSuffix(name, " · Анна И.") {
		t.Fatalf("topic name %q", name)
	}
	card := e.fake.SentToThread(e.group, th)[0]
	for _, want := range []string{"Обращение № " + a.Number, "Анна Иванова", "абитуриент", "+79001234567", "научный руководитель", "Разговор с ботом", "Сроки"} {
		if !strings.Contains(card.Plain, want) {
			t.Fatalf("card lacks %q:\n%s", want, card.Plain)
		}
	}
	if !hasButton("op:take:" + strconv.FormatInt(a.ID, 10))(card) {
		t.Fatalf("card buttons %v", card.Buttons)
	}
	id := strconv.FormatInt(a.ID, 10)
	status := func(want escalation.Status) func() bool {
		return func() bool { cur, err := svc.Get(ctx, a.ID); return err == nil && cur.Status == want }
	}

	// The contact manager takes it, writes a note and answers.
	e.fake.PressIn(e.group, th, opUser, "op:take:"+id)
	waitFor(t, "assigned", status(escalation.StatusAssigned))
	e.fake.GroupText(e.group, th, opUser, "! секрет: проверить у деканата")
	e.fake.GroupText(e.group, th, opUser, "/note секрет номер два")
	e.fake.GroupText(e.group, th, opUser, "Здравствуйте, Анна! Уточняю у отдела аспирантуры.")
	ans := bot("first answer")
	if ans.Plain != "Здравствуйте, Анна! Уточняю у отдела аспирантуры.\n\n— Ольга" {
		t.Fatalf("client got %q", ans.Plain)
	}

	// The admission manager links Telegram with an invite.
	code, err := operator.CreateInvite(ctx, pool, manager.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	mgr := uid()
	if link := operator.InviteLink("@kontakt_bot", code); !strings.HasPrefix(link, "https://t.me/kontakt_bot?start=inv_") {
		t.Fatalf("link %q", link)
	}
	e.fake.Text(mgr, "/start inv_"+code)
	if l := e.fake.WaitSent(mgr, 1, 15*time.Second); len(l) == 0 || !strings.Contains(l[0].Plain, "Готово, Игорь") {
		t.Fatalf("manager got %q", plain(l))
	}

	// Forward to him: the card comes to his private chat.
	e.fake.PressIn(e.group, th, opUser, "op:fwd:"+id)
	waitFor(t, "forward choices", func() bool {
		return contains(e.fake.SentToThread(e.group, th), "Кому переслать")
	})
	e.fake.PressIn(e.group, th, opUser, "op:fs:"+id+":"+strconv.FormatInt(manager.ID, 10))
	waitFor(t, "forwarded", status(escalation.StatusForwarded))
	priv := e.fake.WaitSent(mgr, 2, 15*time.Second)
	if len(priv) < 2 || !strings.Contains(priv[1].Plain, "Вам передано обращение") || !hasButton("op:ans:"+id)(priv[1]) || !hasButton("op:back:"+id)(priv[1]) {
		t.Fatalf("manager got %q", plain(priv))
	}
	e.fake.PressIn(mgr, 0, mgr, "op:ans:"+id)
	e.fake.WaitSent(mgr, 3, 15*time.Second)
	e.fake.Text(mgr, "Индивидуальный план подпишет заведующий кафедрой до назначения нового руководителя.")
	ans = bot("manager's answer")
	if !strings.HasPrefix(ans.Plain, "Индивидуальный план подпишет заведующий кафедрой") || !strings.HasSuffix(ans.Plain, "— Игорь") {
		t.Fatalf("client got %q", ans.Plain)
	}
	waitFor(t, "answer in topic", func() bool {
		return contains(e.fake.SentToThread(e.group, th), "Ответ клиенту (Петров Игорь Сергеевич, из личного чата)")
	})

	// Resolve: the result and the rating question go to the client.
	e.fake.PressIn(e.group, th, opUser, "op:res:"+id)
	waitFor(t, "resolve prompt", func() bool { return contains(e.fake.SentToThread(e.group, th), "напишите итог") })
	e.fake.GroupText(e.group, th, opUser, "план подпишет заведующий кафедрой")
	res := bot("result")
	if res.Plain != "Ваше обращение № "+a.Number+" рассмотрено: план подпишет заведующий кафедрой" {
		t.Fatalf("client got %q", res.Plain)
	}
	rate := bot("rating")
	if !hasButton("rate:" + id + ":5")(rate) {
		t.Fatalf("rating buttons %v", rate.Buttons)
	}
	waitFor(t, "resolved", status(escalation.StatusResolved))
	e.fake.Press(client, "rate:"+id+":5")
	if m := bot("thanks"); !strings.Contains(m.Plain, "Спасибо за оценку") {
		t.Fatalf("client got %q", m.Plain)
	}
	waitFor(t, "closed", status(escalation.StatusClosed))
	e.fake.Text(client, "Спасибо, всё понятно")
	if m := bot("comment"); !strings.Contains(m.Plain, "отзыв передан") {
		t.Fatalf("client got %q", m.Plain)
	}
	rt, err := e.relay.RatingOf(ctx, a.ID)
	if err != nil || rt.Score != 5 || rt.Comment != "Спасибо, всё понятно" {
		t.Fatalf("rating %+v, %v", rt, err)
	}
	// Back with the bot: a new message is not passed to a manager.
	e.fake.Text(client, "/start")
	if m := bot("bot again"); strings.Contains(m.Plain, "менеджер") && strings.Contains(m.Plain, "№") {
		t.Fatalf("dialog still with a person: %q", m.Plain)
	}
	waitFor(t, "rating in topic", func() bool {
		return contains(e.fake.SentToThread(e.group, th), "оценка клиента: 5 из 5")
	})

	// Notes never reached the client.
	for _, m := range e.fake.SentTo(client) {
		if strings.Contains(m.Plain, "секрет") {
			t.Fatalf("a note reached the client: %q", m.Plain)
		}
	}
	msgs, err := svc.Messages(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	notes := 0
	for _, m := range msgs {
		if m.Author == escalation.FromNote {
			notes++
		}
	}
	if notes != 2 {
		t.Fatalf("%d notes recorded, want 2", notes)
	}
	var errs []error
	if len(errs) > 0 {
		t.Fatal(errors.Join(errs...))
	}
}
