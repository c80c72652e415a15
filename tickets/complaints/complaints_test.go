package complaints_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func TestComplaintLifecycle(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		if err := deadlines.New(d.Svc).SeedHolidays(ctx); err != nil {
			t.Fatal(err)
		}
		officer := tickets.AgentActor(d.Officer(t, "officer@example.com"))
		loc := tickettest.Shanghai(t)

		// A letter from the regulator, logged a day after it arrived, for a new customer.
		received := tickettest.T0.Add(-24 * time.Hour)
		c, err := d.cps.Open(ctx, d.LiNa, complaints.NewComplaint{Source: tickets.SourceRegulator, Summary: "claim refused without reason", ReceivedAt: received,
			Customer: tickets.NewTicket{Name: "赵磊", Phone: "+8613500000000"}})
		if err != nil {
			t.Fatal(err)
		}
		if c.Ref() != "CP-000001" || c.Source != tickets.SourceRegulator || !c.ReceivedAt.Equal(received) || c.OfficerID == nil {
			t.Errorf("complaint %s source %s received %v officer %v", c.Ref(), c.Source, c.ReceivedAt, c.OfficerID)
		}
		// Received Tuesday 2026-11-24: due the end of Tuesday 2026-12-08.
		if got := c.DueAt.In(loc).Format(time.RFC3339); got != "2026-12-08T23:59:59+08:00" {
			t.Errorf("due %s", got)
		}
		if _, err := d.cps.Open(ctx, d.LiNa, complaints.NewComplaint{TicketRef: c.Ticket.Ref(), Summary: "again"}); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("second open complaint on one ticket: %v", err)
		}
		if _, err := d.cps.Open(ctx, d.LiNa, complaints.NewComplaint{TicketRef: c.Ticket.Ref(), Summary: "x", ReceivedAt: tickettest.T0.Add(time.Hour)}); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("complaint received in the future: %v", err)
		}

		// Agents do not handle complaints; officers do.
		if _, err := d.cps.SetStatus(ctx, d.LiNa, c.Ref(), tickets.ComplaintInvestigating, ""); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("agent moving a complaint: %v", err)
		}
		if _, err := d.cps.SetStatus(ctx, officer, c.Ref(), tickets.ComplaintInvestigating, "called the branch"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.cps.SetStatus(ctx, officer, c.Ref(), tickets.ComplaintClosed, ""); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("closing an undecided complaint: %v", err)
		}

		// One extension, to a later date, with a reason; the customer is told.
		until := time.Date(2026, 12, 18, 23, 59, 59, 0, loc)
		if _, err := d.cps.Extend(ctx, officer, c.Ref(), until, ""); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("extension without a reason: %v", err)
		}
		if _, err := d.cps.Extend(ctx, officer, c.Ref(), c.DueAt.Add(-time.Hour), "x"); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("extension to an earlier date: %v", err)
		}
		ext, err := d.cps.Extend(ctx, officer, c.Ref(), until, "waiting for the hospital's records")
		if err != nil {
			t.Fatal(err)
		}
		if !ext.ExtendedUntil.Equal(until) || !ext.DeadlineAt.Equal(until) || !ext.DueAt.Equal(c.DueAt) {
			t.Errorf("extended: until %v deadline %v due %v", ext.ExtendedUntil, ext.DeadlineAt, ext.DueAt)
		}
		if _, err := d.cps.Extend(ctx, officer, c.Ref(), until.Add(48*time.Hour), "again"); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("second extension: %v", err)
		}
		msgs := mustDetail(t, d.Svc, c.Ticket.Ref()).Messages
		if last := msgs[len(msgs)-1]; last.Direction != tickets.DirectionOutbound || last.DeliveryStatus != "queued" || !containsAll(last.Body, "CP-000001", "2026-12-18", "hospital") {
			t.Errorf("customer not told of the extension: %+v", last)
		}

		// The decision.
		if _, err := d.cps.Decide(ctx, officer, c.Ref(), "", "upheld"); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("decision without text: %v", err)
		}
		dec, err := d.cps.Decide(ctx, officer, c.Ref(), "The refusal is withdrawn; the claim will be paid.", "upheld")
		if err != nil {
			t.Fatal(err)
		}
		if dec.Status != tickets.ComplaintDecided || dec.DecidedAt == nil || dec.Outcome != "upheld" {
			t.Errorf("decided: %+v", dec)
		}
		if _, err := d.cps.SetStatus(ctx, officer, c.Ref(), tickets.ComplaintClosed, "archived"); err != nil {
			t.Fatal(err)
		}
		kinds := eventKinds(mustDetail(t, d.Svc, c.Ticket.Ref()).Events)
		for _, want := range []string{"complaint.opened", "complaint.status_changed", "complaint.extended", "complaint.decided"} {
			if !containsAll(fmtList(kinds), want) {
				t.Errorf("no %s event in %v", want, kinds)
			}
		}
	})
}

func TestComplaintWarningAndBreach(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		if err := deadlines.New(d.Svc).SeedHolidays(ctx); err != nil {
			t.Fatal(err)
		}
		officer := d.Officer(t, "officer@example.com")
		// The customer writes 投诉: a complaint received now, Wednesday 2026-11-25.
		res, err := d.Svc.Intake(ctx, tickettest.SMS("+8613800138000", "我要投诉！三个星期没人理我", "S1"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Complaint == nil {
			t.Fatal("the customer's 投诉 opened no complaint")
		}
		c, err := d.cps.Complaint(ctx, res.Complaint.Ref())
		if err != nil {
			t.Fatal(err)
		}
		if c.ID != res.Complaint.ID || c.TicketID != res.Ticket.ID || c.Source != tickets.SourceCustomer || *c.OfficerID != officer.ID {
			t.Fatalf("customer's complaint: %+v", c)
		}
		loc := tickettest.Shanghai(t)
		if got := c.DueAt.In(loc).Format(time.DateOnly); got != "2026-12-09" {
			t.Errorf("due %s, want 2026-12-09", got)
		}
		at := func(s string) {
			v, _ := time.ParseInLocation("2006-01-02 15:04", s, loc)
			d.Clock.Advance(v.Sub(d.Clock.Now()))
			d.sweep(t)
		}
		at("2026-12-07 23:00") // three working days left
		if n := tickettest.CountEvents(t, db, "complaint.warning"); n != 0 {
			t.Errorf("warned %d times with 3 working days left", n)
		}
		at("2026-12-08 00:00") // two working days left
		at("2026-12-08 12:00")
		if n := tickettest.CountEvents(t, db, "complaint.warning"); n != 1 {
			t.Errorf("%d warnings with 2 working days left, want 1", n)
		}
		at("2026-12-10 00:00") // overdue
		at("2026-12-11 00:00")
		if n := tickettest.CountEvents(t, db, "complaint.breached"); n != 1 {
			t.Errorf("%d complaint breaches, want 1", n)
		}
		overdue, _ := d.cps.Complaints(ctx, complaints.Filter{Overdue: true})
		if len(overdue) != 1 {
			t.Errorf("%d overdue complaints listed, want 1", len(overdue))
		}
		// Escalated to the admins and the officer's supervisors.
		boss, _ := d.Svc.Notices(ctx, d.Admin.Agent.ID, true, 0)
		if len(boss) == 0 || boss[0].Kind != "complaint.breached" {
			t.Errorf("admin notices %+v", boss)
		}
	})
}
