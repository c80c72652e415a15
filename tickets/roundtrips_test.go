package tickets_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// A plain message arriving alone, the first of a new customer or a reply onto their
// open ticket, costs two round trips: BEGIN with the locks and reads, then the rows with
// COMMIT. What is not plain (a reopened ticket) is stored as before, with the same result.
func TestIntakeRoundTrips(t *testing.T) {
	db, writes, _ := tickettest.CountedPostgres(t)
	ctx := context.Background()
	clock := tickettest.NewClock(t0)
	svc := tickettest.Service(db, clock)
	intake := func(in tickets.Inbound) *tickets.IntakeResult {
		t.Helper()
		res, err := svc.Intake(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	// The routing rules and SLA policies read and cached; the writes of a first message
	// and of a reply prepared on the connection (a round trip of its own, once).
	intake(sms("13900139000", "hello", "SM0"))
	intake(sms("13900139000", "hello again", "SM0b"))
	var first *tickets.IntakeResult
	if n := tickettest.RoundTrips(t, db, writes, func() { first = intake(sms("13800138000", "claim status?", "SM1")) }); n != 2 {
		t.Errorf("a new customer's first message took %d round trips, want 2", n)
	}
	if !first.Created || first.Message == nil || first.Message.ID == 0 || first.Ticket.ID == 0 || first.Customer.ID == 0 {
		t.Fatalf("first message: %+v", first)
	}
	var reply *tickets.IntakeResult
	if n := tickettest.RoundTrips(t, db, writes, func() { reply = intake(sms("13800138000", "any news?", "SM2")) }); n != 2 {
		t.Errorf("a reply took %d round trips, want 2", n)
	}
	if reply.Created || reply.Ticket.ID != first.Ticket.ID || reply.Message.ID <= first.Message.ID || reply.Customer.ID != first.Customer.ID {
		t.Fatalf("reply: created %v, ticket %d (want %d), message %d", reply.Created, reply.Ticket.ID, first.Ticket.ID, reply.Message.ID)
	}
	// A retried webhook is refused by the unique key on the plain path and answered from
	// what was stored.
	again := intake(sms("13800138000", "any news?", "SM2"))
	if !again.Duplicate || again.Message.ID != reply.Message.ID || again.Ticket.ID != first.Ticket.ID {
		t.Fatalf("retry: %+v", again)
	}
	// A ticket waiting on the customer is reopened by the general path.
	if _, err := db.NewUpdate().Table("tickets").Set("status = ?", tickets.StatusPending).Where("id = ?", first.Ticket.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	back := intake(sms("13800138000", "here are the documents", "SM3"))
	if back.Created || back.Ticket.ID != first.Ticket.ID || back.Ticket.Status != tickets.StatusOpen {
		t.Fatalf("answer to a pending ticket: created %v, ticket %d, status %s", back.Created, back.Ticket.ID, back.Ticket.Status)
	}
	var messages, tickets_ int
	if err := db.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM tickets)").Scan(&messages, &tickets_); err != nil {
		t.Fatal(err)
	}
	if messages != 5 || tickets_ != 2 {
		t.Fatalf("%d messages on %d tickets, want 5 on 2", messages, tickets_)
	}
}

// Four processes (four Services, each with its own batcher) receive a known customer's
// first messages since their tickets closed at the same moment, for 20 customers: each
// customer ends with one new ticket holding all four messages. On PostgreSQL the plain
// path takes the customer's lock and only then reads their tickets, in a statement of its
// own, so the process that waited sees the ticket the first one opened.
func TestIntakeOneNewTicketAcrossProcesses(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := tickettest.NewClock(t0)
		svcs := make([]*tickets.Service, 4)
		for i := range svcs {
			svcs[i] = tickettest.Service(db, clock)
		}
		admin := adminActor(t, svcs[0])
		const customers = 20
		phone := func(c int) string { return fmt.Sprintf("+86137000000%02d", c) }
		for c := range customers {
			res, err := svcs[0].Intake(ctx, sms(phone(c), "earlier question", fmt.Sprintf("OLD%d", c)))
			if err != nil {
				t.Fatal(err)
			}
			mustDo(t)(svcs[0].SetStatus(ctx, admin, res.Ticket.Ref(), tickets.StatusResolved, ""))
			mustDo(t)(svcs[0].SetStatus(ctx, admin, res.Ticket.Ref(), tickets.StatusClosed, ""))
		}
		for c := range customers {
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, svc := range svcs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					if _, err := svc.Intake(ctx, sms(phone(c), "again", fmt.Sprintf("SM%d-%d", c, i))); err != nil {
						t.Error(err)
					}
				}()
			}
			close(start)
			wg.Wait()
		}
		var perTicket []int
		if err := db.NewSelect().Table("messages").ColumnExpr("COUNT(*)").
			Where("ticket_id IN (SELECT id FROM tickets WHERE status = 'new')").Group("ticket_id").Scan(ctx, &perTicket); err != nil {
			t.Fatal(err)
		}
		if len(perTicket) != customers {
			t.Errorf("%d new tickets, want one per customer (%d)", len(perTicket), customers)
		}
		for _, n := range perTicket {
			if n != len(svcs) {
				t.Errorf("a new ticket holds %d messages, want %d", n, len(svcs))
			}
		}
	})
}

