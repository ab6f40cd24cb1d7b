package knowledge

import (
	"context"
	"fmt"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/whitespace"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
)

// The index holds terms the analyzer has already made (stems, slang
// replaced, typos corrected), so its own analysis only splits on spaces:
// the same analyzer then serves the entries and the messages, and the
// lookups that need the base's vocabulary (typos, layout) happen once per
// message instead of once per field and term.
const termsAnalyzer = "kontakt_terms"

// Fields of an indexed entry and how much a match in each counts.
var fieldBoost = []struct {
	name  string
	boost float64
}{
	{"q", 3},    // question and alternative phrasings
	{"tags", 2}, // tags
	{"a", 1},    // answer
}

func newIndexMapping() (mapping.IndexMapping, error) {
	m := bleve.NewIndexMapping()
	if err := m.AddCustomAnalyzer(termsAnalyzer, map[string]any{
		"type":      custom.Name,
		"tokenizer": whitespace.Name,
	}); err != nil {
		return nil, err
	}
	m.ScoringModel = "bm25"
	dm := bleve.NewDocumentStaticMapping()
	for _, f := range fieldBoost {
		fm := bleve.NewTextFieldMapping()
		fm.Analyzer = termsAnalyzer
		fm.Store = false
		fm.IncludeInAll = false
		fm.IncludeTermVectors = false
		fm.DocValues = false
		dm.AddFieldMappingsAt(f.name, fm)
	}
	m.DefaultMapping = dm
	m.DefaultAnalyzer = termsAnalyzer
	return m, nil
}

// buildIndex makes an in-memory scorch index of the documents. (NewMemOnly
// would be the legacy upsidedown index, which ignores BM25.)
func buildIndex(docs []*doc) (bleve.Index, error) {
	m, err := newIndexMapping()
	if err != nil {
		return nil, err
	}
	idx, err := bleve.NewUsing("", m, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("create index: %w", err)
	}
	b := idx.NewBatch()
	for _, d := range docs {
		if err := b.Index(d.entry.ID, map[string]any{
			"q":    strings.Join(d.qTerms, " "),
			"tags": strings.Join(d.tagTerms, " "),
			"a":    strings.Join(d.aTerms, " "),
		}); err != nil {
			idx.Close()
			return nil, fmt.Errorf("index entry %s: %w", d.entry.ID, err)
		}
	}
	if err := idx.Batch(b); err != nil {
		idx.Close()
		return nil, fmt.Errorf("index entries: %w", err)
	}
	return idx, nil
}

// retrieve returns up to k entry ids with their BM25 scores, best first.
func retrieve(ctx context.Context, idx bleve.Index, terms []string, k int) ([]hit, error) {
	if len(terms) == 0 {
		return nil, nil
	}
	text := strings.Join(terms, " ")
	qs := make([]query.Query, 0, len(fieldBoost))
	for _, f := range fieldBoost {
		q := bleve.NewMatchQuery(text)
		q.SetField(f.name)
		q.Analyzer = termsAnalyzer
		q.SetBoost(f.boost)
		qs = append(qs, q)
	}
	req := bleve.NewSearchRequestOptions(bleve.NewDisjunctionQuery(qs...), k, 0, false)
	res, err := idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, err
	}
	out := make([]hit, 0, len(res.Hits))
	for _, h := range res.Hits {
		out = append(out, hit{id: h.ID, score: h.Score})
	}
	return out, nil
}

type hit struct {
	id    string
	score float64
}
