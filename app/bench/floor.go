package bench

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// The second baseline, "baseline: intake's rows": what the rows a text makes Hotline write
// cost at their floor. A bare handler writes them in one round trip, into shadow tables
// shaped like Hotline's (same columns, defaults, indexes and unique keys; no foreign
// keys), with nothing else: no signature check, no lock, no read. Between it and the bare
// INSERT lies the cost of the rows themselves; between it and intake, Hotline's own work.

// floorTables are the tables intake writes for a text; the floor writes bench_floor_X for
// each X. They live beside the marker table, so the harness empties them with the rest.
var floorTables = []string{"customers", "customer_identities", "tickets", "messages", "events"}

// floorTable is the shadow of the Hotline table t.
func floorTable(t string) string { return "bench_floor_" + t }

// createFloorTables makes the shadow tables, empty, once Hotline's migrations made theirs.
func createFloorTables(ctx context.Context, db bun.IDB) error {
	for _, t := range floorTables {
		q := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (LIKE %s INCLUDING ALL)", floorTable(t), t)
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create %s: %w", floorTable(t), err)
		}
	}
	return nil
}

// The SLA intake gives a new ticket without a policy: a first response within a day, a
// resolution within two, a warning at three quarters of each.
const (
	floorFirstResponse = 24 * time.Hour
	floorResolution    = 48 * time.Hour
)

// floorWriter writes intake's rows for a text, each text one statement.
type floorWriter struct {
	db  bun.IDB
	now func() time.Time
	// seen is the phone numbers written so far: number → *floorOwner.
	seen sync.Map
}

// floorOwner is a number's customer and ticket; ready closes when they are known (err set
// when its first text failed, and the number is forgotten).
type floorOwner struct {
	ready            chan struct{}
	customer, ticket int64
	err              error
}

// errFloorFirstFailed is a text whose number's first text was not written.
var errFloorFirstFailed = errors.New("the first text from this number was not written")

// write stores a text from the number from: a customer, its identity, a ticket, the
// message and two events for a number not seen before; else the message on the number's
// ticket and one event. A text from a number whose first text is still being written
// waits for it, in memory.
func (w *floorWriter) write(ctx context.Context, sid, from, body string) error {
	fresh := &floorOwner{ready: make(chan struct{})}
	v, loaded := w.seen.LoadOrStore(from, fresh)
	now := w.now()
	if loaded {
		o := v.(*floorOwner)
		select {
		case <-o.ready:
		case <-ctx.Done():
			return ctx.Err()
		}
		if o.err != nil {
			return errFloorFirstFailed
		}
		if _, err := w.db.ExecContext(ctx, floorKnownSQL, o.ticket, body, sid, now, now); err != nil {
			return fmt.Errorf("floor: write a text on ticket %d: %w", o.ticket, err)
		}
		return nil
	}
	defer close(fresh.ready)
	first, resolution := now.Add(floorFirstResponse), now.Add(floorResolution)
	firstJSON, resolutionJSON := first.UTC().Format(time.RFC3339Nano), resolution.UTC().Format(time.RFC3339Nano)
	created := `{"channel":"sms","first_response_due_at":"` + firstJSON + `","priority":"normal","ref":"` + tickets.RefPrefix
	createdEnd := `","resolution_due_at":"` + resolutionJSON + `","team_id":null}`
	err := w.db.NewRaw(floorNewSQL,
		now, now, // customer
		from, now, tickets.ReverseDigits(from), // identity
		subject(body), first, resolution, first, now, now.Add(floorFirstResponse*3/4), now.Add(floorResolution*3/4), now, now, // ticket
		body, sid, now, // message
		created, createdEnd, now, now, // events
	).Scan(ctx, &fresh.customer, &fresh.ticket)
	if err != nil {
		fresh.err = err
		w.seen.Delete(from)
		return fmt.Errorf("floor: write a first text: %w", err)
	}
	return nil
}

