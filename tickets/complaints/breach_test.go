package complaints_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// A missed resolution opens a complaint with its 10-working-day clock, given to the
// complaint officer with the fewest open complaints.
func TestResolutionBreachOpensComplaint(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		if err := deadlines.New(d.Svc).SeedHolidays(ctx); err != nil {
			t.Fatal(err)
		}
		busy := d.Officer(t, "busy@example.com")
		free := d.Officer(t, "free@example.com")
		earlier := d.Ticket(t, "+8613700000001")
		if _, err := d.cps.Open(ctx, d.Admin, complaints.NewComplaint{TicketRef: earlier.Ref(), Summary: "rude agent"}); err != nil {
			t.Fatal(err)
		}
		if c, _ := d.cps.Complaints(ctx, complaints.Filter{TicketID: earlier.ID}); *c[0].OfficerID != busy.ID {
			t.Fatalf("first complaint went to %d, want the first officer", *c[0].OfficerID)
		}

		tk := d.Ticket(t, "+8613800138000")
		if _, err := d.Svc.Reply(ctx, d.LiNa, tk.Ref(), "looking into it"); err != nil {
			t.Fatal(err)
		}
		d.Clock.Advance(48 * time.Hour)
		r, err := deadlines.New(d.Svc).Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := d.cps.Complaints(ctx, complaints.Filter{TicketID: tk.ID})
		if err != nil || len(cs) != 1 {
			t.Fatalf("complaints for %s: %d (%v), sweep %+v", tk.Ref(), len(cs), err, r)
		}
		c := cs[0]
		if c.Source != tickets.SourceSLABreach || c.Status != tickets.ComplaintReceived || *c.OfficerID != free.ID {
			t.Errorf("complaint %+v", c)
		}
		// Received Friday 2026-11-27 17:30 Shanghai: 10 working days is Friday 2026-12-11.
		if got := c.DueAt.In(tickettest.Shanghai(t)).Format(time.RFC3339); got != "2026-12-11T23:59:59+08:00" {
			t.Errorf("complaint due %s", got)
		}
		d.Clock.Advance(24 * time.Hour)
		if _, err := deadlines.New(d.Svc).Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if n := tickettest.CountEvents(t, db, "complaint.opened"); n != 2 {
			t.Errorf("%d complaint.opened events, want 2 (one per ticket)", n)
		}
	})
}
