package faq

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// File is a knowledge base file: free-form meta data (institute, hotline, …)
// and the entries, in the order they were written.
type File struct {
	Meta    map[string]string
	Entries []*Entry
}

// MaxProblems is how many problems ReadFile reports before it stops looking.
const MaxProblems = 20

// DateLayout is how valid_from and valid_until are written.
const DateLayout = "2006-01-02"

// Decode reads the entries of a knowledge base file. See ReadFile.
func Decode(r io.Reader) ([]*Entry, error) {
	f, err := ReadFile(r)
	if err != nil {
		return nil, err
	}
	return f.Entries, nil
}

// ReadFile reads a knowledge base file in YAML:
//
//	meta:
//	  hotline: +7 (800) 000-00-00
//	entries:
//	- id: dormitory-cost
//	  category: dormitory
//	  audience: [student, applicant]
//	  question: Сколько стоит общежитие?
//	  alternatives: [...]
//	  answer: ...
//	  answer_for: {applicant: ...}   # optional
//	  tags: [...]                    # optional
//	  department: ...                # optional
//	  valid_from: 2026-09-01         # optional
//	  valid_until: 2027-06-30        # optional
//
// Every entry is validated. A broken file yields no entries and an error
// listing up to MaxProblems problems, each a *FieldError with the line
// (joined with errors.Join when there are several; errors.As finds the
// first).
func ReadFile(r io.Reader) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read knowledge base: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(err)
	}
	d := &decoder{ids: map[string]int{}}
	f := d.file(&doc)
	if len(d.problems) > 0 {
		return nil, d.err()
	}
	return f, nil
}

var lineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a YAML parser error into a *FieldError with its line.
func syntaxError(err error) error {
	msg := err.Error()
	fe := &FieldError{Field: "yaml", Msg: "syntax error: " + strings.TrimPrefix(msg, "yaml: ")}
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		fe.Line, _ = strconv.Atoi(m[1])
		fe.Msg = "syntax error: " + m[2]
	}
	return fe
}

type decoder struct {
	problems []error
	more     bool
	ids      map[string]int // id → line of its first entry
}

func (d *decoder) add(line int, entry, field, msg string, args ...any) {
	if len(d.problems) >= MaxProblems {
		d.more = true
		return
	}
	d.problems = append(d.problems, &FieldError{Line: line, Entry: entry, Field: field, Msg: fmt.Sprintf(msg, args...)})
}

func (d *decoder) err() error {
	errs := d.problems
	slices.SortStableFunc(errs, func(a, b error) int { return a.(*FieldError).Line - b.(*FieldError).Line })
	if d.more {
		errs = append(slices.Clip(errs), fmt.Errorf("more than %d problems, stopped looking", MaxProblems))
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

func (d *decoder) file(doc *yaml.Node) *File {
	f := &File{}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		d.add(1, "", "entries", "the file is empty")
		return f
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		d.add(root.Line, "", "entries", "the file must be a mapping with meta: and entries:")
		return f
	}
	var seen bool
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "meta":
			f.Meta = d.meta(v)
		case "entries":
			seen = true
			f.Entries = d.entries(v)
		default:
			d.add(k.Line, "", k.Value, "unknown field (expected meta or entries)")
		}
	}
	if !seen {
		d.add(root.Line, "", "entries", "is missing")
	}
	return f
}

func (d *decoder) meta(n *yaml.Node) map[string]string {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.add(n.Line, "", "meta", "must be a mapping of names to texts")
		return nil
	}
	m := make(map[string]string, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			d.add(v.Line, "", "meta."+k.Value, "must be a text")
			continue
		}
		m[k.Value] = scalar(v)
	}
	return m
}

func (d *decoder) entries(n *yaml.Node) []*Entry {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.add(n.Line, "", "entries", "must be a list of entries")
		return nil
	}
	out := make([]*Entry, 0, len(n.Content))
	for _, en := range n.Content {
		if e := d.entry(en); e != nil {
			out = append(out, e)
		}
	}
	return out
}

