package tickets_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func TestStatusMachine(t *testing.T) {
	all := []tickets.Status{tickets.StatusNew, tickets.StatusOpen, tickets.StatusPending, tickets.StatusResolved, tickets.StatusClosed}
	allowed := map[[2]tickets.Status]bool{
		{"new", "open"}: true, {"new", "pending"}: true, {"new", "resolved"}: true,
		{"open", "pending"}: true, {"open", "resolved"}: true,
		{"pending", "open"}: true, {"pending", "resolved"}: true,
		{"resolved", "open"}: true, {"resolved", "closed"}: true,
		{"closed", "open"}: true,
	}
	for _, from := range all {
		for _, to := range all {
			if got := from.CanBecome(to); got != allowed[[2]tickets.Status{from, to}] {
				t.Errorf("%s → %s allowed = %v", from, to, got)
			}
		}
	}
	if tickets.Status("archived").Valid() {
		t.Error("unknown status reported valid")
	}
}

// desk is a small call centre: two teams, agents, a supervisor and an admin.
type desk struct {
	svc                        *tickets.Service
	clock                      *tickettest.Clock
	claims, complaints         *tickets.Team
	liNa, zhangWei, chen, wang tickets.Actor // claims agents, claims supervisor, complaints agent
	admin                      tickets.Actor
}

func newDesk(t *testing.T, db *bun.DB) *desk {
	t.Helper()
	ctx := context.Background()
	clock := tickettest.NewClock(t0)
	svc := tickettest.Service(db, clock)
	d := &desk{svc: svc, clock: clock, admin: adminActor(t, svc)}
	var err error
	if d.claims, err = svc.CreateTeam(ctx, d.admin, "Claims"); err != nil {
		t.Fatal(err)
	}
	if d.complaints, err = svc.CreateTeam(ctx, d.admin, "Complaints"); err != nil {
		t.Fatal(err)
	}
	mk := func(email string, role tickets.Role, team *tickets.Team) tickets.Actor {
		a, err := svc.CreateAgent(ctx, d.admin, tickets.NewAgent{Email: email, Role: role, TeamID: &team.ID, Password: "long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		return tickets.AgentActor(a)
	}
	d.liNa = mk("li.na@example.com", tickets.RoleAgent, d.claims)
	d.zhangWei = mk("zhang.wei@example.com", tickets.RoleAgent, d.claims)
	d.chen = mk("chen@example.com", tickets.RoleSupervisor, d.claims)
	d.wang = mk("wang@example.com", tickets.RoleAgent, d.complaints)
	return d
}

func (d *desk) ticket(t *testing.T, phone string) *tickets.Ticket {
	t.Helper()
	res, err := d.svc.Intake(context.Background(), sms(phone, "where is my claim?", ""))
	if err != nil {
		t.Fatal(err)
	}
	return res.Ticket
}

func TestReplyMeetsFirstResponse(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		tk := d.ticket(t, "+8613800138000")
		d.clock.Advance(90 * time.Minute)

		m, err := d.svc.Reply(ctx, d.liNa, tk.Ref(), "  We are on it.  ")
		if err != nil {
			t.Fatal(err)
		}
		if m.Direction != tickets.DirectionOutbound || m.DeliveryStatus != "queued" || m.Channel != tickets.ChannelSMS || m.Body != "We are on it." {
			t.Errorf("reply = %+v", m)
		}
		got, _ := d.svc.Ticket(ctx, tk.Ref())
		if got.Status != tickets.StatusOpen {
			t.Errorf("status after first reply = %s, want open", got.Status)
		}
		if got.FirstRespondedAt == nil || !got.FirstRespondedAt.Equal(t0.Add(90*time.Minute)) {
			t.Errorf("first_responded_at = %v, want the reply time", got.FirstRespondedAt)
		}
		d.clock.Advance(time.Hour)
		if _, err := d.svc.Reply(ctx, d.liNa, tk.Ref(), "Second reply"); err != nil {
			t.Fatal(err)
		}
		again, _ := d.svc.Ticket(ctx, tk.Ref())
		if !again.FirstRespondedAt.Equal(*got.FirstRespondedAt) {
			t.Error("a second reply moved first_responded_at")
		}
		// Notes are internal: they neither answer the customer nor change the status.
		note, err := d.svc.AddNote(ctx, d.liNa, tk.Ref(), "customer sounded upset")
		if err != nil || note.Direction != tickets.DirectionNote {
			t.Fatalf("note: %v %+v", err, note)
		}
		for _, bad := range []string{"", "   "} {
			if _, err := d.svc.Reply(ctx, d.liNa, tk.Ref(), bad); !errors.Is(err, tickets.ErrInvalid) {
				t.Errorf("empty reply: %v", err)
			}
		}
		final, _ := d.svc.Ticket(ctx, tk.Ref())
		if kinds := eventKinds(final.Events); len(kinds) != 6 || kinds[2] != "reply.queued" || kinds[3] != "status.changed" || kinds[5] != "note.added" {
			t.Errorf("events = %v", kinds)
		}
	})
}

