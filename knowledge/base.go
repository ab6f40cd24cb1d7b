// Package knowledge is the searchable knowledge base built from FAQ
// entries: a bleve index over text analysed for messenger Russian (ё, case,
// slang, typos, keyboard layout, translit), a ranking that weighs how much
// of a message an entry covers, and a decision — answer, clarify, escalate
// or small talk — with a confidence that does not depend on how long the
// message is.
package knowledge

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"

	"kontakt/faq"
)

// Base answers questions from a set of entries. It is safe for concurrent
// use; Reload swaps in a new set atomically, so a search never sees a
// half-built index.
type Base struct {
	lx     *lexicon
	now    func() time.Time
	cur    atomic.Pointer[snapshot]
	closed atomic.Bool
}

// Option configures a Base.
type Option func(*Base)

// WithClock sets the clock that decides whether an entry is in force.
func WithClock(now func() time.Time) Option { return func(b *Base) { b.now = now } }

// snapshot is one immutable generation of the base.
type snapshot struct {
	an       *analyzer
	index    bleve.Index
	docs     map[string]*doc
	entries  []*faq.Entry // sorted by category order, then question
	idf      map[string]float64
	unknownW float64
	// vocab holds the terms of the base, sorted.
	vocab []string
	// decisions caches what Decide said, by day, audience and text: a
	// contact centre hears the same questions all day long.
	decisions decisionCache
}

// doc is an entry with its analysed text.
type doc struct {
	entry    *faq.Entry
	qTerms   []string // question and alternatives
	tagTerms []string // tags
	catTerms []string // category title
	aTerms   []string // answer
	phrases  []phrase // each phrasing (question, alternatives, tags) on its own
	strong   map[string]bool
	all      map[string]bool
	// The terms sorted, to find words of one family («скидка»,
	// «скидочный»; «подать», «подавать») where their stems differ.
	strongSorted []string
	allSorted    []string
	pairs        map[[2]string]bool // adjacent terms of the phrasings
	// phraseTerms and words are used while building.
	phraseTerms [][]string
	words       []string
}

// phrase is one phrasing of an entry as a set of terms.
type phrase struct {
	terms  map[string]bool
	sorted []string
	norm   float64 // Euclidean norm of the terms' idf weights
}

// New builds a base from entries.
func New(entries []*faq.Entry, opts ...Option) (*Base, error) {
	stem := snowStem
	lx, err := loadLexicon(stem)
	if err != nil {
		return nil, fmt.Errorf("knowledge: %w", err)
	}
	b := &Base{lx: lx, now: time.Now}
	for _, o := range opts {
		o(b)
	}
	if err := b.Reload(entries); err != nil {
		return nil, err
	}
	return b, nil
}

// Reload replaces the entries. Searches under way finish on the old ones.
func (b *Base) Reload(entries []*faq.Entry) error {
	s, err := b.build(entries)
	if err != nil {
		return err
	}
	old := b.cur.Swap(s)
	if old != nil {
		// Give searches that already hold the old snapshot time to finish.
		time.AfterFunc(10*time.Second, func() { old.index.Close() })
	}
	return nil
}

// Close releases the index. Calling it again does nothing.
func (b *Base) Close() error {
	if s := b.cur.Load(); s != nil && b.closed.CompareAndSwap(false, true) {
		return s.index.Close()
	}
	return nil
}

func (b *Base) build(entries []*faq.Entry) (*snapshot, error) {
	// Entries are analysed without the vocabulary (they are the
	// vocabulary: nothing in them is corrected or converted); the words
	// they yield then make the vocabulary that messages are read against.
	an := newAnalyzer(b.lx)
	s := &snapshot{an: an, docs: make(map[string]*doc, len(entries)), idf: map[string]float64{}}
	docs := make([]*doc, len(entries))
	// Analysing the entries is most of the work of a rebuild; the analyzer
	// is read-only now, so the cores share it.
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			memo := map[string]string{}
			for i := w; i < len(entries); i += workers {
				docs[i] = analyzeDoc(an, entries[i], memo)
			}
		}(w)
	}
	wg.Wait()
	df := map[string]int{}
	words := map[string]int{}
	for _, d := range docs {
		for t := range d.all {
			df[t]++
		}
		for _, w := range d.words {
			words[w]++
		}
		d.words = nil
		s.docs[d.entry.ID] = d
	}
	an.learn(words)
	n := float64(len(entries))
	for t, c := range df {
		s.idf[t] = math.Log(1 + n/float64(c))
	}
	for _, d := range docs {
		d.phrases = s.phrases(d.phraseTerms)
		d.phraseTerms = nil
	}

	s.vocab = make([]string, 0, len(s.idf))
	for t := range s.idf {
		s.vocab = append(s.vocab, t)
	}
	sort.Strings(s.vocab)
	// A word the base does not know weighs like a word found in a few
	// entries: it says something the base may not cover.
	s.unknownW = math.Log(1 + n/3)
	idx, err := buildIndex(docs)
	if err != nil {
		return nil, fmt.Errorf("knowledge: %w", err)
	}
	s.index = idx
	s.entries = slices.Clone(entries)
	order := map[string]int{}
	for i, c := range faq.Categories {
		order[c.ID] = i
	}
	sort.SliceStable(s.entries, func(i, j int) bool {
		oi, iok := order[s.entries[i].Category]
		oj, jok := order[s.entries[j].Category]
		if !iok {
			oi = len(order)
		}
		if !jok {
			oj = len(order)
		}
		if oi != oj {
			return oi < oj
		}
		if s.entries[i].Category != s.entries[j].Category {
			return s.entries[i].Category < s.entries[j].Category
		}
		return s.entries[i].Question < s.entries[j].Question
	})
	return s, nil
}

