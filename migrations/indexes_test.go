package migrations_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/hotlinedesk/hotline/migrations"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// Every index on tickets serves a query the product runs, named in
// migrations.TicketIndexes: the migrated schema holds exactly those indexes on both
// databases, the function named runs in the file named, and on PostgreSQL each query's plan
// reads its index. An index added without a query fails here.
func TestTicketIndexesServeNamedQueries(t *testing.T) {
	var want []string
	for _, u := range migrations.TicketIndexes {
		want = append(want, u.Index)
	}
	slices.Sort(want)
	if len(slices.Compact(slices.Clone(want))) != len(want) {
		t.Fatalf("TicketIndexes names an index twice: %q", want)
	}

	for _, u := range migrations.TicketIndexes {
		file, fn, ok := strings.Cut(u.Func, " ")
		if !ok {
			t.Errorf("%s: Func %q is not \"path/file.go name\"", u.Index, u.Func)
			continue
		}
		src, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(file)))
		if err != nil {
			t.Errorf("%s: %v", u.Index, err)
			continue
		}
		if !regexp.MustCompile(`(?m)^func (\([^)]*\) )?` + regexp.QuoteMeta(fn) + `\(`).Match(src) {
			t.Errorf("%s: %s has no function %s", u.Index, file, fn)
		}
	}

	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		var got []string
		q := `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tickets' AND sql IS NOT NULL ORDER BY name`
		if db.Dialect().Name() == dialect.PG {
			q = `SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
				WHERE x.indrelid = 'tickets'::regclass AND NOT x.indisprimary ORDER BY i.relname`
		}
		if err := db.NewRaw(q).Scan(ctx, &got); err != nil {
			t.Fatal(err)
		}
		for _, name := range got {
			if !slices.Contains(want, name) {
				t.Errorf("index %s on tickets serves no query named in migrations.TicketIndexes: name the query that needs it there, or drop it", name)
			}
		}
		for _, name := range want {
			if !slices.Contains(got, name) {
				t.Errorf("migrations.TicketIndexes names %s, which the migrations do not create", name)
			}
		}
		if db.Dialect().Name() != dialect.PG {
			return
		}

		// A desk of some history, most of it closed, a third new and waiting, all timed under
		// the current policies; sequential scans priced out: the planner then reads through
		// an index wherever one applies, and must pick the one named.
		d := tickettest.NewDesk(t, tickettest.Service(db, tickettest.NewClock(tickettest.T0)), tickettest.NewClock(tickettest.T0))
		tk := d.Ticket(t, "+8613800138000")
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		history := `INSERT INTO tickets (customer_id, channel, subject, priority, status, team_id,
				first_response_due_at, first_responded_at, resolution_due_at, resolved_at, closed_at, next_due_at, sla_generation, created_at, updated_at)
			SELECT ?, 'sms', 'history', 'normal', CASE WHEN g % 10 < 3 THEN 'new' ELSE 'closed' END, ?,
				now() - g * interval '1 hour' + interval '1 day', CASE WHEN g % 10 >= 3 THEN now() - g * interval '1 hour' + interval '1 hour' END,
				now() - g * interval '1 hour' + interval '2 days', CASE WHEN g % 10 >= 3 THEN now() - g * interval '1 hour' + interval '3 hours' END,
				CASE WHEN g % 10 >= 3 THEN now() - g * interval '1 hour' + interval '4 hours' END,
				CASE WHEN g % 10 < 3 THEN now() + interval '1 day' ELSE '9999-12-31 00:00:00+00' END, 5, now() - g * interval '1 hour', now()
			FROM generate_series(1, 5000) g`
		if _, err := conn.ExecContext(ctx, history, tk.CustomerID, tk.TeamID); err != nil {
			t.Fatalf("seed: %v", err)
		}
		for _, s := range []string{"ANALYZE tickets", "SET enable_seqscan = off"} {
			if _, err := conn.ExecContext(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		for _, u := range migrations.TicketIndexes {
			var raw string
			if err := conn.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) "+u.Query).Scan(&raw); err != nil {
				t.Errorf("%s: explain %s: %v", u.Index, u.Query, err)
				continue
			}
			if !strings.Contains(raw, `"Index Name": "`+u.Index+`"`) {
				t.Errorf("%s is not read by its query (%s):\n%s\nplan: %s", u.Index, u.Func, u.Query, raw)
			}
		}
	})
}
