package tickets_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// FuzzSearchCustomers: whatever an agent types into the search (q is outside input, from
// the queue's box and GET /customers?q=), the search answers a page or a refusal the agent
// can read, never another error or a panic; and the seeded caller is still found by the
// last digits of their number.
func FuzzSearchCustomers(f *testing.F) {
	db := tickettest.SQLite(f)
	svc := tickettest.Service(db, tickettest.NewClock(tickettest.T0))
	ctx := context.Background()
	if _, err := svc.Intake(ctx, tickettest.SMS("+8613800138000", "理赔进度？", "")); err != nil {
		f.Fatal(err)
	}
	for _, q := range []string{"8000", "+86 138 0013 8000", "0086 13800138000", "１３８００１３８０００", "%_", "李", "a@b.cn", "o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "  ", "\x00", "'; DROP TABLE customers; --"} {
		f.Add(q, "")
	}
	f.Add("8000", "not-a-cursor")
	f.Fuzz(func(t *testing.T, q, cursor string) {
		page, err := svc.SearchCustomers(ctx, tickets.CustomerFilter{Query: q, Cursor: cursor, Limit: 5})
		if err != nil {
			if !errors.Is(err, tickets.ErrInvalid) {
				t.Fatalf("SearchCustomers(%q, cursor %q): %v, want a page or ErrInvalid", q, cursor, err)
			}
			return
		}
		if len(page.Items) > 5 {
			t.Fatalf("%d customers on a page of 5", len(page.Items))
		}
		if q == "8000" && cursor == "" && len(page.Items) != 1 {
			t.Fatalf("the caller ending 8000 not found: %d customers", len(page.Items))
		}
	})
}
