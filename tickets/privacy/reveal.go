package privacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// Fields a reveal may ask for: a customer's identity of a kind, or one message's text.
const (
	FieldPhone   = "phone"
	FieldEmail   = "email"
	FieldWeChat  = "wechat"
	FieldMessage = "message" // a message's text as written, its numbers unmasked
)

var fields = []string{FieldPhone, FieldEmail, FieldWeChat, FieldMessage}

// Rules are the fields each role may reveal. Whose values is fixed by role: an agent those
// of the customers of tickets they may work; a supervisor or complaint officer those of
// their team's tickets' customers (and of tickets they may work, or complaints they
// handle); an admin anyone's.
type Rules map[tickets.Role][]string

// DefaultRules: agents reveal the phone number (to call back), supervisors and complaint
// officers every field, admins every field.
func DefaultRules() Rules {
	return Rules{
		tickets.RoleAgent:            {FieldPhone},
		tickets.RoleSupervisor:       slices.Clone(fields),
		tickets.RoleComplaintOfficer: slices.Clone(fields),
		tickets.RoleAdmin:            slices.Clone(fields),
	}
}

// ParseRules reads HOTLINE_REVEAL: "role=field,field;role=…", e.g.
// "agent=phone;supervisor=phone,email,message". A role left out keeps its default; a role
// given with nothing ("agent=") may reveal nothing. "*" is every field.
func ParseRules(s string) (Rules, error) {
	r := DefaultRules()
	for part := range strings.SplitSeq(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		role, list, ok := strings.Cut(part, "=")
		if !ok || !tickets.Role(strings.TrimSpace(role)).Valid() {
			return nil, fmt.Errorf("reveal rule %q: want role=field,field with a role of agent, supervisor, complaint_officer, admin", part)
		}
		var fs []string
		for f := range strings.SplitSeq(list, ",") {
			f = strings.TrimSpace(f)
			switch {
			case f == "":
			case f == "*":
				fs = slices.Clone(fields)
			case slices.Contains(fields, f):
				fs = append(fs, f)
			default:
				return nil, fmt.Errorf("reveal rule %q: unknown field %q (want %s)", part, f, strings.Join(fields, ", "))
			}
		}
		r[tickets.Role(strings.TrimSpace(role))] = fs
	}
	return r, nil
}

// May reports whether a role may reveal a field at all (the console shows the "show"
// button only then); whose values is checked by Reveal.
func (p *Service) May(role tickets.Role, field string) bool {
	return slices.Contains(p.rules[role], field)
}

// Request asks for one value of customer CustomerID: an identity (Field phone, email or
// wechat; IdentityID picks one when the customer has several of the kind) or a message's
// text (FieldMessage, MessageID), seen from ticket TicketID when given (a message's
// ticket is its own).
type Request struct {
	CustomerID int64
	Field      string
	IdentityID int64
	MessageID  int64
	TicketID   int64
}

// Revealed is the value shown, unmasked.
type Revealed struct {
	Field string `json:"field"`
	Value string `json:"value"`
}

