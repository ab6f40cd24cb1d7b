package escalation_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"kontakt/escalation"
)

// BenchmarkOpenAssignMessage measures the registration path of the contact
// centre: a client's appeal is opened, a contact manager takes it and
// replies. One op is one appeal (three transactions).
func BenchmarkOpenAssignMessage(b *testing.B) {
	ctx := context.Background()
	s, _ := newService(b)
	var staff []*escalation.Staff
	for range 8 {
		staff = append(staff, addStaff(b, s, "", 1<<30, escalation.RoleContact))
	}
	run := unique("bench")
	var n atomic.Int64
	// A server handles many clients at once: 8 goroutines per core keep
	// the database busy while others wait for their round trips.
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			a, err := s.Open(ctx, escalation.OpenAppeal{
				Client: escalation.ClientInfo{Channel: escalation.Telegram, ExternalID: fmt.Sprintf("%s-%d", run, i%500),
					Name: "Клиент", Group: escalation.Applicant},
				Topic: "admission",
				Text:  "Какие документы нужны для поступления в магистратуру?",
			})
			if err != nil {
				b.Fatal(err)
			}
			p := staff[i%int64(len(staff))]
			if _, err := s.Assign(ctx, a.ID, p.ID, p.ID); err != nil {
				b.Fatal(err)
			}
			if _, err := s.AddMessage(ctx, a.ID, escalation.Message{Author: escalation.FromOperator, StaffID: p.ID,
				Text: "Здравствуйте! Список документов на сайте, раздел «Магистратура»."}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appeals/s")
}
