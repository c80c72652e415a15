package complaints

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
)

// CanHandle reports whether the agent may move, assign, decide and extend complaints:
// complaint officers, supervisors and admins may; plain agents may only read them. It is
// the rule change enforces.
func CanHandle(a *tickets.Agent) bool { return a != nil && a.Role != tickets.RoleAgent }

// change locks a complaint, checks the actor may handle it, and runs fn in one
// transaction: complaint officers, supervisors and admins may.
func (s *Service) change(ctx context.Context, actor tickets.Actor, ref string, fn func(tx tickets.Tx, c *Complaint) error) (*Complaint, error) {
	id, ok := parseRef(ref)
	if !ok {
		return nil, tickets.NotFoundf("%q is not a complaint reference (expected e.g. CP-000042)", ref)
	}
	if a := actor.Agent; a != nil && !CanHandle(a) {
		return nil, tickets.Forbiddenf("complaints are handled by complaint officers, supervisors and admins")
	}
	var c *Complaint
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		res, err := tx.NewUpdate().Table("complaints").Set("updated_at = ?", s.svc.Now()).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("lock complaint: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return tickets.NotFoundf("complaint %s not found", ref)
		}
		c = new(Complaint)
		if err := tx.NewSelect().Model(c).Where("id = ?", id).Scan(ctx); err != nil {
			return fmt.Errorf("load complaint: %w", err)
		}
		if err := fn(tx, c); err != nil {
			return err
		}
		c.UpdatedAt = s.svc.Now()
		_, err = tx.NewUpdate().Model(c).WherePK().ExcludeColumn("id", "created_at").Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.svc.Schedule(ctx, c.timers())
	return s.Complaint(ctx, c.Ref())
}

// SetStatus moves a complaint along received → investigating → decided → closed.
func (s *Service) SetStatus(ctx context.Context, actor tickets.Actor, ref string, to tickets.ComplaintStatus, reason string) (*Complaint, error) {
	if _, ok := complaintNext[to]; !ok {
		return nil, tickets.Invalidf("unknown complaint status %q (received, investigating, decided, closed)", to)
	}
	if to == tickets.ComplaintDecided {
		return nil, tickets.Invalidf("record a decision to decide a complaint")
	}
	return s.change(ctx, actor, ref, func(tx tickets.Tx, c *Complaint) error {
		allowed := false
		for _, next := range complaintNext[c.Status] {
			allowed = allowed || next == to
		}
		if !allowed {
			return tickets.Conflictf("%s cannot go from %s to %s", c.Ref(), c.Status, to)
		}
		from := c.Status
		if !c.Open() && to == tickets.ComplaintInvestigating {
			// Reopening a decided complaint: complaints_one_open_idx allows one open complaint
			// a ticket, so one opened since must be decided first. (A concurrent opener makes
			// the update below fail on the index; the retry then finds its complaint here.)
			others, err := openOf(ctx, tx, []int64{c.TicketID})
			if err != nil {
				return err
			}
			if o := others[c.TicketID]; o != nil {
				return tickets.Conflictf("%s already has an open complaint, %s; decide it before reopening %s", tickets.FormatRef(c.TicketID), o.Ref(), c.Ref())
			}
		}
		c.Status = to
		if to == tickets.ComplaintClosed {
			now := s.svc.Now()
			c.ClosedAt = &now
		}
		return tx.Record(ctx, tx.Event(actor, "ticket", c.TicketID, "complaint.status_changed", map[string]any{"complaint": c.Ref(), "from": from, "to": to, "reason": strings.TrimSpace(reason)}))
	})
}

