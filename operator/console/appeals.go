package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"kontakt/escalation"
	"kontakt/faq"
)

// openStatuses are the statuses of appeals that still need work.
var openStatuses = []string{"new", "assigned", "forwarded", "answered"}

// visible reports whether the signed-in person may see an appeal: the head
// sees everything, others what is in their queues or assigned to them.
func visible(ss *session, a *escalation.Appeal) bool {
	if ss.has(escalation.RoleHead) {
		return true
	}
	return a.AssigneeID == ss.Staff.ID || slices.Contains(ss.Staff.Queues, a.Queue)
}

// scope returns an SQL condition on esc_appeals a limiting rows to those
// the person may see, with its arguments appended to args.
func scope(ss *session, args *[]any) string {
	if ss.has(escalation.RoleHead) {
		return "true"
	}
	qs := make([]string, len(ss.Staff.Queues))
	for i, q := range ss.Staff.Queues {
		qs[i] = string(q)
	}
	*args = append(*args, qs, ss.Staff.ID)
	return fmt.Sprintf("(a.queue = ANY($%d) OR a.assignee_id = $%d)", len(*args)-1, len(*args))
}

// inboxFilter is the inbox's query string.
type inboxFilter struct {
	Status, Channel, Topic, Assignee, Queue, Q string
	Overdue                                    bool
	Before                                     int64
}

func inboxFilterOf(r *http.Request) inboxFilter {
	q := r.URL.Query()
	f := inboxFilter{Status: q.Get("status"), Channel: q.Get("channel"), Topic: q.Get("topic"),
		Assignee: q.Get("assignee"), Queue: q.Get("queue"), Q: strings.TrimSpace(q.Get("q")),
		Overdue: q.Get("overdue") == "1"}
	if f.Status == "" {
		f.Status = "open"
	}
	f.Before, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	return f
}

// inboxRow is one line of the inbox.
type inboxRow struct {
	ID         int64
	Number     string
	Status     escalation.Status
	Channel    escalation.Channel
	Topic      string
	Queue      escalation.Queue
	Assignee   string
	Client     string
	Text       string
	CreatedAt  time.Time
	Overdue    bool
	ResolveDue time.Time
}

type queueCount struct {
	Queue                  escalation.Queue
	Open, Waiting, Overdue int
}

type inboxPage struct {
	F        inboxFilter
	Rows     []inboxRow
	Counts   []queueCount
	Staff    []escalation.Staff
	Topics   []string
	Channels []escalation.Channel
	Statuses []escalation.Status
	Next     int64  // id for the next page, 0 if none
	NextURL  string // the next page with the same filters
	Took     time.Duration
}

const inboxPageSize = 50

