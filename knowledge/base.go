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
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"

	"kontakt/faq"
)

// Base answers questions from a set of entries. It is safe for concurrent
// use; Reload swaps in a new set atomically, so a search never sees a
// half-built index.
type Base struct {
	lx  *lexicon
	now func() time.Time
	cur atomic.Pointer[snapshot]
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
}

// doc is an entry with its analysed text.
type doc struct {
	entry    *faq.Entry
	qTerms   []string   // question and alternatives
	tagTerms []string   // tags
	catTerms []string   // category title
	aTerms   []string   // answer
	phrases  []phrase   // each phrasing (question, alternatives, tags) on its own
	strong   map[string]bool
	all      map[string]bool
	// Prefixes of the terms: words of one family («скидка», «скидочный»;
	// «подать», «подавать») share them where their stems differ.
	strongPre map[string]bool
	allPre    map[string]bool
	pairs    map[[2]string]bool // adjacent terms of the phrasings
	// phraseTerms is used while building.
	phraseTerms [][]string
}

// phrase is one phrasing of an entry as a set of terms.
type phrase struct {
	terms map[string]bool
	pre   map[string]bool
	norm  float64 // Euclidean norm of the terms' idf weights
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

// Close releases the index.
func (b *Base) Close() error {
	if s := b.cur.Load(); s != nil {
		return s.index.Close()
	}
	return nil
}

func (b *Base) build(entries []*faq.Entry) (*snapshot, error) {
	words := map[string]int{}
	for _, e := range entries {
		for _, t := range entryTexts(e) {
			for _, w := range strings.FieldsFunc(fold(t), notWordRune) {
				if !isNumber(w) {
					words[w]++
				}
			}
		}
	}
	an := newAnalyzer(b.lx, words)
	s := &snapshot{an: an, docs: make(map[string]*doc, len(entries)), idf: map[string]float64{}}
	docs := make([]*doc, 0, len(entries))
	df := map[string]int{}
	for _, e := range entries {
		d := &doc{entry: e, strong: map[string]bool{}, all: map[string]bool{}, pairs: map[[2]string]bool{}}
		phr := append([]string{e.Question}, e.Alternatives...)
		var phrTerms [][]string
		for _, p := range phr {
			t := an.analyze(p).terms
			d.qTerms = append(d.qTerms, t...)
			phrTerms = append(phrTerms, t)
		}
		d.tagTerms = an.analyze(strings.Join(e.Tags, " ")).terms
		phrTerms = append(phrTerms, d.tagTerms)
		d.catTerms = an.analyze(faq.CategoryTitle(e.Category)).terms
		d.aTerms = an.analyze(e.AnswerTo("")).terms
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
		d.strongPre, d.allPre = prefixes(d.strong), prefixes(d.all)
		for t := range d.all {
			df[t]++
		}
		s.docs[e.ID] = d
		docs = append(docs, d)
		d.phraseTerms = phrTerms
	}
	n := float64(len(entries))
	for t, c := range df {
		s.idf[t] = math.Log(1 + n/float64(c))
	}
	for _, d := range docs {
		for _, p := range d.phraseTerms {
			ph := phrase{terms: map[string]bool{}}
			for _, t := range p {
				if !ph.terms[t] {
					ph.terms[t] = true
					ph.norm += s.idf[t] * s.idf[t]
				}
			}
			ph.norm = math.Sqrt(ph.norm)
			ph.pre = prefixes(ph.terms)
			if ph.norm > 0 {
				d.phrases = append(d.phrases, ph)
			}
		}
		d.phraseTerms = nil
	}
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

func entryTexts(e *faq.Entry) []string {
	t := append([]string{e.Question, e.Answer, faq.CategoryTitle(e.Category)}, e.Alternatives...)
	t = append(t, e.Tags...)
	for _, a := range e.AnswerFor {
		t = append(t, a)
	}
	return t
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

// prefixes returns every prefix of familyMin or more runes of the terms.
func prefixes(terms map[string]bool) map[string]bool {
	out := make(map[string]bool, len(terms)*3)
	for t := range terms {
		r := []rune(t)
		for n := familyMin; n <= len(r); n++ {
			out[string(r[:n])] = true
		}
	}
	return out
}

// family reports whether a stem of the set with prefixes pre is of one
// family with t: t is a prefix of it, it is a prefix of t, or both share
// familyPrefix runes.
func family(t string, terms, pre map[string]bool) bool {
	if pre[t] {
		return true
	}
	r := []rune(t)
	for n := len(r) - 1; n >= familyMin; n-- {
		if terms[string(r[:n])] {
			return true
		}
	}
	return len(r) > familyPrefix && pre[string(r[:familyPrefix])]
}
