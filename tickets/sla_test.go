package tickets_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// taskIDs are the job ids of the timers a scheduler was given.
func taskIDs(sched *tickettest.Scheduler) map[string]bool {
	out := map[string]bool{}
	for _, t := range sched.Timers() {
		out[t.TaskID()] = true
	}
	return out
}

func TestPoliciesSetDeadlines(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		if err := deadlines.New(d.svc).SeedHolidays(ctx); err != nil {
			t.Fatal(err)
		}
		mustPolicy(t, d, &tickets.Policy{Name: "urgent", Priority: tickets.PriorityUrgent, FirstResponseSeconds: 3600, ResolutionSeconds: 4 * 3600})
		mustPolicy(t, d, &tickets.Policy{Name: "claims in working hours", Category: "claim", FirstResponseSeconds: 2 * 3600, ResolutionSeconds: 9 * 3600, WorkingTime: true})

		// No policy matches: the defaults.
		tk := d.ticket(t, "+8613800138000")
		if !tk.FirstResponseDueAt.Equal(t0.Add(24*time.Hour)) || !tk.ResolutionDueAt.Equal(t0.Add(48*time.Hour)) || tk.PolicyID != nil {
			t.Errorf("default deadlines %v / %v", tk.FirstResponseDueAt, tk.ResolutionDueAt)
		}
		// Raising the priority applies the urgent policy, counted from creation.
		d.clock.Advance(10 * time.Minute)
		up := mustDo(t)(d.svc.SetPriority(ctx, d.liNa, tk.Ref(), tickets.PriorityUrgent, "VIP customer"))
		if !up.FirstResponseDueAt.Equal(t0.Add(time.Hour)) || !up.ResolutionDueAt.Equal(t0.Add(4*time.Hour)) {
			t.Errorf("urgent deadlines %v / %v, want +1h / +4h from creation", up.FirstResponseDueAt, up.ResolutionDueAt)
		}
		// A working-time policy counts only working hours: t0 is Wednesday 17:30 in Shanghai.
		logged, err := d.svc.CreateTicket(ctx, d.liNa, tickets.NewTicket{Phone: "+8613900139000", Subject: "claim", Category: "claim"})
		if err != nil {
			t.Fatal(err)
		}
		loc := shanghai(t)
		if got := logged.FirstResponseDueAt.In(loc).Format("Mon 15:04"); got != "Thu 10:40" {
			t.Errorf("working-time first response due %s, want Thu 10:40 (2h of working time from Wed 17:40)", got)
		}
		if got := logged.ResolutionDueAt.In(loc).Format("Mon 15:04"); got != "Thu 17:40" { // 20 minutes on Wednesday, 8h40 on Thursday
			t.Errorf("working-time resolution due %s, want Thu 17:40", got)
		}
	})
}

