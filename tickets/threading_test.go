package tickets_test

import (
	"context"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// A customer with an open ticket writes again without naming it. By SMS or WeChat, which
// carry no conversation, the message joins the open ticket; by email, which does
// (In-Reply-To/References or [HL-…]), an email naming none is a new conversation and keeps
// its own subject ("Change my delivery address" after "Invoice is wrong").
func TestThreadingRuleByChannel(t *testing.T) {
	cases := []struct {
		name      string
		first     tickets.Inbound
		second    tickets.Inbound
		naming    bool // the second message's subject names the first's ticket
		newTicket bool
	}{
		{
			name:      "second unrelated email opens its own ticket",
			first:     mail("li@example.com", "Invoice is wrong", "The total is wrong.", "m1@example.com"),
			second:    mail("li@example.com", "Change my delivery address", "Please send it to the office.", "m2@example.com"),
			newTicket: true,
		},
		{
			name:   "email naming the ticket in its subject joins it",
			first:  mail("wu@example.com", "Invoice is wrong", "The total is wrong.", "m3@example.com"),
			second: mail("wu@example.com", "Re: Invoice is wrong", "Any news?", "m4@example.com"),
			naming: true,
		},
		{
			name:   "second SMS joins the open ticket",
			first:  sms("+8613800000001", "my parcel is late", "S1"),
			second: sms("+8613800000001", "it is order 42", "S2"),
		},
		{
			name:   "second WeChat message joins the open ticket",
			first:  wechat("oAbc123", "my parcel is late", "W1"),
			second: wechat("oAbc123", "it is order 42", "W2"),
		},
	}
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ctx := context.Background()
				svc := tickettest.Service(db, tickettest.NewClock(t0))
				first, err := svc.Intake(ctx, c.first)
				if err != nil {
					t.Fatal(err)
				}
				if c.naming {
					c.second.Subject += " [" + first.Ticket.Ref() + "]"
				}
				second, err := svc.Intake(ctx, c.second)
				if err != nil {
					t.Fatal(err)
				}
				if second.Customer.ID != first.Customer.ID {
					t.Fatalf("the second message is another customer's")
				}
				if got := second.Ticket.ID != first.Ticket.ID; got != c.newTicket || second.Created != c.newTicket {
					t.Fatalf("second message went to %s (created=%v), first was %s; want a new ticket: %v",
						second.Ticket.Ref(), second.Created, first.Ticket.Ref(), c.newTicket)
				}
				if c.newTicket {
					td, err := svc.Ticket(ctx, second.Ticket.Ref())
					if err != nil {
						t.Fatal(err)
					}
					if td.Subject != c.second.Subject || len(td.Messages) != 1 {
						t.Errorf("new ticket: subject %q with %d messages, want %q with 1", td.Subject, len(td.Messages), c.second.Subject)
					}
				}
			})
		}
	})
}

func mail(addr, subject, body, id string) tickets.Inbound {
	return tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: addr, Subject: subject, Body: body, ProviderMessageID: id}
}

func wechat(openid, body, id string) tickets.Inbound {
	return tickets.Inbound{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: openid, Body: body, ProviderMessageID: id}
}
