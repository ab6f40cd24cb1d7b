package operator

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kontakt/bot"
	"kontakt/escalation"
	"kontakt/faq"
)

// Button data: "op:<action>:<appeal or note id>[:<arg>]" for staff,
// "rate:<appeal>:<score>" for clients. Telegram allows 64 bytes.
const (
	actTake     = "take"
	actForward  = "fwd"  // show forwarding choices
	actFwdQueue = "fq"   // forward to a queue: arg is the queue
	actFwdStaff = "fs"   // forward to a person: arg is the staff id
	actResolve  = "res"  // ask for the result text
	actRequeue  = "ret"  // back to the contact managers' queue
	actAnswer   = "ans"  // personal manager: answer next
	actBack     = "back" // personal manager: return to the contact manager
	actApprove  = "apr"  // approve a personal manager's answer (note id)
	actReject   = "rej"
	prefixOp    = "op:"
	prefixRate  = "rate:"
	noComment   = "nc"
)

func opData(act string, id int64, arg ...string) string {
	s := prefixOp + act + ":" + strconv.FormatInt(id, 10)
	for _, a := range arg {
		s += ":" + a
	}
	return s
}

// Texts people read.
const (
	txtResultFmt   = "Ваше обращение № %s рассмотрено: %s"
	txtRateAsk     = "Пожалуйста, оцените, как мы вам помогли: от 1 (плохо) до 5 (отлично)."
	txtRated       = "Спасибо за оценку! Если хотите, напишите комментарий одним сообщением — мы его прочитаем."
	txtNoRating    = "Хорошо. Если появятся вопросы — просто напишите, я помогу."
	txtAlreadyRate = "Спасибо, ваша оценка уже учтена."
	txtCommentOK   = "Спасибо! Ваш отзыв передан. Если появятся вопросы — просто напишите."
	txtNoComment   = "Спасибо! Если появятся вопросы — просто напишите."
	txtOffHoursFmt = "Сейчас нерабочее время: менеджеры работают в будни с %s до %s (МСК). Ваше обращение № %s ждёт их — ответ придёт сюда до %s."

	txtNotLinked    = "%s, ваш Telegram не связан с сотрудником Kontakt. Попросите у начальника отдела ссылку-приглашение (kontakt staff invite)."
	txtLinked       = "Готово, %s! Ваш Telegram связан с Kontakt: переданные вам обращения будут приходить сюда."
	txtBadInvite    = "Ссылка-приглашение недействительна или уже использована. Попросите новую."
	txtStaffHello   = "Вы связаны с Kontakt как %s. Обращения, переданные вам, приходят сюда: нажмите «Ответить» под обращением и напишите ответ."
	txtStaffHint    = "Чтобы ответить клиенту, нажмите «Ответить» под обращением и напишите ответ одним сообщением."
	txtWriteAnswer  = "Напишите ответ клиенту по обращению № %s одним сообщением."
	txtAnswerSent   = "Ответ по обращению № %s отправлен клиенту."
	txtAnswerToOK   = "Ответ по обращению № %s передан контактному менеджеру на согласование."
	txtReturned     = "Обращение № %s возвращено контактному менеджеру."
	txtWriteResult  = "%s, напишите итог для клиента следующим сообщением в этой теме (или /resolve текст)."
	txtMediaNoRelay = "Файлы из темы клиенту не пересылаются — опишите, пожалуйста, текстом."
	txtUnknownCmd   = "Команды: /take — взять, /resolve текст — решено, /forward — переслать, /return — вернуть в очередь, /reopen — открыть снова; «!» или /note в начале — заметка, клиент её не увидит."
)

// txtResultNotSent follows «Решено: …» in the topic of an appeal from a
// channel the relay cannot write to (walk-in, phone).
const txtResultNotSent = "Клиент обратился через канал «%s», куда бот не пишет: если обращение решено в веб-консоли, итог клиенту сообщила она; иначе сообщите итог сами и закройте обращение в консоли."

// firstName guesses a person's first name from how staff and clients
// write their names: "Анна", "Анна Иванова", "Иванова Анна Петровна".
func firstName(name string) string {
	f := strings.Fields(name)
	switch {
	case len(f) == 0:
		return ""
	case len(f) == 3 && patronymic(f[2]):
		return f[1]
	}
	return f[0]
}

func patronymic(w string) bool {
	w = strings.ToLower(w)
	for _, s := range []string{"вич", "вна", "чна", "ична", "оглы", "кызы"} {
		if strings.HasSuffix(w, s) {
			return true
		}
	}
	return false
}

// shortName is "Анна И." for "Анна Иванова" (or "Иванова Анна Петровна").
func shortName(name string) string {
	f := strings.Fields(name)
	switch {
	case len(f) == 0:
		return "клиент"
	case len(f) == 3 && patronymic(f[2]):
		return f[1] + " " + firstRune(f[0]) + "."
	case len(f) >= 2:
		return f[0] + " " + firstRune(f[1]) + "."
	}
	return f[0]
}

func firstRune(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	return string(r)
}

func topicTitle(topic string) string {
	if topic == "" || topic == escalation.TopicOther {
		return "Другое"
	}
	return faq.CategoryTitle(topic)
}

// topicName is the forum topic's name: "№ 2026-000123 · Общежитие · Анна И.",
// at most 128 characters.
func topicName(a *escalation.Appeal, clientName string) string {
	s := "№ " + a.Number + " · " + topicTitle(a.Topic) + " · " + shortName(clientName)
	if r := []rune(s); len(r) > 128 {
		s = string(r[:127]) + "…"
	}
	return s
}

