package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Config is everything Kontakt reads from the environment. Packages never
// read the environment themselves: cmd hands them what they need.
type Config struct {
	// DatabaseURL is the PostgreSQL connection string (pgx format).
	DatabaseURL string `env:"DATABASE_URL"`
	// RedisURL is the Redis connection string (redis://host:port/db).
	RedisURL string `env:"REDIS_URL"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `env:"KONTAKT_LOG_LEVEL" envDefault:"info"`
	// HTTPAddr is where the HTTP server (health, webhooks, console) listens.
	HTTPAddr string `env:"KONTAKT_HTTP_ADDR" envDefault:"127.0.0.1:8080"`
	// ConsoleAddr is where the staff web console listens; HTTPAddr if empty.
	ConsoleAddr string `env:"KONTAKT_CONSOLE_ADDR"`
	// ConsoleURL is the console's public address, used in password links;
	// http://<ConsoleAddr> if empty.
	ConsoleURL string `env:"KONTAKT_CONSOLE_URL"`
	// CookieSecure marks the console's cookies Secure (HTTPS only); turn it
	// off only for http://localhost.
	CookieSecure bool `env:"KONTAKT_COOKIE_SECURE" envDefault:"true"`
	// IndexReloadDelay debounces knowledge index rebuilds after FAQ changes.
	IndexReloadDelay time.Duration `env:"KONTAKT_INDEX_RELOAD_DELAY" envDefault:"100ms"`

	// InstituteName is named in the bot's greeting, in the genitive
	// ("Приволжского института технологий и управления").
	InstituteName string `env:"KONTAKT_INSTITUTE_NAME" envDefault:"института"`
	// KBFile is the knowledge base YAML the bot answers from.
	KBFile string `env:"KONTAKT_KB_FILE"`
	// DialogTTL is how long a silent chat's dialog state is kept in Redis.
	DialogTTL time.Duration `env:"KONTAKT_DIALOG_TTL" envDefault:"720h"`
	// TelegramToken turns the Telegram channel on.
	TelegramToken string `env:"TELEGRAM_TOKEN"`
	// TelegramAPIURL is the Bot API server (a self-hosted one, or a fake).
	TelegramAPIURL string `env:"TELEGRAM_API_URL" envDefault:"https://api.telegram.org"`
	// TelegramMode is polling or webhook.
	TelegramMode string `env:"TELEGRAM_MODE" envDefault:"polling"`
	// TelegramWebhookURL is the public URL Telegram posts updates to, and
	// TelegramWebhookSecret the secret it sends with them.
	TelegramWebhookURL    string `env:"TELEGRAM_WEBHOOK_URL"`
	TelegramWebhookSecret string `env:"TELEGRAM_WEBHOOK_SECRET"`
	// TelegramListenAddr is where the webhook listener listens.
	TelegramListenAddr string `env:"TELEGRAM_LISTEN_ADDR" envDefault:"127.0.0.1:8081"`
	// TelegramBotUsername is the bot's @username, for invite links.
	TelegramBotUsername string `env:"TELEGRAM_BOT_USERNAME"`
	// OperatorsChatIDs are the operators' forum supergroups (comma-separated
	// ids such as -1001234567890); setting them turns the relay on.
	OperatorsChatIDs []int64 `env:"OPERATORS_CHAT_IDS"`
	// OperatorSignNames signs operators' answers with their first name.
	OperatorSignNames bool `env:"OPERATOR_SIGN_NAMES" envDefault:"true"`
	// ManagerAnswerMode is direct (personal managers' answers go straight to
	// the client) or approve (after a contact manager approves them).
	ManagerAnswerMode string `env:"MANAGER_ANSWER_MODE" envDefault:"direct"`
	// VKToken (a community access token) turns the VK channel on; VKGroupID
	// is the community's id.
	VKToken   string `env:"VK_TOKEN"`
	VKGroupID int    `env:"VK_GROUP_ID"`
	// VKAPIURL is the method endpoint (a fake in tests) and VKAPIVersion the
	// API version sent with every call.
	VKAPIURL     string `env:"VK_API_URL" envDefault:"https://api.vk.com/method/"`
	VKAPIVersion string `env:"VK_API_VERSION" envDefault:"5.131"`
	// VKMode is longpoll (Bots Long Poll) or callback (Callback API).
	VKMode string `env:"VK_MODE" envDefault:"longpoll"`
	// VKCallbackSecret is the secret VK sends with Callback API events and
	// VKConfirmation the string it expects back when the server is added.
	VKCallbackSecret string `env:"VK_CALLBACK_SECRET"`
	VKConfirmation   string `env:"VK_CONFIRMATION"`
	// VKListenAddr is where the Callback API listener listens.
	VKListenAddr string `env:"VK_LISTEN_ADDR" envDefault:"127.0.0.1:8082"`
	// SMTPURL (smtp://user:password@host:587, STARTTLS when offered, or
	// smtps://… with implicit TLS) turns e-mail notifications on; SMTPFrom
	// is the sender's address and SMTPReplyTo where answers go.
	SMTPURL     string `env:"SMTP_URL"`
	SMTPFrom    string `env:"SMTP_FROM"`
	SMTPReplyTo string `env:"SMTP_REPLY_TO"`
}

// loadConfig reads and validates the configuration. need lists variables that
// the command at hand cannot work without. Every error names the variable.
func loadConfig(getenv func(string) string, need ...string) (Config, error) {
	var cfg Config
	params, err := env.GetFieldParams(&cfg)
	if err != nil {
		return cfg, err
	}
	vars := make(map[string]string, len(params))
	for _, p := range params {
		if v := getenv(p.Key); v != "" {
			vars[p.Key] = v
		}
	}
	if err := env.ParseWithOptions(&cfg, env.Options{Environment: vars}); err != nil {
		return cfg, configError(err)
	}
	var problems []string
	for _, name := range need {
		if vars[name] == "" {
			problems = append(problems, fmt.Sprintf("%s is not set", name))
		}
	}
	if cfg.DatabaseURL != "" {
		if _, err := url.Parse(cfg.DatabaseURL); err != nil || !strings.HasPrefix(cfg.DatabaseURL, "postgres") {
			problems = append(problems, "DATABASE_URL must be a postgres:// URL")
		}
	}
	if cfg.RedisURL != "" && !strings.HasPrefix(cfg.RedisURL, "redis://") && !strings.HasPrefix(cfg.RedisURL, "rediss://") {
		problems = append(problems, "REDIS_URL must be a redis:// or rediss:// URL")
	}
	if _, ok := logLevels[cfg.LogLevel]; !ok {
		problems = append(problems, fmt.Sprintf("KONTAKT_LOG_LEVEL must be debug, info, warn or error, not %q", cfg.LogLevel))
	}
	if cfg.IndexReloadDelay < 0 || cfg.IndexReloadDelay > time.Minute {
		problems = append(problems, "KONTAKT_INDEX_RELOAD_DELAY must be between 0 and 1m")
	}
	if cfg.TelegramMode != "polling" && cfg.TelegramMode != "webhook" {
		problems = append(problems, fmt.Sprintf("TELEGRAM_MODE must be polling or webhook, not %q", cfg.TelegramMode))
	}
	if cfg.TelegramToken != "" && cfg.TelegramMode == "webhook" && (cfg.TelegramWebhookURL == "" || !validSecret(cfg.TelegramWebhookSecret)) {
		problems = append(problems, "TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET (1-256 characters A-Z a-z 0-9 _ -)")
	}
	if cfg.TelegramToken != "" && cfg.RedisURL == "" {
		problems = append(problems, "TELEGRAM_TOKEN needs REDIS_URL")
	}
	if cfg.VKMode != "longpoll" && cfg.VKMode != "callback" {
		problems = append(problems, fmt.Sprintf("VK_MODE must be longpoll or callback, not %q", cfg.VKMode))
	}
	if cfg.VKToken != "" && (cfg.VKGroupID <= 0 || cfg.RedisURL == "") {
		problems = append(problems, "VK_TOKEN needs VK_GROUP_ID (the community's id, a positive number) and REDIS_URL")
	}
	if cfg.VKToken != "" && cfg.VKMode == "callback" && (cfg.VKConfirmation == "" || len(cfg.VKCallbackSecret) < 8 || len(cfg.VKCallbackSecret) > 50) {
		problems = append(problems, "VK_MODE=callback needs VK_CONFIRMATION and VK_CALLBACK_SECRET (8-50 characters, as set in the community's Callback API settings)")
	}
	if u, err := url.Parse(cfg.VKAPIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		problems = append(problems, "VK_API_URL must be an http(s) URL such as https://api.vk.com/method/")
	}
	if v, ok := strings.CutPrefix(cfg.VKAPIVersion, "5."); !ok || v == "" || strings.Trim(v, "0123456789") != "" {
		problems = append(problems, fmt.Sprintf("VK_API_VERSION must look like 5.131, not %q", cfg.VKAPIVersion))
	}
	if cfg.ConsoleURL != "" && !strings.HasPrefix(cfg.ConsoleURL, "https://") && !strings.HasPrefix(cfg.ConsoleURL, "http://") {
		problems = append(problems, "KONTAKT_CONSOLE_URL must be an http:// or https:// URL")
	}
	if cfg.CookieSecure && strings.HasPrefix(cfg.ConsoleURL, "http://") {
		problems = append(problems, "KONTAKT_COOKIE_SECURE=true needs an https:// KONTAKT_CONSOLE_URL (or set KONTAKT_COOKIE_SECURE=false for http://localhost)")
	}
	if cfg.ManagerAnswerMode != "direct" && cfg.ManagerAnswerMode != "approve" {
		problems = append(problems, fmt.Sprintf("MANAGER_ANSWER_MODE must be direct or approve, not %q", cfg.ManagerAnswerMode))
	}
	if len(cfg.OperatorsChatIDs) > 0 && (cfg.TelegramToken == "" || cfg.DatabaseURL == "") {
		problems = append(problems, "OPERATORS_CHAT_IDS needs TELEGRAM_TOKEN and DATABASE_URL")
	}
	for _, id := range cfg.OperatorsChatIDs {
		if id >= 0 {
			problems = append(problems, fmt.Sprintf("OPERATORS_CHAT_IDS: %d is not a supergroup id (they are negative, like -1001234567890)", id))
		}
	}
	if u, err := url.Parse(cfg.SMTPURL); cfg.SMTPURL != "" && (err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "") {
		problems = append(problems, "SMTP_URL must look like smtp://user:password@host:587 or smtps://user:password@host:465") // never echo the value: it has the password
	}
	if cfg.SMTPURL != "" && cfg.SMTPFrom == "" {
		problems = append(problems, "SMTP_URL needs SMTP_FROM (the sender's address, such as kc@example.edu)")
	}
	if _, err := mail.ParseAddress(cfg.SMTPFrom); cfg.SMTPFrom != "" && err != nil {
		problems = append(problems, fmt.Sprintf("SMTP_FROM must be an e-mail address such as kc@example.edu or «Контакт-центр <kc@example.edu>», not %q", cfg.SMTPFrom))
	}
	if _, err := mail.ParseAddress(cfg.SMTPReplyTo); cfg.SMTPReplyTo != "" && err != nil {
		problems = append(problems, fmt.Sprintf("SMTP_REPLY_TO must be an e-mail address, not %q", cfg.SMTPReplyTo))
	}
	if cfg.DialogTTL < time.Minute {
		problems = append(problems, "KONTAKT_DIALOG_TTL must be at least 1m")
	}
	if len(problems) > 0 {
		return cfg, fmt.Errorf("configuration: %s", strings.Join(problems, "; "))
	}
	return cfg, nil
}

var logLevels = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}

// configError rewrites the library's errors so that they name the
// environment variable rather than the Go field.
func configError(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return fmt.Errorf("configuration: %w", err)
	}
	msgs := make([]string, 0, len(agg.Errors))
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			f, _ := reflect.TypeOf(Config{}).FieldByName(pe.Name)
			key, _, _ := strings.Cut(f.Tag.Get("env"), ",")
			msgs = append(msgs, fmt.Sprintf("%s: %v", key, pe.Err))
			continue
		}
		msgs = append(msgs, e.Error())
	}
	return fmt.Errorf("configuration: %s", strings.Join(msgs, "; "))
}
