package escalation

import (
	"slices"
	"time"
)

// Moscow is the institute's time zone (UTC+3, no daylight saving since 2014).
var Moscow = time.FixedZone("MSK", 3*60*60)

// Calendar is the working calendar deadlines are counted on: working hours,
// weekends, and exceptions (public holidays, and weekend days made working by
// a transfer). The zero value is not useful; start from DefaultCalendar.
type Calendar struct {
	Location   *time.Location
	Start, End time.Duration // working hours as offsets from midnight
	Weekend    []time.Weekday
	// Days are exceptions by date ("2006-01-02"): false is a holiday, true
	// a working day that would otherwise be a weekend.
	Days map[string]bool
}

// DefaultCalendar is 9:00–18:00 Moscow time, Monday to Friday, no holidays.
func DefaultCalendar() Calendar {
	return Calendar{
		Location: Moscow,
		Start:    9 * time.Hour,
		End:      18 * time.Hour,
		Weekend:  []time.Weekday{time.Saturday, time.Sunday},
		Days:     map[string]bool{},
	}
}

// DayLength is the working time of one day.
func (c Calendar) DayLength() time.Duration { return c.End - c.Start }

// WorkingDay reports whether the date of t (in the calendar's zone) is a
// working day.
func (c Calendar) WorkingDay(t time.Time) bool {
	t = t.In(c.loc())
	if w, ok := c.Days[t.Format(time.DateOnly)]; ok {
		return w
	}
	return !slices.Contains(c.Weekend, t.Weekday())
}

// Working reports whether t falls in working hours.
func (c Calendar) Working(t time.Time) bool {
	t = t.In(c.loc())
	if !c.WorkingDay(t) {
		return false
	}
	off := t.Sub(midnight(t))
	return off >= c.Start && off < c.End
}

// Add returns the moment d of working time after t. Time outside working
// hours does not count, so 15 minutes from Friday 17:50 is Monday 9:05.
func (c Calendar) Add(t time.Time, d time.Duration) time.Time {
	loc := c.loc()
	t = t.In(loc)
	if c.End <= c.Start {
		return t.Add(d) // no working hours: count calendar time
	}
	// Ten years of days without a working one means a broken calendar.
	for range 3660 {
		day := midnight(t)
		if c.WorkingDay(day) {
			start, end := day.Add(c.Start), day.Add(c.End)
			if t.Before(start) {
				t = start
			}
			if t.Before(end) {
				if left := end.Sub(t); d <= left {
					return t.Add(d)
				} else {
					d -= left
				}
			}
		}
		t = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
	}
	return t.Add(d)
}

func (c Calendar) loc() *time.Location {
	if c.Location == nil {
		return Moscow
	}
	return c.Location
}

func midnight(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

// Hours are a staff member's working hours. The zero value means the
// calendar's hours and working days.
type Hours struct {
	Start time.Duration  `json:"start,omitempty"` // offset from midnight
	End   time.Duration  `json:"end,omitempty"`   // zero: calendar hours
	Days  []time.Weekday `json:"days,omitempty"`  // empty: calendar working days
}

// At reports whether a person with these hours works at t. Holidays of the
// calendar apply to everyone.
func (h Hours) At(c Calendar, t time.Time) bool {
	t = t.In(c.loc())
	key := t.Format(time.DateOnly)
	if w, ok := c.Days[key]; ok && !w {
		return false
	}
	if len(h.Days) > 0 {
		if !slices.Contains(h.Days, t.Weekday()) {
			return false
		}
	} else if !c.WorkingDay(t) {
		return false
	}
	start, end := c.Start, c.End
	if h.End > h.Start {
		start, end = h.Start, h.End
	}
	off := t.Sub(midnight(t))
	return off >= start && off < end
}
