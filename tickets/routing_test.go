package tickets_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func TestRoutingRules(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		vip, _ := d.svc.CreateTeam(ctx, d.admin, "VIP")
		english, _ := d.svc.CreateTeam(ctx, d.admin, "English desk")
		rules := []*tickets.RoutingRule{
			{Position: 1, Name: "complaints", Keywords: "投诉, complain", TeamID: d.complaints.ID, SetPriority: tickets.PriorityHigh, SetCategory: "complaint"},
			{Position: 2, Name: "vip", CustomerTag: "vip", TeamID: vip.ID, SetPriority: tickets.PriorityUrgent},
			{Position: 3, Name: "claims by sms", Channel: tickets.ChannelSMS, Keywords: "理赔,claim", TeamID: d.claims.ID, SetCategory: "claim"},
			{Position: 4, Name: "english", Language: "en", TeamID: english.ID},
		}
		for _, r := range rules {
			if _, err := d.svc.SaveRoutingRule(ctx, d.admin, r); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.NewInsert().Model(&tickets.Customer{Name: "VIP", Tags: "vip,gold", CreatedAt: t0, UpdatedAt: t0}).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		var vipID int64
		db.NewSelect().Table("customers").Column("id").Where("name = 'VIP'").Scan(ctx, &vipID)
		db.NewInsert().Model(&tickets.Identity{CustomerID: vipID, Kind: tickets.IdentityPhone, Value: "+8613600000000", CreatedAt: t0}).Exec(ctx)

		cases := []struct {
			name     string
			in       tickets.Inbound
			team     int64
			priority tickets.Priority
			category string
		}{
			{"chinese keyword", sms("+8613800000001", "我要投诉你们的理赔员", ""), d.complaints.ID, tickets.PriorityHigh, "complaint"},
			{"english keyword, any case", tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "a@example.com", Subject: "I COMPLAIN", Body: "x"}, d.complaints.ID, tickets.PriorityHigh, "complaint"},
			{"vip tag", sms("+8613600000000", "理赔进度?", ""), vip.ID, tickets.PriorityUrgent, ""},
			{"channel and keyword", sms("+8613800000002", "理赔进度?", ""), d.claims.ID, tickets.PriorityNormal, "claim"},
			{"keyword on the wrong channel", tickets.Inbound{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: "oX", Body: "理赔进度?"}, 0, tickets.PriorityNormal, ""},
			{"language", tickets.Inbound{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: "oY", Body: "hello", Locale: "en-GB"}, english.ID, tickets.PriorityNormal, ""},
		}
		for _, c := range cases {
			res, err := d.svc.Intake(ctx, c.in)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			tk := res.Ticket
			var team int64
			if tk.TeamID != nil {
				team = *tk.TeamID
			}
			if team != c.team || tk.Priority != c.priority || tk.Category != c.category {
				t.Errorf("%s: team %d priority %s category %q; want %d %s %q", c.name, team, tk.Priority, tk.Category, c.team, c.priority, c.category)
			}
		}
		// Rule changes are seen at once, and invalid ones refused.
		if _, err := d.svc.SaveRoutingRule(ctx, d.admin, &tickets.RoutingRule{Name: "bad", TeamID: 999}); !errors.Is(err, tickets.ErrNotFound) {
			t.Errorf("rule for a missing team: %v", err)
		}
		if _, err := d.svc.SaveRoutingRule(ctx, d.liNa, &tickets.RoutingRule{Name: "mine", TeamID: d.claims.ID}); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("agent editing rules: %v", err)
		}
		if err := d.svc.DeleteRoutingRule(ctx, d.admin, rules[0].ID); err != nil {
			t.Fatal(err)
		}
		res, _ := d.svc.Intake(ctx, sms("+8613800000009", "投诉", ""))
		if res.Ticket.TeamID != nil {
			t.Errorf("deleted rule still routes to team %d", *res.Ticket.TeamID)
		}
	})
}

func TestAutoAssignment(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		if _, err := d.svc.SaveRoutingRule(ctx, d.admin, &tickets.RoutingRule{Name: "all to claims", TeamID: d.claims.ID}); err != nil {
			t.Fatal(err)
		}
		two := 2
		for _, a := range []tickets.Actor{d.liNa, d.zhangWei} {
			if _, err := d.svc.UpdateAgent(ctx, d.admin, a.Agent.ID, tickets.AgentUpdate{Capacity: &two}); err != nil {
				t.Fatal(err)
			}
		}
		// Nobody online: tickets wait in the team queue.
		first := d.ticket(t, "+8613800000001")
		if first.AssigneeID != nil {
			t.Fatal("assigned while nobody is online")
		}
		// Li Na comes online and takes the waiting ticket.
		if _, err := d.svc.SetOnline(ctx, d.liNa, true); err != nil {
			t.Fatal(err)
		}
		if got := mustDetail(t, d.svc, first.Ref()); got.AssigneeID == nil || *got.AssigneeID != d.liNa.Agent.ID {
			t.Fatalf("waiting ticket not given to the agent who came online")
		}
		if _, err := d.svc.SetOnline(ctx, d.zhangWei, true); err != nil {
			t.Fatal(err)
		}
		// Zhang Wei has fewer open tickets, then they alternate, then both are full.
		var got []string
		var last *tickets.Ticket
		for i := range 4 {
			last = d.ticket(t, fmt.Sprintf("+86138000001%02d", i))
			who := "queue"
			if last.AssigneeID != nil {
				who = map[int64]string{d.liNa.Agent.ID: "li", d.zhangWei.Agent.ID: "zhang"}[*last.AssigneeID]
			}
			got = append(got, who)
		}
		if fmt.Sprint(got) != "[zhang li zhang queue]" {
			t.Errorf("assignments %v, want [zhang li zhang queue]", got)
		}
		// Resolving one frees a place: the queued ticket is assigned at once.
		mustDo(t)(d.svc.SetStatus(ctx, d.liNa, first.Ref(), tickets.StatusResolved, ""))
		if q := mustDetail(t, d.svc, last.Ref()); q.AssigneeID == nil || *q.AssigneeID != d.liNa.Agent.ID {
			t.Errorf("queued ticket not assigned when Li Na freed up (assignee %v)", q.AssigneeID)
		}
		// The audit trail says the system assigned it, and why.
		evs := mustDetail(t, d.svc, last.Ref()).Events
		if e := evs[len(evs)-1]; e.Kind != "ticket.assigned" || e.Actor != "system" {
			t.Errorf("last event %s by %s", e.Kind, e.Actor)
		}
	})
}
