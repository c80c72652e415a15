package canned_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/canned"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func newDesk(t *testing.T, db *bun.DB) (*tickettest.Desk, *canned.Service) {
	t.Helper()
	clock := tickettest.NewClock(tickettest.T0)
	d := tickettest.NewDesk(t, tickettest.Service(db, clock), clock)
	return d, canned.New(d.Svc)
}

func titles(rs []*canned.Reply) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Title)
	}
	return out
}

// TestScope: agents read the global replies and their team's; supervisors write their
// team's, admins every one; each change is audited.
func TestScope(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d, cs := newDesk(t, db)
		claims, comp := &d.Claims.ID, &d.Complaints.ID
		seed := func(title string, team *int64) *canned.Reply {
			r, err := cs.Create(ctx, d.Admin, canned.Input{TeamID: team, Title: title, BodyZH: "您好 {{customer_name}}"})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		global, claimsR, compR := seed("Greeting", nil), seed("Claim documents", claims), seed("Complaint received", comp)

		for _, c := range []struct {
			who  string
			as   tickets.Actor
			sees []string
		}{
			{"claims agent", d.LiNa, []string{"Claim documents", "Greeting"}},
			{"complaints agent", d.Wang, []string{"Complaint received", "Greeting"}},
			{"claims supervisor", d.Chen, []string{"Claim documents", "Greeting"}},
			{"admin", d.Admin, []string{"Claim documents", "Complaint received", "Greeting"}},
		} {
			rs, err := cs.List(ctx, c.as, "")
			if err != nil {
				t.Fatal(err)
			}
			if got := titles(rs); !slices.Equal(got, c.sees) {
				t.Errorf("%s sees %q, want %q", c.who, got, c.sees)
			}
		}
		if rs, _ := cs.List(ctx, d.Admin, "CLAIM"); !slices.Equal(titles(rs), []string{"Claim documents"}) {
			t.Errorf("title search: %q", titles(rs))
		}
		if rs, _ := cs.List(ctx, d.Admin, "%"); len(rs) != 0 {
			t.Errorf("%% matched %q: the search is not literal", titles(rs))
		}
		if _, err := cs.Get(ctx, d.LiNa, compR.ID); !errors.Is(err, tickets.ErrNotFound) {
			t.Errorf("claims agent reading the complaints team's reply: %v", err)
		}

		in := func(team *int64) canned.Input { return canned.Input{TeamID: team, Title: "New", BodyEN: "Hello"} }
		for _, c := range []struct {
			what string
			do   func() error
			want error // nil: allowed
		}{
			{"agent creates for own team", func() error { _, err := cs.Create(ctx, d.LiNa, in(claims)); return err }, tickets.ErrForbidden},
			{"agent updates global", func() error { _, err := cs.Update(ctx, d.LiNa, global.ID, in(nil)); return err }, tickets.ErrForbidden},
			{"agent deletes own team's", func() error { return cs.Delete(ctx, d.LiNa, claimsR.ID) }, tickets.ErrForbidden},
			{"supervisor creates global", func() error { _, err := cs.Create(ctx, d.Chen, in(nil)); return err }, tickets.ErrForbidden},
			{"supervisor creates for another team", func() error { _, err := cs.Create(ctx, d.Chen, in(comp)); return err }, tickets.ErrForbidden},
			{"supervisor updates global", func() error { _, err := cs.Update(ctx, d.Chen, global.ID, in(claims)); return err }, tickets.ErrForbidden},
			{"supervisor moves own team's to another", func() error { _, err := cs.Update(ctx, d.Chen, claimsR.ID, in(comp)); return err }, tickets.ErrForbidden},
			{"supervisor updates another team's", func() error { _, err := cs.Update(ctx, d.Chen, compR.ID, in(claims)); return err }, tickets.ErrNotFound},
			{"supervisor deletes another team's", func() error { return cs.Delete(ctx, d.Chen, compR.ID) }, tickets.ErrNotFound},
			{"supervisor creates for own team", func() error { _, err := cs.Create(ctx, d.Chen, in(claims)); return err }, nil},
			{"supervisor updates own team's", func() error { _, err := cs.Update(ctx, d.Chen, claimsR.ID, in(claims)); return err }, nil},
			{"admin creates for a missing team", func() error { _, err := cs.Create(ctx, d.Admin, in(new(int64(999)))); return err }, tickets.ErrInvalid},
			{"admin makes a team's global", func() error { _, err := cs.Update(ctx, d.Admin, compR.ID, in(nil)); return err }, nil},
			{"admin deletes global", func() error { return cs.Delete(ctx, d.Admin, global.ID) }, nil},
			{"admin deletes it again", func() error { return cs.Delete(ctx, d.Admin, global.ID) }, tickets.ErrNotFound},
		} {
			err := c.do()
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("%s: %v, want %v", c.what, err, c.want)
			}
		}
		// 3 seeded + 1 created, 3 updates, 1 deletion; refusals leave no trace.
		for kind, want := range map[string]int{"canned_reply.created": 4, "canned_reply.updated": 2, "canned_reply.deleted": 1} {
			if got := tickettest.CountEvents(t, db, kind); got != want {
				t.Errorf("%d %s events, want %d", got, kind, want)
			}
		}
		if rs, _ := cs.List(ctx, d.Wang, ""); !slices.Equal(titles(rs), []string{"New"}) {
			t.Errorf("after the changes the complaints agent sees %q", titles(rs))
		}
		// A team keeps its replies: it cannot be deleted from under them.
		empty, err := d.Svc.CreateTeam(ctx, d.Admin, "Motor")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Create(ctx, d.Admin, in(&empty.ID)); err != nil {
			t.Fatal(err)
		}
		if err := d.Svc.DeleteTeam(ctx, d.Admin, empty.ID); !errors.Is(err, tickets.ErrConflict) || !strings.Contains(tickets.Reason(err), "1 canned replies") {
			t.Errorf("deleting a team with a canned reply: %v", err)
		}
	})
}

