package tickets_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// awkward are texts whose rendering an INSERT's literal must keep exactly: quotes,
// placeholders of every kind, emoji, control characters, bytes that are not UTF-8 (bun
// writes U+FFFD for them), text that looks like other literals.
var awkward = []string{
	"", "it's", "''", "?", "$1", "?1 :a @b $b", "back\\slash", "🎫 👩‍💻 客户", "tab\tcr\rlf\n\x01\x1f\x7f",
	"\xff\xfe not utf-8", "NULL", "X'00'", "-1", "1e5", "),  (", "', NULL, '",
}

// awkwardTimes have nanoseconds and zones: bun writes them in UTC to the microsecond, and
// SQLite compares them as that text.
func awkwardTimes(t *testing.T) []time.Time {
	sh := tickettest.Shanghai(t)
	odd := time.FixedZone("odd", -(7*3600 + 30*60))
	return []time.Time{
		time.Date(2026, 3, 4, 5, 6, 7, 123456789, sh),
		time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999999999, odd),
		time.Date(2026, 3, 4, 5, 6, 7, 500, sh),
	}
}

// storedRows reads every column of table's rows as SQLite stores them: its type and its
// exact value (quote() spells a real's every digit and a blob's every byte).
func storedRows(t *testing.T, db *bun.DB, table string) []string {
	t.Helper()
	ctx := context.Background()
	var cols []string
	if err := db.NewRaw("SELECT name FROM pragma_table_info(?) ORDER BY cid", table).Scan(ctx, &cols); err != nil || len(cols) == 0 {
		t.Fatalf("columns of %s: %v, %v", table, cols, err)
	}
	var exprs []string
	for _, c := range cols {
		exprs = append(exprs, fmt.Sprintf("'%s=' || typeof(\"%s\") || ':' || quote(\"%s\")", c, c, c))
	}
	var rows []string
	q := "SELECT " + strings.Join(exprs, " || ' | ' || ") + " FROM " + table + " ORDER BY rowid"
	if err := db.NewRaw(q).Scan(ctx, &rows); err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	return rows
}

