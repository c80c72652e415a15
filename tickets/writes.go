package tickets

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// writes gathers a transaction's INSERTs whose results nobody waits for, so that
// PostgreSQL receives them together at flush: one multi-row INSERT a table, all in one
// round trip. The ids the rows need are reserved beforehand (reserve). The zero value, and
// SQLite (in this process, where a statement costs no round trip), write each row at once
// and fill in its id; on SQLite through prepared statements when stmts are given
// (prepared_sqlite.go).
type writes struct {
	db          bun.IDB // renders the kept rows, reserves their ids
	exec        execer  // runs the rendered rows
	batch       bool
	stmts       *statements    // SQLite's prepared INSERTs
	prepared    *sessionWrites // PostgreSQL's prepared INSERTs (prepared_pg.go)
	customers   []*Customer
	identities  []*Identity
	tickets     []*Ticket
	messages    []*Message
	attachments []*Attachment
	events      []*Event
}

// execer runs SQL text as it is: a *sql.Tx, or the *sql.Conn of a transaction begun by
// hand (intake_plain.go).
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// writesFor batches on PostgreSQL.
func (s *Service) writesFor(tx bun.Tx) *writes { return s.writesOn(tx, tx.Tx) }

// writesOn batches on PostgreSQL, inside the transaction that db and exec are both in.
func (s *Service) writesOn(db bun.IDB, exec execer) *writes {
	w := s.writesNow()
	w.db, w.exec, w.batch = db, exec, s.db.Dialect().Name() == dialect.PG
	return w
}

// writesNow writes each row at once, on SQLite through prepared statements.
func (s *Service) writesNow() *writes {
	if s.db.Dialect().Name() != dialect.SQLite {
		return &writes{}
	}
	return &writes{stmts: s.stmts}
}

// add writes rows (a *Ticket, *Message, *Event, or a slice of *Event or *Attachment) now
// through db, or keeps them for flush.
func (w *writes) add(ctx context.Context, db bun.IDB, rows any) error {
	if !w.batch {
		return insertNow(ctx, db, rows, w.stmts)
	}
	switch r := rows.(type) {
	case *Customer:
		w.customers = append(w.customers, r)
	case *Identity:
		w.identities = append(w.identities, r)
	case *Ticket:
		w.tickets = append(w.tickets, r)
	case *Message:
		w.messages = append(w.messages, r)
	case *Event:
		w.events = append(w.events, r)
	case []*Event:
		w.events = append(w.events, r...)
	case []*Attachment:
		w.attachments = append(w.attachments, r...)
	default:
		return fmt.Errorf("writes cannot keep %T", rows)
	}
	return nil
}

// flush sends what was kept as one multi-statement query, inside the transaction, parents
// before children.
func (w *writes) flush(ctx context.Context) error { return w.flushThen(ctx, "") }

// flushThen is flush with more SQL after the rows in the same round trip (a COMMIT: see
// intake_plain.go). PostgreSQL skips what follows a statement that fails.
func (w *writes) flushThen(ctx context.Context, then string) error {
	var stmts []string
	var shape []byte  // one table's at a time
	var args []string // one table's values, as written
	if w.prepared != nil {
		args = make([]string, 0, 64)
	}
	for _, t := range []struct {
		n    int
		rows any
	}{
		{len(w.customers), &w.customers}, {len(w.identities), &w.identities}, {len(w.tickets), &w.tickets},
		{len(w.messages), &w.messages}, {len(w.attachments), &w.attachments}, {len(w.events), &w.events},
	} {
		if t.n == 0 {
			continue
		}
		q := w.db.NewInsert().Model(t.rows).Returning("NULL")
		b, err := q.AppendQuery(q.DB().QueryGen(), nil)
		if err != nil {
			return fmt.Errorf("write %s: %w", q.GetTableName(), err)
		}
		text := string(b)
		if w.prepared != nil {
			var ok bool
			args = args[:0]
			if shape, ok = pgBind(shape[:0], text, &args); ok {
				text = w.prepared.text(text, shape, args)
			}
		}
		stmts = append(stmts, text)
	}
	w.customers, w.identities, w.tickets, w.messages, w.attachments, w.events = nil, nil, nil, nil, nil, nil
	if then != "" {
		stmts = append(stmts, then)
	}
	if len(stmts) == 0 {
		return nil
	}
	// Through database/sql directly: the rendered values may hold '?', which bun would
	// read as placeholders.
	if _, err := w.exec.ExecContext(ctx, strings.Join(stmts, ";\n")); err != nil {
		w.prepared.lost(err)
		return fmt.Errorf("store messages: %w", err)
	}
	return nil
}