// Assign gives a complaint to an officer.
func (s *Service) Assign(ctx context.Context, actor tickets.Actor, ref string, officerID int64) (*Complaint, error) {
	return s.change(ctx, actor, ref, func(tx tickets.Tx, c *Complaint) error {
		o, err := tx.Agent(ctx, officerID)
		if err != nil {
			return err
		}
		if !o.Active || o.Role == tickets.RoleAgent {
			return tickets.Conflictf("%s cannot handle complaints", o.Email)
		}
		from := c.OfficerID
		c.OfficerID = &o.ID
		if err := tx.AddNotices(ctx, []*tickets.Notice{{AgentID: o.ID, Kind: "complaint.assigned", TicketID: &c.TicketID, ComplaintID: &c.ID,
			Body: fmt.Sprintf("Complaint %s is yours; decision due %s.", c.Ref(), c.DeadlineAt.In(s.svc.Calendar().Location()).Format("2006-01-02 15:04"))}}); err != nil {
			return err
		}
		return tx.Record(ctx, tx.Event(actor, "ticket", c.TicketID, "complaint.assigned", map[string]any{"complaint": c.Ref(), "from": from, "to": o.ID}))
	})
}

// Decide records the decision and its outcome (e.g. upheld, partly upheld, not upheld) and
// tells the customer on their channel.
func (s *Service) Decide(ctx context.Context, actor tickets.Actor, ref, decision, outcome string) (*Complaint, error) {
	decision, outcome = strings.TrimSpace(decision), strings.TrimSpace(outcome)
	if decision == "" || outcome == "" {
		return nil, tickets.Invalidf("a decision needs its text and an outcome")
	}
	var told int64
	defer func() { s.svc.Deliver(ctx, told) }()
	return s.change(ctx, actor, ref, func(tx tickets.Tx, c *Complaint) error {
		if !c.Open() {
			return tickets.Conflictf("%s is already %s", c.Ref(), c.Status)
		}
		now := s.svc.Now()
		c.Status, c.Decision, c.Outcome, c.DecidedAt, c.WarnAt = tickets.ComplaintDecided, decision, outcome, &now, nil
		t, err := tx.Ticket(ctx, c.TicketID)
		if err != nil {
			return err
		}
		if told, err = tx.Notify(ctx, t, tickets.TemplateComplaintDecided, tickets.TemplateData{Complaint: c.Ref(), Decision: decision}); err != nil {
			return err
		}
		return tx.Record(ctx, tx.Event(actor, "ticket", c.TicketID, "complaint.decided", map[string]any{
			"complaint": c.Ref(), "outcome": outcome, "on_time": !now.After(c.DeadlineAt)}))
	})
}

// Extend moves a complaint's deadline once, to a later time, with a reason; the customer
// is told.
func (s *Service) Extend(ctx context.Context, actor tickets.Actor, ref string, until time.Time, reason string) (*Complaint, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, tickets.Invalidf("an extension needs a reason")
	}
	var told int64
	defer func() { s.svc.Deliver(ctx, told) }()
	cal := s.svc.Calendar()
	return s.change(ctx, actor, ref, func(tx tickets.Tx, c *Complaint) error {
		if !c.Open() {
			return tickets.Conflictf("%s is %s; only an open complaint can be extended", c.Ref(), c.Status)
		}
		if c.ExtendedUntil != nil {
			return tickets.Conflictf("%s was already extended once, to %s", c.Ref(), c.ExtendedUntil.In(cal.Location()).Format("2006-01-02"))
		}
		until = until.UTC().Truncate(time.Microsecond)
		if !until.After(c.DueAt) {
			return tickets.Invalidf("the new deadline must be after the current one (%s)", c.DueAt.In(cal.Location()).Format(time.RFC3339))
		}
		warn := cal.WorkingDaysBefore(until, warnDays).UTC()
		c.ExtendedUntil, c.ExtensionReason, c.DeadlineAt = &until, reason, until
		c.WarnAt, c.WarnedAt, c.BreachedAt = &warn, nil, nil
		t, err := tx.Ticket(ctx, c.TicketID)
		if err != nil {
			return err
		}
		if told, err = tx.Notify(ctx, t, tickets.TemplateComplaintExtended, tickets.TemplateData{Complaint: c.Ref(), Due: until.In(cal.Location()).Format("2006-01-02"), Reason: reason}); err != nil {
			return err
		}
		return tx.Record(ctx, tx.Event(actor, "ticket", c.TicketID, "complaint.extended", map[string]any{
			"complaint": c.Ref(), "from": c.DueAt, "to": until, "reason": reason}))
	})
}
