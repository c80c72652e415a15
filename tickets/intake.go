package tickets

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/schema"
)

// Inbound is one message from a customer, as a channel parsed it from its provider's wire
// format.
type Inbound struct {
	Channel           Channel
	ProviderMessageID string // unique per channel; empty when the provider gives none
	From              IdentityKind
	Address           string // phone number, email address or openid, in the provider's form
	Name              string // the customer's name, when the channel knows it
	Locale            string // e.g. "zh-CN", "en"
	Subject           string // email subject; other channels leave it empty
	Body              string
	Attachments       []NewAttachment
	ReceivedAt        time.Time // zero means now
	// TicketID threads the message to this ticket when it belongs to the same customer
	// (an email In-Reply-To the channel resolved). A reference quoted in the text is found
	// by Intake itself.
	TicketID int64
	// Merge says the provider delivers this message in parts under one id (a voicemail's
	// recording and its transcription): a later part adds its text and attachments to the
	// stored message instead of being dropped as a retry.
	Merge bool
	// ComplaintSource opens a complaint with the message (the phone menu's complaint
	// option); the words 投诉 / complaint in the text do so too, as source "customer".
	ComplaintSource ComplaintSource
}

// NewAttachment describes a file that came with a message: where the provider keeps it
// (URL), or its Content, which Hotline then keeps (email attachments).
type NewAttachment struct {
	Filename    string
	ContentType string
	SizeBytes   int64
	URL         string
	Content     []byte
}

// IntakeResult says what Intake did.
type IntakeResult struct {
	Ticket    *Ticket
	Message   *Message
	Created   bool       // a new ticket was opened
	Duplicate bool       // the provider message id was seen before; nothing was stored
	Complaint *Complaint // opened because the customer said they complain
	// Acknowledged is the acknowledgement queued to the customer of a new email or WeChat
	// ticket (an SMS is acknowledged in the webhook's answer).
	Acknowledged int64
	Customer     *Customer
	// Survey is set when the message answered a satisfaction survey: the score is recorded
	// and the message stored on the survey's ticket, which stays resolved.
	Survey *Survey
	// retimed says the ticket's deadlines were set again (it was reopened).
	retimed bool
}

const (
	maxBodyBytes    = 64 << 10
	maxSubjectRunes = 200
)

// Intake stores an inbound message: it finds or creates the customer by identity, threads
// the message to the customer's active ticket or opens a new one, and records the events,
// all in one transaction. A message whose provider id was already stored changes nothing.
func (s *Service) Intake(ctx context.Context, in Inbound) (*IntakeResult, error) {
	if !in.Channel.Valid() {
		return nil, invalidf("unknown channel %q", in.Channel)
	}
	address, err := normalizeIdentity(in.From, in.Address, s.cfg.DefaultCountry)
	if err != nil {
		return nil, err
	}
	in.Address = address
	if strings.TrimSpace(in.Body) == "" && len(in.Attachments) == 0 {
		return nil, invalidf("message has neither text nor attachments")
	}
	if len(in.Body) > maxBodyBytes {
		return nil, invalidf("message body is %d bytes, more than the %d allowed", len(in.Body), maxBodyBytes)
	}
	if !utf8.ValidString(in.Body) || !utf8.ValidString(in.Subject) || !utf8.ValidString(in.Name) {
		return nil, invalidf("message text is not valid UTF-8")
	}

	var res *IntakeResult
	err = s.inTx(ctx, func(tx bun.Tx) error {
		res, err = s.intake(ctx, tx, in)
		return err
	})
	var seen *seenError
	if errors.As(err, &seen) { // rolled back: a stored message changes nothing
		res, err = s.seenBefore(ctx, seen.messageID)
	}
	if err != nil {
		return nil, fmt.Errorf("intake %s message: %w", in.Channel, err)
	}
	if !res.Duplicate {
		// A ticket's timers were set when its deadlines were; they are set again only when
		// the deadlines are new (a new or reopened ticket).
		var timers []Timer
		if res.Created || res.retimed {
			timers = res.Ticket.timers()
		}
		if res.Complaint != nil {
			timers = append(timers, res.Complaint.timers()...)
			s.deliver(ctx, res.Complaint.receipt)
		}
		s.schedule(ctx, timers)
		s.deliver(ctx, res.Acknowledged)
	}
	return res, nil
}

// seenError stops an intake whose provider message id is stored already; its transaction
// is rolled back, so the retried webhook changes nothing.
type seenError struct{ messageID int64 }

