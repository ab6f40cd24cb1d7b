package dialog

import (
	"fmt"
	"strings"
	"time"

	"kontakt/bot"
	"kontakt/faq"
)

// Button data. Kept short: Telegram allows 64 bytes.
const (
	dataMenu       = "m:menu"
	dataFAQ        = "m:faq"
	dataAsk        = "m:ask"
	dataHuman      = "m:human"
	dataAppeals    = "m:appeals"
	dataHelpful    = "fb:yes"
	dataUnhelpful  = "fb:no"
	dataOther      = "clar:other"
	dataConsentYes = "consent:yes"
	dataConsentNo  = "consent:no"
	dataSend       = "confirm:yes"
	dataEdit       = "confirm:edit"
	dataCancel     = "confirm:no"
	prefixAudience = "aud:"
	prefixCategory = "cat:"
	prefixQuestion = "q:"
)

// ConsentVersion names the consent text below; it is stored with the
// client's consent.
const ConsentVersion = "bot-2026-11"

// Limits on what clients type.
const (
	maxQuestionRunes = 1000 // a question for the knowledge base
	maxAppealRunes   = 4000 // the text of an appeal
	maxNameRunes     = 100
	ackEvery         = 10 * time.Minute // "passed on to the manager" at most this often
	idleReset        = 2 * time.Hour    // a half-filled form is forgotten after this
	transcriptLines  = 16
	transcriptRunes  = 500 // a client's line
	botLineRunes     = 120 // the bot's lines are only context for the manager
)

// Texts clients read.
const (
	txtAudience     = "Подскажите, пожалуйста, кто вы? От этого зависят ответы."
	txtMenu         = "Чем могу помочь? Напишите вопрос своими словами или выберите пункт меню."
	txtAsk          = "Напишите ваш вопрос одним сообщением — постараюсь ответить сразу."
	txtCategories   = "Выберите тему:"
	txtNoCategories = "Список частых вопросов сейчас пуст. Напишите вопрос своими словами — постараюсь помочь."
	txtWasHelpful   = "Этот ответ помог?"
	txtGlad         = "Рад, что смог помочь! Если появятся ещё вопросы — просто напишите."
	txtClarify      = "Уточните, пожалуйста, что вы имели в виду:"
	txtRephrase     = "Попробуйте задать вопрос по-другому — другими словами или подробнее. Или я передам его менеджеру."
	txtOfferHuman   = "Жаль, что не получилось помочь. Хотите, я передам ваш вопрос менеджеру? Он ответит лично."
	txtEscalate     = "На этот вопрос лучше ответит сотрудник института. Я передам его менеджеру."
	txtConsent      = "Чтобы менеджер мог ответить, нам понадобятся ваше имя и телефон или e-mail. " +
		"Согласны ли вы на обработку персональных данных? Мы используем их только для ответа на ваше обращение " +
		"(Федеральный закон № 152-ФЗ «О персональных данных»)."
	txtConsentRefused = "Понимаю. Без согласия мы не можем принять обращение с вашими контактами, поэтому ничего не сохраняем. " +
		"Вы можете и дальше задавать вопросы мне или позвонить на горячую линию института."
	txtName         = "Как к вам обращаться? Напишите, пожалуйста, имя (можно с фамилией)."
	txtBadName      = "Не похоже на имя. Напишите, пожалуйста, как к вам обращаться — только буквы, до 100 символов."
	txtContact      = "Оставьте телефон или e-mail для связи, например +7 900 123-45-67 или name@mail.ru."
	txtBadContact   = "Не получается распознать ни телефон, ни e-mail. Пример телефона: +7 900 123-45-67 (10 цифр после +7), пример e-mail: name@mail.ru. Попробуйте ещё раз."
	txtQuestion     = "Опишите, пожалуйста, ваш вопрос одним сообщением. Можно приложить фото или документ."
	txtCancelled    = "Хорошо, обращение не отправлено."
	txtOpenFailed   = "Не получилось зарегистрировать обращение — у нас техническая заминка. Нажмите «Отправить» ещё раз чуть позже или позвоните на горячую линию."
	txtAddFailed    = "Не получилось передать сообщение менеджеру — у нас техническая заминка. Отправьте его, пожалуйста, ещё раз чуть позже."
	txtPassedOn     = "Передал ваше сообщение менеджеру. Он ответит здесь же."
	txtInAppeal     = "Ваше обращение № %s уже у менеджера. Всё, что вы напишете здесь, попадёт к нему — ответ придёт в этот чат."
	txtEmpty        = "Кажется, сообщение пустое. Напишите, пожалуйста, вопрос текстом."
	txtTooLong      = "Сообщение слишком длинное — я понимаю вопросы до 1000 символов. Сформулируйте его короче или нажмите «Связаться с менеджером»."
	txtTooLongForm  = "Текст слишком длинный — до 4000 символов, пожалуйста. Сократите его или разбейте на части."
	txtUnsupported  = "Я понимаю только текст и кнопки. Напишите, пожалуйста, вопрос словами."
	txtMediaNoHuman = "Я не умею читать файлы и фото. Если хотите передать документ менеджеру — нажмите «Связаться с менеджером», а потом отправьте его."
	txtUnknownCmd   = "Не знаю такой команды. Вот что я умею:"
	txtStale        = "Эта кнопка уже не действует. Вот главное меню:"
	txtNoAppeals    = "У вас пока нет обращений."
	txtAppealsFail  = "Не получилось загрузить ваши обращения. Попробуйте чуть позже."
	txtHelp         = "Я отвечаю на частые вопросы и передаю остальные менеджерам. Команды: /start — начать сначала, /menu — главное меню, /cancel — отменить ввод."
)