func mustPolicy(t *testing.T, d *desk, p *tickets.Policy) *tickets.Policy {
	t.Helper()
	p, err := deadlines.New(d.svc).SavePolicy(context.Background(), d.admin, p)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Waiting on the customer stops the resolution clock; the deadline moves by the pause.
func TestPendingPausesResolutionClock(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		sched := &tickettest.Scheduler{}
		d.svc.SetScheduler(sched)
		tk := d.ticket(t, "+8613800138000")
		if _, err := d.svc.Reply(ctx, d.liNa, tk.Ref(), "Please send the invoice."); err != nil {
			t.Fatal(err)
		}
		d.clock.Advance(2 * time.Hour)
		paused := mustDo(t)(d.svc.SetStatus(ctx, d.liNa, tk.Ref(), tickets.StatusPending, "waiting for invoice"))
		if paused.PausedAt == nil {
			t.Fatal("pending ticket has no pause")
		}
		// While paused, the resolution deadline does not fire.
		d.clock.Advance(50 * time.Hour)
		if r, err := deadlines.New(d.svc).Sweep(ctx); err != nil || r.Breaches != 0 {
			t.Fatalf("sweep during pause: %+v %v", r, err)
		}
		// The customer answers after 50 hours: the deadline moves by 50 hours.
		res, err := d.svc.Intake(ctx, sms("+8613800138000", "here is the invoice", "SM-inv"))
		if err != nil {
			t.Fatal(err)
		}
		got := mustDetail(t, d.svc, res.Ticket.Ref())
		if got.Status != tickets.StatusOpen || got.PausedAt != nil {
			t.Fatalf("after the customer's reply: status %s paused %v, want open and running", got.Status, got.PausedAt)
		}
		if want := t0.Add(48*time.Hour + 50*time.Hour); !got.ResolutionDueAt.Equal(want) {
			t.Errorf("resolution due %v, want %v (48h + the 50h pause)", got.ResolutionDueAt, want)
		}
		var pauses []tickets.TicketPause
		if err := db.NewSelect().Model(&pauses).Scan(ctx); err != nil || len(pauses) != 1 || pauses[0].EndedAt == nil {
			t.Errorf("pauses recorded: %+v %v", pauses, err)
		}
		// A new timer was set for the moved deadline.
		if id := fmt.Sprintf("sla:resolution:%d:%d", tk.ID, got.ResolutionDueAt.Unix()); !taskIDs(sched)[id] {
			t.Errorf("no timer %s among %v", id, taskIDs(sched))
		}
	})
}

func TestCustomerTagsDriveRouting(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		vip, _ := d.svc.CreateTeam(ctx, d.admin, "VIP desk")
		if _, err := d.svc.SaveRoutingRule(ctx, d.admin, &tickets.RoutingRule{Name: "vip", CustomerTag: "vip", TeamID: vip.ID, SetPriority: tickets.PriorityHigh}); err != nil {
			t.Fatal(err)
		}
		first := d.ticket(t, "+8613800000001")
		if first.TeamID != nil {
			t.Fatal("routed as VIP before being tagged")
		}
		tags := " Gold , VIP "
		c, err := d.svc.UpdateCustomer(ctx, d.liNa, first.CustomerID, tickets.CustomerUpdate{Tags: &tags})
		if err != nil {
			t.Fatal(err)
		}
		if c.Tags != "gold,vip" {
			t.Errorf("tags stored as %q", c.Tags)
		}
		mustDo(t)(d.svc.SetStatus(ctx, d.admin, first.Ref(), tickets.StatusResolved, ""))
		d.clock.Advance(8 * 24 * time.Hour) // past the reopen window: a new ticket
		next := d.ticket(t, "+8613800000001")
		if next.TeamID == nil || *next.TeamID != vip.ID || next.Priority != tickets.PriorityHigh {
			t.Errorf("tagged customer's new ticket: team %v priority %s", next.TeamID, next.Priority)
		}
	})
}

// The first response is owed from the first contact: resolving and reopening a ticket
// nobody answered does not buy another 24 hours.
func TestReopenKeepsFirstResponseClock(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		tk := d.ticket(t, "+8613800000001")
		d.clock.Advance(20 * time.Hour)
		mustDo(t)(d.svc.SetStatus(ctx, d.liNa, tk.Ref(), tickets.StatusResolved, ""))
		d.clock.Advance(time.Hour)
		re := mustDo(t)(d.svc.SetStatus(ctx, d.liNa, tk.Ref(), tickets.StatusOpen, "customer called again"))
		if !re.FirstResponseDueAt.Equal(t0.Add(24 * time.Hour)) {
			t.Errorf("first response due %v after reopening, want the original %v", re.FirstResponseDueAt, t0.Add(24*time.Hour))
		}
		if !re.ResolutionDueAt.Equal(t0.Add(21*time.Hour + 48*time.Hour)) {
			t.Errorf("resolution due %v, want a new 48h window from the reopening", re.ResolutionDueAt)
		}
		d.clock.Advance(3 * time.Hour)
		if r, _ := deadlines.New(d.svc).Sweep(ctx); r.Breaches != 1 {
			t.Errorf("%d breaches at +24h, want the first response", r.Breaches)
		}
	})
}