func (e *seenError) Error() string { return fmt.Sprintf("message %d is stored already", e.messageID) }

// seenBefore is the result of a webhook retried after its message was stored.
func (s *Service) seenBefore(ctx context.Context, messageID int64) (*IntakeResult, error) {
	m := new(Message)
	if err := s.db.NewSelect().Model(m).Where("id = ?", messageID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load stored message %d: %w", messageID, err)
	}
	t, err := s.ticketByID(ctx, s.db, m.TicketID)
	if err != nil {
		return nil, err
	}
	return &IntakeResult{Ticket: t, Message: m, Duplicate: true}, nil
}

// intake stores the message in a few round trips: one statement locks the customer (or
// creates them) and finds whether the message is stored already, one finds the ticket it
// belongs to, and the rows it writes go to PostgreSQL together (see writes).
func (s *Service) intake(ctx context.Context, tx bun.Tx, in Inbound) (*IntakeResult, error) {
	now := s.now()
	// A later part of a voicemail is merged into its message, and a texted score may answer
	// a survey: both need to know first whether the message is stored already.
	if _, _, score := surveyAnswer(in); in.ProviderMessageID != "" && (in.Merge || score) {
		seen := new(Message)
		err := tx.NewSelect().Model(seen).
			Where("channel = ? AND provider_message_id = ?", in.Channel, in.ProviderMessageID).
			Scan(ctx)
		if err == nil {
			t, err := s.ticketByID(ctx, tx, seen.TicketID)
			if err != nil {
				return nil, err
			}
			if in.Merge {
				if err := s.mergeParts(ctx, tx, seen, in); err != nil {
					return nil, err
				}
			}
			return &IntakeResult{Ticket: t, Message: seen, Duplicate: true}, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("look up provider message id: %w", err)
		}
	}
	// A texted score while the customer's survey is open answers it and reopens nothing.
	if res, err := s.answerSurveyByText(ctx, tx, in); res != nil || err != nil {
		return res, err
	}

	w := s.writesFor(tx)
	customer, created, ids, err := s.claimCustomer(ctx, tx, w, in, now)
	if err != nil {
		return nil, err
	}
	if in.TicketID == 0 {
		in.TicketID = quotedTicket(in.Subject + "\n" + in.Body)
	}
	var t *Ticket
	if !created { // a customer created just now has no tickets
		if t, err = s.threadFor(ctx, tx, customer.ID, in.TicketID); err != nil {
			return nil, err
		}
	}
	res := &IntakeResult{Ticket: t, Customer: customer}
	if t == nil {
		if ids.ticket == 0 && w.batch {
			if ids.ticket, err = s.reserveID(ctx, tx, "tickets"); err != nil {
				return nil, err
			}
		}
		t = &Ticket{
			CustomerID: customer.ID,
			Channel:    in.Channel,
			Subject:    subjectFrom(in.Subject, in.Body),
			Priority:   PriorityNormal,
			Status:     StatusNew,
		}
		if err := s.openTicket(ctx, tx, w, t, ids.ticket, customer, in.Body, customerActor); err != nil {
			return nil, err
		}
		res.Ticket, res.Created = t, true
	}

	received := now
	if !in.ReceivedAt.IsZero() && in.ReceivedAt.Before(now) {
		received = in.ReceivedAt.UTC().Truncate(time.Microsecond)
	}
	m := &Message{
		ID:             ids.message,
		TicketID:       t.ID,
		Direction:      DirectionInbound,
		Channel:        in.Channel,
		Body:           in.Body,
		DeliveryStatus: DeliveryReceived,
		CreatedAt:      received,
	}
	if in.ProviderMessageID != "" {
		m.ProviderMessageID = &in.ProviderMessageID
	}
	if err := s.writeMessage(ctx, tx, w, m, in.Attachments); err != nil {
		return nil, err
	}
	res.Message = m
	evs := []*Event{s.event(customerActor, "ticket", t.ID, "message.received", map[string]any{"message_id": m.ID, "channel": in.Channel})}
	if err := w.insert(ctx, tx.NewInsert().Model(&evs), "record message.received"); err != nil {
		return nil, err
	}
	if err := w.flush(ctx); err != nil {
		return nil, err
	}

	// A new email or WeChat ticket is acknowledged with its reference (an SMS is, in the
	// webhook's answer).
	if s.cfg.Notices && res.Created && (in.Channel == ChannelEmail || in.Channel == ChannelWeChat) {
		due := t.FirstResponseDueAt.In(s.cal.loc).Format("2006-01-02 15:04")
		if res.Acknowledged, err = s.notify(ctx, tx, t, TemplateAcknowledged, TemplateData{Due: due}); err != nil {
			return nil, err
		}
	}
	// A customer answering a ticket that waits on them, or writing again soon after it was
	// resolved, puts it back in the agent's hands.
	if t.Status == StatusPending || t.Status == StatusResolved {
		if err := s.changeStatus(ctx, tx, t, StatusOpen, customerActor, "customer replied"); err != nil {
			return nil, err
		}
		if _, err := tx.NewUpdate().Model(t).WherePK().ExcludeColumn("id", "created_at").Exec(ctx); err != nil {
			return nil, fmt.Errorf("save ticket: %w", err)
		}
		res.retimed = true
	}
	// 投诉 / "complaint" in the customer's words is a formal complaint, received now.
	source := in.ComplaintSource
	if source == "" && mentionsComplaint(in.Subject+"\n"+in.Body) {
		source = SourceCustomer
	}
	if source != "" {
		opened, err := s.openComplaints(ctx, tx, customerActor, []*Complaint{s.newComplaint(t.ID, source, subjectFrom(in.Subject, in.Body), received)})
		if err != nil {
			return nil, err
		}
		if len(opened) > 0 {
			res.Complaint = opened[0]
		}
	}
	return res, nil
}

