package dialog

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"kontakt/bot"
	"kontakt/faq"
	"kontakt/knowledge"
)

// env is the read-only world step sees: the FAQ menu in memory and fixed
// settings. Nothing in it does I/O.
type env struct {
	catalog   Catalog
	institute string
	loc       locationer
}

// step is the whole conversation logic: given the state and one input it
// returns the new state, the replies in order and the effects for the
// caller to perform. It does no I/O and is deterministic.
func step(e env, s State, in Input) (State, []bot.Reply, []Effect) {
	t := turn{env: e, s: s, in: in}
	t.run()
	t.replies = merge(t.replies)
	if in.Msg.Kind != "" {
		t.s.Seen = in.Now
		t.record("client", describe(in.Msg))
	}
	for _, r := range t.replies {
		t.record("bot", r.Text)
	}
	return t.s, t.replies, t.effects
}

// merge joins a reply without buttons to the one after it, so that an
// answer and its "did it help?" go as one message: fewer messages, and
// Telegram allows about one a second per chat.
func merge(rs []bot.Reply) []bot.Reply {
	out := rs[:0:0]
	for _, r := range rs {
		if n := len(out); n > 0 && len(out[n-1].Buttons) == 0 &&
			utf8.RuneCountInString(out[n-1].Text)+utf8.RuneCountInString(r.Text) < 3500 {
			out[n-1] = bot.Reply{Text: out[n-1].Text + "\n\n" + r.Text, Buttons: r.Buttons}
			continue
		}
		out = append(out, r)
	}
	return out
}

type turn struct {
	env
	s       State
	in      Input
	replies []bot.Reply
	effects []Effect
}

func (t *turn) say(text string, rows ...[]bot.Button) {
	t.replies = append(t.replies, bot.Reply{Text: text, Buttons: rows})
}

func (t *turn) do(e Effect) { t.effects = append(t.effects, e) }

func (t *turn) record(from, text string) {
	if text == "" || t.s.Step == StepHuman {
		return
	}
	limit := transcriptRunes
	if from == "bot" {
		limit = botLineRunes
	}
	if utf8.RuneCountInString(text) > limit {
		text = string([]rune(text)[:limit]) + "…"
	}
	t.s.Transcript = append(t.s.Transcript, Line{At: t.in.Now, From: from, Text: text})
	if n := len(t.s.Transcript); n > transcriptLines {
		t.s.Transcript = slices.Clone(t.s.Transcript[n-transcriptLines:])
	}
}

func (t *turn) run() {
	in, m := t.in, t.in.Msg
	// Results of effects first.
	switch {
	case in.Opened != nil:
		t.s.Step, t.s.AppealID, t.s.AppealNumber, t.s.AckAt = StepHuman, in.Opened.ID, in.Opened.Number, in.Now
		t.s.Question, t.s.Attachments, t.s.Transcript, t.s.Misses = "", nil, nil, 0
		t.say(openedText(*in.Opened, t.loc.Location()))
		return
	case in.OpenFailed:
		t.s.Step = StepConfirm
		t.say(txtOpenFailed, confirmButtons()...)
		return
	case in.Listed:
		t.listed(in.Appeals)
		return
	case in.AddFailed:
		t.say(txtAddFailed)
		return
	}
	t.s = reconcile(t.s, in)
	if t.s.Step == StepHuman {
		t.human()
		return
	}
	switch m.Kind {
	case bot.Command:
		t.command()
	case bot.Callback:
		t.callback()
	case bot.Text:
		t.text()
	case bot.Contact:
		if t.s.Step == StepContact {
			t.contact(m.Phone)
			return
		}
		t.say(txtUnsupported)
	case bot.Photo, bot.Document, bot.Video:
		if t.s.Step == StepQuestion || t.s.Step == StepConfirm {
			t.s.Attachments = append(t.s.Attachments, m.Attachments...)
			if c := strings.TrimSpace(m.Text); c != "" && t.s.Step == StepQuestion {
				t.text()
				return
			}
			if t.s.Step == StepQuestion {
				t.say("Файл получил. Теперь опишите, пожалуйста, вопрос текстом.")
				return
			}
			t.confirm()
			return
		}
		t.say(txtMediaNoHuman, []bot.Button{{Text: "Связаться с менеджером", Data: dataHuman}})
	default: // stickers, voice, locations, anything else
		t.say(txtUnsupported)
	}
}

