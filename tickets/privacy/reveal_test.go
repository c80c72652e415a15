package privacy_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/privacy"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestRevealByRole: who may see a customer's number, address or message in full, on both
// databases. Each reveal that succeeds is one "pii.revealed" event on the customer naming
// who, which field and the ticket; each refusal is 403 (ErrForbidden) and records nothing.
func TestRevealByRole(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := tickettest.NewClock(tickettest.T0)
		d := tickettest.NewDesk(t, tickettest.Service(db, clock), clock)
		officer := tickets.AgentActor(d.Officer(t, "officer@example.com"))
		otherSup := d.Agent(t, "sup.complaints@example.com", tickets.RoleSupervisor, d.Complaints)

		// Li Na's ticket, in Claims; its customer wrote their ID card number.
		res, err := d.Svc.Intake(ctx, tickettest.SMS("+8613800138000", "身份证310101199001011234，理赔进度？", ""))
		if err != nil {
			t.Fatal(err)
		}
		tk := res.Ticket
		if _, err := d.Svc.Assign(ctx, d.Admin, tk.Ref(), tickets.Assignment{TeamID: &d.Claims.ID, AssigneeID: &d.LiNa.Agent.ID}); err != nil {
			t.Fatal(err)
		}
		msg := res.Message.ID
		cust := tk.CustomerID

		p := privacy.New(d.Svc, privacy.Config{})
		phone := privacy.Request{CustomerID: cust, Field: privacy.FieldPhone, TicketID: tk.ID}
		for _, tc := range []struct {
			name  string
			actor tickets.Actor
			req   privacy.Request
			want  string // "" when refused
			err   error
		}{
			{"assignee reveals the phone", d.LiNa, phone, "+8613800138000", nil},
			{"assignee reveals the phone on the customer page", d.LiNa, privacy.Request{CustomerID: cust, Field: privacy.FieldPhone}, "+8613800138000", nil},
			{"assignee may not reveal a message by default", d.LiNa, privacy.Request{CustomerID: cust, Field: privacy.FieldMessage, MessageID: msg}, "", tickets.ErrForbidden},
			{"another agent of the team may not: the ticket is Li Na's", d.ZhangWei, phone, "", tickets.ErrForbidden},
			{"an agent of another team may not", d.Wang, phone, "", tickets.ErrForbidden},
			{"the team's supervisor reveals the message", d.Chen, privacy.Request{CustomerID: cust, Field: privacy.FieldMessage, MessageID: msg}, "身份证310101199001011234，理赔进度？", nil},
			{"the team's supervisor from the customer page", d.Chen, privacy.Request{CustomerID: cust, Field: privacy.FieldPhone}, "+8613800138000", nil},
			{"another team's supervisor may not", otherSup, phone, "", tickets.ErrForbidden},
			{"an officer without the complaint may not", officer, phone, "", tickets.ErrForbidden},
			{"the admin reveals anything", d.Admin, privacy.Request{CustomerID: cust, Field: privacy.FieldMessage, MessageID: msg, TicketID: tk.ID}, "身份证310101199001011234，理赔进度？", nil},
			{"a ticket of another customer is no way in", d.LiNa, privacy.Request{CustomerID: cust + 1000, Field: privacy.FieldPhone, TicketID: tk.ID}, "", tickets.ErrNotFound},
			{"a field nobody has", d.Admin, privacy.Request{CustomerID: cust, Field: privacy.FieldEmail}, "", tickets.ErrNotFound},
			{"an unknown field", d.Admin, privacy.Request{CustomerID: cust, Field: "password"}, "", tickets.ErrInvalid},
			{"the customer themself is not staff", tickets.Actor{Kind: "customer"}, phone, "", tickets.ErrForbidden},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := tickettest.CountEvents(t, db, "pii.revealed")
				got, err := p.Reveal(ctx, tc.actor, tc.req)
				after := tickettest.CountEvents(t, db, "pii.revealed")
				if tc.err != nil {
					if !errors.Is(err, tc.err) {
						t.Fatalf("err = %v, want %v", err, tc.err)
					}
					if after != before {
						t.Fatalf("a refused reveal recorded %d events", after-before)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got.Value != tc.want {
					t.Fatalf("revealed %q, want %q", got.Value, tc.want)
				}
				if after != before+1 {
					t.Fatalf("%d events for one reveal", after-before)
				}
				var ev tickets.Event
				if err := db.NewSelect().Model(&ev).Where("kind = ?", "pii.revealed").OrderExpr("id DESC").Limit(1).Scan(ctx); err != nil {
					t.Fatal(err)
				}
				var data map[string]any
				if err := json.Unmarshal([]byte(ev.Data), &data); err != nil {
					t.Fatal(err)
				}
				if ev.Entity != "customer" || ev.EntityID != cust || ev.ActorID == nil || *ev.ActorID != tc.actor.Agent.ID || data["field"] != tc.req.Field {
					t.Fatalf("event %+v (data %v), want customer %d revealed by %d, field %s", ev, data, cust, tc.actor.Agent.ID, tc.req.Field)
				}
				if tc.req.TicketID != 0 || tc.req.MessageID != 0 {
					if data["ticket"] != tk.Ref() {
						t.Fatalf("event names ticket %v, want %s", data["ticket"], tk.Ref())
					}
				}
				if strings.Contains(ev.Data, "13800138000") || strings.Contains(ev.Data, "310101199001011234") {
					t.Fatalf("the audit event holds the value itself: %s", ev.Data)
				}
			})
		}

		// An officer handling a complaint on the ticket may reveal its customer's values.
		if _, err := db.NewInsert().Model(&map[string]any{
			"ticket_id": tk.ID, "source": "api", "received_at": tickettest.T0, "due_at": tickettest.T0,
			"deadline_at": tickettest.T0, "officer_id": officer.Agent.ID, "status": "investigating", "created_at": tickettest.T0, "updated_at": tickettest.T0,
		}).TableExpr("complaints").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if got, err := p.Reveal(ctx, officer, phone); err != nil || got.Value != "+8613800138000" {
			t.Fatalf("the complaint's officer: %v, %v", got, err)
		}
	})
}

// TestRevealRules: HOTLINE_REVEAL narrows or widens what a role may reveal.
func TestRevealRules(t *testing.T) {
	r, err := privacy.ParseRules("agent=; supervisor=phone,email; admin=*")
	if err != nil {
		t.Fatal(err)
	}
	p := privacy.New(nil, privacy.Config{Reveal: r})
	for _, tc := range []struct {
		role  tickets.Role
		field string
		want  bool
	}{
		{tickets.RoleAgent, privacy.FieldPhone, false},
		{tickets.RoleSupervisor, privacy.FieldEmail, true},
		{tickets.RoleSupervisor, privacy.FieldMessage, false},
		{tickets.RoleComplaintOfficer, privacy.FieldMessage, true}, // left out: the default
		{tickets.RoleAdmin, privacy.FieldWeChat, true},
	} {
		if got := p.May(tc.role, tc.field); got != tc.want {
			t.Errorf("May(%s, %s) = %v, want %v", tc.role, tc.field, got, tc.want)
		}
	}
	for _, bad := range []string{"agent", "boss=phone", "agent=password"} {
		if _, err := privacy.ParseRules(bad); err == nil {
			t.Errorf("ParseRules(%q) accepted", bad)
		}
	}
}
