package tickets_test

import (
	"context"
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func TestManagingAgentsAndTeams(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		// Only admins manage people.
		if _, err := d.svc.CreateAgent(ctx, d.chen, tickets.NewAgent{Email: "x@example.com", Password: "long enough password"}); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("supervisor creating an agent: %v", err)
		}
		if _, err := d.svc.CreateTeam(ctx, d.liNa, "Night shift"); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("agent creating a team: %v", err)
		}
		capacity := 3
		if _, err := d.svc.UpdateAgent(ctx, d.liNa, d.liNa.Agent.ID, tickets.AgentUpdate{Capacity: &capacity}); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("agent raising own capacity: %v", err)
		}
		name := "李娜"
		if a, err := d.svc.UpdateAgent(ctx, d.liNa, d.liNa.Agent.ID, tickets.AgentUpdate{Name: &name}); err != nil || a.Name != name {
			t.Errorf("agent renaming themselves: %v", err)
		}

		invalid := []tickets.NewAgent{
			{Email: "nope", Password: "long enough password"},
			{Email: "a@example.com", Password: "short"},
			{Email: "a@example.com", Password: "long enough password", Role: "boss"},
			{Email: "a@example.com", Password: "long enough password", Capacity: -1},
		}
		for i, in := range invalid {
			if _, err := d.svc.CreateAgent(ctx, d.admin, in); !errors.Is(err, tickets.ErrInvalid) {
				t.Errorf("invalid agent %d: %v", i, err)
			}
		}
		if _, err := d.svc.CreateAgent(ctx, d.admin, tickets.NewAgent{Email: "LI.NA@example.com", Password: "long enough password"}); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("duplicate email: %v", err)
		}
		missing := int64(999)
		if _, err := d.svc.CreateAgent(ctx, d.admin, tickets.NewAgent{Email: "new@example.com", Password: "long enough password", TeamID: &missing}); !errors.Is(err, tickets.ErrNotFound) {
			t.Errorf("unknown team: %v", err)
		}

		if _, err := d.svc.CreateTeam(ctx, d.admin, "Claims"); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("duplicate team: %v", err)
		}
		if _, err := d.svc.RenameTeam(ctx, d.admin, d.claims.ID, "Complaints"); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("rename onto an existing name: %v", err)
		}
		if err := d.svc.DeleteTeam(ctx, d.admin, d.claims.ID); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("deleting a team with agents: %v", err)
		}
		empty, _ := d.svc.CreateTeam(ctx, d.admin, "Empty")
		if err := d.svc.DeleteTeam(ctx, d.admin, empty.ID); err != nil {
			t.Errorf("deleting an empty team: %v", err)
		}
		teams, _ := d.svc.Teams(ctx)
		if len(teams) != 2 {
			t.Errorf("%d teams, want 2", len(teams))
		}
		in, _ := d.svc.Agents(ctx, &d.claims.ID)
		if len(in) != 3 {
			t.Errorf("%d agents in Claims, want 3", len(in))
		}
		// Admins cannot lock themselves out.
		off, agent := false, tickets.RoleAgent
		if _, err := d.svc.UpdateAgent(ctx, d.admin, d.admin.Agent.ID, tickets.AgentUpdate{Active: &off}); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("admin deactivating self: %v", err)
		}
		if _, err := d.svc.UpdateAgent(ctx, d.admin, d.admin.Agent.ID, tickets.AgentUpdate{Role: &agent}); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("admin demoting self: %v", err)
		}
		var n int
		n, _ = db.NewSelect().Table("events").Where("entity IN ('agent', 'team')").Count(ctx)
		if n < 8 {
			t.Errorf("%d audit events for agent and team changes, want every change recorded", n)
		}
	})
}

func TestEnsureAdmin(t *testing.T) {
	ctx := context.Background()
	svc := tickettest.Service(tickettest.SQLite(t), tickettest.NewClock(t0))
	created, pw, err := svc.EnsureAdmin(ctx, "boss@example.com", "")
	if err != nil || !created || len(pw) < 12 {
		t.Fatalf("first start: created=%v password=%q err=%v", created, pw, err)
	}
	if _, a, err := access.New(svc, access.Config{}).Login(ctx, "boss@example.com", pw); err != nil || a.Role != tickets.RoleAdmin {
		t.Fatalf("generated password does not sign in as admin: %v", err)
	}
	created, pw, err = svc.EnsureAdmin(ctx, "boss@example.com", "")
	if err != nil || created || pw != "" {
		t.Errorf("second start: created=%v password=%q err=%v", created, pw, err)
	}
}

func TestNormalizePhone(t *testing.T) {
	cases := []struct{ in, want string }{
		{"+86 138 0013 8000", "+8613800138000"},
		{"13800138000", "+8613800138000"},
		{"138-0013-8000", "+8613800138000"},
		{"０１３８００１３８０００", "+8613800138000"},
		{"0086 138 0013 8000", "+8613800138000"},
		{"+1 (415) 555-0100", "+14155550100"},
		{"+44 20 7946 0958", "+442079460958"},
		{"", ""},
		{"+86 138 abc", ""},
		{"+123", ""},
		{"+0123456789", ""},
		{"+1234567890123456", ""},
	}
	for _, c := range cases {
		got, err := tickets.NormalizePhone(c.in, "86")
		if got != c.want || (err == nil) != (c.want != "") {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := tickets.NormalizePhone("13800138000", ""); err == nil {
		t.Error("a national number without a default country was accepted")
	}
}

func TestRefs(t *testing.T) {
	if got := tickets.FormatRef(123); got != "HL-000123" {
		t.Errorf("FormatRef = %s", got)
	}
	for in, want := range map[string]int64{"HL-000123": 123, "hl-123": 123, " HL-1234567 ": 1234567, "HL-": 0, "HL-0": 0, "XX-123": 0, "HL-12a": 0, "HL--5": 0} {
		id, ok := tickets.ParseRef(in)
		if id != want || ok != (want != 0) {
			t.Errorf("ParseRef(%q) = %d, %v; want %d", in, id, ok, want)
		}
	}
}
