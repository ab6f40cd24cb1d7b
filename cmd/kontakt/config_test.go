package main

import (
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := loadConfig(envOf(map[string]string{"DATABASE_URL": "postgres://u@localhost/k"}), "DATABASE_URL")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LogLevel != "info" || cfg.HTTPAddr != "127.0.0.1:8080" || cfg.IndexReloadDelay != 100*time.Millisecond {
		t.Errorf("defaults: %+v", cfg)
	}
}

// Every problem with the configuration stops the start with a message
// that names the variable.
func TestLoadConfigErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		need []string
		want string
	}{
		{"missing required", map[string]string{}, []string{"DATABASE_URL"}, "DATABASE_URL is not set"},
		{"not a postgres url", map[string]string{"DATABASE_URL": "mysql://x"}, nil, "DATABASE_URL"},
		{"not a redis url", map[string]string{"REDIS_URL": "localhost:6379"}, nil, "REDIS_URL"},
		{"bad duration", map[string]string{"KONTAKT_INDEX_RELOAD_DELAY": "soon"}, nil, "KONTAKT_INDEX_RELOAD_DELAY"},
		{"duration out of range", map[string]string{"KONTAKT_INDEX_RELOAD_DELAY": "1h"}, nil, "KONTAKT_INDEX_RELOAD_DELAY"},
		{"bad log level", map[string]string{"KONTAKT_LOG_LEVEL": "loud"}, nil, "KONTAKT_LOG_LEVEL"},
		{"bad boolean", map[string]string{"KONTAKT_COOKIE_SECURE": "perhaps"}, nil, "KONTAKT_COOKIE_SECURE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(envOf(tt.env), tt.need...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("loadConfig: %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

func TestSecretsAreNotInErrors(t *testing.T) {
	const secret = "postgres://user:s3cr3t-password@db/kontakt?sslmode=bogus&pool_max_conns=x"
	_, err := loadConfig(envOf(map[string]string{"DATABASE_URL": secret, "KONTAKT_LOG_LEVEL": "loud"}))
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestFlagsFirst(t *testing.T) {
	got := flagsFirst([]string{"где", "общага", "--audience", "student", "--json"}, "json")
	want := "--audience student --json где общага"
	if strings.Join(got, " ") != want {
		t.Errorf("flagsFirst = %q, want %q", strings.Join(got, " "), want)
	}
}