// phrases makes weighted term sets of texts; empty ones are left out.
func (s *snapshot) phrases(texts [][]string) []phrase {
	var out []phrase
	for _, p := range texts {
		ph := phrase{terms: map[string]bool{}}
		for _, t := range p {
			if !ph.terms[t] {
				ph.terms[t] = true
				ph.norm += s.idf[t] * s.idf[t]
			}
		}
		ph.norm = math.Sqrt(ph.norm)
		ph.sorted = sortedKeys(ph.terms)
		if ph.norm > 0 {
			out = append(out, ph)
		}
	}
	return out
}

// analyzeDoc analyses the text of one entry.
func analyzeDoc(an *analyzer, e *faq.Entry, memo map[string]string) *doc {
	d := &doc{entry: e, strong: map[string]bool{}, all: map[string]bool{}, pairs: map[[2]string]bool{}}
	read := func(text string) []string {
		a := an.analyzeEntry(text, memo)
		for _, w := range a.words {
			if !w.number {
				d.words = append(d.words, w.surface)
			}
		}
		return a.terms
	}
	var phrTerms [][]string
	for _, p := range append([]string{e.Question}, e.Alternatives...) {
		t := read(p)
		d.qTerms = append(d.qTerms, t...)
		phrTerms = append(phrTerms, t)
	}
	for _, tag := range e.Tags {
		t := read(tag)
		d.tagTerms = append(d.tagTerms, t...)
	}

	phrTerms = append(phrTerms, d.tagTerms)
	d.catTerms = read(faq.CategoryTitle(e.Category))
	d.aTerms = read(e.AnswerTo(""))
	for _, v := range e.AnswerFor {
		read(v)
	}
	for _, p := range phrTerms {
		for i, t := range p {
			d.strong[t] = true
			if i > 0 {
				d.pairs[[2]string{p[i-1], t}] = true
			}
		}
	}
	for _, t := range d.catTerms {
		d.strong[t] = true
	}
	for t := range d.strong {
		d.all[t] = true
	}
	for _, t := range d.aTerms {
		d.all[t] = true
	}
	d.strongSorted, d.allSorted = sortedKeys(d.strong), sortedKeys(d.all)
	d.phraseTerms = phrTerms
	return d
}

// Entry returns the entry with the given id, or nil.
func (b *Base) Entry(id string) *faq.Entry {
	if d := b.cur.Load().docs[id]; d != nil {
		return d.entry
	}
	return nil
}

// Len is the number of entries.
func (b *Base) Len() int { return len(b.cur.Load().docs) }

// Categories lists the categories that have entries in force, in menu order.
func (b *Base) Categories() []string {
	var out []string
	now := b.now()
	for _, e := range b.cur.Load().entries {
		if e.ActiveAt(now) && (len(out) == 0 || out[len(out)-1] != e.Category) {
			out = append(out, e.Category)
		}
	}
	return out
}

// EntriesIn lists the entries in force of a category.
func (b *Base) EntriesIn(category string) []*faq.Entry {
	var out []*faq.Entry
	now := b.now()
	for _, e := range b.cur.Load().entries {
		if e.Category == category && e.ActiveAt(now) {
			out = append(out, e)
		}
	}
	return out
}

// Search returns up to n entries in force that match text, best first,
// with calibrated confidences. Entries written for audience rank a little
// higher; an empty audience favours none.
func (b *Base) Search(ctx context.Context, text string, audience faq.Audience, n int) ([]Match, error) {
	s := b.cur.Load()
	q := s.an.analyze(text)
	return b.rank(ctx, s, q, audience, n)
}

// Two stems are of one family when one is a prefix of the other, or when
// they agree in their first familyPrefix runes; the shorter must have at
// least familyMin runes.
const (
	familyPrefix = 5
	familyMin    = 4
)

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// family reports whether a stem of terms (sorted holds the same stems in
// order) is of one family with t: t is a prefix of it, it is a prefix of
// t, or both share familyPrefix runes.
func family(t string, terms map[string]bool, sorted []string) bool {
	if hasPrefixed(sorted, t) {
		return true
	}
	r := []rune(t)
	for n := len(r) - 1; n >= familyMin; n-- {
		if terms[string(r[:n])] {
			return true
		}
	}
	return len(r) > familyPrefix && hasPrefixed(sorted, string(r[:familyPrefix]))
}

// hasPrefixed reports whether a string of sorted starts with p.
func hasPrefixed(sorted []string, p string) bool {
	i := sort.SearchStrings(sorted, p)
	return i < len(sorted) && strings.HasPrefix(sorted[i], p)
}
