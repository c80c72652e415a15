package tickets_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
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
		if err := d.svc.SeedHolidays(ctx); err != nil {
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
	p, err := d.svc.SavePolicy(context.Background(), d.admin, p)
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
		if r, err := d.svc.Sweep(ctx); err != nil || r.Breaches != 0 {
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

func TestWarningsThenEscalation(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		tk := d.ticket(t, "+8613800138000")
		mustDo(t)(d.svc.Assign(ctx, d.liNa, tk.Ref(), tickets.Assignment{AssigneeID: &d.liNa.Agent.ID}))

		steps := []struct {
			at               time.Duration
			warnings, breach int
		}{
			{17 * time.Hour, 0, 0},                // 71% of 24h
			{18 * time.Hour, 1, 0},                // 75%
			{20 * time.Hour, 1, 0},                // still only one
			{21*time.Hour + 36*time.Minute, 2, 0}, // 90%
			{24*time.Hour - time.Second, 2, 0},
			{24 * time.Hour, 2, 1}, // breached
			{30 * time.Hour, 2, 1}, // once
		}
		for _, st := range steps {
			d.clock.Advance(t0.Add(st.at).Sub(d.clock.Now()))
			if _, err := d.svc.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
			w := tickettest.CountEvents(t, db, "sla.warning")
			b := tickettest.CountEvents(t, db, "sla.breached")
			if w != st.warnings || b != st.breach {
				t.Errorf("at +%v: %d warnings, %d breaches; want %d, %d", st.at, w, b, st.warnings, st.breach)
			}
		}
		got := mustDetail(t, d.svc, tk.Ref())
		if got.Priority != tickets.PriorityHigh || got.FirstResponseBreachedAt == nil {
			t.Errorf("after the breach: priority %s breached %v, want high", got.Priority, got.FirstResponseBreachedAt)
		}
		mine, _ := d.svc.Notices(ctx, d.liNa.Agent.ID, false, 0)
		boss, _ := d.svc.Notices(ctx, d.chen.Agent.ID, false, 0)
		if len(mine) != 2 || len(boss) != 1 || boss[0].Kind != "sla.breached" {
			t.Errorf("notices: assignee %d (want 2 warnings), supervisor %d (want the breach)", len(mine), len(boss))
		}
	})
}

// Many workers sweeping at once (and the reconciler with them) record each breach once.
// The burst is deeper than one batch for every sweep, so whatever the timing, at least half
// a batch is left after each sweep's first transaction and is handled by the sweeps' own
// parallel transactions (several on PostgreSQL), racing each other and the other sweeps.
func TestBreachesAreRecordedOnceUnderConcurrentSweeps(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		const sweeps = 3
		const n = sweeps*tickets.SweepBatch + tickets.SweepBatch/2
		var opened sync.WaitGroup
		for g := range 8 {
			opened.Add(1)
			go func() {
				defer opened.Done()
				for i := g; i < n; i += 8 {
					if _, err := d.svc.Intake(ctx, sms(fmt.Sprintf("+86137%08d", i), "hello", fmt.Sprintf("S%d", i))); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		opened.Wait()
		if t.Failed() {
			return
		}
		d.clock.Advance(25 * time.Hour)
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for range sweeps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := d.svc.Sweep(ctx)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += r.Breaches
				mu.Unlock()
			}()
		}
		wg.Wait()
		if total != n {
			t.Errorf("sweeps reported %d breaches, want %d", total, n)
		}
		if got := tickettest.CountEvents(t, db, "sla.breached"); got != n {
			t.Errorf("%d sla.breached events, want %d", got, n)
		}
		high, _ := db.NewSelect().Table("tickets").Where("priority = 'high'").Count(ctx)
		if high != n {
			t.Errorf("%d tickets escalated to high, want %d (each raised exactly one step)", high, n)
		}
		// Each ticket once: none breached twice while another was missed.
		var perTicket []struct {
			EntityID int64
			N        int
		}
		if err := db.NewSelect().Table("events").ColumnExpr("entity_id, COUNT(*) AS n").
			Where("kind = 'sla.breached' AND entity = 'ticket'").Group("entity_id").Scan(ctx, &perTicket); err != nil {
			t.Fatal(err)
		}
		twice := 0
		for _, p := range perTicket {
			if p.N != 1 {
				twice++
			}
		}
		if len(perTicket) != n || twice != 0 {
			t.Errorf("%d tickets breached, %d of them more than once; want %d, each once", len(perTicket), twice, n)
		}
	})
}

// Editing policies re-times open tickets; changing a ticket's category applies the policy
// that matches it now.
func TestPolicyChangesRetimeOpenTickets(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		open := d.ticket(t, "+8613800000001")
		done := d.ticket(t, "+8613800000002")
		mustDo(t)(d.svc.SetStatus(ctx, d.admin, done.Ref(), tickets.StatusResolved, ""))

		d.clock.Advance(time.Hour)
		p := mustPolicy(t, d, &tickets.Policy{Name: "faster", FirstResponseSeconds: 4 * 3600, ResolutionSeconds: 12 * 3600})
		got := mustDetail(t, d.svc, open.Ref())
		if !got.FirstResponseDueAt.Equal(t0.Add(4*time.Hour)) || !got.ResolutionDueAt.Equal(t0.Add(12*time.Hour)) || got.PolicyID == nil || *got.PolicyID != p.ID {
			t.Errorf("after a new policy: due %v / %v policy %v", got.FirstResponseDueAt, got.ResolutionDueAt, got.PolicyID)
		}
		if r := mustDetail(t, d.svc, done.Ref()); r.PolicyID != nil {
			t.Error("a resolved ticket was re-timed")
		}
		if err := d.svc.DeletePolicy(ctx, d.admin, p.ID); err != nil {
			t.Fatal(err)
		}
		if got := mustDetail(t, d.svc, open.Ref()); !got.FirstResponseDueAt.Equal(t0.Add(24 * time.Hour)) {
			t.Errorf("after deleting the policy: first response due %v, want the default again", got.FirstResponseDueAt)
		}

		mustPolicy(t, d, &tickets.Policy{Name: "claims", Category: "claim", FirstResponseSeconds: 2 * 3600, ResolutionSeconds: 8 * 3600})
		moved := mustDo(t)(d.svc.SetCategory(ctx, d.admin, open.Ref(), "claim", "it is a claim"))
		if !moved.FirstResponseDueAt.Equal(t0.Add(2 * time.Hour)) {
			t.Errorf("after the category change: first response due %v, want +2h", moved.FirstResponseDueAt)
		}
		if _, err := d.svc.SetCategory(ctx, d.admin, open.Ref(), "claim", ""); err == nil {
			t.Error("setting the same category again was accepted")
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
		if r, _ := d.svc.Sweep(ctx); r.Breaches != 1 {
			t.Errorf("%d breaches at +24h, want the first response", r.Breaches)
		}
	})
}
