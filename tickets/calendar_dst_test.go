package tickets_test

import (
	"context"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// zoneService is a desk whose calendar (09:00–18:00, quiet hours 21:00–08:00) is kept in
// zone, with the given days worked although they are Sundays: the days clocks change in
// New York and London are Sundays, and only a desk that works them sees its hours there.
func zoneService(t *testing.T, zone string, now time.Time, worked ...string) (*tickets.Service, tickets.Actor) {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	log := tickettest.Logger()
	cal := tickets.NewCalendar(loc, 9*time.Hour, 18*time.Hour, log)
	svc := tickets.NewService(tickettest.SQLite(t), tickettest.NewClock(now), tickets.Config{DefaultCountry: "86", PasswordCost: 4, Calendar: cal}, log)
	admin := adminActor(t, svc)
	for _, day := range worked {
		if _, err := deadlines.New(svc).SetCalendarDay(context.Background(), admin, day, tickets.DayWorkday, "worked Sunday"); err != nil {
			t.Fatal(err)
		}
	}
	return svc, admin
}

func rfc3339(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Working hours are times on the wall clock: 09:00 to 18:00 also on the days the clocks
// go forward or back, so working-time deadlines and the end of the working day fall
// where an agent in that zone expects them.
func TestWorkingTimeOnDaylightSavingDays(t *testing.T) {
	cases := []struct {
		name   string
		zone   string
		worked []string // Sundays worked (an admin's calendar days)
		from   string
		d      time.Duration
		want   string
	}{
		{"new york spring forward: opens at 09:00 EDT", "America/New_York", []string{"2026-03-08"},
			"2026-03-08T09:00:00-04:00", 2 * time.Hour, "2026-03-08T11:00:00-04:00"},
		{"new york spring forward: the day ends at 18:00 EDT", "America/New_York", []string{"2026-03-08"},
			"2026-03-08T17:00:00-04:00", 2 * time.Hour, "2026-03-09T10:00:00-04:00"},
		{"new york fall back: opens at 09:00 EST", "America/New_York", []string{"2026-11-01"},
			"2026-11-01T08:00:00-05:00", time.Hour, "2026-11-01T10:00:00-05:00"},
		{"new york fall back: the day ends at 18:00 EST", "America/New_York", []string{"2026-11-01"},
			"2026-11-01T17:30:00-05:00", time.Hour, "2026-11-02T09:30:00-05:00"},
		{"new york fall back: a whole working day", "America/New_York", []string{"2026-11-01"},
			"2026-11-01T00:30:00-04:00", 9 * time.Hour, "2026-11-01T18:00:00-05:00"},
		{"london spring forward: opens at 09:00 BST", "Europe/London", []string{"2026-03-29"},
			"2026-03-29T08:30:00+01:00", time.Hour, "2026-03-29T10:00:00+01:00"},
		{"london spring forward: the day ends at 18:00 BST", "Europe/London", []string{"2026-03-29"},
			"2026-03-29T17:45:00+01:00", time.Hour, "2026-03-30T09:45:00+01:00"},
		{"london fall back: the day ends at 18:00 GMT", "Europe/London", []string{"2026-10-25"},
			"2026-10-25T17:00:00Z", 2 * time.Hour, "2026-10-26T10:00:00Z"},
		{"london fall back: opens at 09:00 GMT", "Europe/London", []string{"2026-10-25"},
			"2026-10-25T07:00:00Z", 3 * time.Hour, "2026-10-25T12:00:00Z"},
		{"shanghai, no daylight saving: unchanged", "Asia/Shanghai", nil,
			"2026-11-25T17:00:00+08:00", 2 * time.Hour, "2026-11-26T10:00:00+08:00"},
		{"shanghai, a whole working day", "Asia/Shanghai", nil,
			"2026-11-25T07:00:00+08:00", 9 * time.Hour, "2026-11-25T18:00:00+08:00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			from, want := rfc3339(t, c.from), rfc3339(t, c.want)
			svc, _ := zoneService(t, c.zone, from, c.worked...)
			cal := svc.Calendar()
			loc := cal.Location()
			got := cal.AddWorkingTime(from, c.d)
			if !got.Equal(want) {
				t.Errorf("%s + %v of working time = %s, want %s", from.In(loc).Format(time.RFC3339), c.d, got.In(loc).Format(time.RFC3339), want.In(loc).Format(time.RFC3339))
			}
			if back := cal.WorkingTimeBetween(from, want); back != c.d {
				t.Errorf("working time from %s to %s = %v, want %v", from.In(loc).Format(time.RFC3339), want.In(loc).Format(time.RFC3339), back, c.d)
			}
		})
	}
}

// A working-time SLA policy's deadline on a worked Sunday that is a daylight-saving day
// is the one an agent there counts on the wall clock.
func TestWorkingTimeDeadlineOnDaylightSavingDay(t *testing.T) {
	ctx := context.Background()
	// Sunday 8 March 2026, 08:30 EDT (the clocks went forward at 02:00).
	svc, admin := zoneService(t, "America/New_York", rfc3339(t, "2026-03-08T08:30:00-04:00"), "2026-03-08")
	if _, err := deadlines.New(svc).SavePolicy(ctx, admin, &tickets.Policy{Name: "working hours", FirstResponseSeconds: 2 * 3600, ResolutionSeconds: 9 * 3600, WorkingTime: true}); err != nil {
		t.Fatal(err)
	}
	tk, err := svc.Intake(ctx, sms("+8613800138000", "hello", "SM-dst-1"))
	if err != nil {
		t.Fatal(err)
	}
	loc := svc.Calendar().Location()
	if got, want := tk.Ticket.FirstResponseDueAt.In(loc).Format(time.RFC3339), "2026-03-08T11:00:00-04:00"; got != want {
		t.Errorf("first response due %s, want %s (2 working hours from the 09:00 opening)", got, want)
	}
	if got, want := tk.Ticket.ResolutionDueAt.In(loc).Format(time.RFC3339), "2026-03-08T18:00:00-04:00"; got != want {
		t.Errorf("resolution due %s, want %s (a whole working day: the end of it)", got, want)
	}
}

// Whatever the zone and the instant, working time is counted on the wall clock: a
// deadline lands inside working hours, the working time back to its start is what was
// added, and quiet hours end at 08:00 on the clock, never more than a night away.
func FuzzWorkingHoursWallClock(f *testing.F) {
	zones := []string{"Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Lord_Howe", "America/Santiago", "America/Havana"}
	f.Add(uint8(1), int64(1772951400), uint32(120))  // New York, 2026-03-08 01:30 EST, clocks go forward
	f.Add(uint8(1), int64(1793512800), uint32(540))  // New York, 2026-11-01 01:00 EST, clocks went back
	f.Add(uint8(2), int64(1774744200), uint32(60))   // London, 2026-03-29 00:30 GMT, clocks go forward
	f.Add(uint8(2), int64(1792893600), uint32(180))  // London, 2026-10-25 02:00 GMT, clocks went back
	f.Add(uint8(0), int64(1795597200), uint32(120))  // Shanghai, 2026-11-25 17:00
	f.Add(uint8(3), int64(1775318400), uint32(600))  // Lord Howe, 2026-04-05 03:00, half an hour back
	f.Add(uint8(4), int64(1788580800), uint32(1000)) // Santiago, 2026-09-05 00:00, midnight skipped next
	log := tickettest.Logger()
	cals := make([]*tickets.Calendar, len(zones))
	for i, z := range zones {
		loc, err := time.LoadLocation(z)
		if err != nil {
			f.Fatal(err)
		}
		cals[i] = tickets.NewCalendar(loc, 9*time.Hour, 18*time.Hour, log)
	}
	const lo, hi = 946684800, 2208988800 // 2000 to 2040
	f.Fuzz(func(t *testing.T, zone uint8, unix int64, minutes uint32) {
		cal := cals[int(zone)%len(cals)]
		loc := cal.Location()
		from := time.Unix(lo+((unix%(hi-lo))+(hi-lo))%(hi-lo), 0)
		d := time.Duration(minutes%(5*24*60)) * time.Minute

		got := cal.AddWorkingTime(from, d)
		if got.Before(from) {
			t.Fatalf("%s + %v = %s, before the start", from.In(loc), d, got.In(loc))
		}
		if back := cal.WorkingTimeBetween(from, got); back != d {
			t.Fatalf("working time from %s to %s = %v, want %v", from.In(loc), got.In(loc), back, d)
		}
		if d > 0 {
			h, m, s := got.In(loc).Clock()
			if tod := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second; tod <= 9*time.Hour || tod > 18*time.Hour {
				t.Fatalf("%s + %v of working time = %s, outside 09:00-18:00", from.In(loc), d, got.In(loc))
			}
		}

		until, quiet := cal.NightEnd(from, 21*time.Hour, 8*time.Hour)
		h, _, _ := from.In(loc).Clock()
		night := h >= 21 || h < 8
		if quiet != night {
			t.Fatalf("%s: quiet %v, want %v", from.In(loc), quiet, night)
		}
		if quiet {
			uh, um, us := until.In(loc).Clock()
			if !until.After(from) || until.Sub(from) > 12*time.Hour || uh != 8 || um != 0 || us != 0 {
				t.Fatalf("quiet hours at %s end at %s, want the next 08:00", from.In(loc), until.In(loc))
			}
		}
	})
}