// entry decodes one entry and validates it. It returns nil if there was a
// problem, after recording it.
func (d *decoder) entry(n *yaml.Node) *Entry {
	if n.Kind != yaml.MappingNode {
		d.add(n.Line, "", "entries", "an entry must be a mapping with id, question, answer, …")
		return nil
	}
	e := &Entry{}
	lines := map[string]int{} // field → line of its key
	before := len(d.problems)
	// The id first, so that every problem can name its entry.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "id" && n.Content[i+1].Kind == yaml.ScalarNode {
			e.ID = strings.TrimSpace(scalar(n.Content[i+1]))
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := k.Value
		if first, ok := lines[field]; ok {
			d.add(k.Line, e.ID, field, "is given twice in one entry (first at line %d)", first)
			continue
		}
		lines[field] = k.Line
		switch field {
		case "id":
			e.ID = d.text(v, e.ID, field)
		case "category":
			e.Category = d.text(v, e.ID, field)
		case "question":
			e.Question = d.text(v, e.ID, field)
		case "answer":
			e.Answer = d.text(v, e.ID, field)
		case "department":
			e.Department = strings.TrimSpace(d.text(v, e.ID, field))
		case "audience":
			for i, s := range d.list(v, e.ID, field) {
				a := Audience(strings.TrimSpace(s))
				if !a.Valid() {
					d.add(lineOf(v, i), e.ID, field, "unknown audience %q (use %s)", s, audienceList())
				}
				e.Audience = append(e.Audience, a)
			}
		case "alternatives":
			e.Alternatives = d.list(v, e.ID, field)
		case "tags":
			e.Tags = d.list(v, e.ID, field)
		case "answer_for":
			e.AnswerFor = d.answerFor(v, e.ID, lines)
		case "valid_from":
			e.ValidFrom = d.date(v, e.ID, field)
		case "valid_until":
			e.ValidUntil = d.date(v, e.ID, field)
		default:
			d.add(k.Line, e.ID, field, "unknown field%s", suggest(field))
		}
	}
	if e.ID != "" {
		if first, ok := d.ids[e.ID]; ok {
			d.add(lines["id"], e.ID, "id", "duplicate id, first used at line %d", first)
		} else {
			d.ids[e.ID] = lines["id"]
		}
	}
	if len(d.problems) > before || d.more {
		return nil
	}
	if err := e.Validate(); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			line, ok := lines[fe.Field]
			if !ok {
				line = n.Line // the field is missing: point at the entry
			}
			d.add(line, fe.Entry, fe.Field, "%s", fe.Msg)
		} else {
			d.add(n.Line, e.ID, "entry", "%v", err)
		}
		return nil
	}
	return e
}

func (d *decoder) text(n *yaml.Node, id, field string) string {
	if n.Kind != yaml.ScalarNode {
		d.add(n.Line, id, field, "must be a text, not a %s", kindName(n))
		return ""
	}
	return scalar(n)
}

// list reads a list of texts; a single text is a list of one.
func (d *decoder) list(n *yaml.Node, id, field string) []string {
	switch n.Kind {
	case yaml.ScalarNode:
		if isNull(n) {
			return nil
		}
		return []string{scalar(n)}
	case yaml.SequenceNode:
		out := make([]string, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				d.add(c.Line, id, field, "items must be texts, not a %s", kindName(c))
				continue
			}
			out = append(out, scalar(c))
		}
		return out
	}
	d.add(n.Line, id, field, "must be a list of texts, not a %s", kindName(n))
	return nil
}

func (d *decoder) answerFor(n *yaml.Node, id string, lines map[string]int) map[Audience]string {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.add(n.Line, id, "answer_for", "must be a mapping of audience to answer, not a %s", kindName(n))
		return nil
	}
	m := make(map[Audience]string, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := "answer_for." + k.Value
		lines[field] = k.Line
		if a := Audience(k.Value); !a.Valid() {
			d.add(k.Line, id, "answer_for", "unknown audience %q (use %s)", k.Value, audienceList())
			continue
		}
		if _, dup := m[Audience(k.Value)]; dup {
			d.add(k.Line, id, field, "is given twice")
			continue
		}
		m[Audience(k.Value)] = d.text(v, id, field)
	}
	return m
}

func (d *decoder) date(n *yaml.Node, id, field string) *time.Time {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		d.add(n.Line, id, field, "must be a date like 2026-09-01, not a %s", kindName(n))
		return nil
	}
	t, err := time.Parse(DateLayout, strings.TrimSpace(n.Value))
	if err != nil {
		d.add(n.Line, id, field, "bad date %q: write it as YYYY-MM-DD, e.g. 2026-09-01", n.Value)
		return nil
	}
	return &t
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// scalar is the text of a scalar node; null is empty.
func scalar(n *yaml.Node) string {
	if isNull(n) {
		return ""
	}
	return n.Value
}

func lineOf(n *yaml.Node, i int) int {
	if n.Kind == yaml.SequenceNode && i < len(n.Content) {
		return n.Content[i].Line
	}
	return n.Line
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.AliasNode:
		return "alias"
	}
	return "text"
}

var entryFields = []string{"id", "category", "audience", "question", "alternatives", "answer", "answer_for", "tags", "department", "valid_from", "valid_until"}

