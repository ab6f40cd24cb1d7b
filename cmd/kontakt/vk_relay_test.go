package main

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"kontakt/bot"
	"kontakt/bot/telegram"
	"kontakt/bot/telegram/telegramtest"
	"kontakt/bot/vk"
	"kontakt/bot/vk/vktest"
	"kontakt/escalation"
	"kontakt/operator"
)

// TestVKOperatorRelayEndToEnd: a VK client hands off to a manager; the
// appeal gets a topic in the operators' Telegram group with a card marked
// «ВКонтакте»; the client's photo arrives in the topic as a link; the
// operator takes the appeal and answers in the topic, and the answer
// reaches the VK client; the result and the rating question reach the
// client with a VK keyboard, and the client's rating gets back to the
// relay. The escalation events of this client only are fed to the relay
// (the outbox is read, not drained), since the database is shared.
func TestVKOperatorRelayEndToEnd(t *testing.T) {
	p := newVKPipeline(t, vk.Limits, vktest.VKLimits)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tgFake := telegramtest.New("T"+strconv.Itoa(uniquePeer()), telegramtest.Limits{})
	defer tgFake.Close()
	group := -1_000_000_000_000 - int64(uniquePeer())
	var relay *operator.Relay
	var tgHandler bot.HandlerFunc = func(ctx context.Context, m bot.Message) ([]bot.Reply, error) {
		return relay.Wrap(p.machine).Handle(ctx, m)
	}
	tg, err := telegram.New(telegram.Config{Token: tgFake.Token, BaseURL: tgFake.URL, Redis: p.rdb,
		Prefix: "test:vkrelay:" + strconv.Itoa(uniquePeer()) + ":", Handler: tgHandler, Limiter: bot.NewLimiter(bot.Limits{}), PollTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cal := escalation.DefaultCalendar()
	cal.Start, cal.End, cal.Weekend = 0, 24*time.Hour, nil
	svc := escalation.New(p.pool, escalation.Config{Calendar: cal})
	relay, err = operator.New(operator.Config{Appeals: svc, DB: p.pool, Forum: tgForum{tg},
		Senders: map[bot.Channel]bot.Sender{bot.Telegram: tg, bot.VK: p.ch}, Groups: []int64{group}, SignNames: true})
	if err != nil {
		t.Fatal(err)
	}
	// The VK channel's handler: the relay in front of the dialogs, as for
	// Telegram (ratings and comments go to the relay).
	p.ch, err = vk.New(vk.Config{Token: p.fake.Token, GroupID: vkGroup, APIURL: p.fake.APIURL(), APIVersion: "5.199", Redis: p.rdb,
		Prefix: "test:vkrelay:" + strconv.Itoa(uniquePeer()) + ":", Handler: relay.Wrap(p.machine), Limiter: bot.NewLimiter(vk.Limits), Wait: 1})
	if err != nil {
		t.Fatal(err)
	}
	relay, err = operator.New(operator.Config{Appeals: svc, DB: p.pool, Forum: tgForum{tg},
		Senders: map[bot.Channel]bot.Sender{bot.Telegram: tg, bot.VK: p.ch}, Groups: []int64{group}, SignNames: true})
	if err != nil {
		t.Fatal(err)
	}
	opUser := int64(uniquePeer())
	if _, err := svc.AddStaff(ctx, escalation.Staff{Name: "Ольга Смирнова", Roles: []escalation.Role{escalation.RoleContact}, Active: true,
		Reach: map[escalation.Channel]string{escalation.Telegram: strconv.FormatInt(opUser, 10)}}); err != nil {
		t.Fatal(err)
	}
	c := &vkClient{t: t, p: p, peer: uniquePeer()}
	peer := strconv.Itoa(c.peer)

	go p.ch.Run(ctx)
	go p.ch.Poll(ctx)
	go tg.Run(ctx)
	go tg.Poll(ctx)
	var mu sync.Mutex
	var last int64
	go func() { // the escalation events of this client, as the Dispatcher would deliver them
		for ctx.Err() == nil {
			mu.Lock()
			rows, err := p.pool.Query(ctx, `SELECT id, payload FROM esc_outbox WHERE id > $1 AND payload->>'external_id' = $2 ORDER BY id`, last, peer)
			if err == nil {
				list, _ := pgx.CollectRows(rows, func(r pgx.CollectableRow) (escalation.Event, error) {
					var ev escalation.Event
					var id int64
					err := r.Scan(&id, &ev)
					ev.ID = id
					return ev, err
				})
				for _, ev := range list {
					if err := relay.HandleEvent(ctx, ev); err != nil && ctx.Err() == nil {
						t.Errorf("event %d: %v", ev.ID, err)
					}
					last = ev.ID
				}
			}
			mu.Unlock()
			if _, _, err := relay.Pump(ctx); err != nil && ctx.Err() == nil {
				t.Log("pump:", err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	waitFor(t, "the long poll", func() bool { return p.fake.Calls("a_check") > 0 })

	// untilButton waits for a bot message with a button with data.
	untilButton := func(what, data string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			for _, row := range p.fake.Buttons(c.peer) {
				for _, b := range row {
					if buttonData(b) == data {
						c.seen = len(p.fake.SentTo(c.peer))
						return
					}
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("%s: no button %q; last keyboard %+v", what, data, p.fake.Buttons(c.peer))
	}
	untilText := func(what, want string) string {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			sent := p.fake.SentTo(c.peer)
			for i := c.seen; i < len(sent); i++ {
				if strings.Contains(sent[i].Text, want) {
					c.seen = i + 1
					return sent[i].Text
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("%s: the client never got %q", what, want)
		return ""
	}

	p.fake.Start(c.peer)
	untilButton("audience", "aud:applicant")
	c.press("aud:applicant")
	untilButton("menu", "m:human")
	p.fake.Text(c.peer, "Мой научный руководитель уволился посреди семестра, кто теперь подпишет индивидуальный план аспиранта?")
	c.press("m:human")
	untilButton("consent", "consent:yes")
	c.press("consent:yes")
	untilText("name", "Как к вам обращаться")
	p.fake.Text(c.peer, "Анна Иванова")
	untilText("contact", "телефон или e-mail")
	p.fake.Text(c.peer, "+7 900 123-45-67")
	untilButton("confirm", "confirm:yes")
	c.press("confirm:yes")
	untilText("registered", "зарегистрировано")
	a, err := svc.OpenAppealFor(ctx, escalation.VK, peer)
	if err != nil || a == nil {
		t.Fatalf("no appeal: %v", err)
	}
	id := strconv.FormatInt(a.ID, 10)

	// The topic and its card, marked as a VK appeal.
	var th int64
	waitFor(t, "topic", func() bool {
		var tp *int64
		p.pool.QueryRow(ctx, `SELECT thread_id FROM op_topics WHERE appeal_id = $1`, a.ID).Scan(&tp)
		if tp != nil {
			th = *tp
		}
		return th != 0 && len(tgFake.SentToThread(group, th)) > 0
	})
	card := tgFake.SentToThread(group, th)[0].Plain
	for _, want := range []string{"Обращение № " + a.Number, "Канал: ВКонтакте", "Анна Иванова", "научный руководитель"} {
		if !strings.Contains(card, want) {
			t.Fatalf("card lacks %q:\n%s", want, card)
		}
	}
	inTopic := func(want string) func() bool {
		return func() bool {
			for _, m := range tgFake.SentToThread(group, th) {
				if strings.Contains(m.Plain, want) {
					return true
				}
			}
			return false
		}
	}

	// The client's photo reaches the topic as a link.
	p.fake.Photo(c.peer, "скан заявления", "https://sun9-12.userapi.com/impg/scan.jpg")
	waitFor(t, "photo link in the topic", inTopic("https://sun9-12.userapi.com/impg/scan.jpg"))

	// The operator takes the appeal and answers in the topic.
	tgFake.PressIn(group, th, opUser, "op:take:"+id)
	waitFor(t, "assigned", func() bool {
		cur, err := svc.Get(ctx, a.ID)
		return err == nil && cur.Status == escalation.StatusAssigned
	})
	tgFake.GroupText(group, th, opUser, "Здравствуйте, Анна! Уточняю у отдела аспирантуры.")
	if got := untilText("operator's answer", "Уточняю у отдела аспирантуры"); got != "Здравствуйте, Анна! Уточняю у отдела аспирантуры.\n\n— Ольга" {
		t.Errorf("client got %q", got)
	}

	// Resolve: the result and the rating (a VK keyboard) reach the client;
	// the rating gets back to the relay.
	tgFake.PressIn(group, th, opUser, "op:res:"+id)
	waitFor(t, "resolve prompt", inTopic("напишите итог"))
	tgFake.GroupText(group, th, opUser, "план подпишет заведующий кафедрой")
	untilText("result", "рассмотрено: план подпишет заведующий кафедрой")
	untilButton("rating", "rate:"+id+":5")
	c.press("rate:" + id + ":5")
	untilText("thanks", "Спасибо за оценку")
	waitFor(t, "rating in topic", inTopic("оценка клиента: 5 из 5"))
	for _, m := range p.fake.SentTo(c.peer) {
		if len([]rune(m.Text)) > vk.MaxText {
			t.Errorf("a message of %d characters", len([]rune(m.Text)))
		}
	}
}