// The queue order follows the earliest deadline still open.
func TestNextDeadlineFollowsWork(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		tk := d.ticket(t, "+8613800138000")
		due := func() time.Time {
			page, err := d.svc.ListTickets(ctx, tickets.TicketFilter{Query: tk.Ref()})
			if err != nil || len(page.Items) != 1 {
				t.Fatalf("list: %v %d", err, len(page.Items))
			}
			return page.Items[0].NextDueAt
		}
		if !due().Equal(t0.Add(24 * time.Hour)) {
			t.Errorf("new ticket: next due %v, want first response", due())
		}
		if _, err := d.svc.Reply(ctx, d.liNa, tk.Ref(), "hello"); err != nil {
			t.Fatal(err)
		}
		if !due().Equal(t0.Add(48 * time.Hour)) {
			t.Errorf("answered: next due %v, want resolution", due())
		}
		mustDo(t)(d.svc.SetStatus(ctx, d.liNa, tk.Ref(), tickets.StatusResolved, ""))
		if due().Year() != 9999 {
			t.Errorf("resolved: next due %v, want none", due())
		}
		reopened := mustDo(t)(d.svc.SetStatus(ctx, d.liNa, tk.Ref(), tickets.StatusOpen, "customer not satisfied"))
		if reopened.ResolvedAt != nil || !due().Equal(t0.Add(48*time.Hour)) {
			t.Errorf("reopened: resolved_at %v next due %v", reopened.ResolvedAt, due())
		}
	})
}

func TestSetStatusAndPriority(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		tk := d.ticket(t, "+8613800138000")
		steps := []struct {
			to      tickets.Status
			wantErr error
		}{
			{tickets.StatusClosed, tickets.ErrConflict}, // new cannot close
			{tickets.StatusNew, tickets.ErrConflict},    // already new
			{"archived", tickets.ErrInvalid},
			{tickets.StatusPending, nil},
			{tickets.StatusResolved, nil},
			{tickets.StatusPending, tickets.ErrConflict},
			{tickets.StatusClosed, nil},
			{tickets.StatusOpen, nil}, // reopen
		}
		for _, s := range steps {
			_, err := d.svc.SetStatus(ctx, d.liNa, tk.Ref(), s.to, "")
			if !errors.Is(err, s.wantErr) && !(err == nil && s.wantErr == nil) {
				t.Errorf("→ %s: err = %v, want %v", s.to, err, s.wantErr)
			}
		}
		got, _ := d.svc.Ticket(ctx, tk.Ref())
		if got.Status != tickets.StatusOpen || got.ClosedAt != nil {
			t.Errorf("after reopen: %s closed_at %v", got.Status, got.ClosedAt)
		}
		if kinds := eventKinds(got.Events); kinds[len(kinds)-1] != "ticket.reopened" {
			t.Errorf("last event %q, want ticket.reopened", kinds[len(kinds)-1])
		}

		if _, err := d.svc.SetPriority(ctx, d.liNa, tk.Ref(), tickets.PriorityUrgent, "VIP"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.svc.SetPriority(ctx, d.liNa, tk.Ref(), tickets.PriorityUrgent, ""); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("same priority: %v", err)
		}
		if _, err := d.svc.SetPriority(ctx, d.liNa, tk.Ref(), "critical", ""); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("unknown priority: %v", err)
		}
		if _, err := d.svc.SetStatus(ctx, d.liNa, "HL-999999", tickets.StatusOpen, ""); !errors.Is(err, tickets.ErrNotFound) {
			t.Errorf("unknown ticket: %v", err)
		}
	})
}

