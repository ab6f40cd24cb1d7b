package escalation

import "strings"

// Russian names of the escalation vocabulary, as staff read them in the
// operators' topics and the console. (Clients see their own wording, in
// the dialogs.)

// Title is the status as staff call it.
func (s Status) Title() string {
	switch s {
	case StatusNew:
		return "новое"
	case StatusAssigned:
		return "в работе"
	case StatusForwarded:
		return "передано"
	case StatusAnswered:
		return "есть ответ"
	case StatusResolved:
		return "решено"
	case StatusClosed:
		return "закрыто"
	}
	return string(s)
}

// Title is the channel's name.
func (c Channel) Title() string {
	switch c {
	case Telegram:
		return "Telegram"
	case VK:
		return "ВКонтакте"
	case WebChat:
		return "чат на сайте"
	case Email:
		return "e-mail"
	case Phone:
		return "телефон"
	case WalkIn:
		return "личный визит"
	case Console:
		return "консоль"
	}
	return string(c)
}

// Title is the kind of appeal.
func (k Kind) Title() string {
	switch k {
	case Question:
		return "вопрос"
	case Request:
		return "заявление"
	case Complaint:
		return "жалоба"
	case Proposal:
		return "предложение"
	}
	return string(k)
}

// Title is who works the queue.
func (q Queue) Title() string {
	switch q {
	case QueueContact:
		return "контактные менеджеры"
	case QueueAdmission:
		return "менеджеры по приёму"
	case QueueStudy:
		return "менеджеры по обучению"
	}
	if d, ok := strings.CutPrefix(string(q), "dept:"); ok {
		return "подразделение «" + d + "»"
	}
	return string(q)
}
