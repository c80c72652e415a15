package webhooks_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/delivery"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
	"github.com/hotlinedesk/hotline/tickets/webhooks"
)

// Every event a subscription may name is delivered when the product action happens,
// driven through the real services (intake, assignment, reply and its send, the deadline
// sweep, complaints, the survey), with its type, event id and data; and no payload
// carries the customer's phone number or their words.
func TestEveryEventDelivered(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, webhooks.Config{})
		cps := complaints.New(d.Svc)
		d.Svc.SetComplaints(cps)
		d.Svc.SetAftercare(aftercare.New(d.Svc, aftercare.Config{Surveys: true}))
		rc := newReceiver(t)
		names := slices.DeleteFunc(webhooks.EventNames(), func(s string) bool { return s == webhooks.EventPing })
		sub, _ := d.subscribe(t, rc, names...)

		const phone = "+8613800138000"
		tk := d.Ticket(t, phone) // ticket.created, message.received
		if _, err := d.Svc.Assign(ctx, d.Chen, tk.Ref(), tickets.Assignment{AssigneeID: &d.LiNa.Agent.ID}); err != nil {
			t.Fatal(err)
		}
		reply, err := d.Svc.Reply(ctx, d.LiNa, tk.Ref(), "您的理赔正在审核 your claim is under review")
		if err != nil {
			t.Fatal(err)
		}
		sends := delivery.New(d.Svc)
		claim, err := sends.ClaimSend(ctx, reply.ID)
		if err != nil || claim == nil {
			t.Fatalf("claim the reply's send: %v %v", claim, err)
		}
		if ok, err := sends.RecordSent(ctx, claim, "SM-out-1"); err != nil || !ok {
			t.Fatalf("record the send: %v %v", ok, err)
		}
		late := d.Ticket(t, "+8613900139000")
		d.Clock.Advance(19 * time.Hour) // 75% of the first response time: a warning
		if _, err := deadlines.New(d.Svc).Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		d.Clock.Advance(6 * time.Hour) // past it: a breach
		if _, err := deadlines.New(d.Svc).Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		c, err := cps.Open(ctx, d.LiNa, complaints.NewComplaint{TicketRef: tk.Ref(), Summary: "nobody called back"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cps.Extend(ctx, d.Admin, c.Ref(), c.DueAt.Add(5*24*time.Hour), "waiting for the hospital's report"); err != nil {
			t.Fatal(err)
		}
		if _, err := cps.Decide(ctx, d.Admin, c.Ref(), "we pay the claim in full", "upheld"); err != nil {
			t.Fatal(err)
		}
		d.Resolve(t, tk) // ticket.status_changed; the survey is sent
		if _, err := d.Svc.Intake(ctx, tickettest.SMS(phone, "5 很满意", "SM-survey")); err != nil {
			t.Fatal(err)
		}
		d.drain(t)

		got := rc.received()
		byType := map[string][]received{}
		for _, g := range got {
			byType[g.Type] = append(byType[g.Type], g)
			if g.Header.Get("Hotline-Event") != g.Type || g.Header.Get("Hotline-Event-Id") != g.ID || !strings.HasPrefix(g.ID, "evt_") {
				t.Errorf("%s: headers %v and id %q disagree", g.Type, g.Header, g.ID)
			}
			for _, secret := range []string{"13800138000", "13900139000", "where is my claim", "理赔正在审核", "很满意", "hospital"} {
				if strings.Contains(string(g.Body), secret) {
					t.Errorf("%s carries %q: %s", g.Type, secret, g.Body)
				}
			}
		}
		ticketOf := func(g received) float64 {
			tkd, _ := g.Data["ticket"].(map[string]any)
			id, _ := tkd["id"].(float64)
			return id
		}
		for _, c := range []struct {
			event  string
			ticket *tickets.Ticket
			check  func(data map[string]any) bool
		}{
			{"ticket.created", tk, func(m map[string]any) bool { return m["priority"] != nil }},
			{"message.received", tk, func(m map[string]any) bool { return m["direction"] == "inbound" && m["message_id"] != nil }},
			{"ticket.assigned", tk, func(m map[string]any) bool { return m["to_assignee"] == float64(d.LiNa.Agent.ID) }},
			{"message.sent", tk, func(m map[string]any) bool {
				return m["direction"] == "outbound" && m["message_id"] == float64(reply.ID)
			}},
			{"deadline.warned", late, func(m map[string]any) bool { return m["deadline"] == "first_response" && m["percent"] != nil }},
			{"deadline.breached", late, func(m map[string]any) bool { return m["deadline"] == "first_response" }},
			{"complaint.opened", tk, func(m map[string]any) bool { return m["complaint"] == c.Ref() }},
			{"complaint.extended", tk, func(m map[string]any) bool { return m["complaint"] == c.Ref() && m["to"] != nil }},
			{"complaint.decided", tk, func(m map[string]any) bool { return m["outcome"] == "upheld" }},
			{"ticket.status_changed", tk, func(m map[string]any) bool { return m["to"] == "resolved" }},
			{"survey.answered", tk, func(m map[string]any) bool { return m["score"] == float64(5) }},
		} {
			found := false
			for _, g := range byType[c.event] {
				if ticketOf(g) == float64(c.ticket.ID) && c.check(g.Data) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s of %s: not delivered as expected; got %d of that type: %v", c.event, c.ticket.Ref(), len(byType[c.event]), byType[c.event])
			}
		}
		for _, n := range names {
			if len(byType[n]) == 0 {
				t.Errorf("no %s delivered", n)
			}
		}
		ds, err := d.hooks.Deliveries(ctx, d.Admin, webhooks.DeliveryFilter{SubscriptionID: sub.ID, Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != len(got) {
			t.Errorf("%d deliveries recorded, %d received", len(ds), len(got))
		}
		for _, x := range ds {
			if x.State != webhooks.DeliveryDelivered || x.Attempts != 1 || x.LastStatus != 200 || x.DeliveredAt == nil {
				t.Errorf("delivery %d: %+v", x.ID, x)
			}
		}
	})
}
