package tickets

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"
)

// Intake's transaction: intakeTx stores a batch of messages with a fixed number of
// statements, however many there are. It finds the messages stored already (markStored),
// locks their customers (customers.go), reads the tickets they may thread onto
// (threading.go), opens tickets (ticket_open.go) and writes the new rows together
// (messages.go, writes.go); what is not a plain new message is intake_special.go's.

// messageKey is a message's provider id on its channel, unique among stored messages.
type messageKey struct {
	channel Channel
	id      string
}

// intakeTx stores messages in tx with a fixed number of statements, however many there
// are: it finds which are stored already (when lookFirst), locks their customers, reads
// the tickets they may belong to, and writes the new rows together (see writes). Only what a
// message sets off beyond that (a reopened ticket, a complaint, an acknowledgement, a
// survey answer, a voicemail's later part) costs statements of its own.
func (s *Service) intakeTx(ctx context.Context, tx bun.Tx, ins []Inbound, lookFirst bool) ([]*IntakeResult, error) {
	now := s.now()
	res := make([]*IntakeResult, len(ins))
	for i, in := range ins {
		r, err := s.intakeSpecial(ctx, tx, in)
		if err != nil {
			return nil, err
		}
		res[i] = r
	}
	if lookFirst {
		if err := s.markStored(ctx, tx, ins, res); err != nil {
			return nil, err
		}
	}
	owners, fresh, err := s.lockCustomers(ctx, tx, ins, res, now)
	if err != nil {
		return nil, err
	}
	threads, err := s.threadCandidates(ctx, tx, ins, res, owners)
	if err != nil {
		return nil, err
	}

	p := s.planIntake(ins, res, owners, threads)
	w := s.writesFor(tx)
	ids, err := w.reserve(ctx, len(fresh), p.newTickets, p.newMessages)
	if err != nil {
		return nil, err
	}
	if err := s.writeIntake(ctx, tx, w, ins, res, p, fresh, ids, now); err != nil {
		return nil, err
	}
	if err := w.flush(ctx); err != nil {
		return nil, err
	}
	for i, in := range ins {
		if p.stored[i] {
			if err := s.afterInbound(ctx, tx, in, res[i], now); err != nil {
				return nil, err
			}
		}
	}
	p.finish(res)
	return res, nil
}

// intakePlan is where each message of a batch goes, decided from its customers and their
// tickets before anything is written.
type intakePlan struct {
	stored                  []bool // a new message row is written for ins[i]
	newTickets, newMessages int
	// A provider id this batch stores a message for is taken: a later message under it is
	// a retry, its result the earlier one's (sameAs), or, when it comes in parts, a later
	// part merged into the earlier message (parts), exactly as a later transaction would.
	sameAs map[int]int
	parts  map[int][]Inbound
}

// planIntake sends each message to the ticket the threading rule picks among its
// customer's tickets, counting those this batch opens; the first message with none opens
// one (a Ticket without an id yet). Messages whose result is set already are left alone.
func (s *Service) planIntake(ins []Inbound, res []*IntakeResult, owners map[identityKey]*Customer, threads map[*Customer][]*Ticket) intakePlan {
	p := intakePlan{stored: make([]bool, len(ins)), sameAs: map[int]int{}, parts: map[int][]Inbound{}}
	firstOf := map[messageKey]int{}
	for i, in := range ins {
		if res[i] != nil {
			continue
		}
		if in.ProviderMessageID != "" {
			k := messageKey{in.Channel, in.ProviderMessageID}
			if f, ok := firstOf[k]; ok {
				if in.Merge {
					p.parts[f] = append(p.parts[f], in)
				}
				res[i], p.sameAs[i] = &IntakeResult{Duplicate: true}, f
				continue
			}
			firstOf[k] = i
		}
		c := owners[identityKey{in.From, in.Address}]
		r := &IntakeResult{Customer: c, Ticket: s.pickThread(threads[c], in.Channel, in.TicketID)}
		if r.Ticket == nil {
			r.Ticket = &Ticket{Channel: in.Channel, Subject: subjectFrom(in.Subject, in.Body), Priority: PriorityNormal, Status: StatusNew}
			r.Created = true
			threads[c] = append(threads[c], r.Ticket)
			p.newTickets++
		}
		res[i], p.stored[i] = r, true
		p.newMessages++
	}
	return p
}

