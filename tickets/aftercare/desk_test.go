package aftercare_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The desk aftercare is tested on, as the tickets tests build it: tickets are resolved
// through the core's Service, with the aftercare plugged in as app plugs it.

var t0 = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)

// desk is a small call centre: two teams, agents, a supervisor and an admin.
type desk struct {
	svc                        *tickets.Service
	care                       *aftercare.Service
	clock                      *tickettest.Clock
	claims, complaints         *tickets.Team
	liNa, zhangWei, chen, wang tickets.Actor // claims agents, claims supervisor, complaints agent
	admin                      tickets.Actor
}

// newDesk is a desk whose resolutions are followed by calls (the default offsets) and no
// survey, as the aftercare's zero Config says.
func newDesk(t *testing.T, db *bun.DB) *desk {
	t.Helper()
	ctx := context.Background()
	clock := tickettest.NewClock(t0)
	svc := tickettest.Service(db, clock)
	admin, err := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "admin@example.com", Role: tickets.RoleAdmin, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	d := &desk{svc: svc, clock: clock, admin: tickets.AgentActor(admin)}
	d.configure(aftercare.Config{})
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

// configure plugs in an aftercare with cfg, as app does at start.
func (d *desk) configure(cfg aftercare.Config) {
	d.care = aftercare.New(d.svc, cfg)
	d.svc.SetAftercare(d.care)
}

// surveyDesk is a desk that sends satisfaction surveys.
func surveyDesk(t *testing.T, db *bun.DB) *desk {
	d := newDesk(t, db)
	d.configure(aftercare.Config{Surveys: true})
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

func mustDetail(t *testing.T, svc *tickets.Service, ref string) *tickets.TicketDetail {
	t.Helper()
	d, err := svc.Ticket(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func outbound(t *testing.T, svc *tickets.Service, ref string) []*tickets.Message {
	t.Helper()
	var out []*tickets.Message
	for _, m := range mustDetail(t, svc, ref).Messages {
		if m.Direction == tickets.DirectionOutbound {
			out = append(out, m)
		}
	}
	return out
}

func eventKinds(evs []*tickets.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

func countEvents(t *testing.T, db *bun.DB, kind string) int {
	t.Helper()
	n, err := db.NewSelect().Table("events").Where("kind = ?", kind).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func assertCount(t *testing.T, db *bun.DB, table string, want int) {
	t.Helper()
	n, err := db.NewSelect().Table(table).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Errorf("%s: %d rows, want %d", table, n, want)
	}
}

func shanghai(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func ptr[T any](v T) *T { return &v }

// deliverySpy records the messages the service hands to the senders.
type deliverySpy struct {
	mu  sync.Mutex
	ids []int64
}

func (d *deliverySpy) Schedule(context.Context, []tickets.Timer) error { return nil }
func (d *deliverySpy) Deliver(_ context.Context, ids []int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ids = append(d.ids, ids...)
	return nil
}

func (d *deliverySpy) delivered() []int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.ids)
}
