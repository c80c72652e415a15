package tickets

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// TicketFilter selects tickets for a queue. Zero fields do not filter.
type TicketFilter struct {
	Statuses   []Status
	TeamID     *int64
	AssigneeID *int64
	Unassigned bool
	Channel    Channel
	Priority   Priority
	Query      string // a reference, words of the subject, or the customer (see SearchCustomers)
	Cursor     string // from the previous page's NextCursor
	Limit      int    // 1..200, default 50
}

// TicketPage is one page of a queue, nearest deadline first.
type TicketPage struct {
	Items      []*Ticket
	NextCursor string // empty on the last page
}

// cursor encodes the queue position (next_due_at, id) of the last row of a page.
func encodeCursor(t *Ticket) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d.%d", t.NextDueAt.UnixMicro(), t.ID))
}

func decodeCursor(c string) (time.Time, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		due, id, ok := strings.Cut(string(b), ".")
		if ok {
			us, err1 := strconv.ParseInt(due, 10, 64)
			n, err2 := strconv.ParseInt(id, 10, 64)
			if err1 == nil && err2 == nil {
				return time.UnixMicro(us).UTC(), n, nil
			}
		}
	}
	return time.Time{}, 0, invalidf("cursor %q is not one this server gave out", c)
}

// ListTickets returns a page of tickets ordered by their nearest open deadline, then id,
// with their customers (and identities), teams (id, name) and assignees (id, name, email,
// team, role).
// Each filter combination is served by an index on (filter, next_due_at, id), so a page
// costs the same at a thousand tickets as at a million.
func (s *Service) ListTickets(ctx context.Context, f TicketFilter) (*TicketPage, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 200 {
		return nil, invalidf("limit may be at most 200")
	}
	for _, st := range f.Statuses {
		if !st.Valid() {
			return nil, invalidf("unknown status %q (new, open, pending, resolved, closed)", st)
		}
	}
	if f.Channel != "" && !f.Channel.Valid() {
		return nil, invalidf("unknown channel %q", f.Channel)
	}
	if f.Priority != "" && !f.Priority.Valid() {
		return nil, invalidf("unknown priority %q (low, normal, high, urgent)", f.Priority)
	}

	var rows []queueRow
	p := s.params()
	q := s.db.NewSelect().Model(&rows).
		ColumnExpr("?TableColumns").
		ColumnExpr("team.name AS team_name").
		ColumnExpr("assignee.name AS assignee_name, assignee.email AS assignee_email, assignee.team_id AS assignee_team_id, assignee.role AS assignee_role").
		ColumnExpr("customer.name AS customer_name, customer.locale AS customer_locale, customer.tags AS customer_tags").
		Join("LEFT JOIN teams AS team ON team.id = ticket.team_id").
		Join("LEFT JOIN agents AS assignee ON assignee.id = ticket.assignee_id").
		Join("JOIN customers AS customer ON customer.id = ticket.customer_id").
		OrderExpr("ticket.next_due_at ASC, ticket.id ASC").
		Limit(f.Limit + 1)
	// Statuses, channel and priority are checked words, written into the query as they
	// are: a plan per combination, each exact.
	if len(f.Statuses) > 0 {
		q = q.Where("ticket.status IN (?)", bun.In(f.Statuses))
	}
	if f.TeamID != nil {
		q = q.Where("ticket.team_id = ?", p.add(*f.TeamID))
	}
	if f.AssigneeID != nil {
		q = q.Where("ticket.assignee_id = ?", p.add(*f.AssigneeID))
	}
	if f.Unassigned {
		q = q.Where("ticket.assignee_id IS NULL")
	}
	if f.Channel != "" {
		q = q.Where("ticket.channel = ?", f.Channel)
	}
	if f.Priority != "" {
		q = q.Where("ticket.priority = ?", f.Priority)
	}
	text, err := checkSearch(f.Query)
	if err != nil {
		return nil, err
	}
	if text != "" {
		if id, ok := ParseRef(text); ok {
			q = q.Where("ticket.id = ?", p.add(id))
		} else {
			// Words of the subject, or the customer: a phone number in any form or its last
			// digits, a name, an email address, an openid (search.go).
			subject := p.add("%" + escapeLike(strings.ToLower(text)) + "%")
			match, args := customerMatch(text, p)
			q = q.Where("(LOWER(ticket.subject) LIKE ? ESCAPE '\\' OR ticket.customer_id IN ("+match+"))", append([]any{subject}, args...)...)
		}
	}
	if f.Cursor != "" {
		due, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		// A row comparison, which an index on (…, next_due_at, id) answers as a range:
		// spelled with OR it was a filter, and page n read every ticket before it.
		q = q.Where("(ticket.next_due_at, ticket.id) > (?, ?)", p.add(due), p.add(id))
	}
	q = q.Conn(p.conn())
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	items := make([]*Ticket, len(rows))
	for i := range rows {
		items[i] = rows[i].ticket()
	}
	page := &TicketPage{Items: items}
	if len(items) > f.Limit {
		page.Items = items[:f.Limit]
		page.NextCursor = encodeCursor(page.Items[f.Limit-1])
	}
	if err := s.loadIdentities(ctx, page.Items); err != nil {
		return nil, err
	}
	return page, nil
}

// queueRow is a ticket as a queue shows it, with the few columns of its team, assignee and
// customer a queue needs. They are read flat, under names of their own: scanning joined
// models column by column cost most of a page's time in the server.
type queueRow struct {
	bun.BaseModel `bun:"table:tickets,alias:ticket"`
	Ticket        `bun:",extend"`

	TeamName       *string `bun:",scanonly"`
	AssigneeName   *string `bun:",scanonly"`
	AssigneeEmail  *string `bun:",scanonly"`
	AssigneeTeamID *int64  `bun:",scanonly"`
	AssigneeRole   *Role   `bun:",scanonly"`
	CustomerName   string  `bun:",scanonly"`
	CustomerLocale string  `bun:",scanonly"`
	CustomerTags   string  `bun:",scanonly"`
}

