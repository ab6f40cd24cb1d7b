package escalation_test

import (
	"context"
	"testing"
	"time"

	"kontakt/escalation"
)

// testCalendar is 9:00–18:00 Monday to Friday with 9 March 2026 (Monday)
// a holiday and Saturday 14 March 2026 a working day.
func testCalendar() escalation.Calendar {
	c := escalation.DefaultCalendar()
	c.Days = map[string]bool{"2026-03-09": false, "2026-03-14": true}
	return c
}

func TestCalendarAdd(t *testing.T) {
	cal := testCalendar()
	day := 9 * time.Hour // one working day
	tests := []struct {
		name string
		from time.Time
		add  time.Duration
		want time.Time
	}{
		{"within a day", msk(2026, 3, 2, 10, 0), 15 * time.Minute, msk(2026, 3, 2, 10, 15)},
		{"exactly to the end of the day", msk(2026, 3, 2, 17, 45), 15 * time.Minute, msk(2026, 3, 2, 18, 0)},
		{"over the evening", msk(2026, 3, 2, 17, 50), 15 * time.Minute, msk(2026, 3, 3, 9, 5)},
		{"before opening", msk(2026, 3, 2, 7, 30), 15 * time.Minute, msk(2026, 3, 2, 9, 15)},
		{"after closing", msk(2026, 3, 2, 20, 0), 15 * time.Minute, msk(2026, 3, 3, 9, 15)},
		{"over a weekend", msk(2026, 2, 27, 17, 50), 15 * time.Minute, msk(2026, 3, 2, 9, 5)},
		{"from a Sunday", msk(2026, 3, 1, 12, 0), 15 * time.Minute, msk(2026, 3, 2, 9, 15)},
		{"over a weekend and a holiday", msk(2026, 3, 6, 17, 50), 15 * time.Minute, msk(2026, 3, 10, 9, 5)},
		{"three days over a weekend", msk(2026, 2, 26, 11, 0), 3 * day, msk(2026, 3, 3, 11, 0)},
		{"three days over a weekend and a holiday", msk(2026, 3, 5, 11, 0), 3 * day, msk(2026, 3, 11, 11, 0)},
		{"into a working Saturday", msk(2026, 3, 13, 17, 0), 2 * time.Hour, msk(2026, 3, 14, 10, 0)},
		{"UTC input, Moscow hours", time.Date(2026, 3, 2, 14, 50, 0, 0, time.UTC), 15 * time.Minute, msk(2026, 3, 3, 9, 5)},
		{"zero from outside hours", msk(2026, 3, 1, 12, 0), 0, msk(2026, 3, 2, 9, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cal.Add(tt.from, tt.add); !got.Equal(tt.want) {
				t.Errorf("Add(%v, %v) = %v, want %v", tt.from, tt.add, got, tt.want)
			}
		})
	}
}

func TestHoursAt(t *testing.T) {
	cal := testCalendar()
	evening := escalation.Hours{Start: 14 * time.Hour, End: 22 * time.Hour}
	weekend := escalation.Hours{Days: []time.Weekday{time.Saturday, time.Sunday}}
	tests := []struct {
		name  string
		hours escalation.Hours
		at    time.Time
		want  bool
	}{
		{"calendar hours, working day", escalation.Hours{}, msk(2026, 3, 2, 10, 0), true},
		{"calendar hours, evening", escalation.Hours{}, msk(2026, 3, 2, 18, 0), false},
		{"calendar hours, Sunday", escalation.Hours{}, msk(2026, 3, 1, 10, 0), false},
		{"calendar hours, holiday", escalation.Hours{}, msk(2026, 3, 9, 10, 0), false},
		{"calendar hours, working Saturday", escalation.Hours{}, msk(2026, 3, 14, 10, 0), true},
		{"own hours, evening", evening, msk(2026, 3, 2, 20, 0), true},
		{"own hours, morning", evening, msk(2026, 3, 2, 10, 0), false},
		{"weekend shift, Saturday", weekend, msk(2026, 3, 7, 10, 0), true},
		{"weekend shift, Monday", weekend, msk(2026, 3, 2, 10, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.hours.At(cal, tt.at); got != tt.want {
				t.Errorf("At(%v) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}

func TestDeadlines(t *testing.T) {
	ctx := context.Background()
	friday := msk(2026, 3, 6, 17, 50) // the Monday after is a holiday
	tests := []struct {
		name       string
		cfg        escalation.Config
		holiday    bool
		wantFirst  time.Time
		wantFinish time.Time
	}{
		{"weekend only", escalation.Config{}, false, msk(2026, 3, 9, 9, 5), msk(2026, 3, 11, 17, 50)},
		{"weekend and a holiday", escalation.Config{}, true, msk(2026, 3, 10, 9, 5), msk(2026, 3, 12, 17, 50)},
		{"capped by the law", escalation.Config{ResolveDays: 40}, false, msk(2026, 3, 9, 9, 5), friday.Add(escalation.LegalLimit)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: friday}
			cfg := tt.cfg
			cfg.Now = clk.Now
			s := escalation.New(pool, cfg)
			if tt.holiday {
				// 9 March 2026 is a real public holiday (8 March falls on a Sunday).
				if err := s.SetCalendarDay(ctx, msk(2026, 3, 9, 0, 0), false, "перенос 8 Марта"); err != nil {
					t.Fatal(err)
				}
				// A fresh service sees it only after loading the calendar.
				s = escalation.New(pool, cfg)
				if err := s.LoadCalendar(ctx); err != nil {
					t.Fatal(err)
				}
			}
			a := openFor(t, s, escalation.Applicant, "admission")
			if !a.FirstResponseDue.Equal(tt.wantFirst) {
				t.Errorf("first response due %v, want %v", a.FirstResponseDue.In(escalation.Moscow), tt.wantFirst)
			}
			if !a.ResolveDue.Equal(tt.wantFinish) {
				t.Errorf("resolve due %v, want %v", a.ResolveDue.In(escalation.Moscow), tt.wantFinish)
			}
		})
	}
}
