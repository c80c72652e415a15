package reports_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/reports"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The desk the reports are tested on, as the tickets tests build it: the work is done
// through the Service, the figures read through a Reader over it.

var t0 = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)

// desk is a small call centre: two teams, agents, a supervisor and an admin.
type desk struct {
	svc                        *tickets.Service
	rep                        *reports.Reader
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
	admin, err := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "admin@example.com", Role: tickets.RoleAdmin, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	d := &desk{svc: svc, rep: reports.New(svc), clock: clock, admin: tickets.AgentActor(admin)}
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

// surveyDesk is a desk that sends satisfaction surveys (the aftercare plugged in as app
// plugs it: the surveys the reports count are started and answered through it).
func surveyDesk(t *testing.T, db *bun.DB) *desk {
	d := newDesk(t, db)
	d.svc.SetAftercare(aftercare.New(d.svc, aftercare.Config{Surveys: true}))
	return d
}

func sms(from, body, sid string) tickets.Inbound {
	return tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: from, Body: body, ProviderMessageID: sid}
}

func (d *desk) ticket(t *testing.T, phone string) *tickets.Ticket {
	t.Helper()
	res, err := d.svc.Intake(context.Background(), sms(phone, "where is my claim?", ""))
	if err != nil {
		t.Fatal(err)
	}
	return res.Ticket
}

// resolve moves a ticket to resolved as the admin.
func (d *desk) resolve(t *testing.T, tk *tickets.Ticket) {
	t.Helper()
	if _, err := d.svc.SetStatus(context.Background(), d.admin, tk.Ref(), tickets.StatusResolved, "answered"); err != nil {
		t.Fatal(err)
	}
}

func mkOfficer(t *testing.T, d *desk, email string) *tickets.Agent {
	t.Helper()
	a, err := d.svc.CreateAgent(context.Background(), d.admin, tickets.NewAgent{Email: email, Role: tickets.RoleComplaintOfficer, TeamID: &d.complaints.ID, Password: "long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustDo(t *testing.T) func(*tickets.Ticket, error) *tickets.Ticket {
	return func(tk *tickets.Ticket, err error) *tickets.Ticket {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
}
