package tickets_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func shanghai(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func seededCalendar(t *testing.T) *tickets.Calendar {
	t.Helper()
	svc := tickettest.Service(tickettest.SQLite(t), tickettest.NewClock(t0))
	if err := deadlines.New(svc).SeedHolidays(context.Background()); err != nil {
		t.Fatal(err)
	}
	return svc.Calendar()
}

// Complaints are decided within 10 working days of receipt, the receipt day not counted,
// on the State Council schedule: holidays off, make-up weekend days worked.
func TestComplaintDeadlinesAcrossHolidays(t *testing.T) {
	cal := seededCalendar(t)
	loc := shanghai(t)
	cases := []struct {
		name     string
		received time.Time
		want     string
	}{
		// 9/29, 9/30, National Day 10/1–10/7 off, 10/8, 10/9, Saturday 10/10 worked, 10/12–10/16.
		{"national day 2026", time.Date(2026, 9, 28, 15, 0, 0, 0, loc), "2026-10-16T23:59:59+08:00"},
		// 2/13, Saturday 2/14 worked, Spring Festival 2/15–2/23 off, 2/24–2/27, Saturday 2/28 worked, 3/2–3/4.
		{"spring festival 2026", time.Date(2026, 2, 12, 10, 0, 0, 0, loc), "2026-03-04T23:59:59+08:00"},
		// Received on a holiday: 10/8, 10/9, Saturday 10/10, 10/12–10/16, 10/19, 10/20.
		{"received on a holiday", time.Date(2026, 10, 3, 9, 0, 0, 0, loc), "2026-10-20T23:59:59+08:00"},
		// Late on Friday: the weekend does not count.
		{"friday evening", time.Date(2026, 11, 27, 23, 30, 0, 0, loc), "2026-12-11T23:59:59+08:00"},
		// 23:30 UTC is already the next day in Shanghai.
		{"utc crosses midnight", time.Date(2026, 11, 26, 16, 30, 0, 0, time.UTC), "2026-12-11T23:59:59+08:00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := cal.AddWorkingDays(c.received, 10).Format(time.RFC3339)
			if got != c.want {
				t.Errorf("10 working days after %s = %s, want %s", c.received.In(loc).Format(time.RFC3339), got, c.want)
			}
		})
	}
}

func TestWorkingDays(t *testing.T) {
	cal := seededCalendar(t)
	loc := shanghai(t)
	for day, want := range map[string]bool{
		"2026-10-01": false, // National Day
		"2026-10-10": true,  // Saturday, make-up day
		"2026-09-20": true,  // Sunday, make-up day
		"2026-10-11": false, // ordinary Sunday
		"2026-02-14": true,  // Saturday before Spring Festival, make-up day
		"2026-02-17": false, // Spring Festival
		"2026-11-25": true,  // ordinary Wednesday
	} {
		d, _ := time.ParseInLocation(time.DateOnly, day, loc)
		if got := cal.IsWorkingDay(d.Add(12 * time.Hour)); got != want {
			t.Errorf("%s working = %v, want %v", day, got, want)
		}
	}
}

func TestWorkingTime(t *testing.T) {
	cal := seededCalendar(t)
	loc := shanghai(t)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		from string
		d    time.Duration
		want string
	}{
		{"2026-11-25 10:00", 2 * time.Hour, "2026-11-25 12:00"},
		{"2026-11-25 17:00", 2 * time.Hour, "2026-11-26 10:00"}, // overnight
		{"2026-11-27 17:00", 2 * time.Hour, "2026-11-30 10:00"}, // over the weekend
		{"2026-11-28 12:00", 1 * time.Hour, "2026-11-30 10:00"}, // starts on a Saturday
		{"2026-11-25 07:00", 9 * time.Hour, "2026-11-25 18:00"}, // a whole working day
		{"2026-09-30 17:00", 2 * time.Hour, "2026-10-08 10:00"}, // over National Day
		{"2026-10-09 17:00", 2 * time.Hour, "2026-10-10 10:00"}, // into a make-up Saturday
	}
	for _, c := range cases {
		got := cal.AddWorkingTime(at(c.from), c.d)
		if !got.Equal(at(c.want)) {
			t.Errorf("%s + %v working = %s, want %s", c.from, c.d, got.In(loc).Format("2006-01-02 15:04"), c.want)
		}
		if back := cal.WorkingTimeBetween(at(c.from), got); back != c.d {
			t.Errorf("working time from %s to %s = %v, want %v", c.from, c.want, back, c.d)
		}
	}
}