func (s *Server) inbox(ctx context.Context, ss *session, f inboxFilter) (*inboxPage, error) {
	now := s.now()
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := []string{scope(ss, &args)}
	switch f.Status {
	case "open":
		where = append(where, "a.status = ANY("+arg(openStatuses)+")")
	case "all", "":
	default:
		where = append(where, "a.status = "+arg(f.Status))
	}
	if f.Channel != "" {
		where = append(where, "a.channel = "+arg(f.Channel))
	}
	if f.Topic != "" {
		where = append(where, "a.topic = "+arg(f.Topic))
	}
	if f.Queue != "" {
		where = append(where, "a.queue = "+arg(f.Queue))
	}
	switch f.Assignee {
	case "":
	case "me":
		where = append(where, "a.assignee_id = "+arg(ss.Staff.ID))
	case "none":
		where = append(where, "a.assignee_id IS NULL")
	default:
		id, _ := strconv.ParseInt(f.Assignee, 10, 64)
		where = append(where, "a.assignee_id = "+arg(id))
	}
	if f.Overdue {
		n := arg(now)
		where = append(where, "a.status = ANY("+arg(openStatuses)+") AND (a.resolve_due < "+n+
			" OR (a.first_response_at IS NULL AND a.first_response_due < "+n+"))")
	}
	if f.Q != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(f.Q)) + "%"
		cond := "a.number = " + arg(f.Q) + " OR lower(c.name) LIKE " + arg(like) + " OR lower(c.email) LIKE " + arg(like)
		if digits := escalation.NormalizePhone(f.Q); len(digits) >= 4 {
			cond += " OR c.phone LIKE " + arg("%"+digits+"%")
		}
		where = append(where, "("+cond+")")
	}
	if f.Before > 0 {
		where = append(where, "a.id < "+arg(f.Before))
	}
	nowArg := arg(now)
	q := `SELECT a.id, a.number, a.status, a.channel, a.topic, a.queue, coalesce(st.name, ''), c.name,
			left(a.text, 160), a.created_at, a.resolve_due,
			a.status = ANY(` + arg(openStatuses) + `) AND (a.resolve_due < ` + nowArg + ` OR (a.first_response_at IS NULL AND a.first_response_due < ` + nowArg + `))
		FROM esc_appeals a JOIN esc_clients c ON c.id = a.client_id LEFT JOIN esc_staff st ON st.id = a.assignee_id
		WHERE ` + strings.Join(where, " AND ") + ` ORDER BY a.id DESC LIMIT ` + strconv.Itoa(inboxPageSize+1)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (inboxRow, error) {
		var x inboxRow
		err := r.Scan(&x.ID, &x.Number, &x.Status, &x.Channel, &x.Topic, &x.Queue, &x.Assignee, &x.Client,
			&x.Text, &x.CreatedAt, &x.ResolveDue, &x.Overdue)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	p := &inboxPage{F: f, Rows: list}
	if len(list) > inboxPageSize {
		p.Rows = list[:inboxPageSize]
		p.Next = p.Rows[len(p.Rows)-1].ID
	}
	// Queue counts, within what the person may see.
	args = args[:0]
	sc := scope(ss, &args)
	args = append(args, openStatuses, now)
	rows, err = s.db.Query(ctx, `SELECT a.queue, count(*), count(*) FILTER (WHERE a.assignee_id IS NULL),
			count(*) FILTER (WHERE a.resolve_due < $`+strconv.Itoa(len(args))+` OR (a.first_response_at IS NULL AND a.first_response_due < $`+strconv.Itoa(len(args))+`))
		FROM esc_appeals a WHERE `+sc+` AND a.status = ANY($`+strconv.Itoa(len(args)-1)+`)
		GROUP BY a.queue ORDER BY count(*) DESC, a.queue LIMIT 30`, args...)
	if err != nil {
		return nil, fmt.Errorf("queue counts: %w", err)
	}
	if p.Counts, err = pgx.CollectRows(rows, pgx.RowToStructByPos[queueCount]); err != nil {
		return nil, fmt.Errorf("queue counts: %w", err)
	}
	return p, nil
}

func (s *Server) handleInbox() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ss := sessionFrom(r.Context())
		f := inboxFilterOf(r)
		p, err := s.inbox(r.Context(), ss, f)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if p.Staff, err = s.svc.ListStaff(r.Context(), ""); err != nil {
			s.fail(w, r, err)
			return
		}
		for _, c := range faq.Categories {
			p.Topics = append(p.Topics, c.ID)
		}
		p.Channels = []escalation.Channel{escalation.Telegram, escalation.VK, escalation.WebChat, escalation.Email, escalation.Phone, escalation.WalkIn}
		p.Statuses = []escalation.Status{escalation.StatusNew, escalation.StatusAssigned, escalation.StatusForwarded, escalation.StatusAnswered, escalation.StatusResolved, escalation.StatusClosed}
		if p.Next != 0 {
			q := r.URL.Query()
			q.Del("ok")
			q.Set("before", strconv.FormatInt(p.Next, 10))
			p.NextURL = "/appeals?" + q.Encode()
		}
		p.Took = time.Since(start)
		s.audit(r, 0, "просмотр списка обращений", "", 0, r.URL.RawQuery)
		tmpl := "layout"
		if r.Header.Get("X-Partial") == "1" {
			tmpl = "inbox-body"
		}
		s.renderView(w, r, http.StatusOK, "inbox", tmpl, view{Title: "Обращения", Nav: "appeals", D: p})
	})
}

