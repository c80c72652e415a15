package tickets_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// searchDesk holds four customers an agent may look for.
func searchDesk(t *testing.T, db *bun.DB) *tickettest.Desk {
	t.Helper()
	ctx := context.Background()
	clock := tickettest.NewClock(tickettest.T0)
	d := tickettest.NewDesk(t, tickettest.Service(db, clock), clock)
	for _, in := range []tickets.Inbound{
		{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "+86 138 0013 8000", Name: "王小明", Body: "理赔进度？"},
		{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "13900008000", Name: "Li Lei", Body: "any news?"},
		{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "Han Meimei <Han.Meimei@Example.com>", Subject: "claim", Body: "hello"},
		{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: "oWx_Abc123", Name: "微信用户", Body: "你好"},
		// a number ending in nines, whose range has no upper end
		{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "13900009999", Name: "Qian Nines", Body: "hi"},
		// a landline, written with its trunk 0: +86 10 8888 7777
		{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "010 8888 7777", Name: "Zhao Office", Body: "hi"},
	} {
		if _, err := d.Svc.Intake(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func names(cs []*tickets.Customer) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	slices.Sort(out)
	return out
}

func TestSearchCustomers(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := searchDesk(t, db)
		for _, c := range []struct {
			q    string
			want []string
		}{
			{"+86 138 0013 8000", []string{"王小明"}},
			{"+8613800138000", []string{"王小明"}},
			{"13800138000", []string{"王小明"}},
			{"138-0013-8000", []string{"王小明"}},
			{"008613800138000", []string{"王小明"}},
			{"１３８００１３８０００", []string{"王小明"}}, // full-width digits
			{"0138 0013 8000", []string{"王小明"}},
			{"8000", []string{"Li Lei", "王小明"}}, // the last four digits
			{"08000", []string{"Li Lei", "王小明"}},
			{"38000", []string{"王小明"}},
			{"010 8888 7777", []string{"Zhao Office"}},
			{"88887777", []string{"Zhao Office"}},
			{"9999", []string{"Qian Nines"}},
			{"+86 139 0000 9999", []string{"Qian Nines"}},
			{"123", nil},           // too few digits for a number; no name has them
			{"99998000", nil},      // ends alike, but not this number
			{"王", []string{"王小明"}}, // part of a Chinese name
			{"小明", []string{"王小明"}},
			{"li lei", []string{"Li Lei"}}, // any case
			{"LEI", []string{"Li Lei"}},
			{"han.meimei@example.com", []string{""}}, // email, any case; this customer has no name
			{"HAN.MEIMEI@EXAMPLE.COM", []string{""}},
			{"oWx_Abc123", []string{"微信用户"}},
			{"owx_abc123", nil}, // openids are exact
			{"100%", nil},       // LIKE's wildcards are searched as text
			{"_", nil},
		} {
			page, err := d.Svc.SearchCustomers(ctx, tickets.CustomerFilter{Query: c.q})
			if err != nil {
				t.Errorf("search %q: %v", c.q, err)
				continue
			}
			if got := names(page.Items); !slices.Equal(got, c.want) {
				t.Errorf("search %q = %q, want %q", c.q, got, c.want)
			}
			for _, cu := range page.Items {
				if len(cu.Identities) == 0 {
					t.Errorf("search %q: customer %d came without identities", c.q, cu.ID)
				}
			}
		}

		for _, c := range []struct {
			name string
			f    tickets.CustomerFilter
		}{
			{"empty", tickets.CustomerFilter{Query: "  "}},
			{"too long", tickets.CustomerFilter{Query: strings.Repeat("a", tickets.MaxSearchLen+1)}},
			{"limit", tickets.CustomerFilter{Query: "8000", Limit: 101}},
			{"cursor", tickets.CustomerFilter{Query: "8000", Cursor: "x"}},
		} {
			if _, err := d.Svc.SearchCustomers(ctx, c.f); !errors.Is(err, tickets.ErrInvalid) {
				t.Errorf("%s: err = %v, want invalid", c.name, err)
			}
		}

		// Paging: one at a time, newest first, every match once.
		var seen []string
		f := tickets.CustomerFilter{Query: "8000", Limit: 1}
		for range 3 {
			page, err := d.Svc.SearchCustomers(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			seen = append(seen, names(page.Items)...)
			if page.NextCursor == "" {
				break
			}
			f.Cursor = page.NextCursor
		}
		if !slices.Equal(seen, []string{"Li Lei", "王小明"}) {
			t.Errorf("pages = %q", seen)
		}
	})
}

// The queue's search finds a customer's tickets as the customer search finds them, and
// still finds references and subjects.
func TestListTicketsFindsCustomer(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := searchDesk(t, db)
		for _, c := range []struct {
			q    string
			want []string
		}{
			{"8000", []string{"Li Lei", "王小明"}},
			{"+86 138 0013 8000", []string{"王小明"}},
			{"小明", []string{"王小明"}},
			{"han.meimei@example.com", []string{""}},
			{"oWx_Abc123", []string{"微信用户"}},
			{"claim", []string{""}},           // the email's subject
			{"HL-000002", []string{"Li Lei"}}, // a reference
			{"nobody", nil},
		} {
			page, err := d.Svc.ListTickets(ctx, tickets.TicketFilter{Query: c.q})
			if err != nil {
				t.Fatalf("q %q: %v", c.q, err)
			}
			var got []string
			for _, tk := range page.Items {
				got = append(got, tk.Customer.Name)
				if len(tk.Customer.Identities) == 0 {
					t.Errorf("q %q: %s shows no identity", c.q, tk.Ref())
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				t.Errorf("q %q = %q, want %q", c.q, got, c.want)
			}
		}
		if _, err := d.Svc.ListTickets(ctx, tickets.TicketFilter{Query: strings.Repeat("8", tickets.MaxSearchLen+1)}); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("long search: %v", err)
		}
	})
}

