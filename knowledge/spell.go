package knowledge

// speller corrects typos against a vocabulary with the symmetric-delete
// method (SymSpell): every word of the vocabulary is stored under itself
// and each string left after deleting one of its runes; a typo with its own
// runes deleted (up to two) meets the word it was meant to be. That finds
// every word within one edit and most within two (all but two
// substitutions far apart), at a fraction of the memory and build time of
// storing two-rune deletions. The candidates are then checked with the
// Damerau–Levenshtein distance, which counts runes, not bytes, and a swap
// of two neighbours as one edit.
type speller struct {
	maxDist int
	freq    map[string]int      // word → how often it occurs in the base
	deletes map[string][]string // deletion variant → words
}

func newSpeller(freq map[string]int, maxDist int) *speller {
	s := &speller{maxDist: maxDist, freq: freq, deletes: make(map[string][]string, len(freq)*8)}
	for w := range freq {
		r := []rune(w)
		if len(r) < minSpellLen-1 {
			continue
		}
		for _, d := range deletions(r, min(1, allowedDist(len(r)+1))) {
			s.deletes[d] = append(s.deletes[d], w)
		}
	}
	return s
}

// minSpellLen is the shortest word that is corrected: shorter words have
// too many neighbours to guess from.
const minSpellLen = 4

// allowedDist is how many edits a word of n runes may contain.
func allowedDist(n int) int {
	switch {
	case n < minSpellLen:
		return 0
	case n < 8:
		return 1
	default:
		return 2
	}
}

// correct returns the vocabulary word closest to w, and false when there is
// none within the allowed distance. Among equally close words the most
// frequent wins.
func (s *speller) correct(w string) (string, bool) {
	r := []rune(w)
	max := allowedDist(len(r))
	if max == 0 {
		return "", false
	}
	best, bestD, bestF := "", max+1, 0
	seen := map[string]bool{}
	for _, d := range deletions(r, max) {
		for _, cand := range s.deletes[d] {
			if seen[cand] {
				continue
			}
			seen[cand] = true
			cr := []rune(cand)
			if abs(len(cr)-len(r)) > max {
				continue
			}
			// The first letter is rarely mistyped; requiring it keeps
			// corrections from jumping to an unrelated word.
			if cr[0] != r[0] {
				continue
			}
			dist := damerau(r, cr, max)
			f := s.freq[cand]
			if dist < bestD || dist == bestD && (f > bestF || f == bestF && cand < best) {
				best, bestD, bestF = cand, dist, f
			}
		}
	}
	return best, bestD <= max
}

// deletions returns r itself and every string left after deleting up to
// max runes of it.
func deletions(r []rune, max int) []string {
	out := []string{string(r)}
	level := [][]rune{r}
	seen := map[string]bool{string(r): true}
	for d := 0; d < max; d++ {
		var next [][]rune
		for _, w := range level {
			if len(w) <= 1 {
				continue
			}
			for i := range w {
				v := make([]rune, 0, len(w)-1)
				v = append(v, w[:i]...)
				v = append(v, w[i+1:]...)
				k := string(v)
				if !seen[k] {
					seen[k] = true
					out = append(out, k)
					next = append(next, v)
				}
			}
		}
		level = next
	}
	return out
}

// damerau is the optimal-string-alignment distance between a and b, or
// max+1 as soon as it is certain to exceed max.
func damerau(a, b []rune, max int) int {
	if abs(len(a)-len(b)) > max {
		return max + 1
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
