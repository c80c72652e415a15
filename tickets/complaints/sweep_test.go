package complaints_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// A ticket the tickets' sweep cannot handle (here one whose breach the database refuses)
// does not keep complaints from being escalated: the complaints' sweep has stages and
// transactions of its own, so the overdue complaint is recorded and the head of complaints
// told all the same, once, and the next sweeps change nothing more.
func TestComplaintSweepRunsWhateverTheTicketsSweepDid(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		d.Officer(t, "officer@example.com")
		stuck := d.Ticket(t, "+8613800138001")
		other := d.Ticket(t, "+8613800138002")
		c, err := d.cps.Open(ctx, d.LiNa, complaints.NewComplaint{TicketRef: other.Ref(), Summary: "nobody called back"})
		if err != nil {
			t.Fatal(err)
		}
		lift := tickettest.FailUpdates(t, db, "tickets", fmt.Sprintf("NEW.id = %d AND NEW.resolution_breached_at IS NOT NULL", stuck.ID))

		// Three weeks on, every deadline has passed: both tickets' clocks and the
		// complaint's 10 working days.
		d.Clock.Advance(21 * 24 * time.Hour)
		if _, err := deadlines.New(d.Svc).Sweep(ctx); err == nil || !strings.Contains(err.Error(), "injected failure") {
			t.Errorf("tickets' sweep with a stuck ticket returned %v, want the failure", err)
		}
		r, err := d.cps.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r != (complaints.SweepResult{Warnings: 1, Breaches: 1}) {
			t.Errorf("complaints' sweep reported %+v, want the complaint's warning and breach", r)
		}
		got, err := d.cps.Complaint(ctx, c.Ref())
		if err != nil {
			t.Fatal(err)
		}
		if got.BreachedAt == nil || got.WarnedAt == nil || got.WarnAt != nil {
			t.Errorf("%s is overdue: warned %v (next %v), breached %v", c.Ref(), got.WarnedAt, got.WarnAt, got.BreachedAt)
		}
		heads, err := d.Svc.Notices(ctx, d.Admin.Agent.ID, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		told := 0
		for _, n := range heads {
			if n.Kind == "complaint.breached" {
				told++
			}
		}
		if told != 1 {
			t.Errorf("the head of complaints has %d overdue-complaint notices, want 1", told)
		}

		lift()
		d.sweep(t)
		if _, again := d.sweep(t); again != (complaints.SweepResult{}) {
			t.Errorf("a later sweep handled %+v again", again)
		}
		for _, kind := range []string{"complaint.warning", "complaint.breached"} {
			if n := tickettest.CountEvents(t, db, kind); n != 1 {
				t.Errorf("%d %s events, want 1", n, kind)
			}
		}
	})
}

// A complaint's timers (from before wake-ups were shared) still apply only while the
// complaint waits on them; other timers are the tickets'.
func TestTimerDue(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t, tickettest.SQLite(t))
	officer := tickets.AgentActor(d.Officer(t, "officer@example.com"))
	tk := d.Ticket(t, "+8613800138000")
	c, err := d.cps.Open(ctx, d.LiNa, complaints.NewComplaint{TicketRef: tk.Ref(), Summary: "nobody called back"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := tickets.Timer{Kind: "complaint", ID: c.ID, Due: c.DeadlineAt}
	warning := tickets.Timer{Kind: "complaint-warn", ID: c.ID, Due: c.DeadlineAt}
	due := func(tm tickets.Timer) bool {
		t.Helper()
		if !complaints.IsTimer(tm.Kind) {
			t.Fatalf("%s is not a complaint's timer", tm.Kind)
		}
		ok, err := d.cps.TimerDue(ctx, tm)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !due(deadline) || !due(warning) {
		t.Error("an open complaint's timers do not apply")
	}
	if moved := (tickets.Timer{Kind: "complaint", ID: c.ID, Due: c.DeadlineAt.Add(-time.Hour)}); due(moved) {
		t.Error("a timer of a deadline since moved applies")
	}
	if due(tickets.Timer{Kind: "complaint", ID: c.ID + 1, Due: c.DeadlineAt}) {
		t.Error("a timer of no complaint applies")
	}
	if _, err := d.cps.Decide(ctx, officer, c.Ref(), "We apologise.", "upheld"); err != nil {
		t.Fatal(err)
	}
	if due(deadline) || due(warning) {
		t.Error("a decided complaint's timers still apply")
	}
	for _, kind := range []string{"first", "first-warn1", "resolution", "resolution-warn2", "reapply"} {
		if complaints.IsTimer(kind) {
			t.Errorf("%s taken for a complaint's timer", kind)
		}
	}
}
