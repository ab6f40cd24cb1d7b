package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

func TestChatConsole(t *testing.T) {
	rurl := os.Getenv("KONTAKT_TEST_REDIS_URL")
	if rurl == "" {
		t.Fatal("KONTAKT_TEST_REDIS_URL is not set: run the tests with scripts/test.sh")
	}
	b := make([]byte, 6)
	rand.Read(b)
	id := "test-" + hex.EncodeToString(b)
	t.Cleanup(func() { // the only key the conversation creates
		if rdb, err := openRedis(context.Background(), rurl); err == nil {
			rdb.Del(context.Background(), "dlg:{console:"+id+"}")
			rdb.Close()
		}
	})
	env := map[string]string{"REDIS_URL": rurl, "KONTAKT_KB_FILE": "../../faq/testdata/kb.yaml", "KONTAKT_INSTITUTE_NAME": "ПИТУ"}
	// Студент, a question, «Не помогло», a sticker-like empty line, /menu.
	in := strings.NewReader("2\nсколько стоит общежитие\n2\n\n/menu\n")
	var out, errs bytes.Buffer
	err := run(context.Background(), []string{"chat", "--as", id}, func(k string) string { return env[k] }, in, &out, &errs)
	if err != nil {
		t.Fatalf("chat: %v\n%s", err, errs.String())
	}
	got := out.String()
	for _, want := range []string{
		"бот-помощник ПИТУ", "[2] Студент", // greeting with numbered buttons
		"Чем могу помочь",    // audience chosen by number
		"руб", "[1] Помогло", // the answer from the sample knowledge base
		"пустое",             // an empty line is answered politely
		"[1] Частые вопросы", // /menu
	} {
		if !strings.Contains(got, want) {
			t.Errorf("conversation lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Извините, у нас что-то пошло не так") {
		t.Errorf("an error reached the client:\n%s\n%s", got, errs.String())
	}
}
