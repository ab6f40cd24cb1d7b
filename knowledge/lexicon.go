package knowledge

import (
	"bufio"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The dictionaries of the analysis are data, kept in lexicon/*.txt.
//
//go:embed lexicon/*.txt
var lexiconFS embed.FS

// lexicon is the parsed content of lexicon/*.txt.
type lexicon struct {
	stop  map[string]bool     // surface words (ё→е)
	slang map[string][]string // stem sequence key → replacement words
	// slangPrefix holds the beginnings (whole words) of keys of several
	// words, so that a phrase is extended only while some key starts so.
	slangPrefix map[string]bool
	// slangWords holds every stem of every form, so that a word that only
	// occurs inside a form of several words is not taken for a typo.
	slangWords map[string]bool
	smalltalk  map[string]string // surface phrase → kind
	// smalltalkStems holds the same phrases as stems, so that other forms
	// of their words («хорошего вечера», «хороших выходных») match too.
	smalltalkStems map[string]string
	smallMax       int
	offtopic       map[string]bool // stems
	cues           []cue
}

// cue is one sign of a message that needs a person.
type cue struct {
	weight float64
	kind   string
	words  []string // prefixes; "_" any word, "#" a number
}

func loadLexicon(stem func(string) string) (*lexicon, error) {
	lx := &lexicon{stop: map[string]bool{}, slang: map[string][]string{}, slangPrefix: map[string]bool{}, slangWords: map[string]bool{}, smalltalk: map[string]string{}, smalltalkStems: map[string]string{}, offtopic: map[string]bool{}}
	err := eachLine("stopwords.txt", func(_ int, line string) error {
		for _, w := range strings.Fields(line) {
			lx.stop[fold(w)] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// slang.txt and the thesauri slang-*.txt beside it; a form may be
	// defined once across all of them.
	slangFiles, err := fs.Glob(lexiconFS, "lexicon/slang*.txt")
	if err != nil {
		return nil, err
	}
	where := map[string]string{}
	for _, name := range slangFiles {
		name = path.Base(name)
		err = eachLine(name, func(n int, line string) error {
			left, right, ok := strings.Cut(line, "=")
			if !ok {
				return fmt.Errorf("no '=' in %q", line)
			}
			words := strings.FieldsFunc(fold(right), notWordRune)
			if len(words) == 0 {
				return fmt.Errorf("nothing after '=' in %q", line)
			}
			// The replacement as the analysis uses it: stems of the
			// words that are not stop words.
			repl := []string{}
			for _, w := range words {
				if !lx.stop[w] {
					repl = append(repl, stem(w))
				}
			}
			for _, form := range strings.Split(left, ",") {
				words := strings.FieldsFunc(fold(form), notWordRune)
				if len(words) == 0 {
					return fmt.Errorf("empty form in %q", line)
				}
				key := stemAll(stem, words)
				if at, dup := where[key]; dup && !slices.Equal(lx.slang[key], repl) {
					return fmt.Errorf("form %q is already defined at %s", strings.TrimSpace(form), at)
				}
				where[key] = fmt.Sprintf("lexicon/%s:%d", name, n)
				lx.slang[key] = repl
				for n := 1; n < len(words); n++ {
					lx.slangPrefix[stemAll(stem, words[:n])] = true
				}
				for _, w := range words {
					lx.slangWords[stem(w)] = true
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	err = eachLine("smalltalk.txt", func(n int, line string) error {
		kind, phrase, ok := strings.Cut(line, ":")
		if !ok {
			return fmt.Errorf("no ':' in %q", line)
		}
		words := strings.Fields(fold(phrase))
		lx.smalltalk[strings.Join(words, " ")] = strings.TrimSpace(kind)
		lx.smalltalkStems[stemAll(stem, words)] = strings.TrimSpace(kind)
		if len(words) > lx.smallMax {
			lx.smallMax = len(words)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachLine("offtopic.txt", func(_ int, line string) error {
		for _, w := range strings.Fields(line) {
			lx.offtopic[stem(fold(w))] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachLine("escalate.txt", func(n int, line string) error {
		head, words, ok := strings.Cut(line, ":")
		if !ok {
			return fmt.Errorf("no ':' in %q", line)
		}
		w, kind, ok := strings.Cut(strings.TrimSpace(head), " ")
		if !ok {
			return fmt.Errorf("want 'weight kind: words', got %q", line)
		}
		weight, err := strconv.ParseFloat(w, 64)
		if err != nil {
			return fmt.Errorf("weight %q: %v", w, err)
		}
		lx.cues = append(lx.cues, cue{weight: weight, kind: kind, words: strings.Fields(fold(words))})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return lx, nil
}

func stemAll(stem func(string) string, words []string) string {
	s := make([]string, len(words))
	for i, w := range words {
		s[i] = stem(w)
	}
	return strings.Join(s, " ")
}

// eachLine calls fn for every non-empty, non-comment line of a lexicon file.
func eachLine(name string, fn func(n int, line string) error) error {
	f, err := lexiconFS.Open("lexicon/" + name)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := fn(n, line); err != nil {
			return fmt.Errorf("lexicon/%s:%d: %w", name, n, err)
		}
	}
	return sc.Err()
}

// fold lowercases and writes ё as е.
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == 'ё' || r == 'Ё':
			return 'е'
		case r < utf8.RuneSelf:
			if 'A' <= r && r <= 'Z' {
				return r + 'a' - 'A'
			}
			return r
		default:
			return unicode.ToLower(r)
		}
	}, s)
}
