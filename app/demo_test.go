package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The demo's agents start online and its contacts are routed to a team, so a customer who
// writes in during the demo is given to an agent at once: a claims question to Claims, a
// complaint to Complaints.
func TestDemoShowsAutoAssignment(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := tickets.NewService(db, nil, tickets.Config{DefaultCountry: "86"}, nil)
		if seeded, err := seedDemo(ctx, svc, tickettest.Logger()); err != nil || !seeded {
			t.Fatalf("seed demo: %v, %v", seeded, err)
		}
		agents, err := svc.Agents(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		online := map[string]bool{}
		for _, a := range agents {
			online[a.Email] = a.Online
		}
		for email, want := range map[string]bool{
			"li.na@demo.hotline": true, "zhang.wei@demo.hotline": true, "chen.jing@demo.hotline": true,
			"wang.fang@demo.hotline": true, // Complaints: complaints are routed there
		} {
			if online[email] != want {
				t.Errorf("%s online = %v, want %v", email, online[email], want)
			}
		}
		res, err := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone,
			Address: "+8613600136000", ProviderMessageID: "demo-test-1", Body: "我的理赔到哪一步了？"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Ticket.AssigneeID == nil {
			t.Fatal("a new contact in the demo waits unassigned; want it auto-assigned to an online agent")
		}
		teams, err := svc.Teams(ctx)
		if err != nil {
			t.Fatal(err)
		}
		teamNamed := map[int64]string{}
		for _, tm := range teams {
			teamNamed[tm.ID] = tm.Name
		}
		emailOf := map[int64]string{}
		for _, a := range agents {
			emailOf[a.ID] = a.Email
		}
		for i, c := range []struct{ body, team, assignees string }{
			{"我的理赔到哪一步了？", "理赔服务 Claims", "li.na zhang.wei chen.jing"},
			{"我要投诉你们的理赔员，三周没人回电话", "投诉处理 Complaints", "wang.fang"},
			{"I want to complain about how my claim was handled", "投诉处理 Complaints", "wang.fang"},
		} {
			res, err := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone,
				Address: fmt.Sprintf("+861360013610%d", i), ProviderMessageID: fmt.Sprintf("demo-route-%d", i), Body: c.body})
			if err != nil {
				t.Fatal(err)
			}
			tk := res.Ticket
			if tk.TeamID == nil || teamNamed[*tk.TeamID] != c.team {
				t.Errorf("%q went to team %v, want %s", c.body, tk.TeamID, c.team)
			}
			if tk.AssigneeID == nil || !strings.Contains(c.assignees, strings.TrimSuffix(emailOf[*tk.AssigneeID], "@demo.hotline")) {
				t.Errorf("%q was assigned to %v, want one of %s", c.body, tk.AssigneeID, c.assignees)
			}
		}
	})
}
