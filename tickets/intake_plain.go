package tickets

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
)

// Intake's plain path, on PostgreSQL: messages that are nothing but new messages (a text,
// a WeChat message, a call, that thread onto an active ticket or open one) are stored in
// two round trips, where intakeTx costs six (BEGIN, the customers' locks, their tickets,
// the ids, the rows, COMMIT). pgdriver sends each statement as a round trip of its own
// and BEGIN and COMMIT as statements, but PostgreSQL runs every statement of one query
// text in turn, each with a snapshot of its own:
//
//  1. BEGIN; the customers locked in id order (CALL hotline_lock_customers, a procedure
//     from the migrations, which returns no rows and whose query PostgreSQL plans once a
//     session); then, in a statement after the locks (so that it sees what a transaction
//     that held them committed), the customers, their tickets a message may thread onto,
//     and ids reserved from the sequences for the rows the messages will need (a statement
//     prepared once a connection).
//  2. Every row as one multi-row INSERT a table (writes), then COMMIT.
//
// The guarantees are intakeTx's: the message is acknowledged after COMMIT returned,
// concurrent intakes for one customer queue on the customer's row lock, and a message
// whose provider id is stored already fails the second query on the unique key. Whatever
// the plain path cannot hand over as it is (a retried webhook, a reopened ticket, a
// customer whose name or language is learnt now, a lost race for a new customer's
// identity) is rolled back and stored by intakeTx, as if the plain path had not run.

// AnswerSieve is what an Aftercare may also say of a message before intake's transaction:
// MayAnswer is false when its Answer would return nil for in without reading anything (the
// text is no score), so that intake may store in on its plain path. With an Aftercare
// that lacks it, every message goes through Answer.
type AnswerSieve interface {
	MayAnswer(in Inbound) bool
}

// plainInbound says whether in can take the plain path: a new message that sets off
// nothing before or after it is stored, as far as its words tell.
func (s *Service) plainInbound(in Inbound) bool {
	switch {
	case in.Merge, len(in.Attachments) > 0:
		return false
	case threadsByConversation(in.Channel): // an email opens a ticket of its own, and is acknowledged
		return false
	case s.cfg.Notices && in.Channel == ChannelWeChat: // a new WeChat ticket is acknowledged
		return false
	case in.ComplaintSource != "" || mentionsComplaint(in.Subject+"\n"+in.Body):
		return false
	}
	if s.care != nil {
		if sieve, ok := s.care.(AnswerSieve); !ok || sieve.MayAnswer(in) {
			return false
		}
	}
	return true
}

// errNotPlain says the plain path handed its messages to intakeTx, nothing stored.
var errNotPlain = errors.New("not plain messages")

// storePlain stores ins on the plain path and returns their results. errNotPlain (with
// lookFirst when a provider id may be stored already) means nothing was stored and intakeTx
// is to store them; any other error is the caller's.
func (s *Service) storePlain(ctx context.Context, ins []Inbound) (res []*IntakeResult, lookFirst bool, err error) {
	if s.db.Dialect().Name() != dialect.PG {
		return nil, false, errNotPlain
	}
	for _, in := range ins {
		if !s.plainInbound(in) {
			return nil, false, errNotPlain
		}
	}
	ctx, cancel := context.WithTimeout(ctx, MaxTxAge) // as inTx: no transaction outlives it
	defer cancel()
	err = s.connTx(ctx, func(ctx context.Context, conn bun.Conn) error {
		var err error
		res, err = s.plainTx(ctx, conn, ins)
		return err
	})
	var pgErr pgdriver.Error
	if err != nil && errors.As(err, &pgErr) {
		// PostgreSQL refused a statement, and so the transaction: intakeTx stores the
		// messages, looking for a stored provider id first when one was the reason.
		return nil, isUniqueViolation(err), errNotPlain
	}
	if err != nil {
		return nil, false, err
	}
	return res, false, nil
}

