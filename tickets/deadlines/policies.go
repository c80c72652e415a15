package deadlines

import (
	"context"
	"fmt"
	"strings"

	"github.com/hotlinedesk/hotline/tickets"
)

// Editing SLA policies, and re-timing the open tickets that an edit of the policies (or of
// the calendar) leaves stale.

// Policies lists the stored SLA policies in order.
func (s *Service) Policies(ctx context.Context) ([]*tickets.Policy, error) {
	var ps []*tickets.Policy
	if err := s.svc.DB().NewSelect().Model(&ps).OrderExpr("position, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list SLA policies: %w", err)
	}
	return ps, nil
}

// SavePolicy creates (ID 0) or replaces an SLA policy; open tickets are then given the
// deadlines of the policy that now matches them, in a background job. Admins only.
func (s *Service) SavePolicy(ctx context.Context, actor tickets.Actor, p *tickets.Policy) (*tickets.Policy, error) {
	if err := tickets.RequireAdmin(actor); err != nil {
		return nil, err
	}
	p.Name = strings.TrimSpace(p.Name)
	switch {
	case p.Name == "":
		return nil, tickets.Invalidf("an SLA policy needs a name")
	case p.Channel != "" && !p.Channel.Valid():
		return nil, tickets.Invalidf("unknown channel %q", p.Channel)
	case p.Priority != "" && !p.Priority.Valid():
		return nil, tickets.Invalidf("unknown priority %q (low, normal, high, urgent)", p.Priority)
	case p.FirstResponseSeconds <= 0 || p.ResolutionSeconds <= 0:
		return nil, tickets.Invalidf("first response and resolution times must be positive")
	case p.FirstResponseBreach == "":
		p.FirstResponseBreach = tickets.BreachEscalate
	}
	if p.ResolutionBreach == "" {
		p.ResolutionBreach = tickets.BreachComplaint
	}
	if !p.FirstResponseBreach.Valid() || !p.ResolutionBreach.Valid() {
		return nil, tickets.Invalidf("a breach action is warn, escalate or complaint")
	}
	now := s.svc.Now()
	p.UpdatedAt = now
	create := p.ID == 0
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		kind := "sla_policy.updated"
		if create {
			p.ID = 0 // a retried transaction inserts again
			kind, p.CreatedAt = "sla_policy.created", now
			if _, err := tx.NewInsert().Model(p).Exec(ctx); err != nil {
				return fmt.Errorf("create SLA policy: %w", err)
			}
		} else {
			res, err := tx.NewUpdate().Model(p).WherePK().ExcludeColumn("id", "created_at").Exec(ctx)
			if err != nil {
				return fmt.Errorf("save SLA policy: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return tickets.NotFoundf("SLA policy %d not found", p.ID)
			}
		}
		if err := tx.PoliciesEdited(ctx); err != nil {
			return err
		}
		return tx.Record(ctx, tx.Event(actor, "sla_policy", p.ID, kind, map[string]any{"name": p.Name,
			"first_response_seconds": p.FirstResponseSeconds, "resolution_seconds": p.ResolutionSeconds, "working_time": p.WorkingTime}))
	})
	if err != nil {
		return nil, err
	}
	s.policiesChanged(ctx)
	return p, nil
}

// DeletePolicy removes an SLA policy. Admins only.
func (s *Service) DeletePolicy(ctx context.Context, actor tickets.Actor, id int64) error {
	if err := tickets.RequireAdmin(actor); err != nil {
		return err
	}
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		res, err := tx.NewDelete().Model((*tickets.Policy)(nil)).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete SLA policy: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return tickets.NotFoundf("SLA policy %d not found", id)
		}
		if err := tx.PoliciesEdited(ctx); err != nil {
			return err
		}
		return tx.Record(ctx, tx.Event(actor, "sla_policy", id, "sla_policy.deleted", nil))
	})
	if err == nil {
		s.policiesChanged(ctx)
	}
	return err
}

// reapplyBatch is how many tickets one re-apply transaction re-times.
const reapplyBatch = 500

// policiesChanged re-times open tickets after a policy or calendar edit (which marked them
// stale in its transaction): in a job when a scheduler is plugged in, else at once.
func (s *Service) policiesChanged(ctx context.Context) {
	if s.svc.PoliciesChanged(ctx) {
		return
	}
	if _, err := s.ReapplyDeadlines(ctx); err != nil {
		s.svc.Logger().Warn("could not re-time open tickets after a policy change; the reconciler will", "err", err)
	}
}

// Reapplied is what a re-apply did.
type Reapplied struct {
	Retimed int // open tickets whose deadlines or policy changed
	Busy    int // stale open tickets other transactions held; a later run (the reconciler's) takes them
}

// ReapplyDeadlines matches every stale open ticket (timed under older policies) against the
// current policies again, in batches, until none is left that it can take; it moves the
// deadlines that changed and stamps each ticket with the generation it was timed under.
// Tickets another transaction holds are skipped, not passed: they stay stale, and the next
// run takes them. With nothing stale it costs one index probe.
func (s *Service) ReapplyDeadlines(ctx context.Context) (Reapplied, error) {
	var res Reapplied
	stale, err := s.staleTickets(ctx)
	if err != nil || stale == 0 {
		return res, err
	}
	// The edit may have been to the calendar, in another process.
	if err := s.svc.LoadCalendar(ctx); err != nil {
		return res, err
	}
	for {
		var timers []tickets.Timer
		taken, retimed := 0, 0
		err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
			var changed []*tickets.Ticket
			var err error
			if taken, changed, timers, err = tx.RetimeStale(ctx, reapplyBatch); err != nil {
				return err
			}
			retimed = len(changed)
			evs := make([]*tickets.Event, 0, len(changed))
			for _, t := range changed {
				evs = append(evs, tx.Event(system, "ticket", t.ID, "sla.policy_applied", map[string]any{
					"policy_id": t.PolicyID, "first_response_due_at": t.FirstResponseDueAt, "resolution_due_at": t.ResolutionDueAt}))
			}
			return tx.Record(ctx, evs...)
		})
		if err != nil {
			return res, err
		}
		s.svc.Schedule(ctx, timers)
		res.Retimed += retimed
		if taken == 0 {
			break
		}
	}
	res.Busy, err = s.staleTickets(ctx)
	return res, err
}

// staleTickets counts the open tickets timed under older policies than the current ones.
func (s *Service) staleTickets(ctx context.Context) (int, error) {
	n, err := s.svc.DB().NewSelect().Table("tickets").
		Where("sla_generation < (SELECT generation FROM sla_state WHERE id = 1) AND status IN ('new', 'open', 'pending')").
		Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count stale open tickets: %w", err)
	}
	return n, nil
}
