package complaints

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// The kinds of a complaint's timers (see tickets.Timer): its warning and its deadline.
const (
	timerDeadline = "complaint"
	timerWarning  = "complaint-warn"
)

// IsTimer reports whether a timer of this kind is a complaint's, for TimerDue rather than
// tickets.Service.TimerDue.
func IsTimer(kind string) bool { return strings.HasPrefix(kind, timerDeadline) }

// SweepResult counts what a sweep of the complaints' deadlines handled.
type SweepResult struct {
	Warnings int // complaints whose officer was warned of the deadline
	Breaches int // complaints escalated past their deadline
}

// Sweep handles every complaint warning and breach that has come due, in batches, in two
// stages run by the core's stage runner (tickets.Service.RunSweep), as the tickets'
// deadlines are: warnings before breaches, each guarded in the database so that
// concurrent sweeps act once, a stage that fails logged while the other still runs. The
// deadline timers and the reconciler run it after the tickets' sweep.
func (s *Service) Sweep(ctx context.Context) (SweepResult, error) {
	n, err := s.svc.RunSweep(ctx,
		tickets.SweepStage{Name: "complaint warnings", Run: s.warn},
		tickets.SweepStage{Name: "complaint breaches", Run: s.breach})
	return SweepResult{Warnings: n[0], Breaches: n[1]}, err
}

// warn tells officers two working days before a complaint's deadline.
func (s *Service) warn(ctx context.Context) (int, error) {
	now := s.svc.Now()
	loc := s.svc.Calendar().Location()
	var handled int
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		var due []*Complaint
		q := tx.NewSelect().Model(&due).
			Where("warn_at IS NOT NULL AND warn_at <= ? AND status IN ('received', 'investigating')", now).
			OrderExpr("warn_at").Limit(tickets.SweepBatch)
		if err := s.svc.SkipLocked(q).Scan(ctx); err != nil {
			return fmt.Errorf("find complaint warnings: %w", err)
		}
		won, err := guard(ctx, tx, due, "warned_at", "warn_at IS NOT NULL", now)
		if err != nil {
			return err
		}
		var notes []*tickets.Notice
		var evs []*tickets.Event
		for _, c := range won {
			evs = append(evs, tx.Event(system, "ticket", c.TicketID, "complaint.warning", map[string]any{"complaint": c.Ref(), "due_at": c.DeadlineAt}))
			to := []int64{}
			if c.OfficerID != nil {
				to = append(to, *c.OfficerID)
			} else if to, err = tx.AgentsWithRole(ctx, tickets.RoleAdmin, nil); err != nil {
				return err
			}
			for _, a := range to {
				notes = append(notes, &tickets.Notice{AgentID: a, Kind: "complaint.warning", TicketID: &c.TicketID, ComplaintID: &c.ID,
					Body: fmt.Sprintf("Complaint %s must be decided by %s: %d working days left.", c.Ref(), c.DeadlineAt.In(loc).Format("2006-01-02 15:04"), warnDays)})
			}
		}
		handled = len(won)
		if err := tx.Record(ctx, evs...); err != nil {
			return err
		}
		return tx.AddNotices(ctx, notes)
	})
	return handled, err
}

// breach escalates complaints past their deadline to the supervisors and admins.
func (s *Service) breach(ctx context.Context) (int, error) {
	now := s.svc.Now()
	loc := s.svc.Calendar().Location()
	var handled int
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		var due []*Complaint
		q := tx.NewSelect().Model(&due).
			Where("breached_at IS NULL AND decided_at IS NULL AND deadline_at <= ? AND status IN ('received', 'investigating')", now).
			OrderExpr("deadline_at").Limit(tickets.SweepBatch)
		if err := s.svc.SkipLocked(q).Scan(ctx); err != nil {
			return fmt.Errorf("find complaint breaches: %w", err)
		}
		won, err := guard(ctx, tx, due, "breached_at", "breached_at IS NULL", now)
		if err != nil {
			return err
		}
		heads, err := tx.AgentsWithRole(ctx, tickets.RoleAdmin, nil)
		if err != nil {
			return err
		}
		var notes []*tickets.Notice
		var evs []*tickets.Event
		for _, c := range won {
			evs = append(evs, tx.Event(system, "ticket", c.TicketID, "complaint.breached", map[string]any{"complaint": c.Ref(), "due_at": c.DeadlineAt}))
			to := append([]int64{}, heads...)
			if c.OfficerID != nil {
				o, err := tx.Agent(ctx, *c.OfficerID)
				if err != nil {
					return err
				}
				sup, err := tx.AgentsWithRole(ctx, tickets.RoleSupervisor, o.TeamID)
				if err != nil {
					return err
				}
				to = append(to, sup...)
				if o.TeamID == nil {
					to = append(to, o.ID)
				}
			}
			for _, a := range dedupe(to) {
				notes = append(notes, &tickets.Notice{AgentID: a, Kind: "complaint.breached", TicketID: &c.TicketID, ComplaintID: &c.ID,
					Body: fmt.Sprintf("Complaint %s about %s is overdue: its decision was due %s.", c.Ref(), tickets.FormatRef(c.TicketID), c.DeadlineAt.In(loc).Format("2006-01-02 15:04"))})
			}
		}
		handled = len(won)
		if err := tx.Record(ctx, evs...); err != nil {
			return err
		}
		return tx.AddNotices(ctx, notes)
	})
	return handled, err
}

// guard stamps column with now on the complaints where the guard condition still holds
// and returns those: the ones this sweep, and no other, handles.
func guard(ctx context.Context, tx bun.IDB, cs []*Complaint, column, condition string, now time.Time) ([]*Complaint, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	q := tx.NewUpdate().Table("complaints").Set("? = ?", bun.Ident(column), now).Set("updated_at = ?", now)
	if column == "warned_at" {
		q = q.Set("warn_at = NULL")
	}
	var won []int64
	if err := q.Where("id IN (?)", bun.In(ids)).Where(condition).Returning("id").Scan(ctx, &won); err != nil {
		return nil, fmt.Errorf("stamp complaints %s: %w", column, err)
	}
	keep := map[int64]bool{}
	for _, id := range won {
		keep[id] = true
	}
	var out []*Complaint
	for _, c := range cs {
		if keep[c.ID] {
			out = append(out, c)
		}
	}
	return out, nil
}

func dedupe(ids []int64) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// TimerDue reports whether a complaint's timer (see IsTimer) still applies: the handler
// re-reads the database and acts only then.
func (s *Service) TimerDue(ctx context.Context, tm tickets.Timer) (bool, error) {
	c := new(Complaint)
	err := s.svc.DB().NewSelect().Model(c).Where("id = ?", tm.ID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load complaint: %w", err)
	}
	if tm.Kind == timerWarning {
		return c.WarnAt != nil && c.Open(), nil
	}
	return c.BreachedAt == nil && c.Open() && c.DeadlineAt.Unix() == tm.Due.Unix(), nil
}