// reconcile applies what the caller learnt from PostgreSQL, the source of
// truth for "a person owns this chat", and forgets stale forms.
func reconcile(s State, in Input) State {
	if in.Looked {
		switch {
		case in.Open != nil && s.Step != StepHuman:
			s.Step, s.AppealID, s.AppealNumber = StepHuman, in.Open.ID, in.Open.Number
		case in.Open == nil && s.Step == StepHuman:
			s.Step, s.AppealID, s.AppealNumber = StepMenu, 0, ""
		case in.Open == nil && s.Step == StepOpening:
			// Registration did not happen (the process died between saving
			// the state and opening the appeal): back to confirmation, so a
			// redelivered or repeated «Отправить» registers it.
			s.Step = StepConfirm
		}
	}
	return forgetStale(s, in.Now)
}

// forgetStale returns s with a half-filled form left for hours forgotten.
func forgetStale(s State, now time.Time) State {
	if formStep(s.Step) && !s.Seen.IsZero() && now.Sub(s.Seen) > idleReset {
		s.Step = StepMenu
	}
	return s
}

func formStep(s Step) bool {
	switch s {
	case StepName, StepContact, StepQuestion, StepConfirm, StepConsent, StepOpening:
		return true
	}
	return false
}

// human: a person owns the conversation; everything goes to the appeal.
func (t *turn) human() {
	m := t.in.Msg
	switch m.Kind {
	case "":
		return
	case bot.Command, bot.Callback:
		t.say(fmt.Sprintf(txtInAppeal, t.s.AppealNumber))
		return
	}
	if m.Kind == bot.Text && strings.TrimSpace(m.Text) == "" {
		t.say(txtEmpty)
		return
	}
	t.do(AddMessageEffect{AppealID: t.s.AppealID, Msg: m})
	if t.in.Now.Sub(t.s.AckAt) >= ackEvery {
		t.s.AckAt = t.in.Now
		t.say(txtPassedOn)
	}
}

func (t *turn) command() {
	m := t.in.Msg
	switch m.Command {
	case "start":
		t.s = State{Audience: t.s.Audience, ConsentAt: t.s.ConsentAt, Name: t.s.Name, Phone: t.s.Phone, Email: t.s.Email, Seen: t.s.Seen}
		payload := strings.TrimSpace(m.Payload)
		if t.s.Audience == "" {
			t.s.Step, t.s.Payload = StepAudience, payload
			t.say(greeting(t.institute)+"\n\n"+txtAudience, audienceButtons()...)
			return
		}
		if payload != "" && t.showCategory(payload) {
			return
		}
		t.menu(greeting(t.institute) + "\n\n" + txtMenu)
	case "menu", "cancel":
		t.resetForm()
		t.menu(txtMenu)
	case "help":
		t.menu(txtHelp)
	default:
		t.menu(txtUnknownCmd)
	}
}

func (t *turn) resetForm() {
	t.s.Question, t.s.Attachments, t.s.Pending, t.s.Payload = "", nil, "", ""
}

func (t *turn) menu(text string) {
	t.s.Step = StepMenu
	t.say(text, menuButtons()...)
}

