// Command kontakt runs the contact centre of the institute: the bot, the
// operators' tools and the administration commands.
//
//	kontakt serve               start the bot and workers (default)
//	kontakt migrate             apply database migrations and exit
//	kontakt chat                talk to the bot in the terminal
//	kontakt faq import FILE     load a knowledge base file (all or nothing)
//	kontakt faq export [FILE]   write the knowledge base as YAML
//	kontakt faq ask TEXT        show what the bot would do with a question
//	kontakt faq eval ...        measure answer quality on a query set
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "kontakt:", err)
		os.Exit(1)
	}
}

// usage is printed for an unknown command or for `kontakt help`.
const usage = `usage: kontakt <command> [arguments]

commands:
  serve                      start Kontakt (default)
  migrate                    apply database migrations and exit
  faq import FILE            load a knowledge base YAML file (all or nothing)
  faq export [FILE]          write the knowledge base as YAML (stdout by default)
  faq ask [--audience A] TEXT
                             show the decision, entry, confidence and top candidates
  faq eval --kb FILE --queries FILE.jsonl [--json]
                             measure answer quality without any server
  chat [--kb FILE] [--as ID]  talk to the bot in the terminal (needs REDIS_URL)
  appeals list [--status S,..] [--queue Q] [--assignee ID] [--overdue] [--limit N]
                             list appeals, newest first (contacts masked)
  appeals show NUMBER        everything about one appeal (2026-000123 or id)
  staff add --name NAME --roles R,.. [--department D] [--hours 09:00-18:00]
            [--max-open N] [--telegram ID] [--email E] [--inactive]
                             register a person who answers appeals
  staff list [--queue Q]     list staff
  staff passwd --id N [--login L] [--generate]
                             set a console password (one line on stdin)
  staff reset-link --id N [--ttl 24h]
                             print a one-time link to set a console password
  help                       this text

Configuration comes from the environment; see README.md.
`

// run is the whole program; main only supplies the process's environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "faq":
		return runFAQ(ctx, args, getenv, stdout, stderr)
	case "chat":
		return runChat(ctx, args, getenv, stdin, stdout, stderr)
	case "appeals":
		return runAppeals(ctx, args, getenv, stdout, stderr)
	case "staff":
		if len(args) > 0 && args[0] == "passwd" {
			return runStaffPasswd(ctx, args[1:], getenv, stdin, stdout, stderr)
		}
		if len(args) > 0 && args[0] == "reset-link" {
			return runStaffResetLink(ctx, args[1:], getenv, stdout, stderr)
		}
		return runStaff(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, getenv, stdout)
	case "serve":
		return runServe(ctx, getenv, stdout, stderr)
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}
