package operator_test

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"kontakt/bot"
	"kontakt/bot/telegram/telegramtest"
	"kontakt/bot/vk"
	"kontakt/bot/vk/vktest"
	"kontakt/dialog"
	"kontakt/escalation"
	"kontakt/faq"
	"kontakt/knowledge"
	"kontakt/operator"
)

// withFiles is the dialog's escalator with the client's files, as
// cmd/kontakt adapts it.
type withFiles struct{ appeals }

func (a withFiles) AddMessage(ctx context.Context, id int64, m bot.Message) error {
	var files []escalation.Attachment
	for _, f := range m.Attachments {
		files = append(files, escalation.Attachment{Kind: string(f.Kind), FileID: f.FileID, URL: f.URL, Name: f.FileName, Size: f.Size, Mime: f.MIMEType})
	}
	_, err := a.svc.AddMessage(ctx, id, escalation.Message{Author: escalation.FromClient, Text: m.Text, Attachments: files})
	return err
}

// TestVKClientThroughTheRelay (issue 6): a VK client hands off to a
// manager; the appeal gets a topic in the operators' Telegram group with a
// card marked «ВКонтакте»; the client's photo arrives in the topic as a
// link; the operator takes the appeal and answers in the topic, and the
// answer reaches the VK client by messages.send; the result and the rating
// question reach the client with a VK keyboard, and the client's rating
// (a VK button press) gets back to the relay.
func TestVKClientThroughTheRelay(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const vkGroup = 218000002
	vkFake := vktest.New("vk1.a.T"+strconv.FormatInt(uid(), 10), vkGroup, vktest.VKLimits)
	defer vkFake.Close()
	var e *env
	var vkHandler bot.HandlerFunc = func(ctx context.Context, m bot.Message) ([]bot.Reply, error) {
		return e.handler.Handle(ctx, m)
	}
	vch, err := vk.New(vk.Config{Token: vkFake.Token, GroupID: vkGroup, APIURL: vkFake.APIURL(), Redis: rdb,
		Prefix: "optest:vk:" + strconv.FormatInt(uid(), 10) + ":", Handler: vkHandler, Wait: 1})
	if err != nil {
		t.Fatal(err)
	}
	e = newEnv(t, telegramtest.Limits{}, func(c *operator.Config) { c.Senders[bot.VK] = vch })
	svc := e.svc
	contact, err := svc.AddStaff(ctx, escalation.Staff{Name: "Ольга Смирнова", Roles: []escalation.Role{escalation.RoleContact}, Active: true,
		Reach: map[escalation.Channel]string{escalation.Telegram: strconv.FormatInt(uid(), 10)}})
	if err != nil {
		t.Fatal(err)
	}
	opUser, _ := strconv.ParseInt(contact.Reach[escalation.Telegram], 10, 64)

	f, err := os.Open("../faq/testdata/kb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := faq.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	kb, err := knowledge.New(entries)
	if err != nil {
		t.Fatal(err)
	}
	defer kb.Close()
	a := withFiles{appeals{svc}}
	e.handler = e.relay.Wrap(dialog.New(dialog.Config{Store: dialog.NewRedisStore(rdb, "optest:dlg:"+strconv.FormatInt(uid(), 10)+":", time.Hour),
		Knowledge: kb, Catalog: kb, Appeals: a, Finder: a}))

	peer := int(1_000_000_000 + uid()%900_000_000)
	e.ev.watch(strconv.Itoa(peer))
	go e.ch.Poll(ctx)
	go e.ch.Run(ctx)
	go vch.Run(ctx)
	go vch.Poll(ctx)
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
	waitFor(t, "the VK long poll", func() bool { return vkFake.Calls("a_check") > 0 })

	data := func(b vktest.Button) string { // the dialog's data in the payload
		var p struct {
			D string `json:"d"`
		}
		json.Unmarshal([]byte(b.Payload), &p)
		return p.D
	}
	seen := 0
	// untilButton waits for a keyboard with data and presses it as the VK
	// app does.
	untilButton := func(what, d string) {
		t.Helper()
		waitFor(t, what, func() bool {
			for _, row := range vkFake.Buttons(peer) {
				for _, b := range row {
					if data(b) == d {
						return true
					}
				}
			}
			return false
		})
		seen = len(vkFake.SentTo(peer))
		for _, row := range vkFake.Buttons(peer) {
			for _, b := range row {
				if data(b) == d {
					vkFake.Press(peer, b)
					return
				}
			}
		}
	}
	untilText := func(what, want string) string {
		t.Helper()
		var got string
		waitFor(t, what, func() bool {
			sent := vkFake.SentTo(peer)
			for i := seen; i < len(sent); i++ {
				if strings.Contains(sent[i].Text, want) {
					got, seen = sent[i].Text, i+1
					return true
				}
			}
			return false
		})
		return got
	}

	vkFake.Start(peer)
	untilButton("audience", "aud:applicant")
	waitFor(t, "menu", func() bool { return len(vkFake.SentTo(peer)) > seen })
	vkFake.Text(peer, "Мой научный руководитель уволился посреди семестра, кто теперь подпишет индивидуальный план аспиранта?")
	untilButton("manager", "m:human")
	untilButton("consent", "consent:yes")
	untilText("name", "Как к вам обращаться")
	vkFake.Text(peer, "Анна Иванова")
	untilText("contact", "телефон или e-mail")
	vkFake.Text(peer, "+7 900 123-45-67")
	untilButton("confirm", "confirm:yes")
	untilText("registered", "зарегистрировано")
	ap, err := svc.OpenAppealFor(ctx, escalation.VK, strconv.Itoa(peer))
	if err != nil || ap == nil {
		t.Fatalf("no appeal: %v", err)
	}
	id := strconv.FormatInt(ap.ID, 10)

	// The topic and its card, marked as a VK appeal.
	var th int64
	waitFor(t, "topic", func() bool { th = thread(t, ap.ID); return th != 0 && len(e.fake.SentToThread(e.group, th)) > 0 })
	card := e.fake.SentToThread(e.group, th)[0].Plain
	for _, want := range []string{"Обращение № " + ap.Number, "Канал: ВКонтакте", "Анна Иванова", "научный руководитель"} {
		if !strings.Contains(card, want) {
			t.Fatalf("card lacks %q:\n%s", want, card)
		}
	}
	inTopic := func(want string) func() bool {
		return func() bool { return contains(e.fake.SentToThread(e.group, th), want) }
	}

	// The client's photo reaches the topic as a link.
	vkFake.Photo(peer, "скан заявления", "https://sun9-12.userapi.com/impg/scan.jpg")
	waitFor(t, "photo link in the topic", inTopic("https://sun9-12.userapi.com/impg/scan.jpg"))

	// The operator takes the appeal and answers in the topic.
	e.fake.PressIn(e.group, th, opUser, "op:take:"+id)
	waitFor(t, "assigned", func() bool {
		cur, err := svc.Get(ctx, ap.ID)
		return err == nil && cur.Status == escalation.StatusAssigned
	})
	e.fake.GroupText(e.group, th, opUser, "Здравствуйте, Анна! Уточняю у отдела аспирантуры.")
	if got := untilText("operator's answer", "Уточняю у отдела аспирантуры"); got != "Здравствуйте, Анна! Уточняю у отдела аспирантуры.\n\n— Ольга" {
		t.Errorf("client got %q", got)
	}

	// Resolve: the result and the rating (a VK keyboard) reach the client;
	// the rating gets back to the relay.
	e.fake.PressIn(e.group, th, opUser, "op:res:"+id)
	waitFor(t, "resolve prompt", inTopic("напишите итог"))
	e.fake.GroupText(e.group, th, opUser, "план подпишет заведующий кафедрой")
	untilText("result", "рассмотрено: план подпишет заведующий кафедрой")
	untilButton("rating", "rate:"+id+":5")
	untilText("thanks", "Спасибо за оценку")
	waitFor(t, "rating in topic", inTopic("оценка клиента: 5 из 5"))
	if n := vkFake.TooManyRequests(); n != 0 {
		t.Errorf("%d error-6 answers from the VK fake", n)
	}
}
