package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"kontakt/escalation"
)

// runStaff is `kontakt staff add|list`.
func runStaff(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: kontakt staff add --name NAME --roles ROLES [flags] | kontakt staff list [--queue Q]")
	}
	switch args[0] {
	case "add":
		p, err := parseStaff(args[1:], stderr)
		if err != nil {
			return err
		}
		svc, done, err := openEscalation(ctx, getenv)
		if err != nil {
			return err
		}
		defer done()
		added, err := svc.AddStaff(ctx, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Сотрудник #%d %s добавлен; очереди: %s\n", added.ID, added.Name, queuesText(added.Queues))
		return firstLogin(ctx, getenv, added, stdout)
	case "list":
		fs := flag.NewFlagSet("staff list", flag.ContinueOnError)
		fs.SetOutput(stderr)
		queue := fs.String("queue", "", "only people of this queue (contact, admission, study, dept:NAME)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		svc, done, err := openEscalation(ctx, getenv)
		if err != nil {
			return err
		}
		defer done()
		list, err := svc.ListStaff(ctx, escalation.Queue(*queue))
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintln(stdout, "Сотрудников нет.")
			return nil
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tИМЯ\tРОЛИ\tПОДРАЗДЕЛЕНИЕ\tОЧЕРЕДИ\tЧАСЫ\tЛИМИТ\tАКТИВЕН")
		for _, p := range list {
			roles := make([]string, len(p.Roles))
			for i, r := range p.Roles {
				roles[i] = string(r)
			}
			limit := "по умолчанию"
			if p.MaxOpen > 0 {
				limit = fmt.Sprint(p.MaxOpen)
			}
			active := "да"
			if !p.Active {
				active = "нет"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Name, strings.Join(roles, ","),
				orDash(p.Department), queuesText(p.Queues), hoursText(p.Hours), limit, active)
		}
		return tw.Flush()
	case "invite":
		return runStaffInvite(ctx, args[1:], getenv, stdout, stderr)
	default:
		return fmt.Errorf("staff: unknown command %q (add, list)", args[0])
	}
}

// parseStaff reads the flags of `kontakt staff add`.
func parseStaff(args []string, stderr io.Writer) (escalation.Staff, error) {
	fs := flag.NewFlagSet("staff add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "full name (required)")
	roles := fs.String("roles", "", "comma-separated: contact, admission, study, department, head, editor (required)")
	dept := fs.String("department", "", "department (required for the department role)")
	hours := fs.String("hours", "", "working hours HH:MM-HH:MM (default: the calendar's 09:00-18:00)")
	maxOpen := fs.Int("max-open", 0, "cap of open appeals assigned automatically (default: the service's)")
	telegram := fs.String("telegram", "", "Telegram user id to reach the person")
	email := fs.String("email", "", "e-mail to reach the person")
	inactive := fs.Bool("inactive", false, "add as inactive (takes no appeals)")
	if err := fs.Parse(args); err != nil {
		return escalation.Staff{}, err
	}
	if fs.NArg() > 0 {
		return escalation.Staff{}, fmt.Errorf("staff add: unexpected argument %q", fs.Arg(0))
	}
	p := escalation.Staff{Name: *name, Department: *dept, MaxOpen: *maxOpen, Active: !*inactive,
		Reach: map[escalation.Channel]string{}}
	for r := range strings.SplitSeq(*roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			p.Roles = append(p.Roles, escalation.Role(r))
		}
	}
	if *telegram != "" {
		p.Reach[escalation.Telegram] = *telegram
	}
	if *email != "" {
		p.Reach[escalation.Email] = *email
	}
	if *hours != "" {
		h, err := parseHours(*hours)
		if err != nil {
			return escalation.Staff{}, err
		}
		p.Hours = h
	}
	return p, nil
}

// parseHours reads "09:00-18:00".
func parseHours(s string) (escalation.Hours, error) {
	from, to, ok := strings.Cut(s, "-")
	start, err1 := time.Parse("15:04", strings.TrimSpace(from))
	end, err2 := time.Parse("15:04", strings.TrimSpace(to))
	if !ok || err1 != nil || err2 != nil || !end.After(start) {
		return escalation.Hours{}, fmt.Errorf("--hours %q: want HH:MM-HH:MM, start before end", s)
	}
	return escalation.Hours{
		Start: time.Duration(start.Hour())*time.Hour + time.Duration(start.Minute())*time.Minute,
		End:   time.Duration(end.Hour())*time.Hour + time.Duration(end.Minute())*time.Minute,
	}, nil
}

func hoursText(h escalation.Hours) string {
	if h.End <= h.Start {
		return "по календарю"
	}
	f := func(d time.Duration) string { return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60) }
	return f(h.Start) + "-" + f(h.End)
}

func queuesText(qs []escalation.Queue) string {
	if len(qs) == 0 {
		return "—"
	}
	s := make([]string, len(qs))
	for i, q := range qs {
		s[i] = string(q)
	}
	return strings.Join(s, ",")
}
