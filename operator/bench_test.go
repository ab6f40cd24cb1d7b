package operator_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"kontakt/bot/telegram/telegramtest"
	"kontakt/escalation"
	"kontakt/operator"
)

// BenchmarkRelayLatency measures a client message from escalation's
// AddMessage to its post in the topic (the fake Bot API has answered),
// when the group limit does not hold it back: the outbox read, the
// relay's event handling, its queue and the sendMessage call. The
// dispatcher's LISTEN/NOTIFY wake-up is not included (the test reads the
// outbox itself, so as not to drain other packages' events).
func BenchmarkRelayLatency(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b, telegramtest.Limits{}, func(c *operator.Config) { c.GroupRate = 1_000_000 })
	a := e.open(ctx, "Как оплатить общежитие?")
	for range 5 {
		e.pump(ctx)
	}
	th := thread(b, a.ID)
	if th == 0 {
		b.Fatal("no topic")
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		before := len(e.fake.SentToThread(e.group, th))
		start := time.Now()
		if _, err := e.svc.AddMessage(ctx, a.ID, escalation.Message{Author: escalation.FromClient, Text: fmt.Sprintf("сообщение %d", i)}); err != nil {
			b.Fatal(err)
		}
		for len(e.fake.SentToThread(e.group, th)) == before {
			e.pump(ctx)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
