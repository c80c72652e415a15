package tickets

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"
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
// assigned to the agent who logged it.
func (s *Service) CreateTicket(ctx context.Context, actor Actor, in NewTicket) (*Ticket, error) {
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

	t := &Ticket{Channel: in.Channel, Subject: subjectFrom(in.Subject, in.Body), Category: strings.TrimSpace(in.Category), Priority: in.Priority, Status: StatusOpen}
	t.AssigneeID, t.TeamID = actor.agentID(), actor.Agent.TeamID // a key assigns no one
	err = s.inTx(ctx, func(tx bun.Tx) error {
		t.ID = 0
		c, err := s.customerFor(ctx, tx, kind, value, in.Name, "")
		if err != nil {
			return err
		}
		if email != "" {
			if err := s.addIdentity(ctx, tx, c, IdentityEmail, email); err != nil {
				return err
			}
		}
		t.CustomerID = c.ID
		if err := s.createTicket(ctx, tx, t, c, in.Body, actor); err != nil {
			return err
		}
		if in.Body == "" {
			return nil
		}
		m := &Message{TicketID: t.ID, Direction: DirectionInbound, Channel: in.Channel, Body: in.Body, DeliveryStatus: DeliveryReceived, AuthorID: actor.agentID(), CreatedAt: t.CreatedAt}
		return s.insertMessage(ctx, tx, m, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("log %s contact: %w", in.Channel, err)
	}
	s.schedule(ctx, t.timers())
	return t, nil
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
		if autoAssigned, err = s.autoAssign(ctx, tx, t, w.tickets); err != nil {
			return err
		}
	}
	t.ID = id
	if err := w.add(ctx, tx, t); err != nil {
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
	return w.add(ctx, tx, evs)
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
