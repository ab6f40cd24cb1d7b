package main

import (
	"log/slog"
	"strings"
	"testing"

	"kontakt/bot"
)

func TestSMTPConfig(t *testing.T) {
	base := map[string]string{"SMTP_URL": "smtp://kc%40example.edu:s3cr3t@mail.example.edu:587", "SMTP_FROM": "Контакт-центр <kc@example.edu>"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // "" for valid
	}{
		{"valid", base, ""},
		{"smtps with reply-to", with("SMTP_URL", "smtps://mail.example.edu", "SMTP_REPLY_TO", "priem@example.edu"), ""},
		{"off", map[string]string{}, ""},
		{"wrong scheme", with("SMTP_URL", "https://kc:s3cr3t@mail.example.edu"), "SMTP_URL must look like"},
		{"no host", with("SMTP_URL", "smtp://kc:s3cr3t@:587"), "SMTP_URL must look like"},
		{"unparsable", with("SMTP_URL", "smtp://kc:s3cr3t%zz@mail.example.edu"), "SMTP_URL must look like"},
		{"no from", with("SMTP_FROM", ""), "SMTP_URL needs SMTP_FROM"},
		{"bad from", with("SMTP_FROM", "контакт-центр"), "SMTP_FROM must be an e-mail address"},
		{"bad reply-to", with("SMTP_REPLY_TO", "priem@"), "SMTP_REPLY_TO must be an e-mail address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(envOf(tc.env))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("loadConfig: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("loadConfig: %v, want an error with %q", err, tc.want)
			case err != nil && strings.Contains(err.Error(), "s3cr3t"):
				t.Fatalf("error shows the password: %v", err)
			}
			if err != nil {
				return
			}
			var logs strings.Builder
			a := &app{cfg: cfg, log: slog.New(slog.NewTextHandler(&logs, nil)), senders: map[bot.Channel]bot.Sender{}}
			if err := a.newEmail(); err != nil {
				t.Fatal(err)
			}
			if _, on := a.senders[bot.Email]; on != (cfg.SMTPURL != "") {
				t.Errorf("e-mail sender registered: %v, SMTP_URL %q", on, cfg.SMTPURL)
			}
			if strings.Contains(logs.String(), "s3cr3t") {
				t.Errorf("the log shows the password: %s", logs.String())
			}
		})
	}
}