// On SQLite, the rows intake and logged contacts write (insertNow) go through prepared
// statements with their values bound, and store exactly what the INSERT with the values
// written inline stored: the same type and value in every column of every table.
func TestSQLitePreparedInsertsStoreWhatInlineDid(t *testing.T) {
	ctx := context.Background()
	times := awkwardTimes(t)
	write := func(t *testing.T, prepared bool) (*bun.DB, *tickets.Service) {
		db := tickettest.SQLite(t)
		svc := tickettest.Service(db, tickets.SystemClock{})
		err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			insert := func(rows any) {
				if err := tickets.InsertNowForTest(ctx, svc, tx, rows, prepared); err != nil {
					t.Fatalf("insert %T: %v", rows, err)
				}
			}
			for i, s := range awkward {
				tm, later := times[i%len(times)], times[(i+1)%len(times)]
				c := &tickets.Customer{Name: s, Locale: "zh-CN", Tags: s, CreatedAt: tm, UpdatedAt: later}
				insert(c)
				id := &tickets.Identity{CustomerID: c.ID, Kind: tickets.IdentityEmail, Value: fmt.Sprintf("%d%s@example.com", i, s), OptInMessageID: s, DigitsReversed: s, CreatedAt: tm}
				if i%2 == 0 {
					id.OptedOutAt = &later
				}
				insert(id)
				tk := &tickets.Ticket{CustomerID: c.ID, Channel: tickets.ChannelEmail, Subject: s, Category: s, Priority: tickets.PriorityNormal, Status: tickets.StatusOpen,
					FirstResponseDueAt: &later, NextDueAt: later, SLAGeneration: math.MaxInt64 - int64(i), FirstResponseWarned: -i, CreatedAt: tm, UpdatedAt: tm}
				if i%2 == 1 {
					tk.ResolutionDueAt, tk.SLAStartedAt, tk.PausedAt = &tm, &tm, &later
				}
				insert(tk)
				pid := fmt.Sprintf("<%d%s@example.com>", i, s)
				m := &tickets.Message{TicketID: tk.ID, Direction: tickets.DirectionInbound, Channel: tickets.ChannelEmail, Body: s, DeliveryStatus: s, DeliveryError: s, CreatedAt: tm}
				if i%2 == 0 {
					m.ProviderMessageID = &pid
				}
				insert(m)
				data, _ := json.Marshal(map[string]any{"text": s, "n": i, "at": tm, "nested": map[string]any{"quote": "'", "nil": nil, "yes": true}})
				// Several rows in one INSERT, as a new ticket's events are.
				evs := []*tickets.Event{
					{Entity: "ticket", EntityID: tk.ID, Kind: s, ActorKind: "customer", Actor: s, Data: string(data), CreatedAt: tm},
					{Entity: "ticket", EntityID: tk.ID, Kind: "ticket.created", ActorKind: "system", Actor: "system", Data: "{}", CreatedAt: later},
				}
				insert(evs)
				atts := []*tickets.Attachment{{MessageID: m.ID, Filename: s, ContentType: s, SizeBytes: int64(i) << 40, URL: s, CreatedAt: tm, Provider: s, TranscriptLang: s, TranscriptState: s}}
				if i%3 == 0 {
					atts = append(atts, &tickets.Attachment{MessageID: m.ID, Filename: "b" + s, SizeBytes: -1, CreatedAt: later})
				}
				insert(atts)
				// The ids filled in are the rows'.
				for _, id := range []int64{c.ID, id.ID, tk.ID, m.ID, evs[0].ID, evs[1].ID, atts[0].ID} {
					if id == 0 {
						t.Fatalf("row %d: an id not filled in", i)
					}
				}
				if evs[1].ID != evs[0].ID+1 || atts[len(atts)-1].ID != atts[0].ID+int64(len(atts)-1) {
					t.Fatalf("row %d: ids of one INSERT not consecutive", i)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return db, svc
	}
	inline, inlineSvc := write(t, false)
	prepared, preparedSvc := write(t, true)

	if n := tickets.PreparedStatements(inlineSvc); n != 0 {
		t.Errorf("the inline path prepared %d statements", n)
	}
	// One statement a table and row count: customers, identities, tickets, messages, two
	// events, one or two attachments.
	if n := tickets.PreparedStatements(preparedSvc); n != 7 {
		t.Errorf("the prepared path keeps %d statements, want 7", n)
	}
	for _, table := range []string{"customers", "customer_identities", "tickets", "messages", "events", "attachments"} {
		want, got := storedRows(t, inline, table), storedRows(t, prepared, table)
		if len(want) < len(awkward) {
			t.Fatalf("%s: %d rows written inline", table, len(want))
		}
		for i := range max(len(want), len(got)) {
			if i >= len(want) || i >= len(got) || want[i] != got[i] {
				t.Errorf("%s row %d:\nprepared %q\ninline   %q", table, i, at(got, i), at(want, i))
			}
		}
	}
}

func at(rows []string, i int) string {
	if i < len(rows) {
		return rows[i]
	}
	return "(none)"
}

// kinds has a column of each kind of value bun writes for SQLite that the desk's tables do
// not have yet: bools, blobs (nil, empty, bytes), JSON maps, integers at int64's ends,
// reals.
type kinds struct {
	bun.BaseModel `bun:"table:prepared_kinds"`

	ID    int64 `bun:",pk,autoincrement"`
	Yes   bool
	No    bool
	Blob  []byte
	Map   map[string]any
	Int   int64
	Uint  uint32
	Real  float64
	When  time.Time
	Maybe *time.Time
	Text  string
}

// Values of every kind bun writes are bound as SQLite reads their literals; those it may
// not read the same (reals, the smallest int64) keep running as text.
func TestSQLitePreparedValuesOfEveryKind(t *testing.T) {
	ctx := context.Background()
	times := awkwardTimes(t)
	run := func(t *testing.T, prepared bool) (*bun.DB, int) {
		db := tickettest.SQLite(t)
		svc := tickettest.Service(db, tickets.SystemClock{})
		if _, err := db.NewCreateTable().Model((*kinds)(nil)).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		var counts []int
		err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			for i, s := range awkward {
				rows := []*kinds{
					{Yes: true, Blob: []byte(s), Map: map[string]any{"s": s, "i": i, "b": true, "at": times[i%len(times)]}, Int: math.MaxInt64 - int64(i), Uint: math.MaxUint32, When: times[i%len(times)], Maybe: &times[(i+1)%len(times)], Text: s},
					{Blob: []byte{}, Int: math.MinInt64 + 1, Text: s},
				}
				if i%4 == 3 { // left to run as text
					rows[1].Real, rows[1].Int = 1.0/3, math.MinInt64
				}
				q := tx.NewInsert().Model(&rows).Returning("NULL")
				if prepared {
					q = q.Conn(tickets.PreparedInsertConn(svc, tx))
				}
				if _, err := q.Exec(ctx); err != nil {
					return err
				}
				counts = append(counts, tickets.PreparedStatements(svc))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if prepared && !slices.Equal(counts[:3], []int{1, 1, 1}) {
			t.Errorf("statements kept after each INSERT: %v, want the first prepared and reused", counts)
		}
		return db, counts[len(counts)-1]
	}
	inline, n := run(t, false)
	if n != 0 {
		t.Errorf("the inline path prepared %d statements", n)
	}
	prepared, _ := run(t, true)
	want, got := storedRows(t, inline, "prepared_kinds"), storedRows(t, prepared, "prepared_kinds")
	if !slices.Equal(want, got) {
		for i := range max(len(want), len(got)) {
			if at(want, i) != at(got, i) {
				t.Errorf("row %d:\nprepared %q\ninline   %q", i, at(got, i), at(want, i))
			}
		}
	}
}
