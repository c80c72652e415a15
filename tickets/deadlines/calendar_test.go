package deadlines_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func TestAdminCorrectsCalendar(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t, tickettest.SQLite(t))
	svc, admin := d.Svc, d.Admin
	if err := d.dl.SeedHolidays(ctx); err != nil {
		t.Fatal(err)
	}
	loc := tickettest.Shanghai(t)
	typhoon := time.Date(2026, 11, 26, 12, 0, 0, 0, loc)
	if !svc.Calendar().IsWorkingDay(typhoon) {
		t.Fatal("2026-11-26 should start as a working day")
	}
	if _, err := d.dl.SetCalendarDay(ctx, admin, "2026-11-26", tickets.DayHoliday, "typhoon closure"); err != nil {
		t.Fatal(err)
	}
	if svc.Calendar().IsWorkingDay(typhoon) {
		t.Error("an admin's holiday is still a working day")
	}
	// Seeding again keeps the admin's correction.
	if err := d.dl.SeedHolidays(ctx); err != nil {
		t.Fatal(err)
	}
	if svc.Calendar().IsWorkingDay(typhoon) {
		t.Error("reseeding undid the admin's correction")
	}
	// "normal" undoes a seeded holiday.
	if _, err := d.dl.SetCalendarDay(ctx, admin, "2026-10-05", tickets.DayNormal, ""); err != nil {
		t.Fatal(err)
	}
	if !svc.Calendar().IsWorkingDay(time.Date(2026, 10, 5, 12, 0, 0, 0, loc)) {
		t.Error("a Monday set back to normal is not a working day")
	}
	for _, bad := range []struct {
		day  string
		kind tickets.DayKind
	}{{"2026-13-01", tickets.DayHoliday}, {"tomorrow", tickets.DayHoliday}, {"2026-11-26", "vacation"}, {"0000-01-01", tickets.DayHoliday}, {"2101-01-01", tickets.DayWorkday}} {
		if _, err := d.dl.SetCalendarDay(ctx, admin, bad.day, bad.kind, ""); err == nil {
			t.Errorf("SetCalendarDay(%s, %s) accepted", bad.day, bad.kind)
		}
	}
}

// TestCalendarEditRetimesOpenTickets: a day an admin closes (a typhoon) moves the deadlines
// of open tickets counted in working time, also when the re-timing runs in a worker whose
// calendar was loaded before the edit; deadlines counted in clock time and resolved
// tickets stay as they are.
func TestCalendarEditRetimesOpenTickets(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		if err := d.dl.SeedHolidays(ctx); err != nil {
			t.Fatal(err)
		}
		// The admin's process hands the re-timing to a worker (here: d.Svc, its calendar
		// loaded before the edit).
		console := tickettest.Service(db, d.Clock)
		console.SetScheduler(&tickettest.Scheduler{})
		mustPolicy(t, d, &tickets.Policy{Name: "claims in working hours", Category: "claim", FirstResponseSeconds: 2 * 3600, ResolutionSeconds: 9 * 3600, WorkingTime: true})
		claim, err := d.Svc.CreateTicket(ctx, d.LiNa, tickets.NewTicket{Phone: "+8613900139001", Subject: "claim", Category: "claim"})
		if err != nil {
			t.Fatal(err)
		}
		done, err := d.Svc.CreateTicket(ctx, d.LiNa, tickets.NewTicket{Phone: "+8613900139002", Subject: "claim", Category: "claim"})
		if err != nil {
			t.Fatal(err)
		}
		mustDo(t)(d.Svc.SetStatus(ctx, d.Admin, done.Ref(), tickets.StatusResolved, ""))
		plain := d.Ticket(t, "+8613800138009")
		loc := tickettest.Shanghai(t)
		due := func(ref string) string {
			return d.Detail(t, ref).FirstResponseDueAt.In(loc).Format("Mon 15:04")
		}
		if got := due(claim.Ref()); got != "Thu 10:30" {
			t.Fatalf("first response due %s before the edit, want Thu 10:30", got)
		}
		doneDue, plainDue := due(done.Ref()), due(plain.Ref())

		// Thursday 26 November closes.
		if _, err := deadlines.New(console).SetCalendarDay(ctx, d.Admin, "2026-11-26", tickets.DayHoliday, "typhoon closure"); err != nil {
			t.Fatal(err)
		}
		if got := due(claim.Ref()); got != "Thu 10:30" {
			t.Fatalf("re-timed before the worker ran: %s", got)
		}
		if _, err := d.dl.ReapplyDeadlines(ctx); err != nil {
			t.Fatal(err)
		}
		if got := due(claim.Ref()); got != "Fri 10:30" {
			t.Errorf("first response due %s after Thursday closed, want Fri 10:30", got)
		}
		if got := due(done.Ref()); got != doneDue {
			t.Errorf("a resolved ticket was re-timed: %s, was %s", got, doneDue)
		}
		if got := due(plain.Ref()); got != plainDue {
			t.Errorf("a clock-time deadline moved: %s, was %s", got, plainDue)
		}
	})
}
