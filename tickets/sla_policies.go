package tickets

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Editing SLA policies, and re-timing the open tickets that an edit of the policies (or of
// the calendar) leaves stale.

// Policies lists the stored SLA policies in order.
func (s *Service) Policies(ctx context.Context) ([]*Policy, error) {
	var ps []*Policy
	if err := s.db.NewSelect().Model(&ps).OrderExpr("position, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list SLA policies: %w", err)
	}
	return ps, nil
}

// SavePolicy creates (ID 0) or replaces an SLA policy; open tickets are then given the
// deadlines of the policy that now matches them, in a background job. Admins only.
func (s *Service) SavePolicy(ctx context.Context, actor Actor, p *Policy) (*Policy, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	p.Name = strings.TrimSpace(p.Name)
	switch {
	case p.Name == "":
		return nil, invalidf("an SLA policy needs a name")
	case p.Channel != "" && !p.Channel.Valid():
		return nil, invalidf("unknown channel %q", p.Channel)
	case p.Priority != "" && !p.Priority.Valid():
		return nil, invalidf("unknown priority %q (low, normal, high, urgent)", p.Priority)
	case p.FirstResponseSeconds <= 0 || p.ResolutionSeconds <= 0:
		return nil, invalidf("first response and resolution times must be positive")
	case p.FirstResponseBreach == "":
		p.FirstResponseBreach = BreachEscalate
	}
	if p.ResolutionBreach == "" {
		p.ResolutionBreach = BreachComplaint
	}
	if !p.FirstResponseBreach.Valid() || !p.ResolutionBreach.Valid() {
		return nil, invalidf("a breach action is warn, escalate or complaint")
	}
	now := s.now()
	p.UpdatedAt = now
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		kind := "sla_policy.updated"
		if p.ID == 0 {
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
				return notFoundf("SLA policy %d not found", p.ID)
			}
		}
		if err := bumpSLAGeneration(ctx, tx); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, "sla_policy", p.ID, kind, map[string]any{"name": p.Name,
			"first_response_seconds": p.FirstResponseSeconds, "resolution_seconds": p.ResolutionSeconds, "working_time": p.WorkingTime})
	})
	if err != nil {
		return nil, err
	}
	s.policiesChanged(ctx)
	return p, nil
}

// DeletePolicy removes an SLA policy. Admins only.
func (s *Service) DeletePolicy(ctx context.Context, actor Actor, id int64) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model((*Policy)(nil)).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete SLA policy: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFoundf("SLA policy %d not found", id)
		}
		if err := bumpSLAGeneration(ctx, tx); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, "sla_policy", id, "sla_policy.deleted", nil)
	})
	if err == nil {
		s.policiesChanged(ctx)
	}
	return err
}

// ReapplyTimer is the timer kind that asks a worker to run ReapplyDeadlines.
const ReapplyTimer = "reapply"

// reapplyBatch is how many tickets one re-apply transaction re-times.
const reapplyBatch = 500

// policiesChanged re-times open tickets after a policy edit (which bumped the generation in
// its transaction): in a job when a scheduler is plugged in, else at once. The job's id
// names the generation, so each edit gets its own job, even two in one second while the
// first one's job runs; a job lost with Redis is the reconciler's, which re-applies while
// any open ticket is stale.
func (s *Service) policiesChanged(ctx context.Context) {
	s.forgetRules()
	if s.scheduler == nil {
		if _, err := s.ReapplyDeadlines(ctx); err != nil {
			s.log.Warn("could not re-time open tickets after a policy change; the reconciler will", "err", err)
		}
		return
	}
	gen, err := slaGeneration(ctx, s.db)
	if err != nil {
		s.log.Warn("could not schedule the re-timing of open tickets; the reconciler will", "err", err)
		return
	}
	now := s.now()
	s.schedule(ctx, []Timer{{Kind: ReapplyTimer, ID: gen, At: now, Due: now}})
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
	s.forgetRules()
	// The edit may have been to the calendar, in another process.
	if err := s.LoadCalendar(ctx); err != nil {
		return res, err
	}
	for {
		var timers []Timer
		taken, retimed := 0, 0
		err := s.inTx(ctx, func(tx bun.Tx) error {
			timers, taken, retimed = nil, 0, 0
			gen, err := slaGeneration(ctx, tx)
			if err != nil {
				return err
			}
			var batch []*Ticket
			q := tx.NewSelect().Model(&batch).Where("sla_generation < ? AND status IN ('new', 'open', 'pending')", gen).OrderExpr("id").Limit(reapplyBatch)
			if err := s.SkipLocked(q).Scan(ctx); err != nil {
				return fmt.Errorf("load stale open tickets: %w", err)
			}
			if taken = len(batch); taken == 0 {
				return nil
			}
			// Read afresh, not from the cache: the edit may have come from another process.
			r, err := readRules(ctx, tx)
			if err != nil {
				return err
			}
			var evs []*Event
			var current []int64
			for _, t := range batch {
				before := *t
				if err := s.applyRules(ctx, tx, t, r); err != nil {
					return err
				}
				if sameTime(before.FirstResponseDueAt, t.FirstResponseDueAt) && sameTime(before.ResolutionDueAt, t.ResolutionDueAt) && sameID(before.PolicyID, t.PolicyID) {
					current = append(current, t.ID)
					continue
				}
				if _, err := tx.NewUpdate().Model(t).WherePK().ExcludeColumn("id", "created_at").Exec(ctx); err != nil {
					return fmt.Errorf("re-time ticket: %w", err)
				}
				evs = append(evs, s.event(systemActor, "ticket", t.ID, "sla.policy_applied", map[string]any{
					"policy_id": t.PolicyID, "first_response_due_at": t.FirstResponseDueAt, "resolution_due_at": t.ResolutionDueAt}))
				timers = append(timers, t.timers()...)
				retimed++
			}
			if len(current) > 0 { // unchanged by the edit: only the generation moves
				if _, err := tx.NewUpdate().Table("tickets").Set("sla_generation = ?", r.gen).Where("id IN (?)", bun.In(current)).Exec(ctx); err != nil {
					return fmt.Errorf("stamp re-applied tickets: %w", err)
				}
			}
			return s.insertEvents(ctx, tx, evs)
		})
		if err != nil {
			return res, err
		}
		s.schedule(ctx, timers)
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
	n, err := s.db.NewSelect().Table("tickets").
		Where("sla_generation < (SELECT generation FROM sla_state WHERE id = 1) AND status IN ('new', 'open', 'pending')").
		Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count stale open tickets: %w", err)
	}
	return n, nil
}

func sameTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}
