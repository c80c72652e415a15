package tickettest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// T0 is when the desks' clocks start: a Wednesday, 17:30 in Shanghai.
var T0 = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)

// Desk is the small call centre the domain's tests work on: the Claims and Complaints
// teams, an admin and, with NewDesk, two claims agents (Li Na, Zhang Wei), a claims
// supervisor (Chen) and a complaints agent (Wang). The chapters' tests embed it and plug
// their chapter into Svc as app does.
type Desk struct {
	Svc                        *tickets.Service
	Clock                      *Clock
	Claims, Complaints         *tickets.Team
	LiNa, ZhangWei, Chen, Wang tickets.Actor
	Admin                      tickets.Actor
}

// NewDesk staffs svc (on clock) as a Desk.
func NewDesk(t testing.TB, svc *tickets.Service, clock *Clock) *Desk {
	t.Helper()
	d := BareDesk(t, svc, clock)
	d.LiNa = d.Agent(t, "li.na@example.com", tickets.RoleAgent, d.Claims)
	d.ZhangWei = d.Agent(t, "zhang.wei@example.com", tickets.RoleAgent, d.Claims)
	d.Chen = d.Agent(t, "chen@example.com", tickets.RoleSupervisor, d.Claims)
	d.Wang = d.Agent(t, "wang@example.com", tickets.RoleAgent, d.Complaints)
	return d
}

// BareDesk is a Desk with its admin and teams only: no one takes tickets until the test
// adds them (Agent).
func BareDesk(t testing.TB, svc *tickets.Service, clock *Clock) *Desk {
	t.Helper()
	ctx := context.Background()
	admin, err := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "admin@example.com", Role: tickets.RoleAdmin, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	d := &Desk{Svc: svc, Clock: clock, Admin: tickets.AgentActor(admin)}
	if d.Claims, err = svc.CreateTeam(ctx, d.Admin, "Claims"); err != nil {
		t.Fatal(err)
	}
	if d.Complaints, err = svc.CreateTeam(ctx, d.Admin, "Complaints"); err != nil {
		t.Fatal(err)
	}
	return d
}

// Agent adds a member of staff to team.
func (d *Desk) Agent(t testing.TB, email string, role tickets.Role, team *tickets.Team) tickets.Actor {
	t.Helper()
	a, err := d.Svc.CreateAgent(context.Background(), d.Admin, tickets.NewAgent{Email: email, Role: role, TeamID: &team.ID, Password: "long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	return tickets.AgentActor(a)
}

// Officer adds a complaint officer to the Complaints team.
func (d *Desk) Officer(t testing.TB, email string) *tickets.Agent {
	t.Helper()
	return d.Agent(t, email, tickets.RoleComplaintOfficer, d.Complaints).Agent
}

// SMS is a text from a customer's phone; sid "" is a message without a provider id.
func SMS(from, body, sid string) tickets.Inbound {
	return tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: from, Body: body, ProviderMessageID: sid}
}

// Ticket opens a ticket for phone by a text, as a customer would.
func (d *Desk) Ticket(t testing.TB, phone string) *tickets.Ticket {
	t.Helper()
	res, err := d.Svc.Intake(context.Background(), SMS(phone, "where is my claim?", ""))
	if err != nil {
		t.Fatal(err)
	}
	return res.Ticket
}

// Resolve moves a ticket to resolved as the admin.
func (d *Desk) Resolve(t testing.TB, tk *tickets.Ticket) {
	t.Helper()
	if _, err := d.Svc.SetStatus(context.Background(), d.Admin, tk.Ref(), tickets.StatusResolved, "answered"); err != nil {
		t.Fatal(err)
	}
}

// Detail reads a ticket as the console shows it.
func (d *Desk) Detail(t testing.TB, ref string) *tickets.TicketDetail {
	t.Helper()
	td, err := d.Svc.Ticket(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return td
}

// CountEvents counts the audit events of a kind.
func CountEvents(t testing.TB, db bun.IDB, kind string) int {
	t.Helper()
	n, err := db.NewSelect().Table("events").Where("kind = ?", kind).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Shanghai is the desk's time zone.
func Shanghai(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// Scheduler stands in for the job system: it keeps the timers the service set and the
// messages it handed to the senders after its commits.
type Scheduler struct {
	mu        sync.Mutex
	timers    []tickets.Timer
	delivered []int64
}

// Schedule keeps ts.
func (s *Scheduler) Schedule(_ context.Context, ts []tickets.Timer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timers = append(s.timers, ts...)
	return nil
}

// Deliver keeps ids.
func (s *Scheduler) Deliver(_ context.Context, ids []int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delivered = append(s.delivered, ids...)
	return nil
}

// Timers is what the service asked to be woken for, in order.
func (s *Scheduler) Timers() []tickets.Timer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.timers)
}

// Delivered is the messages the service handed to the senders, in order.
func (s *Scheduler) Delivered() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.delivered)
}