// Defect: a customer's second ticket on a page showed no phone number, because the
// identities went to the first copy of each customer only.
func TestEveryTicketOfACustomerShowsIdentities(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := tickettest.NewClock(tickettest.T0)
		d := tickettest.NewDesk(t, tickettest.Service(db, clock), clock)
		for _, subject := range []string{"first call", "second call", "third call"} {
			if _, err := d.Svc.CreateTicket(ctx, d.LiNa, tickets.NewTicket{Phone: "13800138000", Email: "wang@example.cn", Subject: subject}); err != nil {
				t.Fatal(err)
			}
		}
		page, err := d.Svc.ListTickets(ctx, tickets.TicketFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 3 {
			t.Fatalf("%d tickets listed, want 3", len(page.Items))
		}
		for _, tk := range page.Items {
			if got := tk.Customer.Identity(tickets.IdentityPhone); got != "+8613800138000" {
				t.Errorf("%s (%s) phone = %q", tk.Ref(), tk.Subject, got)
			}
			if got := tk.Customer.Identity(tickets.IdentityEmail); got != "wang@example.cn" {
				t.Errorf("%s (%s) email = %q", tk.Ref(), tk.Subject, got)
			}
		}
	})
}

// A phone number's last digits are found through the index on the reversed digits, not by
// reading every identity.
func TestPhoneSearchUsesIndex(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		if db.Dialect().Name() != dialect.PG {
			var plan []struct {
				ID      int    `bun:"id"`
				Parent  int    `bun:"parent"`
				NotUsed int    `bun:"notused"`
				Detail  string `bun:"detail"`
			}
			if err := db.NewRaw("EXPLAIN QUERY PLAN SELECT customer_id FROM customer_identities WHERE digits_reversed >= '0008' AND digits_reversed < '0009'").Scan(context.Background(), &plan); err != nil {
				t.Fatal(err)
			}
			if len(plan) == 0 || !strings.Contains(plan[0].Detail, "customer_identities_digits_reversed_idx") {
				t.Errorf("plan = %+v", plan)
			}
			return
		}
		if _, err := db.Exec("SET enable_seqscan = off"); err != nil { // a tiny table is otherwise read whole
			t.Fatal(err)
		}
		nodes := tickettest.Explain(t, db, "SELECT customer_id FROM customer_identities WHERE digits_reversed >= '0008' AND digits_reversed < '0009'")
		if !slices.ContainsFunc(nodes, func(n tickettest.PlanNode) bool { return n.Index == "customer_identities_digits_reversed_idx" }) {
			t.Errorf("plan = %+v", nodes)
		}
	})
}