func TestWhoMayChangeATicket(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		tk := d.ticket(t, "+8613800138000")

		// Unassigned and teamless: anyone may pick it up, but only for themselves.
		if _, err := d.svc.Assign(ctx, d.liNa, tk.Ref(), tickets.Assignment{AssigneeID: &d.zhangWei.Agent.ID}); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("agent assigning to a colleague: %v", err)
		}
		got, err := d.svc.Assign(ctx, d.liNa, tk.Ref(), tickets.Assignment{AssigneeID: &d.liNa.Agent.ID})
		if err != nil {
			t.Fatal(err)
		}
		if got.TeamID == nil || *got.TeamID != d.claims.ID {
			t.Errorf("taking a ticket did not move it to the agent's team")
		}

		cases := []struct {
			who  string
			as   tickets.Actor
			want error
		}{
			{"assignee", d.liNa, nil},
			{"teammate", d.zhangWei, tickets.ErrForbidden},
			{"other team", d.wang, tickets.ErrForbidden},
			{"team supervisor", d.chen, nil},
			{"admin", d.admin, nil},
		}
		for _, c := range cases {
			_, err := d.svc.AddNote(ctx, c.as, tk.Ref(), "note by "+c.who)
			if !errors.Is(err, c.want) && !(err == nil && c.want == nil) {
				t.Errorf("%s adding a note: %v, want %v", c.who, err, c.want)
			}
		}
		detail, _ := d.svc.Ticket(ctx, tk.Ref())
		if len(detail.Messages) != 1+3 {
			t.Errorf("%d messages, want the inbound one and 3 allowed notes", len(detail.Messages))
		}

		// A supervisor moves the ticket to another team's queue, with a reason.
		moved, err := d.svc.Assign(ctx, d.chen, tk.Ref(), tickets.Assignment{TeamID: &d.complaints.ID, Reason: "customer wants to complain"})
		if err != nil {
			t.Fatal(err)
		}
		if moved.AssigneeID != nil || *moved.TeamID != d.complaints.ID {
			t.Errorf("moved to team: assignee %v team %v", moved.AssigneeID, *moved.TeamID)
		}
		// Now unassigned in Complaints: its agents may act, Claims agents may not.
		if _, err := d.svc.AddNote(ctx, d.wang, tk.Ref(), "picking up"); err != nil {
			t.Errorf("complaints agent on their unassigned queue: %v", err)
		}
		if _, err := d.svc.AddNote(ctx, d.liNa, tk.Ref(), "still mine?"); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("former assignee: %v", err)
		}
		ev := mustDetail(t, d.svc, tk.Ref()).Events
		var reasonSeen bool
		for _, e := range ev {
			if e.Kind == "ticket.assigned" && e.Actor == "chen@example.com" && strings.Contains(e.Data, "customer wants to complain") {
				reasonSeen = true
			}
		}
		if !reasonSeen {
			t.Error("the reassignment's audit event does not say who and why")
		}
	})
}

func TestCreateTicketForACaller(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		tk, err := d.svc.CreateTicket(ctx, d.liNa, tickets.NewTicket{Name: "刘洋", Phone: "137 0013 7003", Email: "liu@example.com", Subject: "退保咨询", Body: "客户询问退保材料", Priority: tickets.PriorityHigh})
		if err != nil {
			t.Fatal(err)
		}
		got := mustDetail(t, d.svc, tk.Ref())
		if got.Channel != tickets.ChannelPhone || got.Status != tickets.StatusOpen || got.Priority != tickets.PriorityHigh {
			t.Errorf("ticket %s/%s/%s", got.Channel, got.Status, got.Priority)
		}
		if got.AssigneeID == nil || *got.AssigneeID != d.liNa.Agent.ID || *got.TeamID != d.claims.ID {
			t.Error("a logged call belongs to the agent who took it")
		}
		if got.Customer.Name != "刘洋" || got.Customer.Identity(tickets.IdentityPhone) != "+8613700137003" || got.Customer.Identity(tickets.IdentityEmail) != "liu@example.com" {
			t.Errorf("customer %+v", got.Customer)
		}
		// The same caller texting later lands on the same customer.
		res, err := d.svc.Intake(ctx, sms("+8613700137003", "any news?", "SM9"))
		if err != nil || res.Ticket.ID != tk.ID {
			t.Errorf("caller's SMS went to %v (%v), want %s", res.Ticket.Ref(), err, tk.Ref())
		}

		bad := []tickets.NewTicket{
			{Subject: "x"}, // no way to reach the customer
			{Phone: "12", Subject: "x"},
			{Phone: "+8613700137003"}, // nothing said
			{Channel: tickets.ChannelSMS, Phone: "+8613700137003", Subject: "x"},
			{Phone: "+8613700137003", Subject: "x", Priority: "asap"},
		}
		for i, in := range bad {
			if _, err := d.svc.CreateTicket(ctx, d.liNa, in); !errors.Is(err, tickets.ErrInvalid) {
				t.Errorf("case %d: %v, want ErrInvalid", i, err)
			}
		}
	})
}

func mustDetail(t *testing.T, svc *tickets.Service, ref string) *tickets.TicketDetail {
	t.Helper()
	d, err := svc.Ticket(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