func (r *queueRow) ticket() *Ticket {
	t := &r.Ticket
	if t.TeamID != nil && r.TeamName != nil {
		t.Team = &Team{ID: *t.TeamID, Name: *r.TeamName}
	}
	if t.AssigneeID != nil && r.AssigneeName != nil {
		t.Assignee = &Agent{ID: *t.AssigneeID, Name: *r.AssigneeName, Email: *r.AssigneeEmail, TeamID: r.AssigneeTeamID, Role: *r.AssigneeRole}
	}
	t.Customer = &Customer{ID: t.CustomerID, Name: r.CustomerName, Locale: r.CustomerLocale, Tags: r.CustomerTags}
	return t
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// LoadIdentities fills in the identities of the tickets' customers (those loaded with
// their tickets) with one query for the whole page.
func (s *Service) LoadIdentities(ctx context.Context, ts []*Ticket) error {
	return s.loadIdentities(ctx, ts)
}

// loadIdentities fills the customers' identities with one query for the whole page. A
// customer's several tickets on the page come with a copy of the customer each; they are
// made to share the first, so that every one of them shows the identities.
func (s *Service) loadIdentities(ctx context.Context, ts []*Ticket) error {
	byCustomer := map[int64]*Customer{}
	ids := make([]int64, 0, len(ts))
	for _, t := range ts {
		if t.Customer == nil {
			continue
		}
		if c := byCustomer[t.CustomerID]; c != nil {
			t.Customer = c
			continue
		}
		byCustomer[t.CustomerID] = t.Customer
		ids = append(ids, t.CustomerID)
	}
	if len(ids) == 0 {
		return nil
	}
	var idents []*Identity
	p := s.params()
	q := s.db.NewSelect().Model(&idents).Where(p.in("customer_id", ids)).OrderExpr("id")
	q = q.Conn(p.conn())
	if err := q.Scan(ctx); err != nil {
		return fmt.Errorf("load identities: %w", err)
	}
	for _, id := range idents {
		c := byCustomer[id.CustomerID]
		c.Identities = append(c.Identities, id)
	}
	return nil
}

// TicketDetail is a ticket with everything that happened on it.
type TicketDetail struct {
	*Ticket
	Messages []*Message
	Events   []*Event
}

// Ticket returns a ticket by reference, with its customer, messages and audit events.
func (s *Service) Ticket(ctx context.Context, ref string) (*TicketDetail, error) {
	id, ok := ParseRef(ref)
	if !ok {
		return nil, notFoundf("%q is not a ticket reference (expected e.g. %s)", ref, FormatRef(123))
	}
	var d *TicketDetail
	err := s.snapshot(ctx, func(db bun.IDB) error {
		var err error
		d, err = s.loadDetail(ctx, db, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// loadDetail reads ticket id with its customer, team, assignee, messages and events
// through db: for Ticket, and for a change answering with the ticket as it left it
// (changeInto), so that the two cannot differ.
func (s *Service) loadDetail(ctx context.Context, db bun.IDB, id int64) (*TicketDetail, error) {
	t := new(Ticket)
	err := db.NewSelect().Model(t).
		Relation("Team").Relation("Assignee").Relation("Customer").
		Relation("Customer.Identities", func(q *bun.SelectQuery) *bun.SelectQuery { return q.OrderExpr("id") }).
		Where("ticket.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFoundf("ticket %s not found", FormatRef(id))
	}
	if err != nil {
		return nil, fmt.Errorf("load ticket: %w", err)
	}
	d := &TicketDetail{Ticket: t}
	if err := db.NewSelect().Model(&d.Messages).Relation("Attachments").
		Where("ticket_id = ?", id).OrderExpr("message.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load messages: %w", err)
	}
	if err := db.NewSelect().Model(&d.Events).
		Where("entity = 'ticket' AND entity_id = ?", id).OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load events: %w", err)
	}
	return d, nil
}

// snapshot runs reads that must agree with each other. On PostgreSQL they share one
// repeatable-read transaction, so that a change committed between two of them (a message
// and the reopening it caused) shows in all of them or in none. SQLite reads as it is:
// its transactions begin IMMEDIATE, and would hold off every writer for a page view.
func (s *Service) snapshot(ctx context.Context, fn func(db bun.IDB) error) error {
	if s.db.Dialect().Name() != dialect.PG {
		return fn(s.db)
	}
	return s.db.RunInTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
		func(ctx context.Context, tx bun.Tx) error { return fn(tx) })
}

// CustomerDetail is a customer with their tickets, newest first.
type CustomerDetail struct {
	*Customer
	Tickets []*Ticket
}

// Customer returns a customer with identities and tickets.
func (s *Service) Customer(ctx context.Context, id int64) (*CustomerDetail, error) {
	c := new(Customer)
	err := s.db.NewSelect().Model(c).Relation("Identities").Where("customer.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFoundf("customer %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load customer: %w", err)
	}
	d := &CustomerDetail{Customer: c}
	if err := s.db.NewSelect().Model(&d.Tickets).Relation("Team").Relation("Assignee").
		Where("ticket.customer_id = ?", id).OrderExpr("ticket.id DESC").Limit(200).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load customer's tickets: %w", err)
	}
	for _, t := range d.Tickets {
		t.Customer = c
	}
	return d, nil
}