// appealPage is everything about one appeal.
type appealPage struct {
	A        *escalation.Appeal
	Client   *escalation.Client
	Messages []escalation.Message
	History  []escalation.Transition
	Names    map[int64]string
	Staff    []escalation.Staff
	Queues   []escalation.Queue
	Overdue  bool
	Mine     bool
	CanReply bool
}

func (s *Server) visibleAppeal(w http.ResponseWriter, r *http.Request) (*escalation.Appeal, bool) {
	id, ok := pathID(r)
	if !ok {
		s.fail(w, r, escalation.ErrNotFound)
		return nil, false
	}
	a, err := s.svc.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	if !visible(sessionFrom(r.Context()), a) {
		s.forbidden(w, r)
		return nil, false
	}
	return a, true
}

func (s *Server) handleAppeal() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := s.visibleAppeal(w, r)
		if !ok {
			return
		}
		ctx := r.Context()
		ss := sessionFrom(ctx)
		p := &appealPage{A: a, Names: map[int64]string{}, Overdue: a.Overdue(s.now()), Mine: a.AssigneeID == ss.Staff.ID}
		var err error
		if p.Client, err = s.svc.Client(ctx, a.ClientID); err != nil {
			s.fail(w, r, err)
			return
		}
		if p.Messages, err = s.svc.Messages(ctx, a.ID); err != nil {
			s.fail(w, r, err)
			return
		}
		if p.History, err = s.svc.History(ctx, a.ID); err != nil {
			s.fail(w, r, err)
			return
		}
		if p.Staff, err = s.svc.ListStaff(ctx, ""); err != nil {
			s.fail(w, r, err)
			return
		}
		for _, st := range p.Staff {
			p.Names[st.ID] = st.Name
		}
		if p.Queues, err = s.forwardQueues(ctx); err != nil {
			s.fail(w, r, err)
			return
		}
		p.CanReply = a.Status.Open()
		s.audit(r, 0, "просмотр обращения", a.Number, a.ClientID, "")
		s.renderView(w, r, http.StatusOK, "appeal", "layout", view{Title: "Обращение " + a.Number, Nav: "appeals", D: p})
	})
}