// Reveal returns the value asked for when actor may see it, and records who saw which
// field of which customer ("pii.revealed" on the customer, with the ticket's reference) in
// the transaction that reads it: no value leaves without its record. A refusal
// (ErrForbidden) records nothing.
func (p *Service) Reveal(ctx context.Context, actor tickets.Actor, req Request) (*Revealed, error) {
	a := actor.Agent
	if a == nil {
		return nil, tickets.Forbiddenf("only staff reveal a customer's details")
	}
	if !slices.Contains(fields, req.Field) {
		return nil, tickets.Invalidf("field must be one of %s", strings.Join(fields, ", "))
	}
	if !p.May(a.Role, req.Field) {
		return nil, tickets.Forbiddenf("a %s may not reveal a customer's %s", a.Role, req.Field)
	}
	if req.Field == FieldMessage && req.MessageID == 0 {
		return nil, tickets.Invalidf("say which message to reveal")
	}
	var out *Revealed
	err := p.svc.InTx(ctx, func(tx tickets.Tx) error {
		out = nil
		var t *tickets.Ticket
		value := ""
		if req.Field == FieldMessage {
			m := new(tickets.Message)
			err := tx.NewSelect().Model(m).Where("id = ?", req.MessageID).Scan(ctx)
			if errors.Is(err, sql.ErrNoRows) {
				return tickets.NotFoundf("message %d not found", req.MessageID)
			}
			if err != nil {
				return fmt.Errorf("load message: %w", err)
			}
			if req.TicketID != 0 && req.TicketID != m.TicketID {
				return tickets.NotFoundf("message %d is not on that ticket", req.MessageID)
			}
			req.TicketID = m.TicketID
			value = m.Body
		}
		if req.TicketID != 0 {
			var err error
			if t, err = tx.Ticket(ctx, req.TicketID); err != nil {
				return err
			}
			if t.CustomerID != req.CustomerID {
				return tickets.NotFoundf("ticket %s is not that customer's", t.Ref())
			}
		}
		if req.Field != FieldMessage {
			var ids []*tickets.Identity
			q := tx.NewSelect().Model(&ids).Where("customer_id = ?", req.CustomerID).Where("kind = ?", req.Field).OrderExpr("id")
			if req.IdentityID != 0 {
				q = q.Where("id = ?", req.IdentityID)
			}
			if err := q.Limit(1).Scan(ctx); err != nil {
				return fmt.Errorf("load identity: %w", err)
			}
			if len(ids) == 0 {
				return tickets.NotFoundf("customer %d has no %s to reveal", req.CustomerID, req.Field)
			}
			value, req.IdentityID = ids[0].Value, ids[0].ID
		}
		if err := p.allowed(ctx, tx, tx.MayChange, actor, req.CustomerID, t); err != nil {
			return err
		}
		data := map[string]any{"field": req.Field}
		if t != nil {
			data["ticket"] = t.Ref()
		}
		if req.MessageID != 0 {
			data["message_id"] = req.MessageID
		}
		if req.Field != FieldMessage {
			data["identity_id"] = req.IdentityID
		}
		if err := tx.Record(ctx, tx.Event(actor, "customer", req.CustomerID, "pii.revealed", data)); err != nil {
			return err
		}
		out = &Revealed{Field: req.Field, Value: value}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// allowed enforces whose values an actor may reveal: admins anyone's; others through
// ticket t (when the reveal is made from it) or, without one, through any of the
// customer's tickets: those they may work (mayChange: tickets.Tx.MayChange), and for supervisors
// and complaint officers also those of their team and complaints they handle.
func (p *Service) allowed(ctx context.Context, tx bun.IDB, mayChange func(context.Context, tickets.Actor, *tickets.Ticket) error,
	actor tickets.Actor, customerID int64, t *tickets.Ticket) error {
	a := actor.Agent
	if a.Role == tickets.RoleAdmin {
		return nil
	}
	var ts []*tickets.Ticket
	if t != nil {
		ts = []*tickets.Ticket{t}
	} else if err := tx.NewSelect().Model(&ts).Where("customer_id = ?", customerID).OrderExpr("id DESC").Limit(500).Scan(ctx); err != nil {
		return fmt.Errorf("load customer's tickets: %w", err)
	}
	manager := a.Role == tickets.RoleSupervisor || a.Role == tickets.RoleComplaintOfficer
	for _, t := range ts {
		if manager && a.InTeam(t.TeamID) {
			return nil
		}
		err := mayChange(ctx, actor, t)
		if err == nil {
			return nil
		}
		if !errors.Is(err, tickets.ErrForbidden) {
			return err
		}
	}
	if a.Role == tickets.RoleComplaintOfficer {
		q := tx.NewSelect().TableExpr("complaints AS c").Join("JOIN tickets AS t ON t.id = c.ticket_id").
			Where("c.officer_id = ?", a.ID).Where("t.customer_id = ?", customerID)
		if t != nil {
			q = q.Where("t.id = ?", t.ID)
		}
		n, err := q.Count(ctx)
		if err != nil {
			return fmt.Errorf("officer's complaints: %w", err)
		}
		if n > 0 {
			return nil
		}
	}
	return tickets.Forbiddenf("only those who may work this customer's tickets may reveal their details")
}

// Revealable is the set of fields actor may reveal of customer customerID, seen from
// ticket ticketID (0: the customer page): what the console offers a "show" button for.
// It reads only; Reveal checks again and records.
func (p *Service) Revealable(ctx context.Context, actor tickets.Actor, customerID, ticketID int64) (map[string]bool, error) {
	out := map[string]bool{}
	if actor.Agent == nil || len(p.rules[actor.Agent.Role]) == 0 {
		return out, nil
	}
	// Read outside a transaction: a page view must not take SQLite's write lock.
	var t *tickets.Ticket
	var err error
	if ticketID != 0 {
		t = new(tickets.Ticket)
		if err = p.svc.DB().NewSelect().Model(t).Where("id = ?", ticketID).Scan(ctx); errors.Is(err, sql.ErrNoRows) {
			return nil, tickets.NotFoundf("ticket %d not found", ticketID)
		} else if err != nil {
			return nil, fmt.Errorf("load ticket: %w", err)
		}
	}
	err = p.allowed(ctx, p.svc.DB(), p.svc.MayChange, actor, customerID, t)
	if errors.Is(err, tickets.ErrForbidden) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, f := range p.rules[actor.Agent.Role] {
		out[f] = true
	}
	return out, nil
}
