package tickets_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// Messages stored together follow the rules each follows alone: a new customer's second
// text threads into the ticket their first opened, a retry in the same batch changes
// nothing, replies thread or reopen, a complaint is opened, new tickets are numbered in
// the order their messages came, and a message that can't be stored fails alone.
func TestIntakeAllStoresTogether(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := tickettest.Service(db, tickettest.NewClock(t0))
		svc.SetComplaints(complaints.New(svc)) // as app does: the customer's 投诉 opens a complaint
		admin := adminActor(t, svc)
		known, err := svc.Intake(ctx, sms("+8613800000001", "earlier", "OLD1"))
		if err != nil {
			t.Fatal(err)
		}
		waiting, err := svc.Intake(ctx, sms("+8613800000002", "earlier too", "OLD2"))
		if err != nil {
			t.Fatal(err)
		}
		mustDo(t)(svc.SetStatus(ctx, admin, waiting.Ticket.Ref(), tickets.StatusPending, "asked for documents"))

		ins := []tickets.Inbound{
			sms("+8613800000003", "first question", "B1"),            // 0: new customer
			sms("+8613800000001", "more on my claim", "B2"),          // 1: known, active ticket
			sms("+8613800000003", "and a second one", "B3"),          // 2: same new customer
			sms("+8613800000001", "more on my claim", "B2"),          // 3: retry of 1
			sms("+8613800000002", "documents sent", "B4"),            // 4: reply to a pending ticket
			sms("+8613800000004", "", "B5"),                          // 5: nothing to store
			sms("+8613800000005", "我要投诉你们的理赔员", "B6"),                // 6: new customer, complaint
			sms("+8613800000001", "about "+known.Ticket.Ref(), "B7"), // 7: names their ticket
		}
		res, errs := svc.IntakeAll(ctx, ins)
		for i, err := range errs {
			if i == 5 {
				if !errors.Is(err, tickets.ErrInvalid) {
					t.Errorf("empty message: err = %v, want ErrInvalid", err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
		}
		if !res[0].Created || res[2].Created || res[2].Ticket.ID != res[0].Ticket.ID {
			t.Errorf("new customer's two texts: created %v/%v, tickets %s/%s; want one new ticket for both",
				res[0].Created, res[2].Created, res[0].Ticket.Ref(), res[2].Ticket.Ref())
		}
		for _, i := range []int{1, 7} {
			if res[i].Created || res[i].Ticket.ID != known.Ticket.ID {
				t.Errorf("message %d went to %s, want %s", i, res[i].Ticket.Ref(), known.Ticket.Ref())
			}
		}
		if !res[3].Duplicate || res[3].Message == nil || res[3].Message.ID != res[1].Message.ID {
			t.Errorf("retry in the batch: duplicate=%v, want the stored message %d", res[3].Duplicate, res[1].Message.ID)
		}
		if res[4].Ticket.ID != waiting.Ticket.ID || mustDetail(t, svc, waiting.Ticket.Ref()).Status != tickets.StatusOpen {
			t.Errorf("reply to a pending ticket did not reopen %s", waiting.Ticket.Ref())
		}
		if !res[6].Created || res[6].Complaint == nil {
			t.Errorf("complaint text: created=%v complaint=%v, want a new ticket with a complaint", res[6].Created, res[6].Complaint)
		}
		if res[0].Ticket.ID >= res[6].Ticket.ID {
			t.Errorf("tickets numbered %s then %s, want the order the messages came in", res[0].Ticket.Ref(), res[6].Ticket.Ref())
		}
		d := mustDetail(t, svc, res[0].Ticket.Ref())
		if fmt.Sprint(eventKinds(d.Events)) != "[ticket.created message.received message.received]" {
			t.Errorf("events = %v", eventKinds(d.Events))
		}
		if len(d.Messages) != 2 || d.Messages[0].Body != "first question" || d.Messages[1].Body != "and a second one" {
			t.Errorf("messages of %s out of order: %+v", d.Ref(), d.Messages)
		}
		assertCount(t, db, "customers", 4)
		assertCount(t, db, "messages", 2+6)
	})
}

// When the shared transaction fails for one message, every other message is still stored:
// each is tried on its own. (A trigger stands in for whatever a database may refuse.)
func TestIntakeAllFailsAlone(t *testing.T) {
	db := tickettest.Postgres(t)
	ctx := context.Background()
	for _, q := range []string{
		`CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$`,
		`CREATE TRIGGER refuse_poison BEFORE INSERT ON messages FOR EACH ROW WHEN (NEW.body = 'poison') EXECUTE FUNCTION refuse_poison()`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	svc := tickettest.Service(db, tickettest.NewClock(t0))
	res, errs := svc.IntakeAll(ctx, []tickets.Inbound{
		sms("+8613800000001", "hello", "P1"), sms("+8613800000002", "poison", "P2"), sms("+8613800000003", "hi", "P3"),
	})
	if errs[0] != nil || errs[2] != nil || res[0] == nil || res[2] == nil || !res[0].Created || !res[2].Created {
		t.Fatalf("good messages: errors %v / %v, want both stored", errs[0], errs[2])
	}
	if errs[1] == nil {
		t.Error("the refused message reported no error")
	}
	assertCount(t, db, "messages", 2)
	assertCount(t, db, "customers", 2)
}

// A customer known by a phone and an email address who writes both ways at once is one
// customer: the SMS threads into their active ticket, and the email, which answers no
// earlier mail, opens a conversation of its own for the same customer.
func TestIntakeAllOneCustomerTwoIdentities(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := tickettest.Service(db, tickettest.NewClock(t0))
		admin := adminActor(t, svc)
		logged, err := svc.CreateTicket(ctx, admin, tickets.NewTicket{Phone: "+8613800000001", Email: "wang@example.com", Subject: "claim by phone"})
		if err != nil {
			t.Fatal(err)
		}
		res, errs := svc.IntakeAll(ctx, []tickets.Inbound{
			sms("+8613800000001", "the documents are in the post", "T1"),
			{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "wang@example.com", Subject: "documents", Body: "scans attached", ProviderMessageID: "<m1@example.com>"},
		})
		for i, r := range res {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if r.Customer.ID != logged.CustomerID {
				t.Errorf("message %d: customer %d, want the ticket's customer %d", i, r.Customer.ID, logged.CustomerID)
			}
		}
		if res[0].Created || res[0].Ticket.ID != logged.ID {
			t.Errorf("the SMS went to %s (created=%v), want the customer's open %s", res[0].Ticket.Ref(), res[0].Created, logged.Ref())
		}
		if !res[1].Created || res[1].Ticket.ID == logged.ID {
			t.Errorf("the email went to %s (created=%v), want a ticket of its own", res[1].Ticket.Ref(), res[1].Created)
		}
		assertCount(t, db, "tickets", 2)
		assertCount(t, db, "customers", 1)
	})
}
