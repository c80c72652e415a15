package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Handing work to the job system after a commit (Scheduler): the timers that wake a
// ticket's deadlines and warnings, and the messages to deliver; and the check a timer's
// handler makes before it acts (TimerDue).

// Timer wakes the system at a deadline or warning. Its id is deterministic, so scheduling
// it twice is harmless, and a moved deadline gets a new id while the old timer finds
// nothing to do.
type Timer struct {
	Kind string    // "first", "first-warn1", "resolution", "complaint", "complaint-warn", ...
	ID   int64     // the ticket's or the complaint's
	At   time.Time // when to wake
	Due  time.Time // the deadline it serves
}

// TaskID is the timer's deterministic id, sla:<kind>:<id>:<due unix>.
func (tm Timer) TaskID() string {
	return fmt.Sprintf("sla:%s:%d:%d", tm.Kind, tm.ID, tm.Due.Unix())
}

// Scheduler hands work to the job system after a commit: timers that wake deadlines, and
// outbound messages to deliver. The database stays the truth: a timer or a send lost with
// Redis is found again by the reconciler.
type Scheduler interface {
	Schedule(ctx context.Context, timers []Timer) error
	Deliver(ctx context.Context, messageIDs []int64) error
}

// timers lists the wake-ups a ticket's open deadlines need.
func (t *Ticket) timers() []Timer {
	var out []Timer
	if !t.Status.Active() {
		return out
	}
	if t.FirstRespondedAt == nil && t.FirstResponseBreachedAt == nil && t.FirstResponseDueAt != nil {
		out = append(out, Timer{Kind: "first", ID: t.ID, At: *t.FirstResponseDueAt, Due: *t.FirstResponseDueAt})
		if t.FirstResponseWarnAt != nil {
			out = append(out, Timer{Kind: fmt.Sprintf("first-warn%d", t.FirstResponseWarned+1), ID: t.ID, At: *t.FirstResponseWarnAt, Due: *t.FirstResponseDueAt})
		}
	}
	if t.ResolvedAt == nil && t.ResolutionBreachedAt == nil && t.PausedAt == nil && t.ResolutionDueAt != nil {
		out = append(out, Timer{Kind: "resolution", ID: t.ID, At: *t.ResolutionDueAt, Due: *t.ResolutionDueAt})
		if t.ResolutionWarnAt != nil {
			out = append(out, Timer{Kind: fmt.Sprintf("resolution-warn%d", t.ResolutionWarned+1), ID: t.ID, At: *t.ResolutionWarnAt, Due: *t.ResolutionDueAt})
		}
	}
	return out
}

// schedule hands timers to the scheduler after a commit. A failure is logged, not
// returned: the change is stored, and the reconciler will find the deadline.
func (s *Service) schedule(ctx context.Context, timers []Timer) {
	if s.scheduler == nil || len(timers) == 0 {
		return
	}
	if err := s.scheduler.Schedule(ctx, timers); err != nil {
		s.log.Warn("could not schedule deadline timers; the reconciler will catch them", "timers", len(timers), "err", err)
	}
}

// deliver hands queued outbound messages to the senders after a commit.
func (s *Service) deliver(ctx context.Context, ids ...int64) {
	ids = slices.DeleteFunc(ids, func(id int64) bool { return id == 0 })
	if s.scheduler == nil || len(ids) == 0 {
		return
	}
	if err := s.scheduler.Deliver(ctx, ids); err != nil {
		s.log.Warn("could not queue messages for delivery; the reconciler will", "messages", len(ids), "err", err)
	}
}

// Schedule hands timers to the job system once the change that set them has committed,
// as the service does with its own: a failure is logged, not returned, since the
// reconciler finds the deadline anyway.
func (s *Service) Schedule(ctx context.Context, timers []Timer) { s.schedule(ctx, timers) }

// Deliver hands messages queued to customers to the senders once their transaction has
// committed, as the service does with its own; ids of 0 are skipped. A failure is logged:
// the reconciler sends what is left queued.
func (s *Service) Deliver(ctx context.Context, ids ...int64) { s.deliver(ctx, ids...) }

// SetScheduler plugs in the job system that wakes deadlines and sends messages.
func (s *Service) SetScheduler(sch Scheduler) { s.scheduler = sch }

// TimerDue reports whether a ticket's timer still applies: the handler re-reads the
// database and acts only then. (A complaint's timers are package complaints'.)
func (s *Service) TimerDue(ctx context.Context, tm Timer) (bool, error) {
	if tm.Kind == ReapplyTimer {
		return true, nil
	}
	t := new(Ticket)
	err := s.db.NewSelect().Model(t).Where("id = ?", tm.ID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load ticket: %w", err)
	}
	due, warnAt := t.FirstResponseDueAt, t.FirstResponseWarnAt
	waiting := t.FirstRespondedAt == nil && t.FirstResponseBreachedAt == nil && t.Status.Active()
	if strings.HasPrefix(tm.Kind, ResolutionClock.timer) {
		due, warnAt = t.ResolutionDueAt, t.ResolutionWarnAt
		waiting = t.ResolvedAt == nil && t.ResolutionBreachedAt == nil && t.PausedAt == nil
	}
	if !waiting || due == nil || due.Unix() != tm.Due.Unix() {
		return false, nil
	}
	if strings.Contains(tm.Kind, "-warn") {
		return warnAt != nil, nil
	}
	return true, nil
}
