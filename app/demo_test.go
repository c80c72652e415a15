package main

import (
	"context"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The demo's agents start online and its contacts are routed to a team, so a customer who
// writes in during the demo is given to an agent at once.
func TestDemoShowsAutoAssignment(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := tickets.NewService(db, nil, tickets.Config{DefaultCountry: "86"}, nil)
		if err := seedDemo(ctx, svc, tickettest.Logger()); err != nil {
			t.Fatalf("seed demo: %v", err)
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
			"wang.fang@demo.hotline": false, // Complaints: the rule routes contacts to Claims
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
	})
}
