package tickets_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

var t0 = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)

func sms(from, body, sid string) tickets.Inbound {
	return tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: from, Body: body, ProviderMessageID: sid}
}

func TestIntakeOpensTicketWithDeadlines(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := tickettest.Service(db, tickettest.NewClock(t0))

		res, err := svc.Intake(ctx, sms("138 0013 8000", "我的理赔进度怎么样了？\n保单号 P123", "SM1"))
		if err != nil {
			t.Fatal(err)
		}
		tk := res.Ticket
		if !res.Created || res.Duplicate {
			t.Fatalf("created=%v duplicate=%v, want a new ticket", res.Created, res.Duplicate)
		}
		if tk.Status != tickets.StatusNew || tk.Priority != tickets.PriorityNormal || tk.Channel != tickets.ChannelSMS {
			t.Errorf("ticket = %s/%s/%s, want new/normal/sms", tk.Status, tk.Priority, tk.Channel)
		}
		if tk.Subject != "我的理赔进度怎么样了？" {
			t.Errorf("subject = %q, want the first line of the text", tk.Subject)
		}
		if !tk.FirstResponseDueAt.Equal(t0.Add(24*time.Hour)) || !tk.ResolutionDueAt.Equal(t0.Add(48*time.Hour)) {
			t.Errorf("deadlines = %v / %v, want +24h / +48h", tk.FirstResponseDueAt, tk.ResolutionDueAt)
		}

		d, err := svc.Ticket(ctx, tk.Ref())
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Customer.Identity(tickets.IdentityPhone); got != "+8613800138000" {
			t.Errorf("customer phone = %q, want E.164 +8613800138000", got)
		}
		if len(d.Messages) != 1 || d.Messages[0].Direction != tickets.DirectionInbound || d.Messages[0].DeliveryStatus != "received" {
			t.Fatalf("messages = %+v, want one received inbound message", d.Messages)
		}
		kinds := eventKinds(d.Events)
		if fmt.Sprint(kinds) != "[ticket.created message.received]" {
			t.Errorf("events = %v", kinds)
		}
	})
}

func TestIntakeEmailGetsLongerFirstResponse(t *testing.T) {
	db := tickettest.SQLite(t)
	svc := tickettest.Service(db, tickettest.NewClock(t0))
	res, err := svc.Intake(context.Background(), tickets.Inbound{
		Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "Wang Fang <Wang.Fang@Example.com>",
		Subject: "Claim documents", Body: "Attached.", ProviderMessageID: "<a@example.com>",
		Attachments: []tickets.NewAttachment{{Filename: "invoice.pdf", ContentType: "application/pdf", SizeBytes: 2048}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Ticket.FirstResponseDueAt.Equal(t0.Add(48 * time.Hour)) {
		t.Errorf("email first response due %v, want +48h", res.Ticket.FirstResponseDueAt)
	}
	d, _ := svc.Ticket(context.Background(), res.Ticket.Ref())
	if d.Subject != "Claim documents" || d.Customer.Identity(tickets.IdentityEmail) != "wang.fang@example.com" {
		t.Errorf("subject %q email %q", d.Subject, d.Customer.Identity(tickets.IdentityEmail))
	}
	if len(d.Messages[0].Attachments) != 1 || d.Messages[0].Attachments[0].Filename != "invoice.pdf" {
		t.Errorf("attachments = %+v", d.Messages[0].Attachments)
	}
}

func TestIntakeIsIdempotentOnProviderMessageID(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := tickettest.Service(db, tickettest.NewClock(t0))
		first, err := svc.Intake(ctx, sms("+8613800138000", "hello", "SM-dup"))
		if err != nil {
			t.Fatal(err)
		}
		again, err := svc.Intake(ctx, sms("+8613800138000", "hello", "SM-dup"))
		if err != nil {
			t.Fatal(err)
		}
		if !again.Duplicate || again.Message.ID != first.Message.ID || again.Ticket.ID != first.Ticket.ID {
			t.Fatalf("retry: duplicate=%v message %d vs %d", again.Duplicate, again.Message.ID, first.Message.ID)
		}
		// The same id on another channel is another message.
		other, err := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: "oABC", Body: "hi", ProviderMessageID: "SM-dup"})
		if err != nil || other.Duplicate {
			t.Fatalf("wechat message with the same id: %v duplicate=%v", err, other.Duplicate)
		}
		assertCount(t, db, "messages", 2)
		assertCount(t, db, "tickets", 2)
	})
}

