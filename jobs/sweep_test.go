package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/jobs"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// A wake-up sweeps every deadline due: the tickets', then the complaints', whatever the
// tickets' sweep did, so a ticket the sweep cannot handle never keeps a complaint from
// being escalated. The task still fails, so that it is retried, and what both sweeps
// handled is reported.
func TestWakeUpSweepsComplaintsPastAStuckTicket(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := tickettest.NewClock(time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC))
		svc := tickettest.Service(db, clock)
		cps := complaints.New(svc)
		svc.SetComplaints(cps)
		admin, err := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "admin@example.com", Role: tickets.RoleAdmin, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		var tks []*tickets.Ticket
		for i := range 2 {
			res, err := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: fmt.Sprintf("+86137001370%02d", i), Body: "where is my refund?"})
			if err != nil {
				t.Fatal(err)
			}
			tks = append(tks, res.Ticket)
		}
		stuck, other := tks[0], tks[1]
		c, err := cps.Open(ctx, tickets.AgentActor(admin), complaints.NewComplaint{TicketRef: other.Ref(), Summary: "nobody called back"})
		if err != nil {
			t.Fatal(err)
		}
		lift := tickettest.FailUpdates(t, db, "tickets", fmt.Sprintf("NEW.id = %d AND NEW.resolution_breached_at IS NOT NULL", stuck.ID))
		defer lift()
		clock.Advance(21 * 24 * time.Hour) // past both tickets' deadlines and the complaint's 10 working days

		h := jobs.NewHandlers(svc, tickettest.Logger(), nil, nil)
		var swept deadlines.SweepResult
		var sweptComplaints complaints.SweepResult
		h.Swept = func(r deadlines.SweepResult, c complaints.SweepResult) { swept, sweptComplaints = r, c }
		mux := asynq.NewServeMux()
		h.Register(mux)
		payload, _ := json.Marshal(map[string]any{"kind": "wake", "due": clock.Now().Unix()})
		if err := mux.ProcessTask(ctx, asynq.NewTask(jobs.TypeDeadline, payload)); err == nil || !strings.Contains(err.Error(), "injected failure") {
			t.Errorf("wake-up with a stuck ticket: %v, want the failure (so the task is retried)", err)
		}
		got, err := cps.Complaint(ctx, c.Ref())
		if err != nil {
			t.Fatal(err)
		}
		if got.BreachedAt == nil || countKind(t, db, "complaint.breached") != 1 {
			t.Errorf("%s is overdue but its breach was not recorded", c.Ref())
		}
		if swept.Breaches == 0 || sweptComplaints != (complaints.SweepResult{Warnings: 1, Breaches: 1}) {
			t.Errorf("reported %+v and %+v, want the tickets' breaches and the complaint's warning and breach", swept, sweptComplaints)
		}
	})
}