// forwardQueues are the queues an appeal can be forwarded to: those of the
// routing rules and of the staff.
func (s *Server) forwardQueues(ctx context.Context) ([]escalation.Queue, error) {
	rules, err := s.svc.Rules(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[escalation.Queue]bool{}
	var qs []escalation.Queue
	add := func(q escalation.Queue) {
		if !seen[q] {
			seen[q] = true
			qs = append(qs, q)
		}
	}
	add(escalation.QueueContact)
	add(escalation.QueueAdmission)
	add(escalation.QueueStudy)
	for _, r := range rules {
		add(r.Queue)
	}
	return qs, nil
}

type action int

const (
	actReply action = iota
	actNote
	actTake
	actForward
	actResolve
	actReopen
	actClose
)

// handleAppealAction performs one action on an appeal through
// escalation.Service, the mechanism every operator tool shares.
func (s *Server) handleAppealAction(act action) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := s.visibleAppeal(w, r)
		if !ok {
			return
		}
		ctx := r.Context()
		me := sessionFrom(ctx).Staff.ID
		back := "/appeals/" + strconv.FormatInt(a.ID, 10)
		text := strings.TrimSpace(r.PostFormValue("text"))
		var (
			err  error
			flag string
		)
		switch act {
		case actReply:
			if text == "" {
				err = fmt.Errorf("%w: empty reply", escalation.ErrInvalid)
				break
			}
			if a.Status == escalation.StatusNew || (a.Status == escalation.StatusForwarded && a.AssigneeID == 0) {
				if a, err = s.svc.Assign(ctx, a.ID, me, me); err != nil {
					break
				}
			}
			if _, err = s.svc.AddMessage(ctx, a.ID, escalation.Message{Author: escalation.FromOperator, StaffID: me, Text: text}); err != nil {
				break
			}
			flag = s.notify(ctx, a, text, "replied")
			s.audit(r, 0, "ответ клиенту", a.Number, a.ClientID, "")
		case actNote:
			_, err = s.svc.AddMessage(ctx, a.ID, escalation.Message{Author: escalation.FromNote, StaffID: me, Text: text})
			flag = "noted"
		case actTake:
			_, err = s.svc.Assign(ctx, a.ID, me, me)
			flag = "taken"
		case actForward:
			fw := escalation.Forwarding{Note: text, By: me}
			target := r.PostFormValue("to")
			if id, ok := strings.CutPrefix(target, "staff:"); ok {
				fw.StaffID, _ = strconv.ParseInt(id, 10, 64)
				var p *escalation.Staff
				if p, err = s.svc.StaffMember(ctx, fw.StaffID); err != nil {
					break
				}
				if len(p.Queues) > 0 {
					fw.Queue = p.Queues[0]
				}
			} else if q, ok := strings.CutPrefix(target, "queue:"); ok {
				fw.Queue = escalation.Queue(q)
			}
			if a.Status == escalation.StatusNew {
				if a, err = s.svc.Assign(ctx, a.ID, me, me); err != nil {
					break
				}
			}
			_, err = s.svc.Forward(ctx, a.ID, fw)
			flag = "forwarded"
		case actResolve:
			if a.Status == escalation.StatusNew {
				if a, err = s.svc.Assign(ctx, a.ID, me, me); err != nil {
					break
				}
			}
			if a, err = s.svc.Resolve(ctx, a.ID, text, me); err != nil {
				break
			}
			if s.cfg.RelayResults[a.Channel] {
				// The relay tells the client on the resolved event and
				// closes the appeal after the rating.
				flag = "resolved-bot"
				s.audit(r, 0, "решение записано, клиенту сообщит бот", a.Number, a.ClientID, "")
				break
			}
			// The wording of the Telegram relay's result message.
			flag = s.notify(ctx, a, fmt.Sprintf("Ваше обращение № %s рассмотрено: %s", a.Number, text), "resolved")
			if flag == "resolved" {
				_, err = s.svc.Close(ctx, a.ID, "клиент уведомлён", me)
			}
			s.audit(r, 0, "решение отправлено клиенту", a.Number, a.ClientID, "")
		case actClose:
			// The client was told the result in person or by phone.
			if text == "" {
				text = "клиент уведомлён лично"
			}
			_, err = s.svc.Close(ctx, a.ID, text, me)
			flag = "closed"
		case actReopen:
			if text == "" {
				text = "открыто снова сотрудником"
			}
			_, err = s.svc.Reopen(ctx, a.ID, text, me)
			flag = "reopened"
		}
		if err != nil {
			s.actionFailed(w, r, back, err)
			return
		}
		s.hub.poke()
		redirect(w, r, back, flag)
	})
}

// notify sends text to the client and returns the flash for the result:
// ok, ok+"-nc" (no channel) or "reply-failed".
func (s *Server) notify(ctx context.Context, a *escalation.Appeal, text, ok string) string {
	if s.cfg.Notifier == nil {
		return ok + "-nc"
	}
	err := s.cfg.Notifier.Notify(ctx, a, text)
	switch {
	case err == nil:
		return ok
	case errors.Is(err, ErrNoChannel):
		return ok + "-nc"
	default:
		s.log.Warn("console: notify client", "appeal", a.Number, "err", err)
		if ok == "resolved" {
			return "resolved-nc"
		}
		return "reply-failed"
	}
}

func (s *Server) actionFailed(w http.ResponseWriter, r *http.Request, back string, err error) {
	var text string
	switch {
	case errors.Is(err, escalation.ErrIllegalTransition):
		text = "Это действие недоступно в текущем статусе обращения (" + err.Error() + ")."
	case errors.Is(err, escalation.ErrReopenWindow):
		text = "Срок, в течение которого можно открыть обращение снова, прошёл. Зарегистрируйте новое."
	case errors.Is(err, escalation.ErrInvalid):
		text = "Проверьте заполнение формы: " + err.Error()
	case errors.Is(err, escalation.ErrNotFound):
		text = "Сотрудник или обращение не найдены."
	default:
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusConflict, "error", errorPage{Title: "Действие не выполнено", Text: text + " Вернитесь к обращению: " + back})
}

// registerPage is the walk-in and hotline registration form.
type registerPage struct {
	Find    string
	Found   []clientRow
	Client  *escalation.Client
	Topics  []struct{ ID, Title string }
	Groups  []escalation.Group
	Kinds   []escalation.Kind
	Error   string
	Form    map[string]string
	Appeal  *escalation.Appeal
	Channel escalation.Channel
}

