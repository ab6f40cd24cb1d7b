package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"kontakt/escalation"
	"kontakt/operator/console"
)

// firstLogin gives a person just added by `kontakt staff add` a console
// login (their e-mail, or staff<ID>) and prints a one-time link to set the
// first password.
func firstLogin(ctx context.Context, getenv func(string) string, p *escalation.Staff, stdout io.Writer) error {
	cfg, pool, err := connect(ctx, getenv)
	if err != nil {
		return err
	}
	defer pool.Close()
	login := strings.ToLower(p.Reach[escalation.Email])
	if login == "" {
		login = fmt.Sprintf("staff%d", p.ID)
	}
	if err := console.SetLogin(ctx, pool, p.ID, login); err != nil {
		return err
	}
	link, err := console.ResetLink(ctx, pool, consoleURL(cfg), p.ID, 72*time.Hour)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Логин в консоли: %s\nСсылка для установки пароля (действует 72 часа, один раз):\n%s\n", login, link)
	return nil
}

// runStaffPasswd is `kontakt staff passwd --id N [--login L] [--generate]`:
// it sets a password read from stdin (one line), or a generated one that
// it prints.
func runStaffPasswd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("staff passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.Int64("id", 0, "staff id (required)")
	login := fs.String("login", "", "console login (default: the current one, or staff<ID>)")
	generate := fs.Bool("generate", false, "generate a password and print it instead of reading one from stdin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *id <= 0 {
		return errors.New("usage: kontakt staff passwd --id N [--login L] [--generate] < password")
	}
	_, pool, err := connect(ctx, getenv)
	if err != nil {
		return err
	}
	defer pool.Close()
	p, err := escalation.New(pool, escalation.Config{}).StaffMember(ctx, *id)
	if err != nil {
		return err
	}
	if *login == "" {
		if err := pool.QueryRow(ctx, `SELECT login FROM con_accounts WHERE staff_id = $1`, p.ID).Scan(login); err != nil {
			*login = fmt.Sprintf("staff%d", p.ID)
		}
	}
	var password string
	if *generate {
		password = rand.Text()
	} else {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("read the password from stdin: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	if err := console.SetPassword(ctx, pool, p.ID, *login, password); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Пароль сотрудника #%d %s установлен; логин: %s\n", p.ID, p.Name, *login)
	if *generate {
		fmt.Fprintf(stdout, "Пароль: %s\n", password)
	}
	return nil
}

// runStaffResetLink is `kontakt staff reset-link --id N [--ttl 24h]`: it
// prints a one-time link to set a new password.
func runStaffResetLink(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	id, ttl, err := parseStaffLink("reset-link", args, 24*time.Hour, stderr)
	if err != nil {
		return err
	}
	cfg, pool, err := connect(ctx, getenv)
	if err != nil {
		return err
	}
	defer pool.Close()
	link, err := console.ResetLink(ctx, pool, consoleURL(cfg), id, ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, link)
	return nil
}

// parseStaffLink reads the arguments of the commands that print a one-time
// link for a person: --id N [--ttl D].
func parseStaffLink(cmd string, args []string, ttl time.Duration, stderr io.Writer) (int64, time.Duration, error) {
	fs := flag.NewFlagSet("staff "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.Int64("id", 0, "staff id (kontakt staff list)")
	fs.DurationVar(&ttl, "ttl", ttl, "how long the link is valid")
	if err := fs.Parse(args); err != nil {
		return 0, 0, err
	}
	if *id <= 0 || ttl <= 0 {
		return 0, 0, fmt.Errorf("usage: kontakt staff %s --id N [--ttl %v]", cmd, ttl)
	}
	return *id, ttl, nil
}
