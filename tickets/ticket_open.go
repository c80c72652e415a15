package tickets

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/schema"
)

// Opening a ticket, from a customer's first message (intakeTx) or from a contact an agent
// logs (CreateTicket): routing (routing.go), deadlines (sla.go), auto-assignment
// (ticket_assign.go) and the created event.

// NewTicket is what an agent logs for a phone caller or a walk-in customer.
type NewTicket struct {
	Channel  Channel // phone or walk_in; other channels open tickets through Intake
	Name     string
	Phone    string
	Email    string
	Subject  string
	Body     string // what the customer said
	Category string
	Priority Priority
}

// CreateTicket logs a contact an agent handled in person or on the phone. The ticket is
// assigned to the agent who logged it. It returns the ticket as written, with its customer
// (see CreateTicketDetail).
func (s *Service) CreateTicket(ctx context.Context, actor Actor, in NewTicket) (*Ticket, error) {
	d, err := s.CreateTicketDetail(ctx, actor, in)
	if err != nil {
		return nil, err
	}
	return d.Ticket, nil
}

// CreateTicketDetail is CreateTicket answering with the ticket as Ticket(ref) would read it
// just after: its customer with every identity, its team and assignee (their id, name and
// email: what answers show), its message and its events. All of it is what the
// transaction wrote or read while writing, not read again afterwards.
func (s *Service) CreateTicketDetail(ctx context.Context, actor Actor, in NewTicket) (*TicketDetail, error) {
	if actor.Agent == nil {
		return nil, forbiddenf("only agents log contacts")
	}
	if in.Channel == "" {
		in.Channel = ChannelPhone
	}
	if in.Channel != ChannelPhone && in.Channel != ChannelWalkIn {
		return nil, invalidf("agents log phone or walk_in contacts; %q tickets arrive through their channel", in.Channel)
	}
	if in.Priority == "" {
		in.Priority = PriorityNormal
	}
	if !in.Priority.Valid() {
		return nil, invalidf("unknown priority %q (low, normal, high, urgent)", in.Priority)
	}
	in.Subject, in.Body = strings.TrimSpace(in.Subject), strings.TrimSpace(in.Body)
	if in.Subject == "" && in.Body == "" {
		return nil, invalidf("say what the customer needs: a subject or a description")
	}
	if len(in.Body) > MaxBodyBytes {
		return nil, invalidf("description is %d bytes, more than the %d allowed", len(in.Body), MaxBodyBytes)
	}
	kind, value := IdentityPhone, in.Phone
	if strings.TrimSpace(in.Phone) == "" {
		kind, value = IdentityEmail, in.Email
	}
	if strings.TrimSpace(value) == "" {
		return nil, invalidf("a phone number or an email address is needed to reach the customer")
	}
	value, err := normalizeIdentity(kind, value, s.cfg.DefaultCountry)
	if err != nil {
		return nil, err
	}
	var email string
	if kind == IdentityPhone && strings.TrimSpace(in.Email) != "" {
		if email, err = NormalizeEmail(in.Email); err != nil {
			return nil, err
		}
	}

	var d *TicketDetail
	if s.db.Dialect().Name() == dialect.PG {
		err = s.inConnTx(ctx, func(ctx context.Context, conn bun.Conn) error {
			var err error
			d, err = s.logContact(ctx, conn, &conn, actor, in, kind, value, email)
			return err
		})
		if errors.Is(err, errNoPrepared) {
			// The connection could not run the prepared read (behind a pooler in transaction
			// mode, the server connection may not have it): nothing was written, and the
			// contact is logged as SQLite logs it, its SQL rendered in full.
			err = s.inTx(ctx, func(tx bun.Tx) error {
				var err error
				d, err = s.logContact(ctx, tx, nil, actor, in, kind, value, email)
				return err
			})
		}
	} else {
		d, err = s.contacts.do(ctx, contactCall{actor: actor, in: in, kind: kind, value: value, email: email})
	}
	if err != nil {
		return nil, fmt.Errorf("log %s contact: %w", in.Channel, err)
	}
	s.schedule(ctx, d.timers())
	return d, nil
}

// contactCall is a contact to log, checked and its identities normalised.
type contactCall struct {
	actor        Actor
	in           NewTicket
	kind         IdentityKind
	value, email string
}

