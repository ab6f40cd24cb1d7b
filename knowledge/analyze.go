package knowledge

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/russian"
)

// maxQueryRunes bounds the work done on one message; the rest of a longer
// message is not read (a person will see all of it if it is escalated).
const maxQueryRunes = 1500

// analyzer turns text as people write it into the terms the index holds:
// lower case with ё as е, Latin-letter text converted, typos corrected
// against the base's own vocabulary, slang replaced by the base's words,
// stop words dropped, and the rest stemmed.
type analyzer struct {
	lx     *lexicon
	known  map[string]bool // surface words the analyzer accepts as written
	stems  map[string]bool // stems that occur in the base
	spell  *speller
	stemCh map[string]string
}

// word is one word of a message after conversion and correction.
type word struct {
	orig    string // as written (folded, converted from Latin letters)
	surface string // as corrected, folded
	stem    string
	stop    bool
	number  bool
}

// analysis is what the analyzer makes of one text.
type analysis struct {
	words []word
	// terms are the stems of content words, in order, slang replaced.
	terms []string
	// latin says how Latin letters were read: "", "layout" or "translit".
	latin string
	// corrected counts words changed by the speller.
	corrected int
}

// newAnalyzer makes an analyzer that knows only the lexicon; learn adds
// the vocabulary of the base.
func newAnalyzer(lx *lexicon) *analyzer {
	a := &analyzer{lx: lx, known: map[string]bool{}, stems: map[string]bool{}, stemCh: map[string]string{}}
	for _, repl := range lx.slang {
		for _, st := range repl {
			a.stems[st] = true
		}
	}
	return a
}

// learn takes the words of the base with their counts and prepares the
// spelling corrector. The analyzer must not be in use meanwhile; it is
// read-only afterwards.
func (a *analyzer) learn(baseWords map[string]int) {
	freq := map[string]int{}
	for w, n := range baseWords {
		st := snowStem(w)
		a.stemCh[w] = st
		a.known[w] = true
		a.stems[st] = true
		freq[w] += n
	}
	lexWords := func(s string) {
		for _, w := range strings.FieldsFunc(s, notWordRune) {
			a.known[w] = true
			if _, ok := freq[w]; !ok {
				freq[w] = 1
			}
		}
	}
	for w := range a.lx.stop {
		lexWords(w)
	}
	for p := range a.lx.smalltalk {
		lexWords(p)
	}
	a.spell = newSpeller(freq, 2)
}

// stem is the Snowball Russian stem of a folded word.
func (a *analyzer) stem(w string) string {
	if s, ok := a.stemCh[w]; ok {
		return s
	}
	return snowStem(w)
}

func snowStem(w string) string {
	env := snowballstem.NewEnv(w)
	russian.Stem(env)
	return env.Current()
}

func notWordRune(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

// analyze reads a message.
func (a *analyzer) analyze(text string) analysis { return a.run(text, true, nil) }

// analyzeEntry reads the text of an entry: its words are the vocabulary,
// so nothing is converted or corrected. memo keeps the stems of words seen
// before; it belongs to one goroutine.
func (a *analyzer) analyzeEntry(text string, memo map[string]string) analysis {
	return a.run(text, false, memo)
}

func (a *analyzer) run(text string, message bool, memo map[string]string) analysis {
	var res analysis
	if message && len(text) > maxQueryRunes && utf8.RuneCountInString(text) > maxQueryRunes {
		text = string([]rune(text)[:maxQueryRunes])
	}
	text = fold(text)
	if message && hasLatin(text) {
		text, res.latin = a.convertLatin(text)
	}
	raw := strings.FieldsFunc(text, notWordRune)
	words := make([]word, 0, len(raw))
	for _, w := range raw {
		if isNumber(w) {
			words = append(words, word{orig: w, surface: w, stem: w, number: true})
			continue
		}
		orig := w
		if message && !a.known[w] && !a.stems[a.stem(w)] && !a.lx.slangForm(a.stem(w)) && !a.lx.cueWord(w) {
			if c, ok := a.spell.correct(w); ok {
				w = c
				res.corrected++
			}
		}
		st, ok := memo[w]
		if !ok {
			st = a.stem(w)
			if memo != nil {
				memo[w] = st
			}
		}
		words = append(words, word{orig: orig, surface: w, stem: st, stop: a.lx.stop[w]})
	}
	res.words = words
	res.terms = a.terms(words)
	return res
}

// terms replaces slang (longest phrase first) and keeps the content stems.
func (a *analyzer) terms(words []word) []string {
	var out []string
	for i := 0; i < len(words); {
		// Extend the phrase while some form begins with it; the longest
		// form found wins.
		key := words[i].stem
		repl, n := a.lx.slang[key], 0
		if repl != nil {
			n = 1
		}
		for k := i + 1; k < len(words) && a.lx.slangPrefix[key]; k++ {
			key += " " + words[k].stem
			if r, ok := a.lx.slang[key]; ok {
				repl, n = r, k-i+1
			}
		}
		if n > 0 {
			out = append(out, repl...)
			i += n
			continue
		}
		w := words[i]
		i++
		if w.stop || (!w.number && len([]rune(w.surface)) < 2) {
			continue
		}
		out = append(out, w.stem)
	}
	return out
}

// slangForm reports whether a stem is a word of a slang form.
func (lx *lexicon) slangForm(stem string) bool { return lx.slangWords[stem] }

// convertLatin rewrites Latin-letter words as Cyrillic, deciding for the
// whole message whether they were typed on the English layout or spelled in
// translit: the reading that yields more known words wins.
func (a *analyzer) convertLatin(text string) (string, string) {
	chunks := strings.Fields(text)
	var lay, tr []string
	layKnown, trKnown, latin := 0, 0, 0
	for _, c := range chunks {
		bare := strings.Trim(c, "!?.,)(")
		if !hasLatin(c) || a.lx.smalltalk[bare] != "" || a.known[bare] {
			lay, tr = append(lay, c), append(tr, c)
			continue
		}
		latin++
		l := fromLayout(c)
		letters := strings.Map(func(r rune) rune {
			if r < 128 && (unicode.IsLetter(r) || r == '\'') {
				return r
			}
			return ' '
		}, c)
		// Translit is ambiguous in places; keep the reading the base knows.
		t := fromTranslit(letters)
		if alt := translit(letters, false); alt != t && a.knownCount(alt) > a.knownCount(t) {
			t = alt
		}
		lay, tr = append(lay, l), append(tr, t)
		layKnown += a.knownCount(l)
		trKnown += a.knownCount(t)
	}
	if latin == 0 {
		return text, ""
	}
	if layKnown > trKnown {
		return strings.Join(lay, " "), "layout"
	}
	return strings.Join(tr, " "), "translit"
}

// knownCount counts the words of s that the base or the lexicon knows,
// directly or after a typo correction.
func (a *analyzer) knownCount(s string) int {
	n := 0
	for _, w := range strings.FieldsFunc(s, notWordRune) {
		if isNumber(w) {
			continue
		}
		switch {
		case a.known[w], a.stems[a.stem(w)], a.lx.slangForm(a.stem(w)), a.lx.cueWord(w):
			n += 2
		default:
			if _, ok := a.spell.correct(w); ok {
				n++
			}
		}
	}
	return n
}

func isNumber(w string) bool {
	for _, r := range w {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return w != ""
}