// plainTx runs the plain path's two queries on conn; errNotPlain says it stopped after the
// first (to be rolled back).
func (s *Service) plainTx(ctx context.Context, conn bun.Conn, ins []Inbound) ([]*IntakeResult, error) {
	now := s.now()
	read, err := s.readPlain(ctx, conn, ins)
	if err != nil {
		return nil, err
	}
	res := make([]*IntakeResult, len(ins))
	owners, fresh, learnt := ownersOf(ins, res, read.found, now)
	if len(learnt) > 0 {
		return nil, errNotPlain
	}
	threads := map[*Customer][]*Ticket{}
	for _, t := range read.tickets {
		for _, c := range owners {
			if c.ID == t.CustomerID {
				threads[c] = append(threads[c], t)
				break
			}
		}
	}
	p := s.planIntake(ins, res, owners, threads)
	for i := range ins {
		// A ticket waiting on the customer, or resolved lately, is reopened by intakeTx.
		if p.stored[i] && (res[i].Ticket.Status == StatusPending || res[i].Ticket.Status == StatusResolved) {
			return nil, errNotPlain
		}
	}
	w := s.writesOn(conn, conn.Conn)
	w.prepared = s.pgw.on(conn)
	ids := read.ids
	if len(ids.customers) < len(fresh) || len(ids.tickets) < p.newTickets || len(ids.messages) < p.newMessages {
		// The reservation guessed short (the threading rule and its SQL disagree about a
		// ticket resolved at the edge of the reopen window): one more round trip.
		if ids, err = w.reserve(ctx, len(fresh), p.newTickets, p.newMessages); err != nil {
			return nil, err
		}
	}
	if err := s.writeIntake(ctx, conn, w, ins, res, p, fresh, ids, now); err != nil {
		return nil, err
	}
	if err := w.flushThen(ctx, "COMMIT"); err != nil {
		return nil, err
	}
	w.prepared.prepare(ctx)
	p.finish(res)
	return res, nil
}

// plainRead is what the plain path's first query found: the messages' customers, their
// tickets a message may thread onto, and ids reserved for new rows.
type plainRead struct {
	found   []foundIdentity
	tickets []*Ticket
	ids     reservedIDs
}

// plainRow is a row of the first query: one of a customer's tickets (none, all its
// columns NULL, when they have none to thread onto), the customer and the identity that
// found them (none when no identity is stored), and the reserved ids, the same in each row.
type plainRow struct {
	Ticket
	NewCustomers      []int64      `bun:"hl_new_customers,array"`
	NewTickets        []int64      `bun:"hl_new_tickets,array"`
	NewMessages       []int64      `bun:"hl_new_messages,array"`
	CustomerID        *int64       `bun:"hl_customer_id"`
	CustomerName      string       `bun:"hl_name"`
	CustomerLocale    string       `bun:"hl_locale"`
	CustomerTags      string       `bun:"hl_tags"`
	CustomerCreatedAt *time.Time   `bun:"hl_created_at"`
	CustomerUpdatedAt *time.Time   `bun:"hl_updated_at"`
	IdentityKind      IdentityKind `bun:"hl_identity_kind"`
	Identity          string       `bun:"hl_identity_value"`
}

// readPlain begins the transaction, locks the messages' customers and reads what they
// need, in one round trip. Ids are reserved for the customers no identity finds, a ticket
// for each customer with no ticket to thread onto (new customers included), and a message
// for each message.
func (s *Service) readPlain(ctx context.Context, conn bun.Conn, ins []Inbound) (plainRead, error) {
	named := []int64{0}
	kinds, values := make([]string, len(ins)), make([]string, len(ins))
	for i, in := range ins {
		kinds[i], values[i] = string(in.From), in.Address
		if in.TicketID != 0 {
			named = append(named, in.TicketID)
		}
	}
	st, err := s.plainRead()
	if err != nil {
		return plainRead{}, err
	}
	var rows []plainRow
	err = st.run(ctx, conn, func() error {
		rows = nil
		return conn.NewRaw(`BEGIN; CALL hotline_lock_customers(?, ?); EXECUTE ? (?, ?, ?, ?, ?)`,
			pgdialect.Array(kinds), pgdialect.Array(values), bun.Safe(st.name), pgdialect.Array(kinds), pgdialect.Array(values), pgdialect.Array(named),
			s.now().Add(-s.cfg.ReopenWindow), len(ins)).Scan(ctx, &rows)
	})
	if err != nil {
		return plainRead{}, fmt.Errorf("find customers and their tickets: %w", err)
	}
	var r plainRead
	seen := map[identityKey]bool{}
	seenTicket := map[int64]bool{}
	for i, row := range rows {
		if i == 0 {
			r.ids = reservedIDs{customers: row.NewCustomers, tickets: row.NewTickets, messages: row.NewMessages}
		}
		if row.CustomerID == nil {
			continue
		}
		if k := (identityKey{row.IdentityKind, row.Identity}); !seen[k] {
			seen[k] = true
			r.found = append(r.found, foundIdentity{ID: *row.CustomerID, Name: row.CustomerName, Locale: row.CustomerLocale,
				Tags: row.CustomerTags, CreatedAt: *row.CustomerCreatedAt, UpdatedAt: *row.CustomerUpdatedAt,
				IdentityKind: row.IdentityKind, IdentityValue: row.Identity})
		}
		if row.Ticket.ID != 0 && !seenTicket[row.Ticket.ID] {
			seenTicket[row.Ticket.ID] = true
			t := row.Ticket
			r.tickets = append(r.tickets, &t)
		}
	}
	return r, nil
}