func greeting(institute string) string {
	if institute == "" {
		institute = "института"
	}
	return "Здравствуйте! Я бот-помощник " + institute + ". Отвечу на частые вопросы о поступлении, учёбе, " +
		"общежитии и документах, а если не смогу — передам ваш вопрос менеджеру."
}

func smalltalkText(kind string) string {
	switch kind {
	case "greeting":
		return "Здравствуйте! Задайте вопрос — постараюсь помочь."
	case "thanks":
		return "Пожалуйста! Обращайтесь, если будут ещё вопросы."
	case "bot":
		return "Да, я бот, но могу передать ваш вопрос живому менеджеру — нажмите «Связаться с менеджером»."
	case "bye":
		return "Всего доброго! Если что — пишите."
	}
	return "Я отвечаю на вопросы об институте: поступление, учёба, общежитие, документы. Спросите, например: «Сколько стоит общежитие?»"
}

var statusTitles = map[string]string{
	"new":       "зарегистрировано",
	"assigned":  "в работе",
	"forwarded": "передано специалисту",
	"answered":  "дан ответ",
	"resolved":  "решено",
	"closed":    "закрыто",
}

func appealLine(a Appeal, loc *time.Location) string {
	st := statusTitles[a.Status]
	if st == "" {
		st = a.Status
	}
	s := fmt.Sprintf("№ %s от %s — %s", a.Number, a.Created.In(loc).Format("02.01.2006"), st)
	if a.Open && !a.Due.IsZero() {
		s += ", ответ до " + formatDue(a.Due, loc)
	}
	return s
}

var months = [...]string{"января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"}

func formatDue(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	return fmt.Sprintf("%d %s, %s (МСК)", t.Day(), months[t.Month()-1], t.Format("15:04"))
}

func openedText(a Appeal, loc *time.Location) string {
	s := "Ваше обращение № " + a.Number + " зарегистрировано."
	if !a.Due.IsZero() {
		s += " Менеджер ответит до " + formatDue(a.Due, loc) + "."
	}
	return s + " Ответ придёт в этот чат. Если хотите что-то добавить — фото, документ или текст, — просто отправьте сюда."
}

func confirmText(s State) string {
	var b strings.Builder
	b.WriteString("Проверьте, пожалуйста, обращение:\n\n")
	fmt.Fprintf(&b, "Имя: %s\n", s.Name)
	if s.Phone != "" {
		fmt.Fprintf(&b, "Телефон: %s\n", s.Phone)
	}
	if s.Email != "" {
		fmt.Fprintf(&b, "E-mail: %s\n", s.Email)
	}
	fmt.Fprintf(&b, "Вопрос: %s", s.Question)
	if n := len(s.Attachments); n > 0 {
		fmt.Fprintf(&b, "\nВложений: %d", n)
	}
	b.WriteString("\n\nОтправить менеджеру?")
	return b.String()
}

func menuButtons() [][]bot.Button {
	return [][]bot.Button{
		{{Text: "Частые вопросы", Data: dataFAQ}, {Text: "Задать вопрос", Data: dataAsk}},
		{{Text: "Связаться с менеджером", Data: dataHuman}, {Text: "Мои обращения", Data: dataAppeals}},
	}
}

func audienceButtons() [][]bot.Button {
	var rows [][]bot.Button
	for i := 0; i < len(faq.Audiences); i += 2 {
		row := []bot.Button{}
		for _, a := range faq.Audiences[i:min(i+2, len(faq.Audiences))] {
			row = append(row, bot.Button{Text: a.Title(), Data: prefixAudience + string(a)})
		}
		rows = append(rows, row)
	}
	return rows
}

func feedbackButtons() [][]bot.Button {
	return [][]bot.Button{
		{{Text: "Помогло", Data: dataHelpful}, {Text: "Не помогло", Data: dataUnhelpful}},
		{{Text: "Связаться с менеджером", Data: dataHuman}},
	}
}

func offerHumanButtons() [][]bot.Button {
	return [][]bot.Button{{{Text: "Связаться с менеджером", Data: dataHuman}}, {{Text: "Задать другой вопрос", Data: dataAsk}}}
}

func consentButtons() [][]bot.Button {
	return [][]bot.Button{{{Text: "Согласен(на)", Data: dataConsentYes}, {Text: "Не согласен(на)", Data: dataConsentNo}}}
}

func confirmButtons() [][]bot.Button {
	return [][]bot.Button{
		{{Text: "Отправить", Data: dataSend}},
		{{Text: "Изменить вопрос", Data: dataEdit}, {Text: "Отменить", Data: dataCancel}},
	}
}

func backButtons() []bot.Button {
	return []bot.Button{{Text: "« Главное меню", Data: dataMenu}}
}

// buttonText shortens a question to fit a button.
func buttonText(s string) string {
	r := []rune(s)
	if len(r) > 60 {
		return string(r[:59]) + "…"
	}
	return s
}
