package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// The events: which audit events become which webhook events, what their payload carries,
// and the collect that turns the audit trail's news into deliveries, exactly once.

// wireNames maps the audit trail's kinds (tickets' Event.Kind, about a ticket) to the
// events receivers see.
var wireNames = map[string]string{
	"ticket.created":     "ticket.created",
	"ticket.assigned":    "ticket.assigned",
	"status.changed":     "ticket.status_changed",
	"ticket.reopened":    "ticket.status_changed",
	"message.received":   "message.received",
	"message.sent":       "message.sent",
	"sla.warning":        "deadline.warned",
	"sla.breached":       "deadline.breached",
	"complaint.opened":   "complaint.opened",
	"complaint.decided":  "complaint.decided",
	"complaint.extended": "complaint.extended",
	"survey.answered":    "survey.answered",
}

// EventPing is the test delivery an admin sends (Ping); a subscription need not name it.
const EventPing = "ping"

// events are the wire names, in the order the documentation lists them.
var events = []string{
	"ticket.created", "ticket.assigned", "ticket.status_changed", "message.received", "message.sent",
	"deadline.warned", "deadline.breached", "complaint.opened", "complaint.decided", "complaint.extended",
	"survey.answered",
}

// EventNames lists the events a subscription may name, as receivers see them: the
// product's events, then "ping", the test delivery an admin sends.
func EventNames() []string { return append(slices.Clone(events), EventPing) }

// trailKinds are the audit kinds the deliveries read.
var trailKinds = func() []string {
	var ks []string
	for k := range wireNames {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}()

// trail is what the deliveries read of the audit trail (tickets.Service.ReadTrail); its
// start is fixed by migration 20261204100100.
var trail = tickets.TrailReader{Key: "webhooks.after_event", Entity: "ticket", Kinds: trailKinds}

// dataKeys are the details of each event's audit data a payload carries: ids, references,
// states and times. Free text (reasons, survey comments, summaries) stays out, and so do
// message bodies, phone numbers and emails: receivers read those through the API with a key.
var dataKeys = map[string][]string{
	"ticket.created":        {"priority", "first_response_due_at", "resolution_due_at"},
	"ticket.assigned":       {"from_team", "to_team", "from_assignee", "to_assignee"},
	"ticket.status_changed": {"from", "to"},
	"message.received":      {"message_id"},
	"message.sent":          {"message_id"},
	"deadline.warned":       {"deadline", "due_at", "percent"},
	"deadline.breached":     {"deadline", "due_at", "action"},
	"complaint.opened":      {"complaint", "source", "due_at", "officer_id"},
	"complaint.decided":     {"complaint", "outcome", "on_time"},
	"complaint.extended":    {"complaint", "from", "to"},
	"survey.answered":       {"survey_id", "score", "message_id"},
}

// Payload is the JSON body of every delivery.
type Payload struct {
	ID        string         `json:"id"`         // the event id: "evt_<audit event id>"
	Type      string         `json:"type"`       // the wire name
	CreatedAt time.Time      `json:"created_at"` // when it happened (RFC 3339, UTC)
	Data      map[string]any `json:"data"`
}

// TicketData is the ticket an event is about, as it stood when the event was collected
// (seconds after it happened): payload data "ticket".
type TicketData struct {
	ID         int64  `json:"id"`
	Ref        string `json:"ref"`
	Channel    string `json:"channel"`
	Status     string `json:"status"`
	Priority   string `json:"priority"`
	Category   string `json:"category"`
	TeamID     *int64 `json:"team_id"`
	AssigneeID *int64 `json:"assignee_id"`
	CustomerID int64  `json:"customer_id"`
}

// EventID is the id receivers de-duplicate on for audit event id.
func EventID(auditID int64) string { return fmt.Sprintf("evt_%d", auditID) }

// payload builds the body of the delivery of ev (wire name wire) about t.
func payload(ev *tickets.Event, wire string, t *tickets.Ticket) (string, error) {
	var raw map[string]any
	if err := json.Unmarshal([]byte(ev.Data), &raw); err != nil {
		raw = nil // details that are not JSON are left out; the event is still told
	}
	data := map[string]any{}
	for _, k := range dataKeys[wire] {
		if v, ok := raw[k]; ok {
			data[k] = v
		}
	}
	switch wire {
	case "message.received":
		data["direction"] = string(tickets.DirectionInbound)
	case "message.sent":
		data["direction"] = string(tickets.DirectionOutbound)
	}
	if t != nil {
		data["ticket"] = TicketData{ID: t.ID, Ref: t.Ref(), Channel: string(t.Channel), Status: string(t.Status),
			Priority: string(t.Priority), Category: t.Category, TeamID: t.TeamID, AssigneeID: t.AssigneeID, CustomerID: t.CustomerID}
	}
	return encode(Payload{ID: EventID(ev.ID), Type: wire, CreatedAt: ev.CreatedAt.UTC(), Data: data})
}

func encode(p Payload) (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encode webhook payload: %w", err)
	}
	return string(b), nil
}