// floorNewSQL writes a first text's rows, the ids passed on by RETURNING, and answers the
// customer's and ticket's ids. The ticket's reference is HL- and its id in six digits or
// more, as tickets.FormatRef writes it.
var floorNewSQL = `WITH c AS (
	INSERT INTO bench_floor_customers (name, locale, tags, created_at, updated_at) VALUES ('', 'zh-CN', '', ?, ?) RETURNING id
), i AS (
	INSERT INTO bench_floor_customer_identities (customer_id, kind, value, created_at, digits_reversed) SELECT id, 'phone', ?, ?::timestamptz, ? FROM c
), t AS (
	INSERT INTO bench_floor_tickets (customer_id, channel, subject, category, priority, status, first_response_due_at, resolution_due_at,
		next_due_at, sla_generation, sla_started_at, first_response_warned, first_response_warn_at, resolution_warned, resolution_warn_at,
		created_at, updated_at)
	SELECT id, 'sms', ?, '', 'normal', 'new', ?::timestamptz, ?::timestamptz, ?::timestamptz, 0, ?::timestamptz,
		0, ?::timestamptz, 0, ?::timestamptz, ?::timestamptz, ?::timestamptz FROM c RETURNING id, customer_id
), m AS (
	INSERT INTO bench_floor_messages (ticket_id, direction, channel, body, provider_message_id, delivery_status, delivery_error, created_at)
	SELECT id, 'inbound', 'sms', ?, ?, 'received', '', ?::timestamptz FROM t RETURNING id, ticket_id
), e AS (
	INSERT INTO bench_floor_events (entity, entity_id, kind, actor_kind, actor, data, created_at)
	SELECT 'ticket', t.id, 'ticket.created', 'customer', 'customer',
		?::text || lpad(t.id::text, greatest(6, length(t.id::text)), '0') || ?::text, ?::timestamptz FROM t
	UNION ALL
	SELECT 'ticket', m.ticket_id, 'message.received', 'customer', 'customer', '{"channel":"sms","message_id":' || m.id || '}', ?::timestamptz FROM m
)
SELECT customer_id, id FROM t`

// floorKnownSQL writes a text on its number's ticket, and its event.
var floorKnownSQL = `WITH m AS (
	INSERT INTO bench_floor_messages (ticket_id, direction, channel, body, provider_message_id, delivery_status, delivery_error, created_at)
	VALUES (?, 'inbound', 'sms', ?, ?, 'received', '', ?) RETURNING id, ticket_id
)
INSERT INTO bench_floor_events (entity, entity_id, kind, actor_kind, actor, data, created_at)
SELECT 'ticket', ticket_id, 'message.received', 'customer', 'customer', '{"channel":"sms","message_id":' || id || '}', ?::timestamptz FROM m`

// subject is a ticket's subject from a text's first line, as intake makes it.
func subject(body string) string {
	s, _, _ := strings.Cut(strings.TrimSpace(body), "\n")
	s = strings.TrimSpace(s)
	if s == "" {
		return "(no text)"
	}
	if r := []rune(s); len(r) > maxSubjectRunes {
		s = string(r[:maxSubjectRunes-1]) + "…"
	}
	return s
}

// maxSubjectRunes is the longest subject intake keeps.
const maxSubjectRunes = 200

// floor is the second baseline's server: a bare Fiber handler writing intake's rows per
// request, through the same driver and pool size as the bare INSERT.
type floor struct {
	app *fiber.App
	db  *bun.DB
	url string
}

func startFloor(ctx context.Context, dsn string) (*floor, error) {
	db, err := tickets.OpenDB(dsn)
	if err != nil {
		return nil, err
	}
	if err := createFloorTables(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	w := &floorWriter{db: db, now: time.Now}
	app, u, err := serveSMS("the floor baseline", func(ctx context.Context, form url.Values) error {
		return w.write(ctx, form.Get("MessageSid"), form.Get("From"), form.Get("Body"))
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &floor{app: app, db: db, url: u}, nil
}

func (f *floor) close() {
	f.app.ShutdownWithTimeout(5 * time.Second) //nolint:errcheck // best effort
	f.db.Close()
}
