package knowledge

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"kontakt/faq"
)

// thresholds of the decision. TestFitDecision searched them on the query
// files in testdata (about 1,900 messages): the most right answers
// while wrong ones, a personal matter answered counting twice, stay within
// 2.5%.
type thresholds struct {
	answer float64 // ranking score needed to answer
	margin float64 // lead over the second candidate needed to answer
	// siblingMargin is the lead needed when the second candidate is of the
	// same category.
	siblingMargin float64
	sure          float64 // confidence that answers with a smaller lead
	sureLead      float64 // the least lead even a sure match needs
	clarify       float64 // ranking score needed to offer candidates
	clarifyConf   float64 // and confidence in the first of them
	clarifyGap    float64 // candidates within this score of the best are offered
	cue           float64 // weight of signs of a personal matter that escalates
	cueStrong     float64 // ranking score that outweighs such signs
	cueHard       float64 // weight of signs that no ranking score outweighs
	offtopic      float64 // below this score an off-topic word means small talk
}

var defaultThresholds = thresholds{
	answer:        0.45,
	margin:        0.06,
	siblingMargin: 0.06,
	sure:          0.9,
	sureLead:      0.02,
	clarify:       0.3,
	clarifyConf:   0.1,
	clarifyGap:    0.08,
	cue:           2,
	cueStrong:     0.8,
	cueHard:       5,
	offtopic:      0.6,
}

// Decide says what the bot should do with a message from a client of the
// given audience (empty if not known yet). The Decision and its Candidates
// are shared between callers and must not be changed.
func (b *Base) Decide(ctx context.Context, text string, audience faq.Audience) Decision {
	s := b.cur.Load()
	key := b.now().Format(time.DateOnly) + "\x00" + string(audience) + "\x00" + text
	if d, ok := s.decisions.get(key); ok {
		return d
	}
	d := b.decide(ctx, s, text, audience, defaultThresholds)
	if !strings.HasPrefix(d.Reason, "search failed") {
		s.decisions.put(key, d)
	}
	return d
}

// decisionCache is a bounded map that starts afresh when full; a new
// snapshot of the base starts with an empty one.
type decisionCache struct {
	mu sync.RWMutex
	m  map[string]Decision
}

const decisionCacheSize = 4096

func (c *decisionCache) get(k string) (Decision, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	d, ok := c.m[k]
	return d, ok
}

func (c *decisionCache) put(k string, d Decision) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= decisionCacheSize {
		c.m = make(map[string]Decision, 256)
	}
	c.m[k] = d
}

func (b *Base) decide(ctx context.Context, s *snapshot, text string, audience faq.Audience, th thresholds) Decision {
	return b.read(ctx, s, text, audience).choose(th)
}

// reading is what the base makes of a message before thresholds apply.
type reading struct {
	smalltalk string // kind of small talk, if the message is only that
	cueW      float64
	cueKinds  map[string]bool
	matches   []Match
	err       error
	offtopic  bool // names a topic the institute does not deal with
	unknown   bool // no term the base knows
	question  bool // looks like a question
}

func (b *Base) read(ctx context.Context, s *snapshot, text string, audience faq.Audience) reading {
	q := s.an.analyze(text)
	var r reading
	if kind, ok := b.lx.smalltalkOf(q.words); ok {
		r.smalltalk = kind
		return r
	}
	r.cueW, r.cueKinds = b.lx.cueWeight(q.words)
	if r.cueKinds["human"] {
		return r
	}
	r.matches, r.err = b.rank(ctx, s, q, audience, 3)
	r.offtopic = b.lx.offtopicOf(q)
	r.unknown = len(q.terms) == 0 || !s.knowsAny(q.terms)
	r.question = q.looksLikeQuestion()
	return r
}

// choose makes the decision.
func (r reading) choose(th thresholds) Decision {
	if r.smalltalk != "" {
		return Decision{Kind: Smalltalk, Smalltalk: r.smalltalk, Reason: "small talk: " + r.smalltalk}
	}
	if r.cueKinds["human"] {
		return Decision{Kind: Escalate, Reason: "asks for a person"}
	}
	if r.err != nil {
		return Decision{Kind: Escalate, Reason: fmt.Sprintf("search failed: %v", r.err)}
	}
	matches := r.matches
	d := Decision{Candidates: matches}
	var top, second, conf float64
	if len(matches) > 0 {
		top, conf = matches[0].Score, matches[0].Confidence
		d.Confidence = conf
	}
	margin := th.margin
	if len(matches) > 1 {
		second = matches[1].Score
		// Entries of one category are the ones people confuse: between
		// them the lead must be clearer before the bot picks one.
		if matches[0].Entry.Category == matches[1].Entry.Category {
			margin = th.siblingMargin
		}
	}
	// Signs of a personal matter come first: a complaint that mentions
	// something off-topic («украли ноутбук в общаге») is still a complaint.
	// Strong signs escalate however well an entry matches.
	if r.cueW >= th.cue && (top < th.cueStrong || r.cueW >= th.cueHard) {
		d.Kind = Escalate
		d.Reason = fmt.Sprintf("personal matter (%s, weight %.0f)", joinKinds(r.cueKinds), r.cueW)
		return d
	}
	if r.offtopic && top < th.offtopic {
		d.Kind, d.Smalltalk, d.Reason = Smalltalk, "offtopic", "off-topic words, no close entry"
		return d
	}
	switch {
	case top >= th.answer && top-second >= margin, conf >= th.sure && top-second >= th.sureLead:
		d.Kind, d.Entry = Answer, matches[0].Entry
		d.Reason = fmt.Sprintf("confident match (score %.2f, lead %.2f)", top, top-second)
	case top >= th.clarify && conf >= th.clarifyConf:
		d.Kind = Clarify
		n := 1
		for n < len(matches) && top-matches[n].Score <= th.clarifyGap {
			n++
		}
		if n == 1 && len(matches) > 1 {
			n = 2
		}
		d.Candidates = matches[:n]
		d.Reason = fmt.Sprintf("%d close candidates (%.2f)", n, conf)
	default:
		if r.unknown && !r.question {
			d.Kind, d.Smalltalk, d.Reason = Smalltalk, "offtopic", "nothing the base knows"
			return d
		}
		d.Kind = Escalate
		d.Reason = fmt.Sprintf("no good match (%.2f)", conf)
	}
	return d
}