// contactBatch logs contacts arriving together on SQLite in one transaction, so that they
// share its commit and the sync of the file (see batcher). Each caller is answered after
// the commit. When one of them fails, the transaction is rolled back and each is logged
// again in a transaction of its own, so that only that one is refused. (Savepoints would
// keep the others without a second try, but SQLite copies every page a statement changes
// under a savepoint into a journal: that cost more than the batch saves.)
func (s *Service) contactBatch(ctx context.Context, calls []contactCall) ([]*TicketDetail, []error) {
	res, errs := make([]*TicketDetail, len(calls)), make([]error, len(calls))
	err := s.inTx(ctx, func(tx bun.Tx) error {
		for i, c := range calls {
			var err error
			if res[i], err = s.logContact(ctx, tx, nil, c.actor, c.in, c.kind, c.value, c.email); err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case err == nil:
	case len(calls) == 1:
		res[0], errs[0] = nil, err
	default:
		for i := range calls {
			r, e := s.contactBatch(ctx, calls[i:i+1])
			res[i], errs[i] = r[0], e[0]
		}
	}
	return res, errs
}

// logContact writes a logged contact in tx and returns it as written: the customer found
// by their identity (or created, with it), the email given added to them unless it is
// someone's already, a returning customer without a name given the one said, the ticket
// (routed, timed, assigned), the caller's words as its message, and its events. On
// PostgreSQL (pg, the connection that tx is too) that is a transaction of two round
// trips, begun and committed by hand (inConnTx): BEGIN and a prepared statement that
// reads the customer and reserves the new rows' ids; then one statement that writes every
// row and reads back the team's and assignee's names, and COMMIT. On SQLite (pg nil, tx a
// bun.Tx, perhaps shared with other contacts: contactBatch), where a statement costs no
// round trip, the rows are written one by one; so on PostgreSQL when the prepared read
// cannot run (errNoPrepared).
func (s *Service) logContact(ctx context.Context, tx bun.IDB, pg *bun.Conn, actor Actor, in NewTicket, kind IdentityKind, value, email string) (*TicketDetail, error) {
	var found caller
	var err error
	if pg != nil {
		found, err = s.findCallerPG(ctx, *pg, kind, value, email, in.Body != "")
	} else {
		found, err = findCallerTx(ctx, tx, kind, value, email)
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	c, isNew, rename := found.customer, found.customer == nil, false
	var idents []*Identity
	if isNew {
		c = &Customer{ID: found.customerID, Name: strings.TrimSpace(in.Name), CreatedAt: now, UpdatedAt: now}
		idents = append(idents, newIdentity(c.ID, kind, value, now))
	} else if c.Name == "" && in.Name != "" {
		c.Name, rename = in.Name, true
	}
	if email != "" && !found.emailTaken {
		idents = append(idents, newIdentity(c.ID, IdentityEmail, email, now))
	}

	t := &Ticket{Channel: in.Channel, Subject: subjectFrom(in.Subject, in.Body), Category: strings.TrimSpace(in.Category), Priority: in.Priority, Status: StatusOpen}
	t.AssigneeID, t.TeamID = actor.agentID(), actor.Agent.TeamID // a key assigns no one
	var m *Message
	if in.Body != "" {
		m = &Message{Direction: DirectionInbound, Channel: in.Channel, Body: in.Body, DeliveryStatus: DeliveryReceived, AuthorID: actor.agentID()}
	}
	var staff staffNames
	var evs []*Event
	if pg != nil {
		t.CustomerID = c.ID
		rule, assigned, err := s.placeTicket(ctx, tx, t, c, in.Body, nil)
		if err != nil {
			return nil, err
		}
		t.ID = found.ticketID
		evs = s.createdEvents(actor, t, rule, assigned)
		if m != nil {
			m.ID, m.TicketID, m.CreatedAt = found.messageID, t.ID, t.CreatedAt
		}
		if staff, err = s.writeContactPG(ctx, *pg, c, isNew, rename, idents, t, m, evs); err != nil {
			return nil, err
		}
	} else {
		w := s.writesNow() // each row at once, its id filled in
		if isNew {
			if err := w.add(ctx, tx, c); err != nil {
				return nil, err
			}
		} else if rename {
			if _, err := tx.NewUpdate().Model(c).Column("name").WherePK().Exec(ctx); err != nil {
				return nil, fmt.Errorf("name customer: %w", err)
			}
		}
		for _, id := range idents {
			id.CustomerID = c.ID
			if err := w.add(ctx, tx, id); err != nil {
				return nil, err
			}
		}
		t.CustomerID = c.ID
		rule, assigned, err := s.placeTicket(ctx, tx, t, c, in.Body, nil)
		if err != nil {
			return nil, err
		}
		if err := w.add(ctx, tx, t); err != nil {
			return nil, err
		}
		evs = s.createdEvents(actor, t, rule, assigned)
		if err := w.add(ctx, tx, evs); err != nil {
			return nil, err
		}
		if m != nil {
			m.TicketID, m.CreatedAt = t.ID, t.CreatedAt
			if err := w.add(ctx, tx, m); err != nil {
				return nil, err
			}
		}
		if staff, err = readStaffNames(ctx, tx, t); err != nil {
			return nil, err
		}
	}
	c.Identities = append(c.Identities, idents...)
	t.Customer = c
	staff.fill(t)
	d := &TicketDetail{Ticket: t, Messages: []*Message{}, Events: evs}
	if m != nil {
		d.Messages = append(d.Messages, m)
	}
	return d, nil
}

// caller is what logging a contact finds before it writes: the customer who owns the
// identity (nil when nobody does) with all their identities, whether the email address
// given belongs to anyone, and on PostgreSQL the ids reserved for the rows about to be
// written (zero on SQLite, where each is known once its row is written).
type caller struct {
	customer                        *Customer
	emailTaken                      bool
	customerID, ticketID, messageID int64
}

// findCallerTx reads the caller in tx, a statement at a time (SQLite, or PostgreSQL when
// its prepared read cannot run).
func findCallerTx(ctx context.Context, tx bun.IDB, kind IdentityKind, value, email string) (caller, error) {
	var found caller
	c := new(Customer)
	err := tx.NewSelect().Model(c).
		Relation("Identities", func(q *bun.SelectQuery) *bun.SelectQuery { return q.OrderExpr("id") }).
		Where("customer.id = (SELECT customer_id FROM customer_identities WHERE kind = ? AND value = ?)", kind, value).
		Scan(ctx)
	switch {
	case err == nil:
		found.customer = c
	case !errors.Is(err, sql.ErrNoRows):
		return found, fmt.Errorf("find customer: %w", err)
	}
	if email != "" {
		n, err := tx.NewSelect().Table("customer_identities").Where("kind = ? AND value = ?", IdentityEmail, email).Count(ctx)
		if err != nil {
			return found, fmt.Errorf("check identity: %w", err)
		}
		found.emailTaken = n > 0
	}
	return found, nil
}

// findCallerPG begins the transaction on conn and reads the caller with
// contactReadStatement, in one round trip, which also reserves the new customer's id
// (when there is none), the ticket's and the message's (withMessage).
func (s *Service) findCallerPG(ctx context.Context, conn bun.Conn, kind IdentityKind, value, email string, withMessage bool) (caller, error) {
	var found caller
	var row struct {
		ID            *int64
		Name          string
		Locale        string
		Tags          string
		CreatedAt     time.Time
		UpdatedAt     time.Time
		Identities    *string
		EmailTaken    bool
		NewCustomerID *int64
		TicketID      int64
		MessageID     *int64
	}
	st := s.contactRead()
	err := st.run(ctx, conn, func() error {
		return conn.NewRaw("BEGIN; EXECUTE ? (?, ?, ?, ?)", bun.Safe(st.name), kind, value, email, withMessage).Scan(ctx, &row)
	})
	if err != nil {
		var pgErr pgdriver.Error
		if errors.As(err, &pgErr) && !retryable(err) {
			return found, fmt.Errorf("find customer: %w: %w", errNoPrepared, err)
		}
		return found, fmt.Errorf("find customer: %w", err)
	}
	found.emailTaken = email != "" && row.EmailTaken
	found.ticketID = row.TicketID
	if row.MessageID != nil {
		found.messageID = *row.MessageID
	}
	if row.ID == nil {
		if row.NewCustomerID == nil {
			return found, errors.New("find customer: no id reserved for a new customer")
		}
		found.customerID = *row.NewCustomerID
		return found, nil
	}
	c := &Customer{ID: *row.ID, Name: row.Name, Locale: row.Locale, Tags: row.Tags, CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt}
	if row.Identities != nil {
		var ids []struct {
			ID             int64        `json:"id"`
			CustomerID     int64        `json:"customer_id"`
			Kind           IdentityKind `json:"kind"`
			Value          string       `json:"value"`
			OptedOutAt     *time.Time   `json:"opted_out_at"`
			OptInMessageID *string      `json:"opt_in_message_id"`
			CreatedAt      time.Time    `json:"created_at"`
			DigitsReversed *string      `json:"digits_reversed"`
		}
		if err := json.Unmarshal([]byte(*row.Identities), &ids); err != nil {
			return found, fmt.Errorf("read customer's identities: %w", err)
		}
		for _, id := range ids {
			ident := &Identity{ID: id.ID, CustomerID: id.CustomerID, Kind: id.Kind, Value: id.Value, OptedOutAt: id.OptedOutAt, CreatedAt: id.CreatedAt}
			if id.OptInMessageID != nil {
				ident.OptInMessageID = *id.OptInMessageID
			}
			if id.DigitsReversed != nil {
				ident.DigitsReversed = *id.DigitsReversed
			}
			c.Identities = append(c.Identities, ident)
		}
	}
	found.customer = c
	return found, nil
}

// errNoPrepared says PostgreSQL refused findCallerPG's prepared read (not prepared on the
// connection after all, or not preparable there), or the write's prepared shape
// (sessionWrites.lost), and nothing was written: the contact is to be logged on the general
// path.
var errNoPrepared = errors.New("a prepared statement could not run")

// contactReadStatement is findCaller's statement on PostgreSQL, prepared on each
// connection (prepared_pg.go): planning it cost about what running it does. Its
// parameters are the identity's kind and value ($1, $2), the email address given ($3,
// empty for none) and whether the contact has a message ($4). It also reserves the new
// customer's id (when no customer has the identity), the ticket's and the message's.
func (s *Service) contactReadStatement() pgStatement {
	return newPGStatement("hotline_contact_read", "text, text, text, boolean", []byte(`SELECT c.id, COALESCE(c.name, '') AS name,
			COALESCE(c.locale, '') AS locale, COALESCE(c.tags, '') AS tags,
			COALESCE(c.created_at, now()) AS created_at, COALESCE(c.updated_at, now()) AS updated_at,
			(SELECT json_agg(ci ORDER BY ci.id) FROM customer_identities AS ci WHERE ci.customer_id = c.id) AS identities,
			EXISTS (SELECT 1 FROM customer_identities WHERE kind = '`+string(IdentityEmail)+`' AND value = $3) AS email_taken,
			CASE WHEN c.id IS NULL THEN nextval(pg_get_serial_sequence('customers', 'id')) END AS new_customer_id,
			nextval(pg_get_serial_sequence('tickets', 'id')) AS ticket_id,
			CASE WHEN $4 THEN nextval(pg_get_serial_sequence('messages', 'id')) END AS message_id
		FROM (SELECT 1) AS one
		LEFT JOIN customers AS c ON c.id = (SELECT customer_id FROM customer_identities WHERE kind = $1 AND value = $2)`))
}

// writeContactPG writes a logged contact's rows, their ids reserved, as one statement of
// data-modifying CTEs (PostgreSQL checks the foreign keys between them at its end), reads
// back the events' ids and the names of the ticket's team and assignee, and commits, in
// one round trip on conn, the connection of the transaction findCaller began.
func (s *Service) writeContactPG(ctx context.Context, conn bun.Conn, c *Customer, isNew, rename bool, idents []*Identity, t *Ticket, m *Message, evs []*Event) (staffNames, error) {
	var staff staffNames
	// The statement's text, its values in place: "WITH c AS (INSERT …), …" (a part for
	// each table), then the names the answer shows.
	text := []byte("WITH ")
	var parts []string
	var spans [][2]int // each part's INSERT in text
	add := func(name string, q interface {
		AppendQuery(schema.QueryGen, []byte) ([]byte, error)
	}) error {
		if len(parts) > 0 {
			text = append(text, ",\n"...)
		}
		text = append(append(text, name...), " AS ("...)
		from := len(text)
		var err error
		if text, err = q.AppendQuery(s.db.QueryGen(), text); err != nil {
			return err
		}
		parts, spans = append(parts, name), append(spans, [2]int{from, len(text)})
		text = append(text, ')')
		return nil
	}
	if isNew {
		if err := add("c", s.db.NewInsert().Model(c).Returning("NULL")); err != nil {
			return staff, fmt.Errorf("write customer: %w", err)
		}
	} else if rename {
		if err := add("n", s.db.NewUpdate().Model(c).Column("name").WherePK().Returning("NULL")); err != nil {
			return staff, fmt.Errorf("name customer: %w", err)
		}
	}
	if len(idents) > 0 {
		for _, id := range idents {
			id.CustomerID = c.ID
		}
		if err := add("i", s.db.NewInsert().Model(&idents).Returning("NULL")); err != nil {
			return staff, fmt.Errorf("write customer identity: %w", err)
		}
	}
	if err := add("t", s.db.NewInsert().Model(t).Returning("NULL")); err != nil {
		return staff, fmt.Errorf("write ticket: %w", err)
	}
	if m != nil {
		if err := add("m", s.db.NewInsert().Model(m).Returning("NULL")); err != nil {
			return staff, fmt.Errorf("write message: %w", err)
		}
	}
	if err := add("e", s.db.NewInsert().Model(&evs).Returning("id")); err != nil {
		return staff, fmt.Errorf("write events: %w", err)
	}
	const names = "\nSELECT e.id, tm.name, a.name, a.email FROM e LEFT JOIN teams AS tm ON tm.id = %s LEFT JOIN agents AS a ON a.id = %s ORDER BY e.id"
	query := string(fmt.Appendf(text, names, sqlID(t.TeamID), sqlID(t.AssigneeID)))
	// Sent as EXECUTE of its shape, a $n for each value, once the session prepared it
	// (prepared_pg.go).
	sw := s.pgw.on(conn)
	if sw != nil {
		shape, args, bound := []byte("WITH "), make([]string, 0, 96), true
		for i, sp := range spans {
			if i > 0 {
				shape = append(shape, ",\n"...)
			}
			shape = append(append(shape, parts[i]...), " AS ("...)
			if shape, bound = pgBind(shape, query[sp[0]:sp[1]], &args); !bound {
				break
			}
			shape = append(shape, ')')
		}
		if bound {
			n := len(args)
			args = append(args, sqlID(t.TeamID), sqlID(t.AssigneeID))
			shape = fmt.Appendf(shape, names, "$"+strconv.Itoa(n+1)+"::bigint", "$"+strconv.Itoa(n+2)+"::bigint")
			query = sw.text(query, shape, args)
		}
	}
	query += ";\nCOMMIT"
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(MaxTxAge)
	}
	ctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer cancel()
	rows, err := conn.Conn.QueryContext(ctx, query)
	if err != nil {
		if sw.lost(err) { // nothing written: logged the general way
			return staff, fmt.Errorf("write ticket: %w: %w", errNoPrepared, err)
		}
		return staff, fmt.Errorf("write ticket: %w", err)
	}
	defer rows.Close()
	// A row that cannot be read back does not stop the reading: COMMIT's answer comes after
	// the rows, and a contact it stored is not to be answered as failed.
	var readErr error
	i := 0
	for rows.Next() {
		switch {
		case readErr != nil:
		case i == len(evs):
			readErr = errors.New("more events read back than written")
		default:
			if err := rows.Scan(&evs[i].ID, &staff.team, &staff.assignee, &staff.email); err != nil {
				readErr = err
			}
			i++
		}
	}
	if err := rows.Err(); err != nil {
		if sw.lost(err) {
			return staff, fmt.Errorf("write ticket: %w: %w", errNoPrepared, err)
		}
		return staff, fmt.Errorf("write ticket: %w", err)
	}
	sw.prepare(ctx)
	if readErr == nil && i != len(evs) {
		readErr = fmt.Errorf("%d events read back of %d written", i, len(evs))
	}
	if readErr != nil { // committed: read what the answer shows afresh
		s.log.Error("logged contact stored, its rows not read back: reading them again", "ticket", t.ID, "err", readErr)
		return s.readContactBack(ctx, t, evs)
	}
	return staff, nil
}

// readContactBack reads, after COMMIT, what writeContactPG could not read back with it:
// the events' ids and the names of the ticket's team and assignee.
func (s *Service) readContactBack(ctx context.Context, t *Ticket, evs []*Event) (staffNames, error) {
	var ids []int64
	if err := s.db.NewSelect().Model((*Event)(nil)).Column("id").Where("entity = 'ticket' AND entity_id = ?", t.ID).
		Order("id").Scan(ctx, &ids); err != nil {
		return staffNames{}, fmt.Errorf("read the logged contact's events again: %w", err)
	}
	for i := range min(len(ids), len(evs)) {
		evs[i].ID = ids[i]
	}
	return readStaffNames(ctx, s.db, t)
}

// sqlID is an id for a statement's text, or NULL.
func sqlID(id *int64) string {
	if id == nil {
		return "NULL"
	}
	return strconv.FormatInt(*id, 10)
}

// staffNames are the names an answer shows of a ticket's team and assignee.
type staffNames struct {
	team, assignee, email sql.NullString
}

// readStaffNames reads the names of t's team and assignee.
func readStaffNames(ctx context.Context, db bun.IDB, t *Ticket) (staffNames, error) {
	var n staffNames
	err := db.NewRaw("SELECT (SELECT name FROM teams WHERE id = ?), (SELECT name FROM agents WHERE id = ?), (SELECT email FROM agents WHERE id = ?)",
		t.TeamID, t.AssigneeID, t.AssigneeID).Scan(ctx, &n.team, &n.assignee, &n.email)
	if err != nil {
		return n, fmt.Errorf("read the ticket's team and assignee: %w", err)
	}
	return n, nil
}

// fill gives t its team and assignee as answers show them.
func (n staffNames) fill(t *Ticket) {
	t.Team, t.Assignee = nil, nil
	if t.TeamID != nil && n.team.Valid {
		t.Team = &Team{ID: *t.TeamID, Name: n.team.String}
	}
	if t.AssigneeID != nil && n.assignee.Valid {
		t.Assignee = &Agent{ID: *t.AssigneeID, Name: n.assignee.String, Email: n.email.String}
	}
}

// openTicket routes a new ticket to a team, gives it its deadlines and, when the team has
// someone free, an assignee (placeTicket); then writes it through w with id, its reserved
// id or zero, and records what happened.
func (s *Service) openTicket(ctx context.Context, tx bun.IDB, w *writes, t *Ticket, id int64, c *Customer, body string, actor Actor) error {
	rule, assigned, err := s.placeTicket(ctx, tx, t, c, body, w.tickets)
	if err != nil {
		return err
	}
	t.ID = id
	if err := w.add(ctx, tx, t); err != nil {
		return err
	}
	return w.add(ctx, tx, s.createdEvents(actor, t, rule, assigned))
}

// placeTicket routes a new ticket to a team (the rule that did, if one did), gives it its
// deadlines and, when the team has someone free, an assignee (whether it did). pending are
// the tickets the transaction has assigned but not yet written (autoAssign).
func (s *Service) placeTicket(ctx context.Context, tx bun.IDB, t *Ticket, c *Customer, body string, pending []*Ticket) (*RoutingRule, bool, error) {
	now := s.now()
	t.CreatedAt, t.UpdatedAt, t.SLAStartedAt = now, now, &now
	var rule *RoutingRule
	if t.TeamID == nil {
		var err error
		if rule, err = s.route(ctx, tx, t, c, body); err != nil {
			return nil, false, err
		}
	}
	if err := s.applyDeadlines(ctx, tx, t); err != nil {
		return nil, false, err
	}
	autoAssigned := false
	if t.AssigneeID == nil {
		var err error
		if autoAssigned, err = s.autoAssign(ctx, tx, t, pending); err != nil {
			return nil, false, err
		}
	}
	return rule, autoAssigned, nil
}

// createdEvents are a new ticket's events: created (by the rule that routed it, if one
// did) and, when it was, auto-assigned.
func (s *Service) createdEvents(actor Actor, t *Ticket, rule *RoutingRule, autoAssigned bool) []*Event {
	data := map[string]any{"ref": t.Ref(), "channel": t.Channel, "priority": t.Priority, "team_id": t.TeamID,
		"first_response_due_at": t.FirstResponseDueAt, "resolution_due_at": t.ResolutionDueAt}
	if rule != nil {
		data["routing_rule"] = rule.Name
	}
	evs := []*Event{s.event(actor, "ticket", t.ID, "ticket.created", data)}
	if autoAssigned {
		evs = append(evs, s.event(systemActor, "ticket", t.ID, "ticket.assigned", map[string]any{
			"to_assignee": *t.AssigneeID, "to_team": t.TeamID, "reason": "auto-assigned: fewest open tickets in the team",
		}))
	}
	return evs
}

// subjectFrom is the email subject, or the first line of the text, shortened.
func subjectFrom(subject, body string) string {
	s := strings.TrimSpace(subject)
	if s == "" {
		s, _, _ = strings.Cut(strings.TrimSpace(body), "\n")
		s = strings.TrimSpace(s)
	}
	if s == "" {
		s = "(no text)"
	}
	if utf8.RuneCountInString(s) > maxSubjectRunes {
		s = string([]rune(s)[:maxSubjectRunes-1]) + "…"
	}
	return s
}
