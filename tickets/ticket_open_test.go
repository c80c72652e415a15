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

// Agents logging calls from one new caller at the same moment make one customer, with
// one phone identity and one email identity, and every call its own ticket on that
// customer: the identities' unique key refuses the second customer, and the create is run
// again to find the first (on PostgreSQL the whole create is one statement, which fails
// as a whole).
func TestCreateTicketRaceMakesOneCustomer(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		const n = 8
		var wg sync.WaitGroup
		details := make([]*tickets.TicketDetail, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				details[i], errs[i] = d.svc.CreateTicketDetail(ctx, d.liNa, tickets.NewTicket{Name: "刘洋", Phone: "137 0013 7003",
					Email: "liu@example.com", Subject: fmt.Sprintf("来电 %d", i), Body: "客户询问退保材料"})
			}()
		}
		wg.Wait()
		refs := map[string]bool{}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
			refs[details[i].Ref()] = true
			c := details[i].Customer
			if c == nil || c.ID != details[0].Customer.ID || c.Identity(tickets.IdentityPhone) != "+8613700137003" || c.Identity(tickets.IdentityEmail) != "liu@example.com" {
				t.Errorf("call %d answered customer %+v, want the one customer with both identities", i, c)
			}
			if len(details[i].Messages) != 1 || len(details[i].Events) != 1 || details[i].Events[0].ID == 0 || details[i].Messages[0].ID == 0 {
				t.Errorf("call %d answered %d messages and %d events", i, len(details[i].Messages), len(details[i].Events))
			}
		}
		if len(refs) != n {
			t.Errorf("%d tickets for %d calls", len(refs), n)
		}
		var customers, phones, emails int
		if err := db.NewRaw("SELECT COUNT(*) FROM customers").Scan(ctx, &customers); err != nil {
			t.Fatal(err)
		}
		if err := db.NewRaw("SELECT COUNT(*) FROM customer_identities WHERE kind = 'phone' AND value = '+8613700137003'").Scan(ctx, &phones); err != nil {
			t.Fatal(err)
		}
		if err := db.NewRaw("SELECT COUNT(*) FROM customer_identities WHERE kind = 'email' AND value = 'liu@example.com'").Scan(ctx, &emails); err != nil {
			t.Fatal(err)
		}
		if customers != 1 || phones != 1 || emails != 1 {
			t.Errorf("%d customers, %d phone and %d email identities; want one of each", customers, phones, emails)
		}
		for ref := range refs {
			got := mustDetail(t, d.svc, ref)
			if got.CustomerID != details[0].Customer.ID || len(got.Messages) != 1 {
				t.Errorf("%s: customer %d with %d messages", ref, got.CustomerID, len(got.Messages))
			}
		}
	})
}