func joinKinds(m map[string]bool) string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	if len(s) > 1 {
		// Stable output for logs and tests.
		for i := range s {
			for j := i + 1; j < len(s); j++ {
				if s[j] < s[i] {
					s[i], s[j] = s[j], s[i]
				}
			}
		}
	}
	return strings.Join(s, ", ")
}

// knowsAny reports whether any term occurs in the base.
func (s *snapshot) knowsAny(terms []string) bool {
	for _, t := range terms {
		if _, ok := s.idf[t]; ok {
			return true
		}
	}
	return false
}

// questionWords mark a message as a question about something.
var questionWords = map[string]bool{
	"как": true, "где": true, "когда": true, "сколько": true, "можно": true, "какой": true, "какая": true,
	"какие": true, "какое": true, "каких": true, "почему": true, "зачем": true, "куда": true, "откуда": true,
	"нужно": true, "надо": true, "нужен": true, "нужна": true, "есть": true, "ли": true, "чем": true,
}

func (q analysis) looksLikeQuestion() bool {
	for _, w := range q.words {
		if questionWords[w.surface] {
			return true
		}
	}
	return false
}

// smalltalkOf reports whether the message is made only of small-talk
// phrases and stop words, and the kind of the first phrase. A message with
// no words at all (emoji, punctuation) is small talk too.
func (lx *lexicon) smalltalkOf(words []word) (string, bool) {
	if len(words) == 0 {
		return "emoji", true
	}
	kind := ""
	for i := 0; i < len(words); {
		matched := false
		for n := min(lx.smallMax, len(words)-i); n >= 1; n-- {
			var p []string
			for _, w := range words[i : i+n] {
				p = append(p, w.stem)
			}
			if k, ok := lx.smalltalkStems[strings.Join(p, " ")]; ok {
				if kind == "" || kind == "thanks" && k != "thanks" {
					kind = k
				}
				i += n
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		if !words[i].stop {
			return "", false
		}
		i++
	}
	if kind == "" {
		return "", false
	}
	return kind, true
}

// offtopicOf reports whether the message names a topic the institute does
// not deal with.
func (lx *lexicon) offtopicOf(q analysis) bool {
	for _, w := range q.words {
		if lx.offtopic[w.stem] {
			return true
		}
	}
	return false
}

// cueWeight adds up the signs of a personal matter found in the message.
func (lx *lexicon) cueWeight(words []word) (float64, map[string]bool) {
	kinds := map[string]bool{}
	var total float64
	for _, c := range lx.cues {
		if matchCue(c.words, words) {
			total += c.weight
			kinds[c.kind] = true
		}
	}
	if negatedEvent(words) {
		total++
		kinds["problem"] = true
	}
	return total, kinds
}

// negatedEvent reports a statement that something did not happen or does
// not work («не выдаёт», «не пришли», «не отвечает»), the commonest shape
// of a complaint. A condition («если не сдам», «что будет, если не
// пришёл») is a reference question, not a complaint.
func negatedEvent(words []word) bool {
	for i := 0; i+1 < len(words); i++ {
		if words[i].surface != "не" || !verbLike(words[i+1].surface) {
			continue
		}
		conditional := false
		for k := max(0, i-3); k < i; k++ {
			if w := words[k].surface; w == "если" || w == "ли" || w == "можно" {
				conditional = true
			}
		}
		if !conditional {
			return true
		}
	}
	return false
}

// verbLike reports a word with the ending of a past-tense or third-person
// verb. It is a guess without a dictionary, good enough next to «не».
func verbLike(w string) bool {
	r := []rune(w)
	if len(r) < 4 {
		return false
	}
	for _, end := range []string{"ли", "ла", "ло", "ет", "ит", "ют", "ят", "ут", "ат"} {
		if strings.HasSuffix(w, end) {
			return true
		}
	}
	return strings.HasSuffix(w, "л")
}

func matchCue(pattern []string, words []word) bool {
	for i := 0; i+len(pattern) <= len(words); i++ {
		ok := true
		for k, p := range pattern {
			w := words[i+k]
			switch {
			case p == "_":
			case p == "#":
				ok = w.number && len(w.surface) >= 4
			default:
				ok = strings.HasPrefix(w.surface, p) || strings.HasPrefix(w.orig, p)
			}
			if !ok {
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// cueWord reports whether w begins with a word of a sign (of four runes or
// more), so that a message typed on the wrong layout is recognised by
// its signs too.
func (lx *lexicon) cueWord(w string) bool {
	for _, c := range lx.cues {
		for _, p := range c.words {
			if len(p) >= 8 && strings.HasPrefix(w, p) {
				return true
			}
		}
	}
	return false
}