// writeIntake writes (or keeps in w, for its flush) the rows p decided: the new customers
// with their identities, the new tickets, and each stored message with its event, under
// the ids reserved for them.
func (s *Service) writeIntake(ctx context.Context, db bun.IDB, w *writes, ins []Inbound, res []*IntakeResult, p intakePlan, fresh []*Customer, ids reservedIDs, now time.Time) error {
	for i, c := range fresh {
		c.ID = ids.customers[i]
		if err := w.add(ctx, db, c); err != nil {
			return err
		}
		c.Identities[0].CustomerID = c.ID
		if err := w.add(ctx, db, c.Identities[0]); err != nil {
			return err
		}
	}
	ticketIDs, messageIDs := ids.tickets, ids.messages
	for i, in := range ins {
		if !p.stored[i] {
			continue
		}
		r, t := res[i], res[i].Ticket
		if r.Created {
			t.CustomerID = r.Customer.ID
			if err := s.openTicket(ctx, db, w, t, ticketIDs[0], r.Customer, in.Body, customerActor); err != nil {
				return err
			}
			ticketIDs = ticketIDs[1:]
		}
		body, atts := in.Body, in.Attachments
		for _, part := range p.parts[i] {
			body, atts = mergedParts(body, atts, part)
		}
		m := &Message{
			ID:             messageIDs[0],
			TicketID:       t.ID,
			Direction:      DirectionInbound,
			Channel:        in.Channel,
			Body:           body,
			DeliveryStatus: DeliveryReceived,
		}
		var ignored bool
		m.CreatedAt, ignored = receivedAt(in, now)
		if in.ProviderMessageID != "" {
			m.ProviderMessageID = &in.ProviderMessageID
		}
		if err := s.writeMessage(ctx, db, w, m, atts); err != nil {
			return err
		}
		messageIDs = messageIDs[1:]
		r.Message = m
		data := map[string]any{"message_id": m.ID, "channel": in.Channel}
		if ignored {
			data["provider_time_ignored"] = in.providerTime()
		}
		if err := w.add(ctx, db, s.event(customerActor, "ticket", t.ID, "message.received", data)); err != nil {
			return err
		}
	}
	return nil
}

// finish gives the retries within the batch the result of the message they repeat.
func (p intakePlan) finish(res []*IntakeResult) {
	for i, f := range p.sameAs {
		res[i].Ticket, res[i].Message = res[f].Ticket, res[f].Message
	}
}

// markStored gives a Duplicate result to each message whose provider id is stored already;
// a retried webhook changes nothing. The result holds the stored message's id and ticket
// id, and is completed after the commit. (A provider id repeated within ins is handled
// where the messages are stored.)
func (s *Service) markStored(ctx context.Context, tx bun.Tx, ins []Inbound, res []*IntakeResult) error {
	var keys [][]any
	for i, in := range ins {
		if res[i] == nil && in.ProviderMessageID != "" {
			keys = append(keys, []any{in.Channel, in.ProviderMessageID})
		}
	}
	if len(keys) == 0 {
		return nil
	}
	var stored []struct {
		ID                int64
		TicketID          int64
		Channel           Channel
		ProviderMessageID string
	}
	if err := tx.NewRaw(`WITH k (channel, id) AS (VALUES ?)
		SELECT m.id, m.ticket_id, m.channel, m.provider_message_id FROM k JOIN messages AS m ON m.channel = k.channel AND m.provider_message_id = k.id`,
		valuesList(keys)).Scan(ctx, &stored); err != nil {
		return fmt.Errorf("look up provider message ids: %w", err)
	}
	seen := make(map[messageKey][2]int64, len(stored))
	for _, m := range stored {
		seen[messageKey{m.Channel, m.ProviderMessageID}] = [2]int64{m.ID, m.TicketID}
	}
	for i, in := range ins {
		if res[i] != nil || in.ProviderMessageID == "" {
			continue
		}
		if ids, ok := seen[messageKey{in.Channel, in.ProviderMessageID}]; ok {
			id := in.ProviderMessageID
			res[i] = &IntakeResult{Duplicate: true, Message: &Message{ID: ids[0], TicketID: ids[1], Channel: in.Channel, ProviderMessageID: &id}}
		}
	}
	return nil
}

// valuesList renders rows, duplicates dropped, as the rows of a VALUES list. Joined to a
// table's unique key, a VALUES list gives the planner the exact number of lookups, where
// an IN list of many values can make it read the whole table instead.
func valuesList(rows [][]any) schema.QueryWithArgs {
	seen := map[string]bool{}
	var b strings.Builder
	var args []any
	for _, r := range rows {
		k := fmt.Sprintf("%q", r)
		if seen[k] {
			continue
		}
		seen[k] = true
		if len(args) > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + strings.TrimSuffix(strings.Repeat("?, ", len(r)), ", ") + ")")
		args = append(args, r...)
	}
	return bun.SafeQuery(b.String(), args...)
}