// A contact an agent logs costs two round trips on PostgreSQL, its statement prepared on
// the connection: BEGIN with the caller's lookup, then the rows with COMMIT. A create that
// fails in its second round trip (here a team that does not exist, refused by the foreign
// key) stores nothing and leaves its connection out of any transaction: the next create on
// that one connection works and is the only one stored.
func TestCreateTicketRoundTrips(t *testing.T) {
	db, writes, _ := tickettest.CountedPostgres(t)
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	svc := tickettest.Service(db, tickettest.NewClock(t0))
	agent := adminActor(t, svc)
	create := func(a tickets.Actor, phone string) (*tickets.TicketDetail, error) {
		return svc.CreateTicketDetail(ctx, a, tickets.NewTicket{Name: "刘洋", Phone: phone, Email: "liu@example.com", Subject: "退保咨询", Body: "客户询问退保材料"})
	}
	// The lookup and the writes of a new caller and of one calling again prepared on the
	// connection (each a round trip of its own, once).
	for _, phone := range []string{"13700137001", "13700137003", "13700137003"} {
		if _, err := create(agent, phone); err != nil {
			t.Fatal(err)
		}
	}
	for _, phone := range []string{"13700137002", "13700137001"} { // a new caller, then one calling again
		var d *tickets.TicketDetail
		if n := tickettest.RoundTrips(t, db, writes, func() {
			var err error
			if d, err = create(agent, phone); err != nil {
				t.Fatal(err)
			}
		}); n != 2 {
			t.Errorf("logging a call from %s took %d round trips, want 2", phone, n)
		}
		if d.ID == 0 || d.Customer.ID == 0 || len(d.Messages) != 1 || d.Messages[0].ID == 0 || len(d.Events) == 0 || d.Events[0].ID == 0 {
			t.Fatalf("logged call: %+v", d)
		}
	}

	lost := *agent.Agent
	nowhere := int64(1 << 40)
	lost.TeamID = &nowhere
	if _, err := create(tickets.AgentActor(&lost), "13700137009"); err == nil {
		t.Fatal("a call logged into a team that does not exist was stored")
	}
	if _, err := create(agent, "13700137010"); err != nil {
		t.Fatalf("the create after a failed one: %v", err)
	}
	var stored, callers int
	if err := db.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM customer_identities WHERE value IN ('+8613700137009', '+8613700137010'))").
		Scan(&stored, &callers); err != nil {
		t.Fatal(err)
	}
	if stored != 6 || callers != 1 {
		t.Errorf("%d tickets and %d of the last two callers stored, want 6 and 1", stored, callers)
	}
}