func (t *turn) callback() {
	d := t.in.Msg.Data
	switch {
	case strings.HasPrefix(d, prefixAudience):
		a := faq.Audience(strings.TrimPrefix(d, prefixAudience))
		if !a.Valid() {
			t.menu(txtStale)
			return
		}
		t.s.Audience = a
		payload, pending := t.s.Payload, t.s.Pending
		t.s.Payload, t.s.Pending = "", ""
		if pending != "" && t.in.Decision != nil {
			t.decided(pending, *t.in.Decision)
			return
		}
		if payload != "" && t.showCategory(payload) {
			return
		}
		t.menu("Спасибо! " + txtMenu)
	case d == dataMenu:
		t.resetForm()
		t.menu(txtMenu)
	case d == dataFAQ:
		t.categories()
	case d == dataAsk:
		t.s.Step = StepAsk
		t.say(txtAsk)
	case d == dataHuman:
		t.s.Question = ""
		if t.s.Query != "" && t.s.Step != StepMenu {
			t.s.Question = t.s.Query
		}
		t.handoff()
	case d == dataAppeals:
		t.do(ListAppealsEffect{})
	case strings.HasPrefix(d, prefixCategory):
		if !t.showCategory(strings.TrimPrefix(d, prefixCategory)) {
			t.menu(txtStale)
		}
	case strings.HasPrefix(d, prefixQuestion):
		en := t.catalog.Entry(strings.TrimPrefix(d, prefixQuestion))
		if en == nil {
			t.menu(txtStale)
			return
		}
		if t.s.Step == StepClarify && t.s.Query != "" {
			t.answer(t.s.Query, en, t.s.Candidates)
			return
		}
		t.answer(en.Question, en, nil)
	case d == dataHelpful && t.s.Step == StepAnswered:
		t.do(FeedbackEffect{Feedback{EntryID: t.s.Entry, Helpful: true, Query: t.s.Query, Channel: t.in.Msg.Chat.Channel}})
		t.s.Misses = 0
		t.menu(txtGlad)
	case d == dataUnhelpful && t.s.Step == StepAnswered:
		t.do(FeedbackEffect{Feedback{EntryID: t.s.Entry, Helpful: false, Query: t.s.Query, Channel: t.in.Msg.Chat.Channel}})
		t.miss(true)
	case d == dataOther && t.s.Step == StepClarify:
		t.miss(false)
	case d == dataConsentYes && t.s.Step == StepConsent:
		at := t.in.Now
		t.s.ConsentAt = &at
		t.handoff()
	case d == dataConsentNo && t.s.Step == StepConsent:
		t.s.Question, t.s.Attachments = "", nil
		t.menu(txtConsentRefused)
	case d == dataSend && t.s.Step == StepConfirm:
		t.s.Step = StepOpening
		t.do(OpenAppealEffect{Request: t.request()})
	case d == dataEdit && t.s.Step == StepConfirm:
		t.s.Step, t.s.Question = StepQuestion, ""
		t.say(txtQuestion)
	case d == dataCancel && t.s.Step == StepConfirm:
		t.resetForm()
		t.menu(txtCancelled + " " + txtMenu)
	case d == dataSend && t.s.Step == StepOpening:
		// A second press while the first is being registered: say nothing.
	default:
		t.menu(txtStale)
	}
}

// miss handles an unhelpful turn: after two in a row, offer a person.
func (t *turn) miss(offerOthers bool) {
	t.s.Misses++
	if t.s.Misses >= 2 {
		// StepAsk: a typed reply is a new question; the button carries the
		// unanswered one to the manager.
		t.s.Step = StepAsk
		t.say(txtOfferHuman, offerHumanButtons()...)
		return
	}
	var others []string
	if offerOthers {
		for _, id := range t.s.Candidates {
			if id != t.s.Entry && t.catalog.Entry(id) != nil {
				others = append(others, id)
			}
		}
	}
	if len(others) == 0 {
		t.s.Step = StepAsk
		t.say(txtRephrase, []bot.Button{{Text: "Связаться с менеджером", Data: dataHuman}})
		return
	}
	t.clarify(others)
}

func (t *turn) clarify(ids []string) {
	t.s.Step = StepClarify
	var rows [][]bot.Button
	for _, id := range ids[:min(3, len(ids))] {
		if en := t.catalog.Entry(id); en != nil && fitsButton(id) {
			rows = append(rows, []bot.Button{{Text: buttonText(en.Question), Data: prefixQuestion + id}})
		}
	}
	rows = append(rows, []bot.Button{{Text: "Другое", Data: dataOther}})
	t.say(txtClarify, rows...)
}

// fitsButton reports whether an entry id fits a button's data: Telegram
// allows 64 bytes, entry ids may have up to 100. An entry that does not
// fit is still found by typing the question.
func fitsButton(id string) bool { return len(prefixQuestion)+len(id) <= 64 }

func (t *turn) categories() {
	cats := t.catalog.Categories()
	if len(cats) == 0 {
		t.menu(txtNoCategories)
		return
	}
	t.s.Step = StepMenu
	var rows [][]bot.Button
	for _, c := range cats {
		rows = append(rows, []bot.Button{{Text: faq.CategoryTitle(c), Data: prefixCategory + c}})
	}
	rows = append(rows, backButtons())
	t.say(txtCategories, rows...)
}

func (t *turn) showCategory(c string) bool {
	var rows [][]bot.Button
	for _, en := range t.catalog.EntriesIn(c) {
		if t.s.Audience != "" && len(en.Audience) > 0 && !slices.Contains(en.Audience, t.s.Audience) {
			continue
		}
		if !fitsButton(en.ID) {
			continue
		}
		rows = append(rows, []bot.Button{{Text: buttonText(en.Question), Data: prefixQuestion + en.ID}})
	}
	if len(rows) == 0 {
		return false
	}
	t.s.Step = StepMenu
	rows = append(rows, []bot.Button{{Text: "« Темы", Data: dataFAQ}}, backButtons())
	t.say(faq.CategoryTitle(c)+":", rows...)
	return true
}

