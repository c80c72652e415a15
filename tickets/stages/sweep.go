package stages

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

// The stages' deadlines: a ticket may stay at a stage with a deadline (Stage.DueDays) that
// many working days on the core's calendar; a working day before it the assignee is
// warned, and once it passes the assignee and the team's supervisors are told. Each is
// stamped once, by a guarded UPDATE, however many sweeps run at once; the timers wake the
// job system's sweep at those times and the reconciler's sweep finds what they missed.

// Timer kinds of a stage's deadline and its warning (see tickets.Timer).
const (
	timerDeadline = "stage"
	timerWarning  = "stage-warn"
)

// IsTimer reports whether a timer of this kind is a stage's, for TimerDue.
func IsTimer(kind string) bool { return strings.HasPrefix(kind, timerDeadline) }

func stageTimers(c *current) []tickets.Timer {
	if c.DueAt == nil {
		return nil
	}
	out := []tickets.Timer{{Kind: timerDeadline, ID: c.TicketID, At: *c.DueAt, Due: *c.DueAt}}
	if c.WarnAt != nil {
		out = append(out, tickets.Timer{Kind: timerWarning, ID: c.TicketID, At: *c.WarnAt, Due: *c.DueAt})
	}
	return out
}

// SweepResult counts what a sweep of the stages' deadlines handled.
type SweepResult struct {
	Warnings int
	Breaches int
}

// Sweep handles every stage warning and breach that has come due, warnings first, in the
// core's stage runner (tickets.Service.RunSweep).
func (s *Service) Sweep(ctx context.Context) (SweepResult, error) {
	n, err := s.svc.RunSweep(ctx,
		tickets.SweepStage{Name: "stage warnings", Run: s.warn},
		tickets.SweepStage{Name: "stage breaches", Run: s.breach})
	return SweepResult{Warnings: n[0], Breaches: n[1]}, err
}

// active limits a sweep to tickets still being worked on.
const active = "ts.ticket_id IN (SELECT id FROM tickets WHERE status IN ('new', 'open', 'pending'))"

func (s *Service) warn(ctx context.Context) (int, error) {
	return s.sweepDue(ctx, "stage.warning", "ts.warn_at IS NOT NULL AND ts.warn_at <= ?", "warned_at", "warn_at IS NOT NULL",
		func(ref, stage string, due time.Time) string {
			return fmt.Sprintf("%s must leave stage %q by %s: one working day left.", ref, stage, due.Format("2006-01-02 15:04"))
		}, false)
}

func (s *Service) breach(ctx context.Context) (int, error) {
	return s.sweepDue(ctx, "stage.breached", "ts.breached_at IS NULL AND ts.due_at IS NOT NULL AND ts.due_at <= ?", "breached_at", "breached_at IS NULL",
		func(ref, stage string, due time.Time) string {
			return fmt.Sprintf("%s is overdue at stage %q: it was due to move on by %s.", ref, stage, due.Format("2006-01-02 15:04"))
		}, true)
}

// sweepDue handles one batch of a stage's due rows in one transaction: it wins them with
// the guard column (set only where condition still holds), records an event on each
// ticket and tells the assignee (and, for a breach, the team's supervisors).
func (s *Service) sweepDue(ctx context.Context, kind, due, column, condition string, body func(ref, stage string, due time.Time) string, supervisors bool) (int, error) {
	now := s.svc.Now()
	loc := s.svc.Calendar().Location()
	var handled int
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		handled = 0
		var ids []int64
		q := tx.NewSelect().TableExpr("ticket_stages AS ts").Column("ts.ticket_id").Where(due, now).Where(active).
			OrderExpr("ts.ticket_id").Limit(tickets.SweepBatch)
		if err := s.svc.SkipLocked(q).Scan(ctx, &ids); err != nil {
			return fmt.Errorf("find stage %s: %w", kind, err)
		}
		if len(ids) == 0 {
			return nil
		}
		up := tx.NewUpdate().Table("ticket_stages").Set("? = ?", bun.Ident(column), now)
		if column == "warned_at" {
			up = up.Set("warn_at = NULL")
		}
		var won []current
		if err := up.Where("ticket_id IN (?)", bun.In(ids)).Where(condition).
			Returning("ticket_id, stage_id, due_at").Scan(ctx, &won); err != nil {
			return fmt.Errorf("stamp stage %s: %w", kind, err)
		}
		var evs []*tickets.Event
		var ns []*tickets.Notice
		for _, c := range won {
			t, err := tx.Ticket(ctx, c.TicketID)
			if err != nil {
				return err
			}
			var st Stage
			if err := tx.NewSelect().Model(&st).Where("id = ?", c.StageID).Scan(ctx); err != nil {
				return fmt.Errorf("load stage: %w", err)
			}
			evs = append(evs, tx.Event(system, "ticket", t.ID, kind, map[string]any{"stage_id": st.ID, "stage": st.NameEn, "stage_zh": st.NameZh, "due_at": c.DueAt}))
			var to []int64
			if t.AssigneeID != nil {
				to = append(to, *t.AssigneeID)
			}
			if supervisors || t.AssigneeID == nil {
				sup, err := tx.SupervisorsOf(ctx, t.TeamID)
				if err != nil {
					return err
				}
				to = append(to, sup...)
			}
			seen := map[int64]bool{}
			for _, a := range to {
				if !seen[a] {
					seen[a] = true
					ns = append(ns, &tickets.Notice{AgentID: a, Kind: kind, TicketID: &t.ID, Body: body(t.Ref(), st.NameEn, c.DueAt.In(loc))})
				}
			}
		}
		handled = len(won)
		if err := tx.Record(ctx, evs...); err != nil {
			return err
		}
		return tx.AddNotices(ctx, ns)
	})
	return handled, err
}

// TimerDue reports whether a stage's timer still applies: its ticket is at the stage whose
// deadline it serves, not yet breached (or warned, for a warning).
func (s *Service) TimerDue(ctx context.Context, tm tickets.Timer) (bool, error) {
	var c current
	err := s.db.NewSelect().Model(&c).Where("ticket_id = ?", tm.ID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load ticket's stage: %w", err)
	}
	if c.DueAt == nil || c.DueAt.Unix() != tm.Due.Unix() {
		return false, nil
	}
	if tm.Kind == timerWarning {
		return c.WarnAt != nil, nil
	}
	return c.BreachedAt == nil, nil
}
