package knowledge

import "strings"

// Latin-letter messages are of two kinds: Russian typed with the English
// keyboard layout («j,ofuf» = «общага») and Russian spelled in Latin
// letters («obshchezhitie»). Both conversions are tried for each word and
// the caller keeps the one that yields known words.

// layout maps the keys of the US QWERTY layout to the Russian ЙЦУКЕН keys
// in the same positions.
var layout = func() map[rune]rune {
	const en = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`"
	const ru = "йцукенгшщзхъфывапролджэячсмитьбюё"
	m := make(map[rune]rune, len(en)*2)
	rr := []rune(ru)
	for i, c := range en {
		m[c] = rr[i]
	}
	// Shifted keys that are letters on the Russian layout.
	for c, r := range map[rune]rune{'{': 'х', '}': 'ъ', ':': 'ж', '"': 'э', '<': 'б', '>': 'ю', '~': 'ё'} {
		m[c] = r
	}
	return m
}()

// fromLayout converts a word typed on the wrong keyboard layout.
func fromLayout(w string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(w) {
		if r, ok := layout[c]; ok {
			b.WriteRune(r)
		} else {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// translitPairs are tried longest first.
var translitPairs = []struct{ lat, cyr string }{
	{"shch", "щ"}, {"sch", "щ"}, {"tsh", "ч"},
	{"iya", "ия"}, {"iyu", "ию"}, {"iye", "ие"}, {"iyo", "ие"},
	{"zh", "ж"}, {"kh", "х"}, {"ch", "ч"}, {"sh", "ш"}, {"ts", "ц"}, {"tz", "ц"},
	{"yu", "ю"}, {"ju", "ю"}, {"ya", "я"}, {"ja", "я"}, {"yo", "е"}, {"jo", "е"},
	{"ye", "е"}, {"je", "е"}, {"iy", "ий"}, {"yi", "ый"}, {"yy", "ый"}, {"ij", "ий"},
	{"ck", "к"}, {"ph", "ф"}, {"x", "кс"}, {"w", "в"}, {"q", "к"},
	{"a", "а"}, {"b", "б"}, {"v", "в"}, {"g", "г"}, {"d", "д"}, {"e", "е"}, {"z", "з"},
	{"i", "и"}, {"j", "й"}, {"k", "к"}, {"l", "л"}, {"m", "м"}, {"n", "н"}, {"o", "о"},
	{"p", "п"}, {"r", "р"}, {"s", "с"}, {"t", "т"}, {"u", "у"}, {"f", "ф"}, {"h", "х"},
	{"c", "ц"}, {"y", "ы"}, {"'", "ь"},
}

func isVowelRune(r rune) bool { return strings.ContainsRune("аеёиоуыэюя", r) }

// fromTranslit converts a Latin-spelled Russian word to Cyrillic.
func fromTranslit(w string) string { return translit(w, true) }

// translit converts w; with iAfterVowel, "i" after a vowel is read as «й»
// ("dverei" → «дверей»), otherwise as «и» ("stoimost" → «стоимост»).
func translit(w string, iAfterVowel bool) string {
	w = strings.ToLower(w)
	var out []rune
	for i := 0; i < len(w); {
		matched := false
		for _, p := range translitPairs {
			if strings.HasPrefix(w[i:], p.lat) {
				cyr := []rune(p.cyr)
				// "i" or "y" after a vowel is й: "dverei" → «дверей», "moy" → «мой».
				if iAfterVowel && (p.lat == "i" || p.lat == "y") && len(out) > 0 && isVowelRune(out[len(out)-1]) {
					cyr = []rune{'й'}
				}
				out = append(out, cyr...)
				i += len(p.lat)
				matched = true
				break
			}
		}
		if !matched {
			r := rune(w[i])
			out = append(out, r)
			i++
		}
	}
	return string(out)
}

// hasLatin reports whether s has a Latin letter.
func hasLatin(s string) bool {
	for _, c := range s {
		if c < 128 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return true
		}
	}
	return false
}
