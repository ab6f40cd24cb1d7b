package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"kontakt/bot"
)

// runChat is a terminal conversation with the bot: the same dialog engine
// as Telegram, on channel "console". Buttons are numbered; type a number
// to press one, a /command, or any text.
func runChat(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kbFile := fs.String("kb", "", "knowledge base YAML (default $KONTAKT_KB_FILE or faq/testdata/kb.yaml)")
	id := fs.String("as", "local", "console chat id: another id is another client")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(getenv, "REDIS_URL")
	if err != nil {
		return err
	}
	if *kbFile != "" {
		cfg.KBFile = *kbFile
	}
	if cfg.KBFile == "" {
		cfg.KBFile = "faq/testdata/kb.yaml"
	}
	log := newLogger(cfg, stderr)
	rdb, err := openRedis(ctx, cfg.RedisURL)
	if err != nil {
		return err
	}
	defer rdb.Close()
	var pool *pgxpool.Pool
	if cfg.DatabaseURL != "" {
		if pool, err = openPool(ctx, cfg.DatabaseURL); err != nil {
			return err
		}
		defer pool.Close()
		if err := migrate(ctx, pool, io.Discard); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(stderr, "(DATABASE_URL is not set: appeals cannot be registered in this session)")
	}
	machine, kb, err := newDialog(ctx, cfg, pool, rdb, log)
	if err != nil {
		return err
	}
	defer kb.Close()

	chat := bot.Chat{Channel: bot.Console, ID: *id}
	var last []bot.Button
	send := func(m bot.Message) {
		m.Chat, m.From, m.Time = chat, bot.User{ID: *id, Name: "Консоль"}, time.Now()
		replies, err := machine.Handle(ctx, m)
		if err != nil {
			log.Error("handle", "err", err)
			replies = []bot.Reply{{Text: bot.SorryText}}
		}
		last = printReplies(stdout, replies, last)
	}
	fmt.Fprintln(stdout, "Kontakt: разговор с ботом. Номер — нажать кнопку, /start — сначала, Ctrl+D — выход.")
	send(bot.Message{Kind: bot.Command, Command: "start"})
	in := bufio.NewScanner(stdin)
	in.Buffer(make([]byte, 64*1024), 1<<20)
	for {
		fmt.Fprint(stdout, "> ")
		if !in.Scan() || ctx.Err() != nil {
			fmt.Fprintln(stdout)
			return in.Err()
		}
		send(consoleMessage(in.Text(), last))
	}
}

// consoleMessage turns a typed line into a message: a number presses the
// button with that number, "/cmd rest" is a command, anything else text.
func consoleMessage(line string, buttons []bot.Button) bot.Message {
	t := strings.TrimSpace(line)
	if n, err := strconv.Atoi(t); err == nil && n >= 1 && n <= len(buttons) {
		return bot.Message{Kind: bot.Callback, Data: buttons[n-1].Data}
	}
	if strings.HasPrefix(t, "/") && len(t) > 1 {
		cmd, payload, _ := strings.Cut(t[1:], " ")
		return bot.Message{Kind: bot.Command, Command: strings.ToLower(cmd), Payload: strings.TrimSpace(payload), Text: t}
	}
	return bot.Message{Kind: bot.Text, Text: line}
}

// printReplies prints replies with numbered buttons and returns the
// buttons of the last reply that had any (or the previous ones).
func printReplies(w io.Writer, replies []bot.Reply, prev []bot.Button) []bot.Button {
	var buttons []bot.Button
	for _, r := range replies {
		fmt.Fprintln(w, r.Text)
		for _, row := range r.Buttons {
			var cells []string
			for _, b := range row {
				buttons = append(buttons, b)
				cells = append(cells, fmt.Sprintf("[%d] %s", len(buttons), b.Text))
			}
			fmt.Fprintln(w, "   "+strings.Join(cells, "   "))
		}
		fmt.Fprintln(w)
	}
	if len(replies) == 0 {
		return prev
	}
	return buttons
}