func (r *Relay) when(t time.Time) string { return t.In(r.cfg.Location).Format("02.01 15:04") }

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// cardText is the appeal card: who, what, the bot conversation, earlier
// appeals and deadlines. Contacts are shown only with the client's
// consent. history, if any, is the short history reposted into a
// re-created topic.
func (r *Relay) cardText(a *escalation.Appeal, c *escalation.Client, earlier []escalation.Appeal, history []escalation.Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Обращение № %s — %s\n", a.Number, a.Status.Title())
	name := "не назвался"
	if c != nil && c.Name != "" {
		name = c.Name
	}
	fmt.Fprintf(&b, "Клиент: %s (%s)\n", name, strings.ToLower(faq.Audience(a.Group).Title()))
	fmt.Fprintf(&b, "Канал: %s\n", a.Channel.Title())
	if c != nil && c.Consent != nil {
		var contacts []string
		if c.Phone != "" {
			contacts = append(contacts, "+"+strings.TrimPrefix(c.Phone, "+"))
		}
		if c.Email != "" {
			contacts = append(contacts, c.Email)
		}
		if len(contacts) > 0 {
			fmt.Fprintf(&b, "Контакты: %s (согласие на обработку данных от %s)\n", strings.Join(contacts, ", "), r.when(c.Consent.At))
		}
	} else {
		b.WriteString("Контакты: скрыты — нет согласия на обработку данных\n")
	}
	fmt.Fprintf(&b, "Тема: %s; маршрут: %s\n", topicTitle(a.Topic), a.Route.Title())
	fmt.Fprintf(&b, "\nВопрос:\n%s\n", clip(a.Text, 1500))
	if n := len(a.Attachments); n > 0 {
		fmt.Fprintf(&b, "Вложений: %d\n", n)
	}
	if len(a.Transcript) > 0 {
		b.WriteString("\nРазговор с ботом:\n")
		lines := a.Transcript
		if len(lines) > 8 {
			lines = lines[len(lines)-8:]
		}
		for _, l := range lines {
			who := "бот"
			if l.From == "client" {
				who = "клиент"
			}
			fmt.Fprintf(&b, "— %s: %s\n", who, clip(strings.ReplaceAll(l.Text, "\n", " "), 160))
		}
	}
	if len(earlier) > 0 {
		b.WriteString("\nПрежние обращения:\n")
		for _, e := range earlier[max(0, len(earlier)-5):] {
			fmt.Fprintf(&b, "— № %s от %s, %s: %s\n", e.Number, e.CreatedAt.In(r.cfg.Location).Format("02.01.2006"),
				e.Status.Title(), clip(strings.ReplaceAll(e.Text, "\n", " "), 80))
		}
	}
	fmt.Fprintf(&b, "\nСроки: первый ответ до %s, решение до %s", r.when(a.FirstResponseDue), r.when(a.ResolveDue))
	if len(history) > 0 {
		b.WriteString("\n\nТема была удалена и создана заново. История кратко:\n")
		if len(history) > 10 {
			fmt.Fprintf(&b, "(ещё %d сообщений раньше)\n", len(history)-10)
			history = history[len(history)-10:]
		}
		for _, m := range history {
			fmt.Fprintf(&b, "— %s %s: %s\n", m.At.In(r.cfg.Location).Format("02.01 15:04"), authorTitle(m.Author), clip(strings.ReplaceAll(m.Text, "\n", " "), 120))
		}
	}
	return clip(b.String(), 3800)
}

func authorTitle(a escalation.Author) string {
	switch a {
	case escalation.FromClient:
		return "клиент"
	case escalation.FromOperator:
		return "ответ"
	case escalation.FromNote:
		return "заметка"
	}
	return "система"
}

func cardButtons(id int64) [][]bot.Button {
	return [][]bot.Button{
		{{Text: "Взять", Data: opData(actTake, id)}, {Text: "Переслать", Data: opData(actForward, id)}},
		{{Text: "Решено", Data: opData(actResolve, id)}, {Text: "Вернуть в очередь", Data: opData(actRequeue, id)}},
	}
}

func privateButtons(id int64) [][]bot.Button {
	return [][]bot.Button{
		{{Text: "Ответить", Data: opData(actAnswer, id)}},
		{{Text: "Вернуть контактному менеджеру", Data: opData(actBack, id)}},
	}
}

func rateButtons(id int64) [][]bot.Button {
	var row []bot.Button
	for i := 1; i <= 5; i++ {
		row = append(row, bot.Button{Text: strconv.Itoa(i), Data: prefixRate + strconv.FormatInt(id, 10) + ":" + strconv.Itoa(i)})
	}
	return [][]bot.Button{row, {{Text: "Без оценки", Data: prefixRate + strconv.FormatInt(id, 10) + ":0"}}}
}

// signed adds the operator's first name to an answer when configured.
func (r *Relay) signed(text, staffName string) string {
	if !r.cfg.SignNames || firstName(staffName) == "" {
		return text
	}
	return text + "\n\n— " + firstName(staffName)
}

// attachmentLines renders attachments as text: links where the channel
// gives them, names otherwise.
func attachmentLines(list []escalation.Attachment) string {
	var b strings.Builder
	for _, a := range list {
		name := a.Name
		if name == "" {
			name = a.Kind
		}
		if a.URL != "" {
			fmt.Fprintf(&b, "\n📎 %s: %s", name, a.URL)
		} else {
			fmt.Fprintf(&b, "\n📎 %s", name)
		}
	}
	return b.String()
}