// insertNow writes rows through db at once and fills in their ids. On SQLite the INSERT
// has no RETURNING clause: SQLite runs RETURNING as a trigger, and a statement with a
// trigger keeps a statement journal, a copy of every page it changes (a ticket's row
// changes one page in each of its twenty indexes), which cost more than the INSERT. The
// ids are the connection's last one and those before it: one INSERT numbers its rows one
// after another, the transaction the only writer. With stmts, the INSERT runs prepared
// (prepared_sqlite.go).
func insertNow(ctx context.Context, db bun.IDB, rows any, stmts *statements) error {
	var ids []*int64 // the ids to fill in, in the rows' order
	switch r := rows.(type) {
	case *Customer:
		ids = []*int64{&r.ID}
	case *Identity:
		ids = []*int64{&r.ID}
	case *Ticket:
		ids = []*int64{&r.ID}
	case *Message:
		ids = []*int64{&r.ID}
	case *Event:
		ids = []*int64{&r.ID}
	case []*Event:
		for _, e := range r {
			ids = append(ids, &e.ID)
		}
		rows = &r // bun writes a slice through a pointer to it
	case []*Attachment:
		for _, a := range r {
			ids = append(ids, &a.ID)
		}
		rows = &r
	}
	q := db.NewInsert().Model(rows)
	sqlite := db.Dialect().Name() == dialect.SQLite && ids != nil
	for _, id := range ids {
		sqlite = sqlite && *id == 0 // rows given their ids keep them
	}
	if sqlite {
		q = q.Returning("NULL")
		if conn := sqliteInsertConn(db, stmts); conn != nil {
			q = q.Conn(conn)
		}
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return fmt.Errorf("insert into %s: %w", q.GetTableName(), err)
	}
	if !sqlite || len(ids) == 0 {
		return nil
	}
	last, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("insert into %s: %w", q.GetTableName(), err)
	}
	for i, id := range ids {
		*id = last - int64(len(ids)-1-i)
	}
	return nil
}

// reservedIDs are ids taken from PostgreSQL's sequences for rows about to be kept.
type reservedIDs struct{ customers, tickets, messages []int64 }

// reserve takes ids for the customers, tickets and messages about to be kept; without
// batching they are zero, filled in as each row is written.
func (w *writes) reserve(ctx context.Context, customers, tickets, messages int) (reservedIDs, error) {
	ids := reservedIDs{make([]int64, customers), make([]int64, tickets), make([]int64, messages)}
	if !w.batch || customers+tickets+messages == 0 {
		return ids, nil
	}
	var rows []struct {
		Seq string
		ID  int64
	}
	// Each sequence is looked up once (MATERIALIZED), not once a row.
	err := w.db.NewRaw(`WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence('customers', 'id')::regclass AS customers,
			pg_get_serial_sequence('tickets', 'id')::regclass AS tickets, pg_get_serial_sequence('messages', 'id')::regclass AS messages)
		SELECT 'customers' AS seq, nextval(s.customers) AS id FROM s, generate_series(1, ?)
		UNION ALL SELECT 'tickets', nextval(s.tickets) FROM s, generate_series(1, ?)
		UNION ALL SELECT 'messages', nextval(s.messages) FROM s, generate_series(1, ?)`, customers, tickets, messages).
		Scan(ctx, &rows)
	if err != nil {
		return ids, fmt.Errorf("reserve ids: %w", err)
	}
	ids = reservedIDs{}
	for _, r := range rows {
		switch r.Seq {
		case "customers":
			ids.customers = append(ids.customers, r.ID)
		case "tickets":
			ids.tickets = append(ids.tickets, r.ID)
		default:
			ids.messages = append(ids.messages, r.ID)
		}
	}
	// Each sequence hands out rising ids; kept in that order, new tickets are numbered in
	// the order their messages came.
	slices.Sort(ids.customers)
	slices.Sort(ids.tickets)
	slices.Sort(ids.messages)
	return ids, nil
}
