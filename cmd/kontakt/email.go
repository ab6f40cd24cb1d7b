package main

import (
	"fmt"

	"kontakt/bot"
	"kontakt/bot/email"
)

// newEmail registers the e-mail sender for clients reached by e-mail when
// SMTP_URL is set: the console notifies walk-in and phone clients through
// it, and the relay answers appeals that came by e-mail.
func (a *app) newEmail() error {
	if a.cfg.SMTPURL == "" {
		a.log.Info("email: SMTP_URL not set, e-mail notifications off")
		return nil
	}
	s, err := email.New(email.Config{URL: a.cfg.SMTPURL, From: a.cfg.SMTPFrom, ReplyTo: a.cfg.SMTPReplyTo})
	if err != nil {
		return fmt.Errorf("configuration: SMTP_URL: %w", err)
	}
	a.senders[bot.Email] = s
	a.log.Info("email: notifications on", "server", s.String())
	return nil
}
