package tickets_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// On PostgreSQL the writes ending intake's plain path and a logged contact go as EXECUTE
// of their shape, the values passed as the literals bun wrote, and store exactly what the
// INSERT with the values in place stored: every column of every table, read back as
// PostgreSQL spells it.
func TestPGPreparedInsertsStoreWhatInlineDid(t *testing.T) {
	db := tickettest.Postgres(t)
	ctx := context.Background()
	times := awkwardTimes(t)
	ptr := func(tm time.Time) *time.Time { return &tm }
	var rows []any
	for i, s := range awkward {
		id := int64(1000 + i)
		tm, later := times[i%len(times)], times[(i+1)%len(times)]
		rows = append(rows,
			&tickets.Customer{ID: id, Name: s, Locale: "zh-CN", Tags: s, CreatedAt: tm, UpdatedAt: later},
			&tickets.Identity{ID: id, CustomerID: id, Kind: tickets.IdentityEmail, Value: fmt.Sprintf("%d%s@example.com", i, s),
				OptInMessageID: s, DigitsReversed: s, OptedOutAt: ptr(later), CreatedAt: tm},
			&tickets.Ticket{ID: id, CustomerID: id, Channel: tickets.ChannelSMS, Subject: s, Category: s, Priority: tickets.PriorityUrgent,
				Status: tickets.StatusOpen, FirstResponseDueAt: ptr(later), ResolutionDueAt: ptr(tm), NextDueAt: later,
				SLAGeneration: int64(-i), SLAStartedAt: ptr(tm), FirstResponseWarned: i, CreatedAt: tm, UpdatedAt: later},
			&tickets.Message{ID: id, TicketID: id, Direction: tickets.DirectionInbound, Channel: tickets.ChannelSMS, Body: s,
				ProviderMessageID: ptrTo(fmt.Sprintf("SM%d%s", i, s)), DeliveryStatus: tickets.DeliveryReceived, DeliveryError: s, CreatedAt: tm},
			&[]*tickets.Event{
				{Entity: "ticket", EntityID: id, Kind: "message.received", ActorKind: "customer", Actor: s, Data: `{"body":` + jsonString(s) + `}`, CreatedAt: tm},
				{Entity: "ticket", EntityID: id, Kind: "ticket.created", ActorKind: "customer", Actor: "customer", Data: "{}", CreatedAt: later},
			})
	}
	var inserts []string
	for _, r := range rows {
		inserts = append(inserts, db.NewInsert().Model(r).Returning("NULL").String())
	}
	stored := func(t *testing.T, prepared bool) []string {
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		must := func(q string) {
			t.Helper()
			if _, err := conn.ExecContext(ctx, q); err != nil {
				t.Fatalf("%.200s: %v", q, err)
			}
		}
		must("BEGIN")
		defer must("ROLLBACK")
		for i, q := range inserts {
			if prepared {
				shape, args, ok := tickets.PGBindForTest(q)
				if !ok {
					t.Fatalf("not bound: %.200s", q)
				}
				must(fmt.Sprintf("PREPARE w%d AS %s", i, shape))
				q = fmt.Sprintf("EXECUTE w%d (%s)", i, strings.Join(args, ", "))
			}
			must(q)
		}
		var got []string
		for _, table := range []string{"customers", "customer_identities", "tickets", "messages", "events"} {
			var rs []string
			if err := conn.NewRaw("SELECT row_to_json(x)::text FROM ? AS x ORDER BY id", bun.Ident(table)).Scan(ctx, &rs); err != nil {
				t.Fatalf("read %s: %v", table, err)
			}
			got = append(got, rs...)
		}
		if prepared {
			must("DEALLOCATE ALL")
		}
		return got
	}
	inline, prepared := stored(t, false), stored(t, true)
	if len(inline) != 6*len(awkward) {
		t.Fatalf("%d rows stored inline, want %d", len(inline), 6*len(awkward))
	}
	for i := range inline {
		// Events take their ids from the sequence, another each time.
		a, b := stripID(inline[i]), stripID(prepared[i])
		if a != b {
			t.Errorf("row %d stored inline:\n  %s\nprepared:\n  %s", i, a, b)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

func stripID(row string) string {
	if strings.HasPrefix(row, `{"id":`) {
		return row[strings.IndexByte(row, ','):]
	}
	return row
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// wire records what a test's connections send to PostgreSQL.
type wire struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *wire) conn(c net.Conn) net.Conn {
	return &wireConn{Conn: c, sent: func(b []byte) {
		w.mu.Lock()
		w.buf.Write(b)
		w.mu.Unlock()
	}}
}

// during is what was sent while fn ran.
func (w *wire) during(fn func()) string {
	w.mu.Lock()
	w.buf.Reset()
	w.mu.Unlock()
	fn()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// dropShapes deallocates the write shapes db's one session prepared, behind the service's
// back (as DISCARD ALL behind a pooler would).
func dropShapes(t *testing.T, db *bun.DB) {
	t.Helper()
	ctx := context.Background()
	var names []string
	if err := db.NewRaw("SELECT name FROM pg_prepared_statements WHERE name LIKE 'hotline_w_%'").Scan(ctx, &names); err != nil || len(names) == 0 {
		t.Fatalf("the session's shapes: %v, %v", names, err)
	}
	for _, n := range names {
		if _, err := db.ExecContext(ctx, "DEALLOCATE "+n); err != nil {
			t.Fatal(err)
		}
	}
}

// alterEmail changes the type of agents.email, which a logged contact's write reads back.
func alterEmail(t *testing.T, db *bun.DB) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), "ALTER TABLE agents ALTER COLUMN email TYPE varchar(320)"); err != nil {
		t.Fatal(err)
	}
}

// queries counts the query messages in what a connection sent: its round trips.
func queries(sent string) int {
	n := 0
	for len(sent) >= 5 {
		size := 1 + int(binary.BigEndian.Uint32([]byte(sent[1:5])))
		if sent[0] == 'Q' {
			n++
		}
		if size > len(sent) {
			break
		}
		sent = sent[size:]
	}
	return n
}

// A message's or a contact's rows are sent as INSERTs the first time their shape is met on
// a session, prepared after the commit (one round trip more, once), and as EXECUTE from
// then on. A session that lost its shapes, or whose tables changed under them, stores the
// next one the general way, once, and prepares them again; after the third loss every
// write goes as text.
func TestPGWritesRunPrepared(t *testing.T) {
	w := &wire{}
	db := tickettest.PostgresWrapped(t, w.conn)
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	svc := tickettest.Service(db, tickettest.NewClock(t0))
	agent := adminActor(t, svc)
	type step struct {
		name            string
		lose            func(*testing.T, *bun.DB) // done before the step
		run             func() error
		execute, insert bool // rows sent as EXECUTE, as INSERT
		trips           int  // round trips, when not 0
	}
	n := 0
	text := func() error {
		n++
		res, err := svc.Intake(ctx, sms(fmt.Sprintf("139001390%02d", n), "claim status?", fmt.Sprintf("SMW%d", n)))
		if err == nil && (!res.Created || res.Message.ID == 0) {
			err = fmt.Errorf("first text: %+v", res)
		}
		return err
	}
	reply := func() error {
		n++
		res, err := svc.Intake(ctx, sms("13900139001", "any news?", fmt.Sprintf("SMW%d", n)))
		if err == nil && (res.Created || res.Message.ID == 0) {
			err = fmt.Errorf("reply: %+v", res)
		}
		return err
	}
	call := func() error {
		n++
		d, err := svc.CreateTicketDetail(ctx, agent, tickets.NewTicket{Phone: fmt.Sprintf("137001370%02d", n), Subject: "退保咨询", Body: "客户询问退保材料"})
		if err == nil && (d.ID == 0 || len(d.Messages) != 1 || d.Messages[0].ID == 0 || len(d.Events) == 0 || d.Events[0].ID == 0) {
			err = fmt.Errorf("logged call: %+v", d)
		}
		return err
	}
	steps := []step{
		{name: "first text", run: text, insert: true}, // also prepares the plain path's read
		{name: "first text", run: text, execute: true, trips: 2},
		// A reply's message has a first text's shape; its one event does not, yet: prepared
		// after the commit, in a round trip of its own.
		{name: "reply", run: reply, execute: true, insert: true, trips: 3}, {name: "reply", run: reply, execute: true, trips: 2},
		{name: "logged call", run: call, insert: true}, {name: "logged call", run: call, execute: true, trips: 2},
		// The EXECUTE fails, the text is stored the general way; the session forgets every
		// shape and prepares each again after it is next sent as text.
		{name: "shapes lost", lose: dropShapes, run: text, execute: true, insert: true},
		{name: "first text", run: text, insert: true, trips: 3}, {name: "first text", run: text, execute: true, trips: 2},
		{name: "logged call", run: call, insert: true, trips: 3}, {name: "logged call", run: call, execute: true, trips: 2},
		// A table the shape writes changed under it (the answer's agent email): the EXECUTE
		// fails, the contact is logged the general way, the session is closed.
		{name: "table changed", lose: alterEmail, run: call, execute: true, insert: true},
		{name: "logged call", run: call, insert: true}, {name: "logged call", run: call, execute: true, trips: 2},
		// Lost a third time (as behind a pooler in transaction mode): rows go as text from
		// then on.
		{name: "shapes lost", lose: dropShapes, run: call, execute: true, insert: true},
		{name: "logged call", run: call, insert: true, trips: 2}, {name: "logged call", run: call, insert: true, trips: 2},
		{name: "first text", run: text, insert: true}, // on a new session: its read prepared too
	}
	for i, s := range steps {
		if s.lose != nil {
			s.lose(t, db)
		}
		var err error
		sent := w.during(func() { err = s.run() })
		if err != nil {
			t.Fatalf("step %d, %s: %v", i, s.name, err)
		}
		executed, inserted := strings.Contains(sent, "EXECUTE hotline_w_"), strings.Contains(sent, "INSERT INTO ")
		if executed != s.execute || inserted != s.insert {
			t.Errorf("step %d, %s: rows sent as EXECUTE %v, as INSERT %v; want %v, %v", i, s.name, executed, inserted, s.execute, s.insert)
		}
		if n := queries(sent); s.trips != 0 && n != s.trips {
			t.Errorf("step %d, %s: %d round trips, want %d", i, s.name, n, s.trips)
		}
	}
	var texts int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE provider_message_id LIKE 'SMW%'`).Scan(&texts); err != nil {
		t.Fatal(err)
	}
	var calls int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM tickets WHERE channel = 'phone'`).Scan(&calls); err != nil {
		t.Fatal(err)
	}
	if texts != 8 || calls != 10 {
		t.Errorf("%d texts and %d calls stored, want 8 and 10", texts, calls)
	}
}
