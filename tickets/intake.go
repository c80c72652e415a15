package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
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

// NewAttachment describes a file that came with a message; Hotline keeps its metadata.
type NewAttachment struct {
	Filename    string
	ContentType string
	SizeBytes   int64
	URL         string
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
	if err != nil {
		return nil, fmt.Errorf("intake %s message: %w", in.Channel, err)
	}
	if !res.Duplicate {
		timers := res.Ticket.timers()
		if res.Complaint != nil {
			timers = append(timers, res.Complaint.timers()...)
			s.deliver(ctx, res.Complaint.receipt)
		}
		s.schedule(ctx, timers)
		s.deliver(ctx, res.Acknowledged)
	}
	return res, nil
}

func (s *Service) intake(ctx context.Context, tx bun.Tx, in Inbound) (*IntakeResult, error) {
	now := s.now()
	if in.ProviderMessageID != "" {
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

	customer, err := s.customerFor(ctx, tx, in.From, in.Address, in.Name, in.Locale)
	if err != nil {
		return nil, err
	}
	// Touching the customer row serialises concurrent intakes for one customer, so two
	// messages arriving together thread into one ticket instead of opening two.
	if _, err := tx.NewUpdate().Model(customer).Set("updated_at = ?", now).WherePK().Exec(ctx); err != nil {
		return nil, fmt.Errorf("lock customer: %w", err)
	}

	if in.TicketID == 0 {
		in.TicketID = quotedTicket(in.Subject + "\n" + in.Body)
	}
	t, err := s.threadFor(ctx, tx, customer.ID, in.TicketID)
	if err != nil {
		return nil, err
	}
	res := &IntakeResult{Ticket: t, Customer: customer}
	if t == nil {
		t = &Ticket{
			CustomerID: customer.ID,
			Channel:    in.Channel,
			Subject:    subjectFrom(in.Subject, in.Body),
			Priority:   PriorityNormal,
			Status:     StatusNew,
		}
		if err := s.createTicket(ctx, tx, t, customer, in.Body, customerActor); err != nil {
			return nil, err
		}
		res.Ticket, res.Created = t, true
	}

	received := now
	if !in.ReceivedAt.IsZero() && in.ReceivedAt.Before(now) {
		received = in.ReceivedAt.UTC().Truncate(time.Microsecond)
	}
	m := &Message{
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
	if err := s.insertMessage(ctx, tx, m, in.Attachments); err != nil {
		return nil, err
	}
	res.Message = m
	if err := s.record(ctx, tx, customerActor, "ticket", t.ID, "message.received", map[string]any{"message_id": m.ID, "channel": in.Channel}); err != nil {
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

// threadFor picks the ticket a customer's message belongs to: the one it names when that is
// the customer's and not closed; else the customer's newest active ticket; else one they
// resolved within the reopen window; else none.
func (s *Service) threadFor(ctx context.Context, tx bun.IDB, customerID, ticketID int64) (*Ticket, error) {
	find := func(q *bun.SelectQuery) (*Ticket, error) {
		t := new(Ticket)
		err := q.Model(t).Where("customer_id = ?", customerID).Limit(1).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("find customer's ticket: %w", err)
		}
		return t, nil
	}
	if ticketID != 0 {
		t, err := find(tx.NewSelect().Where("id = ? AND status <> ?", ticketID, StatusClosed))
		if t != nil || err != nil {
			return t, err
		}
	}
	t, err := find(tx.NewSelect().Where("status IN (?)", bun.In(activeStatuses)).OrderExpr("id DESC"))
	if t != nil || err != nil || s.cfg.ReopenWindow <= 0 {
		return t, err
	}
	return find(tx.NewSelect().Where("status = ? AND resolved_at >= ?", StatusResolved, s.now().Add(-s.cfg.ReopenWindow)).OrderExpr("resolved_at DESC"))
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
	now := s.now()
	t.CreatedAt, t.UpdatedAt, t.SLAStartedAt = now, now, &now
	var rule *RoutingRule
	if t.TeamID == nil {
		var err error
		if rule, err = s.route(ctx, t, c, body); err != nil {
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
	if _, err := tx.NewInsert().Model(t).Exec(ctx); err != nil {
		return fmt.Errorf("create ticket: %w", err)
	}
	data := map[string]any{"ref": t.Ref(), "channel": t.Channel, "priority": t.Priority, "team_id": t.TeamID,
		"first_response_due_at": t.FirstResponseDueAt, "resolution_due_at": t.ResolutionDueAt}
	if rule != nil {
		data["routing_rule"] = rule.Name
	}
	if err := s.record(ctx, tx, actor, "ticket", t.ID, "ticket.created", data); err != nil {
		return err
	}
	if autoAssigned {
		return s.record(ctx, tx, systemActor, "ticket", t.ID, "ticket.assigned", map[string]any{
			"to_assignee": *t.AssigneeID, "to_team": t.TeamID, "reason": "auto-assigned: fewest open tickets in the team",
		})
	}
	return nil
}

// insertMessage stores a message and its attachments' metadata.
func (s *Service) insertMessage(ctx context.Context, tx bun.IDB, m *Message, atts []NewAttachment) error {
	if _, err := tx.NewInsert().Model(m).Exec(ctx); err != nil {
		return fmt.Errorf("store message: %w", err)
	}
	for _, a := range atts {
		row := &Attachment{MessageID: m.ID, Filename: a.Filename, ContentType: a.ContentType, SizeBytes: a.SizeBytes, URL: a.URL, CreatedAt: m.CreatedAt}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return fmt.Errorf("store attachment: %w", err)
		}
		m.Attachments = append(m.Attachments, row)
	}
	return nil
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