// reservedIDs are ids taken from PostgreSQL's sequences before their rows are written, so
// that the rows can be written together (writes); zero where none was taken.
type reservedIDs struct{ ticket, message int64 }

// claimCustomer locks the customer who owns the message's identity, creating both when
// the identity is new, in one statement that also finds whether the message is stored
// already (a *seenError) and reserves ids. Locking the customer's row serialises
// concurrent intakes for one customer, so two messages arriving together thread into one
// ticket instead of opening two. A concurrent intake that creates the same identity first
// makes the identity's insert fail on its unique key, and the transaction is retried to
// find that customer.
func (s *Service) claimCustomer(ctx context.Context, tx bun.Tx, w *writes, in Inbound, now time.Time) (c *Customer, created bool, ids reservedIDs, err error) {
	seenQuery := bun.SafeQuery("0")
	if in.ProviderMessageID != "" {
		seenQuery = bun.SafeQuery("COALESCE((SELECT id FROM messages WHERE channel = ? AND provider_message_id = ?), 0)", in.Channel, in.ProviderMessageID)
	}
	name := strings.TrimSpace(in.Name)
	var seen int64
	c = new(Customer)
	err = tx.NewRaw(`UPDATE customers SET updated_at = ?, name = CASE WHEN name = '' THEN ? ELSE name END
		WHERE id = (SELECT customer_id FROM customer_identities WHERE kind = ? AND value = ?)
		RETURNING id, name, locale, tags, created_at, updated_at, ?, ?`,
		now, name, in.From, in.Address, seenQuery, s.nextID("messages")).
		Scan(ctx, &c.ID, &c.Name, &c.Locale, &c.Tags, &c.CreatedAt, &c.UpdatedAt, &seen, &ids.message)
	if errors.Is(err, sql.ErrNoRows) {
		c = &Customer{Name: name, Locale: in.Locale, CreatedAt: now, UpdatedAt: now}
		err = tx.NewRaw(`INSERT INTO customers (name, locale, tags, created_at, updated_at) VALUES (?, ?, '', ?, ?)
			RETURNING id, ?, ?, ?`, c.Name, c.Locale, now, now, seenQuery, s.nextID("tickets"), s.nextID("messages")).
			Scan(ctx, &c.ID, &seen, &ids.ticket, &ids.message)
		if err != nil {
			return nil, false, ids, fmt.Errorf("create customer: %w", err)
		}
		created = true
	} else if err != nil {
		return nil, false, ids, fmt.Errorf("find customer: %w", err)
	}
	if seen != 0 {
		return nil, false, ids, &seenError{messageID: seen}
	}
	if created {
		id := &Identity{CustomerID: c.ID, Kind: in.From, Value: in.Address, CreatedAt: now}
		if err := w.insert(ctx, tx.NewInsert().Model(id), "create customer identity"); err != nil {
			return nil, false, ids, err
		}
		c.Identities = []*Identity{id}
	}
	return c, created, ids, nil
}

