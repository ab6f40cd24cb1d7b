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

	"github.com/jackc/pgx/v5/pgxpool"

	"kontakt/escalation"
	"kontakt/operator/console"
)

// openConsoleDB connects to PostgreSQL for the console's account commands.
func openConsoleDB(ctx context.Context, getenv func(string) string) (Config, *pgxpool.Pool, error) {
	cfg, err := loadConfig(getenv, "DATABASE_URL")
	if err != nil {
		return cfg, nil, err
	}
	pool, err := openPool(ctx, cfg.DatabaseURL)
	return cfg, pool, err
}

// firstLogin gives a person just added by `kontakt staff add` a console
// login (their e-mail, or staff<ID>) and prints a one-time link to set the
// first password.
func firstLogin(ctx context.Context, getenv func(string) string, p *escalation.Staff, stdout io.Writer) error {
	cfg, pool, err := openConsoleDB(ctx, getenv)
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
	_, pool, err := openConsoleDB(ctx, getenv)
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
	fs := flag.NewFlagSet("staff reset-link", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.Int64("id", 0, "staff id (required)")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the link works")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *id <= 0 || *ttl <= 0 {
		return errors.New("usage: kontakt staff reset-link --id N [--ttl 24h]")
	}
	cfg, pool, err := openConsoleDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer pool.Close()
	link, err := console.ResetLink(ctx, pool, consoleURL(cfg), *id, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, link)
	return nil
}