func (s *Server) registerPage(r *http.Request) (*registerPage, error) {
	p := &registerPage{Topics: faq.Categories, Groups: escalation.Groups, Kinds: escalation.Kinds,
		Find: strings.TrimSpace(r.FormValue("find")), Form: map[string]string{}}
	if p.Find != "" {
		var err error
		if p.Found, err = s.findClients(r.Context(), p.Find); err != nil {
			return nil, err
		}
		s.audit(r, 0, "поиск клиента", "", 0, p.Find)
	}
	if id, _ := strconv.ParseInt(r.FormValue("client"), 10, 64); id > 0 {
		c, err := s.svc.Client(r.Context(), id)
		if err != nil {
			return nil, err
		}
		p.Client = c
		s.audit(r, 0, "просмотр клиента", "", c.ID, "регистрация обращения")
	}
	return p, nil
}

func (s *Server) handleRegisterForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.registerPage(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.renderView(w, r, http.StatusOK, "register", "layout", view{Title: "Регистрация обращения", Nav: "register", D: p})
	})
}

func (s *Server) handleRegister() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		p, err := s.registerPage(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, k := range []string{"name", "phone", "email", "group", "channel", "topic", "kind", "text", "consent"} {
			p.Form[k] = strings.TrimSpace(r.PostFormValue(k))
		}
		f := p.Form
		ch := escalation.Channel(f["channel"])
		info := escalation.ClientInfo{Channel: ch, Name: f["name"], Group: escalation.Group(f["group"]),
			Phone: f["phone"], Email: f["email"]}
		switch {
		case ch != escalation.WalkIn && ch != escalation.Phone:
			p.Error = "Выберите канал: лично или телефон."
		case p.Client == nil && f["name"] == "":
			p.Error = "Укажите имя клиента."
		case p.Client == nil && f["consent"] != "1":
			p.Error = "Без согласия на обработку персональных данных обращение с данными клиента не регистрируется: отметьте согласие."
		case f["text"] == "":
			p.Error = "Опишите обращение."
		case info.Group != "" && !info.Group.Valid():
			p.Error = "Неизвестная категория клиента."
		}
		if p.Error != "" {
			s.renderView(w, r, http.StatusBadRequest, "register", "layout", view{Title: "Регистрация обращения", Nav: "register", D: p})
			return
		}
		if f["consent"] == "1" {
			info.Consent = &escalation.Consent{At: s.now(), Channel: ch, Version: "console"}
		}
		switch {
		case p.Client != nil:
			info.ExternalID = "client:" + strconv.FormatInt(p.Client.ID, 10)
		case escalation.NormalizePhone(f["phone"]) != "":
			info.ExternalID = "phone:" + escalation.NormalizePhone(f["phone"])
		case f["email"] != "":
			info.ExternalID = "email:" + strings.ToLower(f["email"])
		default:
			info.ExternalID = "visit:" + randomToken()[:16]
		}
		a, err := s.svc.Open(ctx, escalation.OpenAppeal{Client: info, Kind: escalation.Kind(f["kind"]),
			Topic: f["topic"], Text: f["text"]})
		if err != nil {
			s.actionFailed(w, r, "/appeals/new", err)
			return
		}
		if p.Client != nil && a.ClientID != p.Client.ID {
			// The first visit of a known client registered under a new
			// identity: join it to the client found.
			if _, err := s.svc.Merge(ctx, p.Client.ID, a.ClientID); err != nil {
				s.fail(w, r, err)
				return
			}
			a.ClientID = p.Client.ID
		}
		s.audit(r, 0, "регистрация обращения", a.Number, a.ClientID, string(ch))
		flag := "registered"
		if s.cfg.Notifier != nil {
			_ = s.cfg.Notifier.Notify(ctx, a, "Ваше обращение зарегистрировано, номер "+a.Number+". Мы сообщим о результате.")
		}
		s.hub.poke()
		redirect(w, r, "/appeals/"+strconv.FormatInt(a.ID, 10), flag)
	})
}
