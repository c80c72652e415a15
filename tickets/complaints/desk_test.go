package complaints_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The desk complaints are tested on, as the tickets tests build it, with complaints
// plugged into the Service as app plugs them: intake and the sweep open complaints
// through the seam, staff through cps.

var t0 = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)

// desk is a small call centre: two teams, agents, a supervisor and an admin.
type desk struct {
	svc                        *tickets.Service
	cps                        *complaints.Service
	clock                      *tickettest.Clock
	claims, complaints         *tickets.Team
	liNa, zhangWei, chen, wang tickets.Actor // claims agents, claims supervisor, complaints agent
	admin                      tickets.Actor
}

func newDesk(t *testing.T, db *bun.DB) *desk {
	t.Helper()
	clock := tickettest.NewClock(t0)
	d := deskOn(t, tickettest.Service(db, clock), clock)
	ctx := context.Background()
	mk := func(email string, role tickets.Role, team *tickets.Team) tickets.Actor {
		a, err := d.svc.CreateAgent(ctx, d.admin, tickets.NewAgent{Email: email, Role: role, TeamID: &team.ID, Password: "long enough password"})
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

// receiptDesk is newDesk with customer notices on, so that complaint receipts are queued,
// and only Li Na at the desk.
func receiptDesk(t *testing.T, db *bun.DB) *desk {
	t.Helper()
	clock := tickettest.NewClock(t0)
	svc := tickets.NewService(db, clock, tickets.Config{DefaultCountry: "86", PasswordCost: 4, Notices: true}, slog.New(slog.DiscardHandler))
	d := deskOn(t, svc, clock)
	a, err := svc.CreateAgent(context.Background(), d.admin, tickets.NewAgent{Email: "li.na@example.com", Role: tickets.RoleAgent, TeamID: &d.claims.ID, Password: "long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	d.liNa = tickets.AgentActor(a)
	return d
}

// deskOn plugs complaints into svc and gives it an admin and the Claims and Complaints
// teams.
func deskOn(t *testing.T, svc *tickets.Service, clock *tickettest.Clock) *desk {
	t.Helper()
	ctx := context.Background()
	d := &desk{svc: svc, cps: complaints.New(svc), clock: clock}
	svc.SetComplaints(d.cps)
	admin, err := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "admin@example.com", Role: tickets.RoleAdmin, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	d.admin = tickets.AgentActor(admin)
	if d.claims, err = svc.CreateTeam(ctx, d.admin, "Claims"); err != nil {
		t.Fatal(err)
	}
	if d.complaints, err = svc.CreateTeam(ctx, d.admin, "Complaints"); err != nil {
		t.Fatal(err)
	}
	return d
}

// sweep runs both sweeps as the deadline jobs do: the tickets', then the complaints'.
func (d *desk) sweep(t *testing.T) (tickets.SweepResult, complaints.SweepResult) {
	t.Helper()
	ctx := context.Background()
	r, err := d.svc.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.cps.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return r, c
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

func mkOfficer(t *testing.T, d *desk, email string) *tickets.Agent {
	t.Helper()
	a, err := d.svc.CreateAgent(context.Background(), d.admin, tickets.NewAgent{Email: email, Role: tickets.RoleComplaintOfficer, TeamID: &d.complaints.ID, Password: "long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func shanghai(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func seededCalendar(t *testing.T) *tickets.Calendar {
	t.Helper()
	svc := tickettest.Service(tickettest.SQLite(t), tickettest.NewClock(t0))
	if err := svc.SeedHolidays(context.Background()); err != nil {
		t.Fatal(err)
	}
	return svc.Calendar()
}

func countEvents(t *testing.T, db *bun.DB, kind string) int {
	t.Helper()
	n, err := db.NewSelect().Table("events").Where("kind = ?", kind).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mustDetail(t *testing.T, svc *tickets.Service, ref string) *tickets.TicketDetail {
	t.Helper()
	d, err := svc.Ticket(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func eventKinds(evs []*tickets.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func fmtList(xs []string) string { return strings.Join(xs, " ") }
