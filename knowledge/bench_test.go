package knowledge

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"kontakt/faq"
)

// scaled makes n entries by varying the sample: each copy gets its own id
// and a distinguishing word, so the index and the vocabulary grow as they
// would with a real, larger base.
func scaled(t testing.TB, n int) []*faq.Entry {
	base := loadSample(t)
	out := make([]*faq.Entry, 0, n)
	for i := 0; len(out) < n; i++ {
		for _, e := range base {
			if len(out) == n {
				break
			}
			c := *e
			if i > 0 {
				c.ID = fmt.Sprintf("%s-%d", e.ID, i)
				suffix := fmt.Sprintf(" (филиал %d)", i)
				c.Question = e.Question + suffix
				c.Alternatives = append([]string(nil), e.Alternatives...)
				for k := range c.Alternatives {
					c.Alternatives[k] += suffix
				}
				c.Answer = e.Answer + suffix
			}
			out = append(out, &c)
		}
	}
	return out
}

var benchQueries = []string{
	"общага цена", "как восстановиться после отчисления", "Здравствуйте! Подскажите пожалуйста когда будет приказ о зачислении на бюджет, сын подавал документы на экономику",
	"j,ofuf", "stoimost obucheniya", "расписане экзаменв", "позовите человека", "привет", "стипуха когда", "военка есть?",
}

func benchSearch(b *testing.B, n int) {
	base, err := New(scaled(b, n))
	if err != nil {
		b.Fatal(err)
	}
	defer base.Close()
	ctx := context.Background()
	s := base.cur.Load()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		// Uncached: the cost of a message the base has not seen today.
		base.decide(ctx, s, benchQueries[i%len(benchQueries)], "", defaultThresholds)
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

func BenchmarkSearch120(b *testing.B)   { benchSearch(b, 120) }
func BenchmarkSearch10000(b *testing.B) { benchSearch(b, 10000) }

// BenchmarkDecideCached is a question asked again the same day.
func BenchmarkDecideCached(b *testing.B) {
	base, err := New(loadSample(b))
	if err != nil {
		b.Fatal(err)
	}
	defer base.Close()
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		base.Decide(ctx, benchQueries[i%len(benchQueries)], "")
	}
}

func BenchmarkRebuild10000(b *testing.B) {
	entries := scaled(b, 10000)
	base, err := New(entries[:1])
	if err != nil {
		b.Fatal(err)
	}
	defer base.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := base.Reload(entries); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRebuild120(b *testing.B) {
	entries := scaled(b, 120)
	base, err := New(entries[:1])
	if err != nil {
		b.Fatal(err)
	}
	defer base.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := base.Reload(entries); err != nil {
			b.Fatal(err)
		}
	}
}
