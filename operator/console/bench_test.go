package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"kontakt/escalation"
)

// seedAppeals puts n appeals of n new clients into the queue of a new
// department (only the benchmark's department head and the head see
// them), in every channel, status and topic, a third of them overdue.
func seedAppeals(tb testing.TB, dept, tag string, n int) {
	tb.Helper()
	_, err := pool.Exec(context.Background(), `
		WITH c AS (
			INSERT INTO esc_clients (name, client_group, phone, email)
			SELECT 'Клиент ' || $1 || ' ' || g, 'student', '79' || lpad(g::text, 9, '0'), 'c' || g || '@' || $1 || '.example'
			FROM generate_series(1, $3::int) g
			RETURNING id
		)
		INSERT INTO esc_appeals (number, client_id, channel, external_id, kind, topic, client_group, text, status,
			queue, route, created_at, updated_at, first_response_due, resolve_due)
		SELECT $1 || '-' || id, id, (ARRAY['telegram','vk','webchat','email','phone','walkin'])[1 + id % 6], 'x' || id,
			'question', (ARRAY['dormitory','tuition','admission','scholarship'])[1 + id % 4], 'student',
			'Обращение о том, как оформить справку и когда будет ответ, номер ' || id,
			(ARRAY['new','assigned','forwarded','answered','resolved','closed'])[1 + id % 6], $2, $2,
			now() - (id % 1000) * interval '1 hour', now(), now() - interval '1 day' + (id % 3) * interval '1 day',
			now() + ((id % 3) - 1) * interval '3 days'
		FROM c`, tag, "dept:"+dept, n)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := pool.Exec(context.Background(), `ANALYZE esc_appeals; ANALYZE esc_clients`); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkInbox measures the inbox page, rendered whole (session, queries,
// template, audit record), with 10,000 appeals in the person's queue.
// Run: scripts/test.sh -run '^$' -bench Inbox ./operator/console
func BenchmarkInbox(b *testing.B) {
	e := newEnv(b, nil)
	tag := unique("B")
	seedAppeals(b, e.dept, tag, 10000)
	dept, _ := e.session(escalation.RoleDepartment)
	head, _ := e.session(escalation.RoleHead)
	cases := []struct {
		name   string
		cookie *http.Cookie
		query  string
	}{
		{"department/open", dept, ""},
		{"department/all", dept, "status=all"},
		{"department/overdue", dept, "overdue=1"},
		{"department/channel+topic", dept, "status=all&channel=vk&topic=tuition"},
		{"department/search-name", dept, "status=all&q=" + url.QueryEscape("клиент "+strings.ToLower(tag)+" 777")},
		{"department/search-phone", dept, "status=all&q=" + url.QueryEscape("+7 900 000 77 77")},
		{"head/queue", head, "queue=dept:" + e.dept},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				start := time.Now()
				w := e.do("GET", "/appeals?"+c.query, c.cookie, nil)
				times = append(times, time.Since(start))
				if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "data-id=") {
					b.Fatalf("%d, no rows", w.Code)
				}
			}
			slices.Sort(times)
			p := func(q float64) float64 {
				return float64(times[min(len(times)-1, int(q*float64(len(times))))]) / float64(time.Millisecond)
			}
			b.ReportMetric(p(0.50), "p50-ms")
			b.ReportMetric(p(0.99), "p99-ms")
		})
	}
}