// customerFor finds the customer who owns an identity, creating both when it is new. A
// concurrent intake that creates the same identity first makes the insert fail on the
// unique key, and the transaction is retried to find that customer.
func (s *Service) customerFor(ctx context.Context, tx bun.IDB, kind IdentityKind, value, name, locale string) (*Customer, error) {
	c := new(Customer)
	err := tx.NewSelect().Model(c).
		Where("id = (SELECT customer_id FROM customer_identities WHERE kind = ? AND value = ?)", kind, value).
		Scan(ctx)
	if err == nil {
		if c.Name == "" && name != "" {
			c.Name = name
			if _, err := tx.NewUpdate().Model(c).Column("name").WherePK().Exec(ctx); err != nil {
				return nil, fmt.Errorf("name customer: %w", err)
			}
		}
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find customer: %w", err)
	}
	now := s.now()
	c = &Customer{Name: strings.TrimSpace(name), Locale: locale, CreatedAt: now, UpdatedAt: now}
	if _, err := tx.NewInsert().Model(c).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create customer: %w", err)
	}
	id := &Identity{CustomerID: c.ID, Kind: kind, Value: value, CreatedAt: now}
	if _, err := tx.NewInsert().Model(id).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create customer identity: %w", err)
	}
	c.Identities = []*Identity{id}
	return c, nil
}

// threadFor picks the ticket a customer's message belongs to, in one query: the one it
// names when that is the customer's and not closed; else the customer's newest active
// ticket; else the one they resolved last within the reopen window; else none.
func (s *Service) threadFor(ctx context.Context, tx bun.IDB, customerID, ticketID int64) (*Ticket, error) {
	named := bun.SafeQuery("id = ? AND status <> ?", ticketID, StatusClosed)
	active := bun.SafeQuery("status IN (?)", bun.In(activeStatuses))
	reopenable := bun.SafeQuery("1 = 0")
	if s.cfg.ReopenWindow > 0 {
		reopenable = bun.SafeQuery("status = ? AND resolved_at >= ?", StatusResolved, s.now().Add(-s.cfg.ReopenWindow))
	}
	t := new(Ticket)
	err := tx.NewSelect().Model(t).
		Where("customer_id = ?", customerID).
		Where("(?) OR (?) OR (?)", named, active, reopenable).
		OrderExpr("CASE WHEN ? THEN 0 WHEN ? THEN 1 ELSE 2 END, CASE WHEN ? THEN NULL ELSE resolved_at END DESC, id DESC", named, active, active).
		Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find customer's ticket: %w", err)
	}
	return t, nil
}

// mergeParts adds a later part of a message: its text, unless already there, and the
// attachments not yet stored.
func (s *Service) mergeParts(ctx context.Context, tx bun.IDB, m *Message, in Inbound) error {
	body := strings.TrimSpace(in.Body)
	if body != "" && !strings.Contains(m.Body, body) {
		if m.Body != "" {
			body = m.Body + "\n" + body
		}
		if _, err := tx.NewUpdate().Model(m).Set("body = ?", body).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("add message text: %w", err)
		}
		m.Body = body
	}
	var urls []string
	if err := tx.NewSelect().Table("attachments").Column("url").Where("message_id = ?", m.ID).Scan(ctx, &urls); err != nil {
		return fmt.Errorf("load attachments: %w", err)
	}
	var fresh []NewAttachment
	for _, a := range in.Attachments {
		if !slices.Contains(urls, a.URL) {
			fresh = append(fresh, a)
		}
	}
	for _, a := range fresh {
		row := &Attachment{MessageID: m.ID, Filename: a.Filename, ContentType: a.ContentType, SizeBytes: a.SizeBytes, URL: a.URL, CreatedAt: s.now()}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return fmt.Errorf("store attachment: %w", err)
		}
	}
	return nil
}

// createTicket routes a new ticket to a team, gives it its deadlines and, when the team has
// someone free, an assignee; then inserts it and records what happened.
func (s *Service) createTicket(ctx context.Context, tx bun.IDB, t *Ticket, c *Customer, body string, actor Actor) error {
	return s.openTicket(ctx, tx, &writes{}, t, 0, c, body, actor)
}

// openTicket is createTicket writing through w; id is the ticket's reserved id, or zero.
func (s *Service) openTicket(ctx context.Context, tx bun.IDB, w *writes, t *Ticket, id int64, c *Customer, body string, actor Actor) error {
	now := s.now()
	t.CreatedAt, t.UpdatedAt, t.SLAStartedAt = now, now, &now
	var rule *RoutingRule
	if t.TeamID == nil {
		var err error
		if rule, err = s.route(ctx, tx, t, c, body); err != nil {
			return err
		}
	}
	if err := s.applyDeadlines(ctx, tx, t); err != nil {
		return err
	}
	autoAssigned := false
	if t.AssigneeID == nil {
		var err error
		if autoAssigned, err = s.autoAssign(ctx, tx, t); err != nil {
			return err
		}
	}
	t.ID = id
	if err := w.insert(ctx, tx.NewInsert().Model(t), "create ticket"); err != nil {
		return err
	}
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
	return w.insert(ctx, tx.NewInsert().Model(&evs), "record ticket.created")
}