func TestIntakeThreading(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := tickettest.NewClock(t0)
		svc := tickettest.Service(db, clock)
		admin := adminActor(t, svc)

		a, _ := svc.Intake(ctx, sms("+8613800138000", "first", "S1"))
		b, _ := svc.Intake(ctx, sms("+8613800138000", "second", "S2"))
		if b.Created || b.Ticket.ID != a.Ticket.ID {
			t.Fatalf("second message opened %s, want it threaded to %s", b.Ticket.Ref(), a.Ticket.Ref())
		}
		// Waiting on the customer: their reply reopens the work.
		mustDo(t)(svc.SetStatus(ctx, admin, a.Ticket.Ref(), tickets.StatusPending, "asked for documents"))
		c, _ := svc.Intake(ctx, sms("+8613800138000", "here they are", "S3"))
		if c.Ticket.ID != a.Ticket.ID || c.Ticket.Status != tickets.StatusOpen {
			t.Fatalf("reply to pending ticket: %s status %s, want %s open", c.Ticket.Ref(), c.Ticket.Status, a.Ticket.Ref())
		}
		// Within 7 days of resolution the customer's message reopens the ticket; later, a
		// message opens a new one.
		mustDo(t)(svc.SetStatus(ctx, admin, a.Ticket.Ref(), tickets.StatusResolved, ""))
		clock.Advance(6 * 24 * time.Hour)
		again, _ := svc.Intake(ctx, sms("+8613800138000", "it happened again", "S3b"))
		if again.Created || again.Ticket.ID != a.Ticket.ID || again.Ticket.Status != tickets.StatusOpen {
			t.Fatalf("message 6 days after resolution: %s created=%v status %s, want %s reopened", again.Ticket.Ref(), again.Created, again.Ticket.Status, a.Ticket.Ref())
		}
		if got := mustDetail(t, svc, a.Ticket.Ref()); got.Status != tickets.StatusOpen {
			t.Errorf("reopening not saved: %s", got.Status)
		}
		mustDo(t)(svc.SetStatus(ctx, admin, a.Ticket.Ref(), tickets.StatusResolved, ""))
		clock.Advance(8 * 24 * time.Hour)
		d, _ := svc.Intake(ctx, sms("+8613800138000", "new question", "S4"))
		if !d.Created {
			t.Fatalf("message 8 days after resolution threaded to %s, want a new ticket", d.Ticket.Ref())
		}
		// A reference to the customer's own ticket threads there, even if resolved.
		e, _ := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "+8613800138000", Body: "about HL-1", ProviderMessageID: "S5", TicketID: a.Ticket.ID})
		if e.Ticket.ID != a.Ticket.ID {
			t.Errorf("message naming %s went to %s", a.Ticket.Ref(), e.Ticket.Ref())
		}
		// Another customer's reference is ignored.
		f, _ := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "+8613900139000", Body: "x", ProviderMessageID: "S6", TicketID: a.Ticket.ID})
		if f.Ticket.ID == a.Ticket.ID || !f.Created {
			t.Errorf("a stranger's message was threaded into %s", a.Ticket.Ref())
		}
	})
}

func TestIntakeRejectsBadInput(t *testing.T) {
	db := tickettest.SQLite(t)
	svc := tickettest.Service(db, tickettest.NewClock(t0))
	cases := []struct {
		name string
		in   tickets.Inbound
	}{
		{"unknown channel", tickets.Inbound{Channel: "fax", From: tickets.IdentityPhone, Address: "+8613800138000", Body: "x"}},
		{"letters in phone", sms("138-CALL-ME", "x", "")},
		{"too short phone", sms("+12345", "x", "")},
		{"empty body", sms("+8613800138000", "   ", "")},
		{"bad email", tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "not-an-address", Body: "x"}},
		{"invalid utf-8", sms("+8613800138000", "\xff\xfe", "")},
		{"huge body", sms("+8613800138000", string(make([]byte, 70_000)), "")},
		{"NUL character", sms("+8613800138000", "a\x00b", "")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := svc.Intake(context.Background(), c.in)
			if !errors.Is(err, tickets.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
	assertCount(t, db, "messages", 0)
}

// 50 goroutines deliver messages at once for 10 customers, each message also retried once.
// Half the customers are new; the other half are known and have no active ticket, the
// case where two messages could each open a ticket. Every customer ends with exactly one
// new ticket and every message is stored exactly once.
func TestIntakeConcurrent(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := tickettest.Service(db, tickettest.NewClock(t0))
		admin := adminActor(t, svc)
		const workers, customers, known = 50, 10, 5
		phone := func(i int) string { return fmt.Sprintf("+86138000000%02d", i%customers) }
		for i := range known {
			res, err := svc.Intake(ctx, sms(phone(i), "earlier question", fmt.Sprintf("OLD%d", i)))
			if err != nil {
				t.Fatal(err)
			}
			mustDo(t)(svc.SetStatus(ctx, admin, res.Ticket.Ref(), tickets.StatusResolved, ""))
			mustDo(t)(svc.SetStatus(ctx, admin, res.Ticket.Ref(), tickets.StatusClosed, "")) // closed: never reopened by a message
		}

		var wg sync.WaitGroup
		errs := make(chan error, workers*2)
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				in := sms(phone(i), fmt.Sprintf("message %d", i), fmt.Sprintf("SM%03d", i))
				for range 2 { // the provider retries
					if _, err := svc.Intake(ctx, in); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		assertCount(t, db, "customers", customers)
		assertCount(t, db, "customer_identities", customers)
		assertCount(t, db, "tickets", known+customers)
		assertCount(t, db, "messages", known+workers)
		var perTicket []int
		if err := db.NewSelect().Table("messages").ColumnExpr("COUNT(*)").
			Where("ticket_id IN (SELECT id FROM tickets WHERE status = 'new')").Group("ticket_id").Scan(ctx, &perTicket); err != nil {
			t.Fatal(err)
		}
		if len(perTicket) != customers {
			t.Errorf("%d active tickets, want one per customer (%d)", len(perTicket), customers)
		}
		for _, n := range perTicket {
			if n != workers/customers {
				t.Errorf("an active ticket has %d messages, want %d", n, workers/customers)
			}
		}
	})
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

func ptr[T any](v T) *T { return &v }

func eventKinds(evs []*tickets.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

func mustDo(t *testing.T) func(*tickets.Ticket, error) *tickets.Ticket {
	return func(tk *tickets.Ticket, err error) *tickets.Ticket {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
}

func adminActor(t *testing.T, svc *tickets.Service) tickets.Actor {
	t.Helper()
	a, err := svc.CreateAgent(context.Background(), tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "admin@example.com", Role: tickets.RoleAdmin, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	return tickets.AgentActor(a)
}
