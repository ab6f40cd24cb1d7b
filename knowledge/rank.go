package knowledge

import (
	"context"
	"math"
	"slices"
	"sort"
	"strings"

	"kontakt/faq"
)

// candidates is how many entries the index proposes for re-ranking.
const candidates = 20

// rank re-scores what the index proposes by how much of the message each
// entry covers. BM25 alone favours long or short messages (see the
// evaluation set's BASELINES.md); coverage of the message's weighted terms
// by an entry's own phrasings does not depend on the message's length.
func (b *Base) rank(ctx context.Context, s *snapshot, q analysis, audience faq.Audience, n int) ([]Match, error) {
	hits, err := retrieve(ctx, s.index, s.expand(q.terms), candidates)
	if err != nil {
		return nil, err
	}
	if len(hits) == 0 {
		return nil, nil
	}
	weights := s.termWeights(q.terms)
	var total float64
	for _, w := range weights {
		total += w
	}
	maxBM := hits[0].score
	now := b.now()
	out := make([]Match, 0, len(hits))
	for _, h := range hits {
		d := s.docs[h.id]
		if d == nil || !d.entry.ActiveAt(now) {
			continue
		}
		f := s.features(d, q.terms, weights, total)
		f.bm25 = h.score / maxBM
		score := f.combine()
		if audience != "" && len(d.entry.Audience) > 0 && !containsAudience(d.entry.Audience, audience) {
			score *= 0.9
		}
		out = append(out, Match{Entry: d.entry, Score: score, features: f})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	for i := range out {
		// The lead over the best other candidate: positive only for the first.
		other := 0.0
		if i == 0 && len(out) > 1 {
			other = out[1].Score
		} else if i > 0 {
			other = out[0].Score
		}
		out[i].Confidence = calibrate(out[i].Score, out[i].Score-other)
	}
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// calibrate turns a ranking score and its lead over the best other
// candidate into the probability that the entry is the right answer. The
// logistic curve was fitted on the evaluation set's development queries
// (answerable ones whose first candidate was right as positives; the rest,
// escalations and small talk included, as negatives); in its bins the
// predicted and observed rates agree within about 0.1.
func calibrate(score, lead float64) float64 {
	return 1 / (1 + math.Exp(-(12.5*score + 5*lead - 7.1)))
}

func containsAudience(list []faq.Audience, a faq.Audience) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// termWeights gives each distinct term of a message its inverse document
// frequency; words the base does not know get a fixed weight.
func (s *snapshot) termWeights(terms []string) map[string]float64 {
	w := make(map[string]float64, len(terms))
	for _, t := range terms {
		if v, ok := s.idf[t]; ok {
			w[t] = v
		} else {
			w[t] = s.unknownW
		}
	}
	return w
}

// features of one entry for one message, each in [0, 1].
type features struct {
	strong float64 // share of the message's weight found in the phrasings and tags
	all    float64 // share found anywhere in the entry, answer included
	phrase float64 // best cosine between the message and one phrasing
	pairs  float64 // share of the message's adjacent term pairs found in a phrasing
	bm25   float64 // BM25 score relative to the best candidate
}

func (f features) vector() []float64 {
	return []float64{f.strong, f.all, f.phrase, f.pairs, f.bm25}
}

// familyCredit is what a word of the same family counts for.
const familyCredit = 0.8

func (f features) combine() float64 { return dot(rankWeights[:], f.vector()) }

// rankWeights weigh the features, in the order of vector.
var rankWeights = [numFeatures]float64{0.15, 0.15, 0.4, 0.05, 0.25}

// numFeatures is the length of vector.
const numFeatures = 5

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// expand adds to the terms the base does not know the words of their
// family that it does («минимум» finds «минимальн»), so that the index
// proposes the entries the ranking would credit for them.
func (s *snapshot) expand(terms []string) []string {
	out := terms
	for _, t := range terms {
		if _, ok := s.idf[t]; ok || len(t) < 2*familyMin {
			continue
		}
		r := []rune(t)
		p := string(r[:min(len(r), familyPrefix)])
		n := 0
		for i := sort.SearchStrings(s.vocab, p); i < len(s.vocab) && strings.HasPrefix(s.vocab[i], p) && n < maxExpansions; i++ {
			if len(out) == len(terms) {
				out = slices.Clone(terms)
			}
			out = append(out, s.vocab[i])
			n++
		}
	}
	return out
}

// maxExpansions bounds the family words added for one unknown term.
const maxExpansions = 4

// credit is what term t counts for in a set: 1 if it is there, less for a
// word of its family, 0 otherwise.
func credit(t string, m map[string]bool, sorted []string) float64 {
	switch {
	case m[t]:
		return 1
	case len(t) >= 2*familyMin && family(t, m, sorted):
		return familyCredit
	}
	return 0
}

func (s *snapshot) features(d *doc, terms []string, w map[string]float64, total float64) features {
	var f features
	if total == 0 {
		return f
	}
	for t, wt := range w {
		f.strong += wt * credit(t, d.strong, d.strongSorted)
		f.all += wt * credit(t, d.all, d.allSorted)
	}
	f.strong /= total
	f.all /= total
	var qNorm float64
	for _, wt := range w {
		qNorm += wt * wt
	}
	qNorm = math.Sqrt(qNorm)
	f.phrase = s.bestCosine(d.phrases, w, qNorm)
	if len(terms) > 1 {
		found := 0
		for i := 1; i < len(terms); i++ {
			if d.pairs[[2]string{terms[i-1], terms[i]}] {
				found++
			}
		}
		f.pairs = float64(found) / float64(len(terms)-1)
	}
	return f
}

// bestCosine is the best cosine between the message's weights and one of
// the phrases.
func (s *snapshot) bestCosine(ps []phrase, w map[string]float64, qNorm float64) float64 {
	var best float64
	for _, p := range ps {
		var dot float64
		for t, wt := range w {
			if c := credit(t, p.terms, p.sorted); c > 0 {
				dot += c * wt * s.idfOr(t, wt)
			}
		}
		if c := dot / (qNorm * p.norm); c > best {
			best = c
		}
	}
	return best
}

// idfOr is the weight of t in the base, or def for a word it lacks.
func (s *snapshot) idfOr(t string, def float64) float64 {
	if v, ok := s.idf[t]; ok {
		return v
	}
	return def
}
