package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The floor writes, in one round trip a text, the rows intake writes for it: for a first
// text from a number a customer, its identity, a ticket, the message and two events; for
// a later one the message on that ticket and one event. Row for row, column for column,
// they are what intake writes in the same schema on the same clock.
func TestFloorWritesIntakesRows(t *testing.T) {
	db, writes, _ := tickettest.CountedPostgres(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 30, 15, 123456000, time.UTC)
	svc := tickets.NewService(db, tickettest.NewClock(now), tickets.Config{DefaultCountry: "86", PasswordCost: 4}, tickettest.Logger())
	if err := createFloorTables(ctx, db); err != nil {
		t.Fatal(err)
	}
	w := &floorWriter{db: db, now: func() time.Time { return now }}

	texts := []struct{ sid, from, body string }{
		{"SM00000000000000000000000000000001", "+8613900000000", "请问我的理赔进度？保单号 P000000"},
		{"SM00000000000000000000000000000002", "+8613900000001", "  第二位客户\n第二行  "},
		{"SM00000000000000000000000000000003", "+8613900000000", "补充材料已经寄出，请查收。"},
	}
	for i, tx := range texts {
		in := tickettest.SMS(tx.from, tx.body, tx.sid)
		in.Locale = "zh-CN" // as the SMS channel reads a +86 number
		if _, err := svc.Intake(ctx, in); err != nil {
			t.Fatalf("intake %d: %v", i, err)
		}
		var err error
		if n := tickettest.RoundTrips(t, db, writes, func() { err = w.write(ctx, tx.sid, tx.from, tx.body) }); n != 1 || err != nil {
			t.Fatalf("floor text %d: %d round trips (want 1), error %v", i, n, err)
		}
	}

	want := map[string]int{"customers": 2, "customer_identities": 2, "tickets": 2, "messages": 3, "events": 5}
	for _, table := range floorTables {
		intake, floor := rowsOf(t, db, table), rowsOf(t, db, floorTable(table))
		if len(floor) != want[table] || len(intake) != len(floor) {
			t.Errorf("%s: intake wrote %d rows, the floor %d; want %d each", table, len(intake), len(floor), want[table])
			continue
		}
		for i := range intake {
			if intake[i] != floor[i] {
				t.Errorf("%s row %d differs:\nintake %s\nfloor  %s", table, i, intake[i], floor[i])
			}
		}
	}
}

// rowsOf is table's rows as JSON (jsonb's text: keys in a fixed order), in id order.
func rowsOf(t *testing.T, db *bun.DB, table string) []string {
	t.Helper()
	var rows []string
	if err := db.NewRaw("SELECT to_jsonb(x)::text FROM ? AS x ORDER BY id", bun.Ident(table)).Scan(context.Background(), &rows); err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	return rows
}

// Texts from a new number arriving together make one customer and one ticket: the later
// ones wait for the first's ids in memory, and none fails on the identity's unique key.
func TestFloorSameNumberAtOnce(t *testing.T) {
	db := tickettest.Postgres(t)
	ctx := context.Background()
	if err := createFloorTables(ctx, db); err != nil {
		t.Fatal(err)
	}
	w := &floorWriter{db: db, now: time.Now}
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- w.write(ctx, fmt.Sprintf("SM%032d", i), "+8613900000009", "同时到达") }()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for table, want := range map[string]int{"customers": 1, "tickets": 1, "messages": n, "events": n + 1} {
		if got := len(rowsOf(t, db, floorTable(table))); got != want {
			t.Errorf("%s: %d rows, want %d", table, got, want)
		}
	}
}

// The check row's note gives the floor's share of the bare insert at each level.
func TestFloorNote(t *testing.T) {
	for _, tc := range []struct {
		shares []LevelRatio
		want   string
	}{
		{nil, "the rows alone: no levels measured"},
		{[]LevelRatio{{1, 0.614}, {16, 0}}, "the rows alone reach this share of the bare insert (1: 0.61, 16: not measured)"},
	} {
		if got := floorNote(tc.shares); got != tc.want {
			t.Errorf("floorNote(%v) = %q, want %q", tc.shares, got, tc.want)
		}
	}
}