// suggest names the known field closest to a misspelt one.
func suggest(field string) string {
	best, dist := "", 3
	for _, f := range entryFields {
		if d := editDistance(strings.ToLower(field), f); d < dist {
			best, dist = f, d
		}
	}
	if best == "" {
		return " (known fields: " + strings.Join(entryFields, ", ") + ")"
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// Encode writes a knowledge base file that ReadFile reads back to the same
// meta and entries. Long answers are written as folded blocks wrapped at
// about 110 characters, answers with line breaks as literal blocks. Version and
// audit fields are not written: the file holds what staff edit.
func Encode(w io.Writer, meta map[string]string, entries []*Entry) error {
	root := mapping()
	if len(meta) > 0 {
		m := mapping()
		for _, k := range slices.Sorted(maps.Keys(meta)) {
			add(m, k, str(meta[k]))
		}
		add(root, "meta", m)
	}
	list := &yaml.Node{Kind: yaml.SequenceNode}
	for _, e := range entries {
		list.Content = append(list.Content, entryNode(e))
	}
	add(root, "entries", list)

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	if err := enc.Encode(root); err != nil {
		return fmt.Errorf("encode knowledge base: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encode knowledge base: %w", err)
	}
	out := buf.Bytes()
	if wrapped := wrapFolded(out, 110); sameYAML(out, wrapped) {
		out = wrapped
	}
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("write knowledge base: %w", err)
	}
	return nil
}

func entryNode(e *Entry) *yaml.Node {
	n := mapping()
	add(n, "id", str(e.ID))
	add(n, "category", str(e.Category))
	aud := make([]string, len(e.Audience))
	for i, a := range e.Audience {
		aud[i] = string(a)
	}
	add(n, "audience", strs(aud))
	add(n, "question", str(e.Question))
	if len(e.Alternatives) > 0 {
		add(n, "alternatives", strs(e.Alternatives))
	}
	add(n, "answer", block(e.Answer))
	if len(e.AnswerFor) > 0 {
		m := mapping()
		for _, a := range Audiences { // stable order
			if s, ok := e.AnswerFor[a]; ok {
				add(m, string(a), block(s))
			}
		}
		add(n, "answer_for", m)
	}
	if len(e.Tags) > 0 {
		add(n, "tags", strs(e.Tags))
	}
	if e.Department != "" {
		add(n, "department", str(e.Department))
	}
	if e.ValidFrom != nil {
		add(n, "valid_from", str(e.ValidFrom.Format(DateLayout)))
	}
	if e.ValidUntil != nil {
		add(n, "valid_until", str(e.ValidUntil.Format(DateLayout)))
	}
	return n
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

func add(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, str(key), v)
}

func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func strs(ss []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode}
	for _, s := range ss {
		n.Content = append(n.Content, str(s))
	}
	return n
}

// block is a text written as a block when it is long or has line breaks.
// The encoder falls back to a quoted style when a block can't hold it.
func block(s string) *yaml.Node {
	n := str(s)
	switch {
	case strings.Contains(s, "\n"):
		n.Style = yaml.LiteralStyle
	case len([]rune(s)) > 80:
		n.Style = yaml.FoldedStyle
	}
	return n
}

// wrapFolded wraps the single long line the encoder writes for a folded
// block (">-") at spaces, so that no line holds much more than width characters of text. A line
// break between two lines of a folded block reads back as one space, so
// only single spaces followed by a non-space are replaced.
func wrapFolded(src []byte, width int) []byte {
	lines := strings.Split(string(src), "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		out = append(out, lines[i])
		if !strings.HasSuffix(lines[i], ": >-") && !strings.HasSuffix(lines[i], "- >-") {
			continue
		}
		if i+1 >= len(lines) {
			break
		}
		body := lines[i+1]
		indent := len(body) - len(strings.TrimLeft(body, " "))
		// The encoder writes one content line for a text without breaks;
		// anything else is left as it is.
		if i+2 < len(lines) && leadingSpaces(lines[i+2]) >= indent && strings.TrimSpace(lines[i+2]) != "" {
			continue
		}
		i++
		out = append(out, wrapLine(body[indent:], strings.Repeat(" ", indent), width)...)
	}
	return []byte(strings.Join(out, "\n"))
}

// sameYAML reports whether a and b hold the same data: a guard against
// wrapFolded mistaking a line inside a literal block for a key.
func sameYAML(a, b []byte) bool {
	var va, vb any
	return yaml.Unmarshal(a, &va) == nil && yaml.Unmarshal(b, &vb) == nil && reflect.DeepEqual(va, vb)
}

func leadingSpaces(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }

func wrapLine(text, indent string, width int) []string {
	var lines []string
	runes := []rune(text)
	start, col, lastBreak := 0, 0, -1
	for i, r := range runes {
		if r == ' ' && i > 0 && runes[i-1] != ' ' && i+1 < len(runes) && runes[i+1] != ' ' {
			lastBreak = i
		}
		col++
		if col > width && lastBreak > start {
			lines = append(lines, indent+string(runes[start:lastBreak]))
			start = lastBreak + 1
			col = i - start + 1
			lastBreak = -1
		}
	}
	return append(lines, indent+string(runes[start:]))
}