// text handles typed text according to the step.
func (t *turn) text() {
	text := strings.TrimSpace(t.in.Msg.Text)
	switch t.s.Step {
	case StepName:
		name := strings.Join(strings.Fields(text), " ")
		if !validName(name) {
			t.say(txtBadName)
			return
		}
		t.s.Name = name
		t.handoff()
		return
	case StepContact:
		t.contact(text)
		return
	case StepQuestion:
		if text == "" {
			t.say(txtEmpty)
			return
		}
		if utf8.RuneCountInString(text) > maxAppealRunes {
			t.say(txtTooLongForm)
			return
		}
		t.s.Question = text
		t.handoff()
		return
	case StepConsent:
		t.say(txtConsent, consentButtons()...)
		return
	case StepConfirm:
		t.confirm()
		return
	case StepOpening:
		return
	}
	if text == "" {
		t.say(txtEmpty)
		return
	}
	if utf8.RuneCountInString(text) > maxQuestionRunes {
		t.say(txtTooLong, []bot.Button{{Text: "Связаться с менеджером", Data: dataHuman}})
		return
	}
	if t.s.Step == StepNew || (t.s.Step == StepAudience && t.s.Audience == "") {
		if a, ok := audienceByTitle(text); ok && t.s.Step == StepAudience {
			t.s.Audience = a
			t.menu("Спасибо! " + txtMenu)
			return
		}
		t.s.Step, t.s.Pending = StepAudience, text
		t.say(greeting(t.institute)+"\n\n"+txtAudience, audienceButtons()...)
		return
	}
	if t.in.Decision == nil { // the caller could not decide: should not happen
		t.menu(txtMenu)
		return
	}
	t.decided(text, *t.in.Decision)
}

func audienceByTitle(text string) (faq.Audience, bool) {
	for _, a := range faq.Audiences {
		if strings.EqualFold(text, a.Title()) {
			return a, true
		}
	}
	return "", false
}

// decided acts on the knowledge base's decision about a question.
func (t *turn) decided(q string, d knowledge.Decision) {
	var ids []string
	for _, c := range d.Candidates {
		if c.Entry != nil {
			ids = append(ids, c.Entry.ID)
		}
	}
	t.s.Query = q
	switch d.Kind {
	case knowledge.Answer:
		if d.Entry != nil {
			t.answer(q, d.Entry, ids)
			return
		}
	case knowledge.Clarify:
		if len(ids) > 0 {
			t.s.Candidates = ids
			t.clarify(ids)
			return
		}
	case knowledge.Smalltalk:
		t.s.Step = StepMenu
		t.say(smalltalkText(d.Smalltalk), menuButtons()...)
		return
	}
	// Escalate, or a decision without entries.
	t.s.Question, t.s.Topic = q, ""
	if len(d.Candidates) > 0 && d.Candidates[0].Entry != nil {
		t.s.Topic = d.Candidates[0].Entry.Category
	}
	t.say(txtEscalate)
	t.handoff()
}

func (t *turn) answer(q string, en *faq.Entry, candidates []string) {
	t.s.Step, t.s.Entry, t.s.Query, t.s.Candidates, t.s.Topic = StepAnswered, en.ID, q, candidates, en.Category
	t.say(en.AnswerTo(t.s.Audience))
	t.say(txtWasHelpful, feedbackButtons()...)
}

// handoff asks for whatever the appeal still lacks, in order: consent,
// name, contact, question; then shows it for confirmation.
func (t *turn) handoff() {
	switch {
	case t.s.ConsentAt == nil:
		t.s.Step = StepConsent
		t.say(txtConsent, consentButtons()...)
	case t.s.Name == "":
		t.s.Step = StepName
		t.say(txtName)
	case t.s.Phone == "" && t.s.Email == "":
		t.s.Step = StepContact
		t.say(txtContact)
	case t.s.Question == "":
		t.s.Step = StepQuestion
		t.say(txtQuestion)
	default:
		t.confirm()
	}
}

func (t *turn) confirm() {
	t.s.Step = StepConfirm
	t.say(confirmText(t.s), confirmButtons()...)
}

