package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"kontakt/escalation"
)

// openEscalation connects to PostgreSQL and returns the appeals service with
// the working calendar loaded; close releases the connection.
func openEscalation(ctx context.Context, getenv func(string) string) (svc *escalation.Service, close func(), err error) {
	_, pool, err := connect(ctx, getenv)
	if err != nil {
		return nil, nil, err
	}
	svc = escalation.New(pool, escalation.Config{})
	if err := svc.LoadCalendar(ctx); err != nil {
		pool.Close()
		return nil, nil, err
	}
	return svc, pool.Close, nil
}

// runAppeals is `kontakt appeals list|show`.
func runAppeals(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: kontakt appeals list [flags] | kontakt appeals show NUMBER")
	}
	switch args[0] {
	case "list":
		fs := flag.NewFlagSet("appeals list", flag.ContinueOnError)
		fs.SetOutput(stderr)
		status := fs.String("status", "", "only these statuses, comma-separated (new,assigned,forwarded,answered,resolved,closed)")
		queue := fs.String("queue", "", "only this queue (contact, admission, study, dept:NAME)")
		assignee := fs.Int64("assignee", 0, "only appeals of this staff id")
		overdue := fs.Bool("overdue", false, "only open appeals past a deadline")
		limit := fs.Int("limit", 50, "at most this many, newest first")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		f := escalation.Filter{Queue: escalation.Queue(*queue), AssigneeID: *assignee, Overdue: *overdue, Limit: *limit}
		for st := range strings.SplitSeq(*status, ",") {
			if st = strings.TrimSpace(st); st != "" {
				f.Status = append(f.Status, escalation.Status(st))
			}
		}
		svc, done, err := openEscalation(ctx, getenv)
		if err != nil {
			return err
		}
		defer done()
		return listAppeals(ctx, svc, f, stdout)
	case "show":
		if len(args) != 2 {
			return errors.New("usage: kontakt appeals show NUMBER (2026-000123 or id)")
		}
		svc, done, err := openEscalation(ctx, getenv)
		if err != nil {
			return err
		}
		defer done()
		return showAppeal(ctx, svc, args[1], stdout)
	default:
		return fmt.Errorf("appeals: unknown command %q (list, show)", args[0])
	}
}

func listAppeals(ctx context.Context, svc *escalation.Service, f escalation.Filter, out io.Writer) error {
	list, err := svc.List(ctx, f)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(out, "Обращений не найдено.")
		return nil
	}
	now := time.Now()
	clients := map[int64]*escalation.Client{}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "НОМЕР\tСТАТУС\tОЧЕРЕДЬ\tИСПОЛНИТЕЛЬ\tСОЗДАНО\tСРОК\tКЛИЕНТ\tТЕМА\tТЕКСТ")
	for _, a := range list {
		c, ok := clients[a.ClientID]
		if !ok {
			if c, err = svc.Client(ctx, a.ClientID); err != nil {
				return err
			}
			clients[a.ClientID] = c
		}
		assignee := "—"
		if a.AssigneeID != 0 {
			assignee = "#" + strconv.FormatInt(a.AssigneeID, 10)
		}
		due := a.ResolveDue.In(escalation.Moscow).Format("02.01 15:04")
		if a.Overdue(now) {
			due += " ПРОСРОЧЕНО"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Number, a.Status, a.Queue, assignee,
			a.CreatedAt.In(escalation.Moscow).Format("02.01.2006 15:04"), due,
			clientLabel(c, a.Channel), a.Topic, shorten(a.Text, 40))
	}
	return tw.Flush()
}

// clientLabel names a client in lists without their personal data: the id,
// the channel and a masked contact.
func clientLabel(c *escalation.Client, ch escalation.Channel) string {
	s := fmt.Sprintf("#%d %s", c.ID, ch)
	switch {
	case c.Phone != "":
		s += " " + maskPhone(c.Phone)
	case c.Email != "":
		s += " " + maskEmail(c.Email)
	}
	return s
}

// maskPhone keeps the last two digits: 79123456789 → +7 *** ***-**-89.
func maskPhone(p string) string {
	if len(p) < 4 {
		return "***"
	}
	return "+" + p[:1] + " *** ***-**-" + p[len(p)-2:]
}

