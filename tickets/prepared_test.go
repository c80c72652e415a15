package tickets_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// An agent's queue reads (the token check, the page, the customers' identities) run as
// prepared statements on PostgreSQL, with their values as parameters, and read the same
// pages whether the statement is cached, run unprepared past the cache's bound, or (on
// SQLite, but for the token check) formatted inline.
func TestQueueReadsRunPrepared(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		var mine []string
		for i := range 5 {
			tk := d.ticket(t, fmt.Sprintf("+86138000000%02d", i))
			if i%2 == 0 {
				mustDo(t)(d.svc.Assign(ctx, d.admin, tk.Ref(), tickets.Assignment{AssigneeID: &d.liNa.Agent.ID}))
				mine = append(mine, tk.Ref())
			}
			d.clock.Advance(time.Minute)
		}
		doors := access.New(d.svc, access.Config{}) // the token check is the doors'
		token, _, err := doors.Login(ctx, "li.na@example.com", "long enough password")
		if err != nil {
			t.Fatal(err)
		}

		var mu sync.Mutex
		traced := map[string][]any{}
		ctx = tickets.WithStatementTrace(ctx, func(q string, args []any) {
			mu.Lock()
			traced[q] = args
			mu.Unlock()
		})
		// reads returns what each queue shows, page by page: ref, owner and phone.
		filters := []tickets.TicketFilter{
			{AssigneeID: &d.liNa.Agent.ID, Limit: 2},
			{TeamID: &d.claims.ID, Statuses: []tickets.Status{tickets.StatusNew, tickets.StatusOpen}},
			{Unassigned: true},
			{Query: mine[1]},
		}
		reads := func(t *testing.T) [][]string {
			t.Helper()
			if a, err := doors.Authenticate(ctx, token); err != nil || a.ID != d.liNa.Agent.ID {
				t.Fatalf("authenticate: %v, %v", a, err)
			}
			got := make([][]string, len(filters))
			for i, f := range filters {
				for page := 1; ; page++ {
					p, err := d.svc.ListTickets(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					for _, tk := range p.Items {
						owner := "-"
						if tk.Assignee != nil {
							owner = tk.Assignee.Email
						}
						got[i] = append(got[i], fmt.Sprintf("p%d %s %s %s", page, tk.Ref(), owner, tk.Customer.Identity(tickets.IdentityPhone)))
					}
					if f.Cursor = p.NextCursor; f.Cursor == "" {
						break
					}
				}
			}
			return got
		}
		first := reads(t)
		want := []string{
			"p1 " + mine[0] + " li.na@example.com +8613800000000",
			"p1 " + mine[1] + " li.na@example.com +8613800000002",
			"p2 " + mine[2] + " li.na@example.com +8613800000004",
		}
		if !slices.Equal(first[0], want) {
			t.Errorf("Li Na's queue, two a page:\n%q\nwant\n%q", first[0], want)
		}
		if !slices.Equal(first[3], want[1:2]) {
			t.Errorf("search by %s: %q", mine[1], first[3])
		}
		if len(first[2]) != 2 {
			t.Errorf("unassigned queue: %q, want the two tickets nobody took", first[2])
		}

		if db.Dialect().Name() != dialect.PG {
			// On SQLite only the token check (and its stamp) runs prepared: the pages'
			// values are formatted inline.
			if len(traced) == 0 {
				t.Error("SQLite ran the token check unprepared")
			}
			for q := range traced {
				if !strings.Contains(q, "api_tokens") {
					t.Errorf("SQLite ran a queue read prepared: %s", q)
				}
			}
			return
		}
		var mode string // the plans the harness explains are the ones that run
		if err := db.NewRaw("SHOW plan_cache_mode").Scan(ctx, &mode); err != nil || mode != "force_generic_plan" {
			t.Errorf("plan_cache_mode = %q (%v), want force_generic_plan", mode, err)
		}
		tables := map[string]bool{}
		for q, args := range traced {
			if n := len(args); strings.Contains(q, fmt.Sprintf("$%d", n+1)) || n > 0 && !strings.Contains(q, fmt.Sprintf("$%d", n)) {
				t.Errorf("%d arguments for %s", n, q)
			}
			for _, table := range []string{"agents", "tickets", "customer_identities"} {
				if strings.Contains(q, `FROM "`+table+`"`) {
					tables[table] = true
				}
			}
		}
		if len(tables) != 3 {
			t.Errorf("prepared reads of %v, want agents, tickets and customer_identities", tables)
		}
		if again := reads(t); !slices.EqualFunc(again, first, slices.Equal) {
			t.Errorf("cached statements read\n%q\nfirst\n%q", again, first)
		}
		tickets.SetStatementLimit(d.svc, 0) // past the bound: the same reads, unprepared
		if again := reads(t); !slices.EqualFunc(again, first, slices.Equal) {
			t.Errorf("unprepared reads\n%q\nprepared\n%q", again, first)
		}
	})
}

// A queue's next page starts where the last ended by an index condition, not a filter:
// page n must read its own rows, not every ticket before it. Checked on the generic plan
// the connections keep, with sequential scans off so that a handful of rows still use
// the index.
func TestQueueNextPageIsAnIndexRange(t *testing.T) {
	db := tickettest.Postgres(t)
	ctx := context.Background()
	d := newDesk(t, db)
	for i := range 3 {
		tk := d.ticket(t, fmt.Sprintf("+86139000000%02d", i))
		mustDo(t)(d.svc.Assign(ctx, d.admin, tk.Ref(), tickets.Assignment{TeamID: &d.complaints.ID}))
		d.clock.Advance(time.Minute)
	}
	f := tickets.TicketFilter{TeamID: &d.complaints.ID, Limit: 1}
	first, err := d.svc.ListTickets(ctx, f)
	if err != nil || first.NextCursor == "" {
		t.Fatalf("first page: %v, cursor %q", err, first.NextCursor)
	}
	var query string
	var args []any
	f.Cursor = first.NextCursor
	if _, err := d.svc.ListTickets(tickets.WithStatementTrace(ctx, func(q string, a []any) {
		if strings.Contains(q, `FROM "tickets"`) {
			query, args = q, a
		}
	}), f); err != nil {
		t.Fatal(err)
	}

	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, stmt := range []string{"SET enable_seqscan = off", "SET plan_cache_mode = force_generic_plan", "PREPARE next_page AS " + query} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	defer conn.ExecContext(ctx, "DEALLOCATE next_page; RESET ALL") //nolint:errcheck // the connection closes next
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")
	var plan []string
	if err := conn.NewRaw("EXPLAIN EXECUTE next_page("+marks+")", args...).Scan(ctx, &plan); err != nil {
		t.Fatal(err)
	}
	ranged := slices.ContainsFunc(plan, func(l string) bool {
		return strings.Contains(l, "Index Cond:") && strings.Contains(l, "next_due_at")
	})
	if !ranged {
		t.Errorf("the next page's position is not an index condition:\n%s", strings.Join(plan, "\n"))
	}
}
