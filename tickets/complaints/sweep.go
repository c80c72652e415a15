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

// dueStage is one stage of the complaints' sweep: which complaints have come due, the
// column that guards them (set once, by the one sweep that wins them), and whom to tell
// what.
type dueStage struct {
	kind              string // the event's and the notices' kind
	what              string // for errors: "warnings", "breaches"
	due, order        string // the complaints due (? is now), oldest first
	column, condition string // see guard
	// tell returns, for one batch, who is told of each complaint.
	tell func(ctx context.Context, tx tickets.Tx) (func(c *Complaint) ([]int64, error), error)
	body func(c *Complaint, loc *time.Location) string
}

// warn tells officers two working days before a complaint's deadline (the admins when it
// has no officer).
func (s *Service) warn(ctx context.Context) (int, error) {
	return s.sweepDue(ctx, dueStage{
		kind: "complaint.warning", what: "warnings",
		due:    "warn_at IS NOT NULL AND warn_at <= ? AND status IN ('received', 'investigating')",
		order:  "warn_at",
		column: "warned_at", condition: "warn_at IS NOT NULL",
		tell: func(ctx context.Context, tx tickets.Tx) (func(c *Complaint) ([]int64, error), error) {
			return func(c *Complaint) ([]int64, error) {
				if c.OfficerID != nil {
					return []int64{*c.OfficerID}, nil
				}
				return tx.AgentsWithRole(ctx, tickets.RoleAdmin, nil)
			}, nil
		},
		body: func(c *Complaint, loc *time.Location) string {
			return fmt.Sprintf("Complaint %s must be decided by %s: %d working days left.", c.Ref(), c.DeadlineAt.In(loc).Format("2006-01-02 15:04"), warnDays)
		},
	})
}

// breach escalates complaints past their deadline to the admins and the supervisors of
// the officer's team (the officer, when they have no team).
func (s *Service) breach(ctx context.Context) (int, error) {
	return s.sweepDue(ctx, dueStage{
		kind: "complaint.breached", what: "breaches",
		due:    "breached_at IS NULL AND decided_at IS NULL AND deadline_at <= ? AND status IN ('received', 'investigating')",
		order:  "deadline_at",
		column: "breached_at", condition: "breached_at IS NULL",
		tell: func(ctx context.Context, tx tickets.Tx) (func(c *Complaint) ([]int64, error), error) {
			heads, err := tx.AgentsWithRole(ctx, tickets.RoleAdmin, nil)
			if err != nil {
				return nil, err
			}
			return func(c *Complaint) ([]int64, error) {
				to := append([]int64{}, heads...)
				if c.OfficerID == nil {
					return to, nil
				}
				o, err := tx.Agent(ctx, *c.OfficerID)
				if err != nil {
					return nil, err
				}
				sup, err := tx.AgentsWithRole(ctx, tickets.RoleSupervisor, o.TeamID)
				if err != nil {
					return nil, err
				}
				to = append(to, sup...)
				if o.TeamID == nil {
					to = append(to, o.ID)
				}
				return dedupe(to), nil
			}, nil
		},
		body: func(c *Complaint, loc *time.Location) string {
			return fmt.Sprintf("Complaint %s about %s is overdue: its decision was due %s.", c.Ref(), tickets.FormatRef(c.TicketID), c.DeadlineAt.In(loc).Format("2006-01-02 15:04"))
		},
	})
}

// sweepDue handles one batch of a stage in one transaction: it finds the complaints due,
// wins them with the guard column, records an event on each ticket and tells staff.
func (s *Service) sweepDue(ctx context.Context, st dueStage) (int, error) {
	now := s.svc.Now()
	loc := s.svc.Calendar().Location()
	var handled int
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		handled = 0 // the transaction may be retried
		var due []*Complaint
		q := tx.NewSelect().Model(&due).Where(st.due, now).OrderExpr(st.order).Limit(tickets.SweepBatch)
		if err := s.svc.SkipLocked(q).Scan(ctx); err != nil {
			return fmt.Errorf("find complaint %s: %w", st.what, err)
		}
		won, err := guard(ctx, tx, due, st.column, st.condition, now)
		if err != nil {
			return err
		}
		tell, err := st.tell(ctx, tx)
		if err != nil {
			return err
		}
		var notes []*tickets.Notice
		var evs []*tickets.Event
		for _, c := range won {
			evs = append(evs, tx.Event(system, "ticket", c.TicketID, st.kind, map[string]any{"complaint": c.Ref(), "due_at": c.DeadlineAt}))
			to, err := tell(c)
			if err != nil {
				return err
			}
			for _, a := range to {
				notes = append(notes, &tickets.Notice{AgentID: a, Kind: st.kind, TicketID: &c.TicketID, ComplaintID: &c.ID, Body: st.body(c, loc)})
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