// TestFill: every variable is filled from the ticket, in the customer's language.
func TestFill(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d, cs := newDesk(t, db)
		agent, err := d.Svc.CreateAgent(ctx, d.Admin, tickets.NewAgent{Email: "zhou@example.com", Name: "周敏", Role: tickets.RoleAgent, TeamID: &d.Claims.ID, Password: "long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		as := tickets.AgentActor(agent)
		tk := d.Ticket(t, "+8613800138000")
		name, en := "Zhao Lei", "en"
		if _, err := d.Svc.UpdateCustomer(ctx, d.Admin, tk.CustomerID, tickets.CustomerUpdate{Name: &name, Locale: &en}); err != nil {
			t.Fatal(err)
		}
		all := "Dear {{customer_name}}, {{ticket_ref}} / {{ complaint_ref }}: first {{first_response_due}}, resolved by {{resolution_due}}, decision by {{complaint_due}}. {{agent_name}}"
		both, err := cs.Create(ctx, d.Admin, canned.Input{Title: "All", BodyZH: "您好{{customer_name}}", BodyEN: all})
		if err != nil {
			t.Fatal(err)
		}
		zhOnly, err := cs.Create(ctx, d.Admin, canned.Input{Title: "Chinese only", BodyZH: "{{customer_name}}您好，工单{{ticket_ref}}"})
		if err != nil {
			t.Fatal(err)
		}

		// No complaint yet: its variables are empty.
		f, err := cs.Fill(ctx, as, tk.Ref(), both.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := "Dear Zhao Lei, HL-000001 / : first 2026-11-26 17:30, resolved by 2026-11-27 17:30, decision by . 周敏"; f.Body != want || f.Locale != "en" {
			t.Errorf("filled without a complaint (%s):\n%s\nwant\n%s", f.Locale, f.Body, want)
		}
		cps := complaints.New(d.Svc)
		if _, err := cps.Open(ctx, d.Admin, complaints.NewComplaint{TicketRef: tk.Ref(), Summary: "slow"}); err != nil {
			t.Fatal(err)
		}
		f, err = cs.Fill(ctx, as, tk.Ref(), both.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := "Dear Zhao Lei, HL-000001 / CP-000001: first 2026-11-26 17:30, resolved by 2026-11-27 17:30, decision by 2026-12-09 23:59. 周敏"; f.Body != want {
			t.Errorf("filled:\n%s\nwant\n%s", f.Body, want)
		}
		// An English customer gets the Chinese text when there is no English one.
		if f, err := cs.Fill(ctx, as, tk.Ref(), zhOnly.ID); err != nil || f.Body != "Zhao Lei您好，工单HL-000001" || f.Locale != "zh-CN" || !f.Fallback {
			t.Errorf("fallback to Chinese: %+v %v", f, err)
		}
		zh := "zh-CN"
		if _, err := d.Svc.UpdateCustomer(ctx, d.Admin, tk.CustomerID, tickets.CustomerUpdate{Locale: &zh}); err != nil {
			t.Fatal(err)
		}
		fs, err := cs.ForTicket(ctx, as, d.Detail(t, tk.Ref()).Ticket)
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != 2 || fs[0].Title != "All" || fs[0].Body != "您好Zhao Lei" || fs[0].Locale != "zh-CN" || fs[0].Fallback || fs[1].Fallback {
			t.Errorf("for a Chinese customer: %+v", fs)
		}
		if _, err := cs.Fill(ctx, as, "HL-999999", both.ID); !errors.Is(err, tickets.ErrNotFound) {
			t.Errorf("fill for a missing ticket: %v", err)
		}
	})
}

// TestCheck: only the known variables are taken when saving.
func TestCheck(t *testing.T) {
	for _, c := range []struct {
		text, refused string // refused: a part of the reason, "" when saved
	}{
		{"plain text", ""},
		{"{{customer_name}} {{ticket_ref}} {{complaint_ref}} {{first_response_due}} {{resolution_due}} {{complaint_due}} {{agent_name}}", ""},
		{"{{ agent_name }}", ""},
		{"{{customer}}", "unknown variable {{customer}}"},
		{"{{.Name}} and {{ticket_ref}} and {{x}}", "{{.Name}}, {{x}}"},
		{"{{}}", "unknown variable {{}}"},
		{"Hi {{customer_name", `"{{" is not closed`},
		{"{{CUSTOMER_NAME}}", "unknown variable"},
	} {
		err := canned.Check(c.text)
		switch {
		case c.refused == "" && err != nil:
			t.Errorf("%q refused: %v", c.text, err)
		case c.refused != "" && (!errors.Is(err, tickets.ErrInvalid) || !strings.Contains(err.Error(), c.refused)):
			t.Errorf("%q: %v, want a refusal saying %q", c.text, err, c.refused)
		}
	}
	// Saving says which text is wrong and stores nothing.
	clock := tickettest.NewClock(tickettest.T0)
	d := tickettest.BareDesk(t, tickettest.Service(tickettest.SQLite(t), clock), clock)
	cs := canned.New(d.Svc)
	_, err := cs.Create(context.Background(), d.Admin, canned.Input{Title: "x", BodyZH: "好", BodyEN: "Hi {{name}}"})
	if !errors.Is(err, tickets.ErrInvalid) || !strings.Contains(tickets.Reason(err), "the English text: unknown variable {{name}}") {
		t.Errorf("saving an unknown variable: %v", err)
	}
	for _, in := range []canned.Input{{Title: " ", BodyZH: "x"}, {Title: "x"}, {Title: strings.Repeat("题", canned.MaxTitle+1), BodyZH: "x"},
		{Title: "x", BodyEN: strings.Repeat("a", canned.MaxBody+1)}} {
		if _, err := cs.Create(context.Background(), d.Admin, in); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("saving %.20q / %.20q / %.20q: %v", in.Title, in.BodyZH, in.BodyEN, err)
		}
	}
	if rs, _ := cs.List(context.Background(), d.Admin, ""); len(rs) != 0 {
		t.Errorf("refused replies stored: %d", len(rs))
	}
}