func (t *turn) contact(text string) {
	if p, ok := normalizePhone(text); ok {
		t.s.Phone = p
		t.handoff()
		return
	}
	if e, ok := normalizeEmail(text); ok {
		t.s.Email = e
		t.handoff()
		return
	}
	t.say(txtBadContact)
}

func (t *turn) request() OpenRequest {
	r := OpenRequest{
		Chat: t.in.Msg.Chat, User: t.in.Msg.From,
		Name: t.s.Name, Phone: t.s.Phone, Email: t.s.Email, Audience: t.s.Audience,
		ConsentVersion: ConsentVersion, Topic: t.s.Topic, Text: t.s.Question,
		Transcript: slices.Clone(t.s.Transcript), Attachments: slices.Clone(t.s.Attachments),
	}
	if t.s.ConsentAt != nil {
		r.ConsentAt = *t.s.ConsentAt
	}
	return r
}

func (t *turn) listed(list []Appeal) {
	t.s.Step = StepMenu
	if list == nil {
		t.say(txtAppealsFail, menuButtons()...)
		return
	}
	if len(list) == 0 {
		t.say(txtNoAppeals, menuButtons()...)
		return
	}
	lines := []string{"Ваши обращения:"}
	for _, a := range list[:min(10, len(list))] {
		lines = append(lines, appealLine(a, t.loc.Location()))
	}
	t.say(strings.Join(lines, "\n"), menuButtons()...)
}

// wantsDecision reports which text, if any, the caller should run through
// the knowledge base before step, and for which audience.
func wantsDecision(s State, m bot.Message, now time.Time) (text string, aud faq.Audience, ok bool) {
	s = forgetStale(s, now)
	if s.Step == StepHuman {
		return "", "", false
	}
	switch m.Kind {
	case bot.Text:
		text = strings.TrimSpace(m.Text)
		switch s.Step {
		case StepMenu, StepAsk, StepAnswered, StepClarify:
		default:
			return "", "", false
		}
		if text == "" || utf8.RuneCountInString(text) > maxQuestionRunes {
			return "", "", false
		}
		return text, s.Audience, true
	case bot.Callback:
		if s.Pending != "" && strings.HasPrefix(m.Data, prefixAudience) {
			return s.Pending, faq.Audience(strings.TrimPrefix(m.Data, prefixAudience)), true
		}
	}
	return "", "", false
}

// needsAppealLookup reports whether the caller must ask PostgreSQL for the
// chat's open appeal: when Redis knows nothing of the chat (it may have
// lost the state) and while a person owns it (the appeal may be closed).
func needsAppealLookup(s State) bool {
	return s.Step == StepNew || s.Step == StepHuman || s.Step == StepOpening
}

var nameRE = regexp.MustCompile(`^[\p{L}][\p{L} .'’-]*$`)

func validName(s string) bool {
	n := utf8.RuneCountInString(s)
	return n >= 2 && n <= maxNameRunes && nameRE.MatchString(s)
}

// normalizePhone accepts Russian numbers written in the usual ways and
// returns them as +7XXXXXXXXXX; other international numbers (+ and 8–15
// digits) are kept as digits with a plus.
func normalizePhone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	var digits strings.Builder
	for i, r := range s {
		switch {
		case unicode.IsDigit(r) && r < 128:
			digits.WriteRune(r)
		case r == '+' && i == 0, r == ' ', r == '-', r == '(', r == ')', r == '\u00a0':
		default:
			return "", false
		}
	}
	d := digits.String()
	switch {
	case len(d) == 11 && (d[0] == '7' || d[0] == '8'):
		return "+7" + d[1:], true
	case len(d) == 10 && d[0] == '9':
		return "+7" + d, true
	case strings.HasPrefix(s, "+") && len(d) >= 8 && len(d) <= 15:
		return "+" + d, true
	}
	return "", false
}

func normalizeEmail(s string) (string, bool) {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at+1:], ".") || strings.HasSuffix(s, ".") {
		return "", false
	}
	return strings.ToLower(s), true
}

// describe renders a message for the transcript.
func describe(m bot.Message) string {
	switch m.Kind {
	case bot.Text:
		return m.Text
	case bot.Command:
		return strings.TrimSpace("/" + m.Command + " " + m.Payload)
	case bot.Callback:
		return "[кнопка " + m.Data + "]"
	}
	return strings.TrimSpace("[" + string(m.Kind) + "] " + m.Text)
}