// Collect turns the audit trail's news since the last call into deliveries, exactly once:
// one row per event and subscription that names it (and existed before it happened). The
// cursor moves in the same transaction as the rows are written (tickets.Service.ReadTrail),
// and the rows are unique on (subscription, event, generation), so a collect run twice or
// at once on two workers delivers each event once. It returns how many rows it wrote.
func (s *Service) Collect(ctx context.Context) (int, error) {
	return s.svc.ReadTrail(ctx, trail, s.collect)
}

// collect writes the deliveries evs call for, in the cursor's transaction.
func (s *Service) collect(ctx context.Context, tx tickets.Tx, evs []*tickets.Event) (int, error) {
	var subs []*subscriptionRow
	if err := tx.NewSelect().Model(&subs).Where("deleted_at IS NULL").OrderExpr("id").Scan(ctx); err != nil {
		return 0, fmt.Errorf("list webhook subscriptions: %w", err)
	}
	if len(subs) == 0 {
		return 0, nil
	}
	// The tickets the events are about, in one read (a batch is up to 2,000 events).
	var ids []int64
	for _, ev := range evs {
		ids = append(ids, ev.EntityID)
	}
	slices.Sort(ids)
	var list []*tickets.Ticket
	if err := tx.NewSelect().Model(&list).Where("id IN (?)", bun.In(slices.Compact(ids))).Scan(ctx); err != nil {
		return 0, fmt.Errorf("load the tickets of webhook events: %w", err)
	}
	tks := make(map[int64]*tickets.Ticket, len(list))
	for _, t := range list {
		tks[t.ID] = t
	}
	now := s.svc.Now()
	var rows []*deliveryRow
	for _, ev := range evs {
		wire := wireNames[ev.Kind]
		var to []*subscriptionRow
		for _, sub := range subs {
			if ev.ID > sub.AfterEventID && slices.Contains(strings.Fields(sub.Events), wire) {
				to = append(to, sub)
			}
		}
		if len(to) == 0 {
			continue
		}
		t := tks[ev.EntityID] // nil: erased since; the event is told without it
		body, err := payload(ev, wire, t)
		if err != nil {
			return 0, err
		}
		ticketID := ev.EntityID
		for _, sub := range to {
			rows = append(rows, &deliveryRow{SubscriptionID: sub.ID, EventID: ev.ID, Generation: 1, Event: wire,
				TicketID: &ticketID, State: DeliveryPending, NextAttemptAt: &now, Body: body, CreatedAt: now})
		}
	}
	written := 0
	for start := 0; start < len(rows); start += 500 { // many rows a statement
		batch := rows[start:min(start+500, len(rows))]
		res, err := tx.NewInsert().Model(&batch).On("CONFLICT DO NOTHING").Exec(ctx)
		if err != nil {
			return written, fmt.Errorf("store webhook deliveries: %w", err)
		}
		n, _ := res.RowsAffected()
		written += int(n)
	}
	return written, nil
}
