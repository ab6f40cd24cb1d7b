package bot

import (
	"strings"
	"unicode/utf16"
)

// ParseCommand splits "/start@kontakt_bot payload" into "start" and
// "payload" (the command in lower case, without the bot's name). It works
// on runes, so Cyrillic text before or after a command is safe.
func ParseCommand(text string) (cmd, payload string, ok bool) {
	if !strings.HasPrefix(text, "/") {
		return "", "", false
	}
	head, rest, _ := strings.Cut(text[1:], " ")
	head, _, _ = strings.Cut(head, "@")
	if head == "" || strings.ContainsAny(head, "\n\t/") {
		return "", "", false
	}
	return strings.ToLower(head), strings.TrimSpace(rest), true
}

// Split cuts s into parts of at most limit UTF-16 code units (which is
// never more than limit characters), preferring to cut after a line
// break, then after a space. It never splits a surrogate pair. An empty s
// gives one part of a single space, since platforms refuse empty texts.
func Split(s string, limit int) []string {
	if s == "" {
		return []string{" "}
	}
	var parts []string
	for {
		if len(utf16.Encode([]rune(s))) <= limit {
			return append(parts, s)
		}
		cut, units, lastNL, lastSP := 0, 0, -1, -1
		for i, r := range s {
			n := 1
			if r >= 0x10000 {
				n = 2
			}
			if units+n > limit {
				cut = i
				break
			}
			units += n
			switch r {
			case '\n':
				lastNL = i + 1
			case ' ':
				lastSP = i + 1
			}
		}
		switch {
		case lastNL > cut/2:
			cut = lastNL
		case lastSP > cut/2:
			cut = lastSP
		}
		parts = append(parts, strings.TrimRight(s[:cut], " \n"))
		s = s[cut:]
	}
}