// maskEmail keeps the first letter and the domain: p***@example.ru.
func maskEmail(e string) string {
	user, domain, ok := strings.Cut(e, "@")
	if !ok || user == "" {
		return "***"
	}
	r := []rune(user)
	return string(r[0]) + "***@" + domain
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// showAppeal prints everything about one appeal, personal data included:
// an administrator's command.
func showAppeal(ctx context.Context, svc *escalation.Service, key string, out io.Writer) error {
	var (
		a   *escalation.Appeal
		err error
	)
	if id, perr := strconv.ParseInt(key, 10, 64); perr == nil {
		a, err = svc.Get(ctx, id)
	} else {
		a, err = svc.GetByNumber(ctx, key)
	}
	if errors.Is(err, escalation.ErrNotFound) {
		return fmt.Errorf("обращение %s не найдено", key)
	}
	if err != nil {
		return err
	}
	c, err := svc.Client(ctx, a.ClientID)
	if err != nil {
		return err
	}
	hist, err := svc.History(ctx, a.ID)
	if err != nil {
		return err
	}
	msgs, err := svc.Messages(ctx, a.ID)
	if err != nil {
		return err
	}
	t := func(t time.Time) string { return t.In(escalation.Moscow).Format("02.01.2006 15:04") }
	fmt.Fprintf(out, "Обращение %s (id %d)\n", a.Number, a.ID)
	fmt.Fprintf(out, "Статус:       %s\n", a.Status)
	fmt.Fprintf(out, "Вид, тема:    %s, %s\n", a.Kind, a.Topic)
	fmt.Fprintf(out, "Очередь:      %s (маршрут: %s)\n", a.Queue, a.Route)
	if a.AssigneeID != 0 {
		name := "#" + strconv.FormatInt(a.AssigneeID, 10)
		if p, err := svc.StaffMember(ctx, a.AssigneeID); err == nil {
			name += " " + p.Name
		}
		fmt.Fprintf(out, "Исполнитель:  %s\n", name)
	}
	fmt.Fprintf(out, "Канал:        %s %s\n", a.Channel, a.ExternalID)
	fmt.Fprintf(out, "Создано:      %s\n", t(a.CreatedAt))
	fmt.Fprintf(out, "Срок ответа:  %s", t(a.FirstResponseDue))
	if a.FirstResponseAt != nil {
		fmt.Fprintf(out, " (ответ %s)", t(*a.FirstResponseAt))
	}
	fmt.Fprintf(out, "\nСрок решения: %s\n", t(a.ResolveDue))
	if a.Overdue(time.Now()) {
		fmt.Fprintln(out, "ПРОСРОЧЕНО")
	}
	fmt.Fprintf(out, "\nКлиент #%d: %s, %s\n", c.ID, orDash(c.Name), c.Group)
	if c.Phone != "" {
		fmt.Fprintf(out, "  телефон %s%s\n", c.Phone, verified(c.PhoneVerified))
	}
	if c.Email != "" {
		fmt.Fprintf(out, "  e-mail %s%s\n", c.Email, verified(c.EmailVerified))
	}
	if c.Consent != nil {
		fmt.Fprintf(out, "  согласие на обработку ПД: %s, %s, редакция %s\n", t(c.Consent.At), c.Consent.Channel, c.Consent.Version)
	} else {
		fmt.Fprintln(out, "  согласия на обработку ПД нет")
	}
	for _, id := range c.Identities {
		fmt.Fprintf(out, "  %s %s\n", id.Channel, id.ExternalID)
	}
	fmt.Fprintf(out, "\nТекст:\n%s\n", a.Text)
	for _, at := range a.Attachments {
		fmt.Fprintf(out, "  вложение: %s %s %s\n", at.Kind, at.Name, at.FileID)
	}
	if len(a.Transcript) > 0 {
		fmt.Fprintln(out, "\nДиалог с ботом:")
		for _, l := range a.Transcript {
			fmt.Fprintf(out, "  %s %s: %s\n", t(l.At), l.From, l.Text)
		}
	}
	if a.ForwardNote != "" {
		fmt.Fprintf(out, "\nПометка при передаче: %s\n", a.ForwardNote)
	}
	if a.Result != "" {
		fmt.Fprintf(out, "\nРезультат: %s\n", a.Result)
	}
	if len(msgs) > 0 {
		fmt.Fprintln(out, "\nПереписка:")
		for _, m := range msgs {
			who := string(m.Author)
			if m.StaffID != 0 {
				who += " #" + strconv.FormatInt(m.StaffID, 10)
			}
			fmt.Fprintf(out, "  %s %s: %s\n", t(m.At), who, m.Text)
		}
	}
	fmt.Fprintln(out, "\nИстория:")
	for _, h := range hist {
		from := string(h.From)
		if from == "" {
			from = "—"
		}
		who := h.Actor
		if h.StaffID != 0 {
			who += " #" + strconv.FormatInt(h.StaffID, 10)
		}
		line := fmt.Sprintf("  %s %s → %s (%s)", t(h.At), from, h.To, who)
		if h.Comment != "" {
			line += ": " + h.Comment
		}
		fmt.Fprintln(out, line)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func verified(v bool) string {
	if v {
		return " (подтверждён)"
	}
	return ""
}