// plainReadStatement is the plain path's reading statement, prepared on each connection
// (prepared_pg.go; the reopen window is part of its text) so that PostgreSQL
// plans it once a connection, not once a message (planning cost three times running it).
// Its parameters: the identities' kinds and values ($1, $2), the tickets the messages name
// ($3, 0 for none), the start of the reopen window ($4) and the number of messages ($5).
// The identities and each customer's tickets are LATERAL lookups on their indexes, which
// the generic plan cannot trade for a scan of the table whatever number of identities it
// guesses.
func (s *Service) plainReadStatement() (pgStatement, error) {
	reopenable := bun.SafeQuery("1 = 0 AND $4::timestamptz IS NULL")
	if s.cfg.ReopenWindow > 0 {
		reopenable = bun.SafeQuery("t.status = ? AND t.resolved_at >= $4::timestamptz", StatusResolved)
	}
	q := s.db.NewRaw(`WITH k AS MATERIALIZED (SELECT DISTINCT kind, value FROM unnest($1::text[], $2::text[]) AS k (kind, value)),
		c AS MATERIALIZED (SELECT c.* FROM k CROSS JOIN LATERAL (SELECT c.id, c.name, c.locale, c.tags, c.created_at, c.updated_at,
				i.kind AS identity_kind, i.value AS identity_value
			FROM customer_identities AS i JOIN customers AS c ON c.id = i.customer_id WHERE i.kind = k.kind AND i.value = k.value OFFSET 0) AS c),
		o AS MATERIALIZED (SELECT DISTINCT id FROM c),
		t AS MATERIALIZED (SELECT t.* FROM o CROSS JOIN LATERAL (SELECT * FROM tickets WHERE customer_id = o.id OFFSET 0) AS t
			WHERE CASE WHEN t.status IN (?) THEN 1 WHEN t.id = ANY($3::bigint[]) AND t.status <> ? THEN 1 WHEN ? THEN 1 ELSE 0 END = 1),
		n AS MATERIALIZED (SELECT
			(SELECT count(*) FROM k WHERE NOT EXISTS (SELECT FROM c WHERE c.identity_kind = k.kind AND c.identity_value = k.value)) AS customers,
			(SELECT count(*) FROM o WHERE NOT EXISTS (SELECT FROM t WHERE t.customer_id = o.id)) AS tickets),
		ids AS MATERIALIZED (SELECT
			ARRAY(SELECT nextval(pg_get_serial_sequence('customers', 'id')) FROM generate_series(1, n.customers)) AS customers,
			ARRAY(SELECT nextval(pg_get_serial_sequence('tickets', 'id')) FROM generate_series(1, n.customers + n.tickets)) AS tickets,
			ARRAY(SELECT nextval(pg_get_serial_sequence('messages', 'id')) FROM generate_series(1, $5::bigint)) AS messages FROM n)
		SELECT ids.customers AS hl_new_customers, ids.tickets AS hl_new_tickets, ids.messages AS hl_new_messages,
			c.id AS hl_customer_id, c.name AS hl_name, c.locale AS hl_locale, c.tags AS hl_tags, c.created_at AS hl_created_at,
			c.updated_at AS hl_updated_at, c.identity_kind AS hl_identity_kind, c.identity_value AS hl_identity_value, t.*
		FROM ids LEFT JOIN c ON true LEFT JOIN t ON t.customer_id = c.id`, bun.In(activeStatuses), StatusClosed, reopenable)
	b, err := q.AppendQuery(s.db.QueryGen(), nil)
	if err != nil {
		return pgStatement{}, fmt.Errorf("render the plain path's read: %w", err)
	}
	return newPGStatement("hotline_plain_read", "text[], text[], bigint[], timestamptz, bigint", b), nil
}

// rollback ends the transaction begun by hand on conn. A connection that cannot say
// ROLLBACK is closed rather than handed back to the pool inside a transaction.
func rollback(conn bun.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := conn.Conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		dropConn(conn)
	}
}