func TestCalendarWithoutDataWarns(t *testing.T) {
	cal := seededCalendar(t)
	loc := shanghai(t)
	if got := cal.MissingYears(time.Date(2027, 12, 20, 0, 0, 0, 0, loc), time.Date(2028, 1, 10, 0, 0, 0, 0, loc)); len(got) != 1 || got[0] != 2028 {
		t.Errorf("missing years = %v, want [2028]", got)
	}
	if got := cal.MissingYears(time.Date(2026, 1, 1, 0, 0, 0, 0, loc), time.Date(2027, 12, 31, 0, 0, 0, 0, loc)); len(got) != 0 {
		t.Errorf("missing years = %v, want none", got)
	}
}

// An officer reads "working days left" off the board; it follows the State Council
// schedule: holidays do not count, make-up weekend days do.
func TestWorkingDaysLeft(t *testing.T) {
	cal := seededCalendar(t)
	loc := shanghai(t)
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, loc) }
	end := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 23, 59, 59, 0, loc) }
	cases := []struct {
		name          string
		now, deadline time.Time
		want          int
	}{
		{"due today", at(2026, 11, 25, 10, 0), end(2026, 11, 25), 0},
		{"a week ahead", at(2026, 11, 25, 10, 0), end(2026, 12, 2), 5},
		// 10/1–10/7 off; 10/8, 10/9, Saturday 10/10 worked, Sunday 10/11 off, 10/12.
		{"across national day 2026", at(2026, 9, 30, 10, 0), end(2026, 10, 12), 4},
		// Sunday 1/31 worked, 2/1–2/4, Spring Festival 2/5–2/13 off, Sunday 2/14 worked, 2/15, 2/16.
		// Counting weekends only would say 12.
		{"across spring festival 2027", at(2027, 1, 29, 15, 0), end(2027, 2, 16), 8},
		// Due Thursday 2/4; since then Sunday 2/14 (make-up) and Monday 2/15 were worked.
		{"overdue across spring festival 2027", at(2027, 2, 15, 10, 0), end(2027, 2, 4), -2},
		{"overdue by a weekend only", at(2026, 11, 28, 10, 0), end(2026, 11, 27), 0},
		{"overdue by one working day", at(2026, 11, 30, 10, 0), end(2026, 11, 27), -1},
		// 16:30 UTC is already Thursday 00:30 in Shanghai: the deadline is today.
		{"utc crosses midnight", time.Date(2026, 11, 25, 16, 30, 0, 0, time.UTC), end(2026, 11, 26), 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := cal.WorkingDaysLeft(c.now, c.deadline); got != c.want {
				t.Errorf("working days from %s to %s = %d, want %d", c.now.Format(time.RFC3339), c.deadline.Format(time.RFC3339), got, c.want)
			}
		})
	}
}

// A date picked for an extension means the end of that working day, in the desk's zone.
func TestEndOfWorkingDay(t *testing.T) {
	cal := seededCalendar(t)
	for _, c := range []struct{ date, want string }{
		{"2026-12-18", "2026-12-18T23:59:59+08:00"},
		{" 2026-10-10 ", "2026-10-10T23:59:59+08:00"}, // a make-up Saturday is worked
		{"2027-02-14", "2027-02-14T23:59:59+08:00"},   // and so is a make-up Sunday
		{"2026-10-01", ""},                            // National Day
		{"2027-02-08", ""},                            // Spring Festival
		{"2026-12-19", ""},                            // a Saturday
		{"18/12/2026", ""},
		{"2026-02-30", ""},
		{"", ""},
	} {
		got, err := cal.EndOfWorkingDay(c.date)
		switch {
		case c.want == "" && !errors.Is(err, tickets.ErrInvalid):
			t.Errorf("%q: %v, %v; want refused as invalid", c.date, got, err)
		case c.want != "" && (err != nil || got.Format(time.RFC3339) != c.want):
			t.Errorf("%q: %v, %v; want %s", c.date, got, err, c.want)
		}
	}
}