// insertMessage stores a message and its attachments' metadata.
func (s *Service) insertMessage(ctx context.Context, tx bun.IDB, m *Message, atts []NewAttachment) error {
	return s.writeMessage(ctx, tx, &writes{}, m, atts)
}

// writeMessage is insertMessage writing through w.
func (s *Service) writeMessage(ctx context.Context, tx bun.IDB, w *writes, m *Message, atts []NewAttachment) error {
	if err := w.insert(ctx, tx.NewInsert().Model(m), "store message"); err != nil {
		return err
	}
	if len(atts) == 0 {
		return nil
	}
	rows := make([]*Attachment, len(atts))
	for i, a := range atts {
		rows[i] = &Attachment{MessageID: m.ID, Filename: a.Filename, ContentType: a.ContentType, SizeBytes: a.SizeBytes, URL: a.URL, CreatedAt: m.CreatedAt}
		if a.Content != nil {
			sum, err := storeFile(ctx, tx, a.Content)
			if err != nil {
				return err
			}
			rows[i].FileSHA256 = &sum
		}
	}
	if err := w.insert(ctx, tx.NewInsert().Model(&rows), "store attachments"); err != nil {
		return err
	}
	m.Attachments = append(m.Attachments, rows...)
	return nil
}

// storeFile keeps an attachment's content, once per distinct file, and returns its
// SHA-256. It is written at once rather than batched: the row can be large, and nothing
// else in the transaction needs its id.
func storeFile(ctx context.Context, tx bun.IDB, content []byte) (string, error) {
	h := sha256.Sum256(content)
	sum := hex.EncodeToString(h[:])
	_, err := tx.NewInsert().Model(&attachmentFile{SHA256: sum, Content: content}).
		On("CONFLICT (sha256) DO NOTHING").Exec(ctx)
	if err != nil {
		return "", fmt.Errorf("store attachment file: %w", err)
	}
	return sum, nil
}

// writes holds a transaction's INSERTs whose results nobody waits for until flush, so
// that PostgreSQL receives them in one round trip rather than one each; the ids their rows
// need are reserved beforehand (reservedIDs). The zero value, and SQLite (in this process,
// where a statement costs no round trip), write each at once, filling in its ids.
type writes struct {
	tx    bun.Tx
	batch bool
	sql   []string
}

// writesFor batches on PostgreSQL.
func (s *Service) writesFor(tx bun.Tx) *writes {
	return &writes{tx: tx, batch: s.db.Dialect().Name() == dialect.PG}
}

// insert writes q now, or adds it to the batch; what names it in errors.
func (w *writes) insert(ctx context.Context, q *bun.InsertQuery, what string) error {
	if !w.batch {
		if _, err := q.Exec(ctx); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	b, err := q.Returning("NULL").AppendQuery(q.DB().QueryGen(), nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	w.sql = append(w.sql, string(b))
	return nil
}

// flush sends the batch as one multi-statement query, run inside the transaction.
func (w *writes) flush(ctx context.Context) error {
	if len(w.sql) == 0 {
		return nil
	}
	q := strings.Join(w.sql, ";\n")
	w.sql = nil
	if _, err := w.tx.Tx.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("store message: %w", err)
	}
	return nil
}

// nextID reserves the next id of a table in a statement's result: a sequence's next value
// on PostgreSQL, zero (none) on SQLite.
func (s *Service) nextID(table string) schema.QueryWithArgs {
	if s.db.Dialect().Name() != dialect.PG {
		return bun.SafeQuery("0")
	}
	return bun.SafeQuery("nextval(pg_get_serial_sequence(?, 'id'))", table)
}

// reserveID reserves the next id of a table on its own (see nextID).
func (s *Service) reserveID(ctx context.Context, tx bun.IDB, table string) (int64, error) {
	var id int64
	if err := tx.NewRaw("SELECT ?", s.nextID(table)).Scan(ctx, &id); err != nil {
		return 0, fmt.Errorf("reserve a %s id: %w", table, err)
	}
	return id, nil
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
