package tickets

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// The seam between the core and the deadlines chapter (package tickets/deadlines), which
// sweeps the tickets' warnings and breaches and administers the SLA policies and the
// calendar. The core keeps what it needs to time a ticket as it writes one (policies'
// matching, the calendar's arithmetic, pauses, timers) and the tickets' deadline columns:
// the chapter finds and changes them only through the Tx methods below.

// SLAClock is one of a ticket's two deadlines, first response and resolution, by the
// columns the core keeps it in. The WHERE text of each sweep query is the predicate of its
// partial index, so finding what is due is an index range scan however many tickets are
// open.
type SLAClock struct {
	name     string // in events: "first_response", "resolution"
	timer    string // timer kind prefix: "first", "resolution"
	due      string
	breached string
	warned   string
	warnAt   string
	waiting  string // the row still waits on this clock
	duration func(*Policy) time.Duration
	action   func(*Policy) BreachAction
}

var (
	// FirstResponseClock is the deadline of a ticket's first answer to its customer.
	FirstResponseClock = SLAClock{
		name: "first_response", timer: "first",
		due: "first_response_due_at", breached: "first_response_breached_at",
		warned: "first_response_warned", warnAt: "first_response_warn_at",
		waiting:  "first_responded_at IS NULL AND first_response_breached_at IS NULL AND status IN ('new', 'open', 'pending')",
		duration: (*Policy).firstResponse,
		action:   func(p *Policy) BreachAction { return p.FirstResponseBreach },
	}
	// ResolutionClock is the deadline of a ticket's resolution.
	ResolutionClock = SLAClock{
		name: "resolution", timer: "resolution",
		due: "resolution_due_at", breached: "resolution_breached_at",
		warned: "resolution_warned", warnAt: "resolution_warn_at",
		waiting:  "resolved_at IS NULL AND resolution_breached_at IS NULL AND paused_at IS NULL",
		duration: (*Policy).resolution,
		action:   func(p *Policy) BreachAction { return p.ResolutionBreach },
	}
)

// Name is the clock's name in events: "first_response" or "resolution".
func (k SLAClock) Name() string { return k.name }

// TimerKind is the prefix of the clock's timer kinds ("first", "resolution"; a warning's
// is followed by "-warn" and its number).
func (k SLAClock) TimerKind() string { return k.timer }

// Due is t's deadline on this clock.
func (k SLAClock) Due(t *Ticket) *time.Time {
	if k.name == FirstResponseClock.name {
		return t.FirstResponseDueAt
	}
	return t.ResolutionDueAt
}

// Warned is how many of the clock's warnings t has had settled.
func (k SLAClock) Warned(t *Ticket) int {
	if k.name == FirstResponseClock.name {
		return t.FirstResponseWarned
	}
	return t.ResolutionWarned
}

// WarnAt is when t's next warning on this clock falls due; nil when none is left.
func (k SLAClock) WarnAt(t *Ticket) *time.Time {
	if k.name == FirstResponseClock.name {
		return t.FirstResponseWarnAt
	}
	return t.ResolutionWarnAt
}

// Action is what missing this clock's deadline does under p.
func (k SLAClock) Action(p *Policy) BreachAction { return k.action(p) }

// Raised is one priority step up (urgent stays urgent), as a breach that escalates sets it.
func (p Priority) Raised() Priority {
	switch p {
	case PriorityLow:
		return PriorityNormal
	case PriorityNormal:
		return PriorityHigh
	}
	return PriorityUrgent
}

// WarnAt are the fractions of a deadline's time after which its owner is warned (the
// configured SLA.WarnAt, 0.75 and 0.90 by default), in order.
func (s *Service) WarnAt() []float64 { return s.cfg.SLA.WarnAt }

// ReapplyTimer is the timer kind that asks a worker to re-time the open tickets after an
// edit of the SLA policies or the calendar (deadlines.Service.ReapplyDeadlines).
const ReapplyTimer = "reapply"

// PoliciesChanged runs after an edit of the SLA policies or the calendar has committed
// (having called Tx.PoliciesEdited): it forgets the cached rules and asks the job system to
// re-time the open tickets, in a job whose id names the generation, so each edit gets its
// own job, even two in one second while the first one's job runs (a job lost with Redis is
// the reconciler's, which re-times while any open ticket is stale). It reports false when
// no scheduler is plugged in: the caller then re-times them at once.
func (s *Service) PoliciesChanged(ctx context.Context) bool {
	s.forgetRules()
	if s.scheduler == nil {
		return false
	}
	gen, err := slaGeneration(ctx, s.db)
	if err != nil {
		s.log.Warn("could not schedule the re-timing of open tickets; the reconciler will", "err", err)
		return true
	}
	now := s.now()
	s.schedule(ctx, []Timer{{Kind: ReapplyTimer, ID: gen, At: now, Due: now}})
	return true
}

// PoliciesEdited marks, in the transaction that edits the SLA policies or the calendar,
// every open ticket's deadlines as worked out under older ones: an edit that commits has
// always made them stale (see RetimeStale), and concurrent edits are ordered.
func (tx Tx) PoliciesEdited(ctx context.Context) error {
	return bumpSLAGeneration(ctx, tx.IDB)
}

// RetimeStale takes up to limit open tickets timed under older policies than the current
// ones (skipping those other transactions hold: they stay stale for a later run), gives
// each the deadlines of the policy that now matches it, under the rules read afresh in the
// transaction (the edit may have come from another process, so the cached ones are
// forgotten too), and stamps each with the generation it was timed under. It returns how
// many it took, the tickets whose deadlines or policy changed (stored), and their timers
// to hand to the job system after the commit. Recording what changed is the caller's.
func (tx Tx) RetimeStale(ctx context.Context, limit int) (taken int, retimed []*Ticket, timers []Timer, err error) {
	s := tx.s
	s.forgetRules()
	gen, err := slaGeneration(ctx, tx)
	if err != nil {
		return 0, nil, nil, err
	}
	var batch []*Ticket
	q := tx.NewSelect().Model(&batch).Where("sla_generation < ? AND status IN ('new', 'open', 'pending')", gen).OrderExpr("id").Limit(limit)
	if err := s.SkipLocked(q).Scan(ctx); err != nil {
		return 0, nil, nil, fmt.Errorf("load stale open tickets: %w", err)
	}
	if len(batch) == 0 {
		return 0, nil, nil, nil
	}
	// Read afresh, not from the cache: the edit may have come from another process.
	r, err := readRules(ctx, tx)
	if err != nil {
		return 0, nil, nil, err
	}
	var current []int64
	for _, t := range batch {
		before := *t
		if err := s.applyRules(ctx, tx, t, r); err != nil {
			return 0, nil, nil, err
		}
		if sameTime(before.FirstResponseDueAt, t.FirstResponseDueAt) && sameTime(before.ResolutionDueAt, t.ResolutionDueAt) && sameID(before.PolicyID, t.PolicyID) {
			current = append(current, t.ID)
			continue
		}
		if _, err := tx.NewUpdate().Model(t).WherePK().ExcludeColumn("id", "created_at").Exec(ctx); err != nil {
			return 0, nil, nil, fmt.Errorf("re-time ticket: %w", err)
		}
		retimed = append(retimed, t)
		timers = append(timers, t.timers()...)
	}
	if len(current) > 0 { // unchanged by the edit: only the generation moves
		if _, err := tx.NewUpdate().Table("tickets").Set("sla_generation = ?", r.gen).Where("id IN (?)", bun.In(current)).Exec(ctx); err != nil {
			return 0, nil, nil, fmt.Errorf("stamp re-applied tickets: %w", err)
		}
	}
	return len(batch), retimed, timers, nil
}

func sameTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

// DueBreaches finds, and locks for the transaction, up to SweepBatch tickets whose
// deadline on clock k has passed by now while they still wait on it, the oldest first,
// with the columns a breach needs.
func (tx Tx) DueBreaches(ctx context.Context, k SLAClock, now time.Time) ([]*Ticket, error) {
	var due []*Ticket
	q := tx.NewSelect().Model(&due).
		Column("id", "priority", "team_id", "assignee_id", "policy_id", "channel", k.due, k.warned).
		Where(k.waiting).Where("? <= ?", bun.Ident(k.due), now).
		OrderExpr("? ASC", bun.Ident(k.due)).Limit(sweepBatch)
	if err := tx.s.SkipLocked(q).Scan(ctx); err != nil {
		return nil, fmt.Errorf("find %s breaches: %w", k.name, err)
	}
	return due, nil
}

// RecordBreaches stamps the breach of clock k at now on the tickets ids names that still
// wait on it, in one guarded UPDATE, raising the priority of those in escalate one step
// (Raised), and returns the ids it stamped: a row another sweep handled meanwhile no
// longer matches and is left alone. The clock's warnings are settled, none left to come.
func (tx Tx) RecordBreaches(ctx context.Context, k SLAClock, ids, escalate []int64, now time.Time) ([]int64, error) {
	uq := tx.NewUpdate().Table("tickets").
		Set("? = ?", bun.Ident(k.breached), now).Set("? = NULL", bun.Ident(k.warnAt)).
		Set("? = ?", bun.Ident(k.warned), len(tx.s.cfg.SLA.WarnAt)).Set("updated_at = ?", now)
	if len(escalate) > 0 {
		uq = uq.Set("priority = CASE WHEN id IN (?) THEN (CASE priority WHEN 'low' THEN 'normal' WHEN 'normal' THEN 'high' ELSE 'urgent' END) ELSE priority END", bun.In(escalate))
	}
	var breached []int64
	if err := uq.Where("id IN (?)", bun.In(ids)).Where(k.waiting).Returning("id").Scan(ctx, &breached); err != nil {
		return nil, fmt.Errorf("record %s breaches: %w", k.name, err)
	}
	return breached, nil
}

// DueWarnings finds, and locks for the transaction, up to SweepBatch tickets whose next
// warning on clock k has come by now, the oldest first.
func (tx Tx) DueWarnings(ctx context.Context, k SLAClock, now time.Time) ([]*Ticket, error) {
	var due []*Ticket
	q := tx.NewSelect().Model(&due).
		Where("? IS NOT NULL AND ? <= ?", bun.Ident(k.warnAt), bun.Ident(k.warnAt), now).
		OrderExpr("? ASC", bun.Ident(k.warnAt)).Limit(sweepBatch)
	if err := tx.s.SkipLocked(q).Scan(ctx); err != nil {
		return nil, fmt.Errorf("find %s warnings: %w", k.name, err)
	}
	return due, nil
}

// SettleWarnings records that t's warnings on clock k are settled up to settled, the next
// one falling at next (nil: none left), only while the ticket still has the count it was
// read with and a warning pending; it reports whether it did (false: another sweep did).
func (tx Tx) SettleWarnings(ctx context.Context, k SLAClock, t *Ticket, settled int, next *time.Time) (bool, error) {
	res, err := tx.NewUpdate().Table("tickets").
		Set("? = ?", bun.Ident(k.warned), settled).Set("? = ?", bun.Ident(k.warnAt), next).
		Where("id = ? AND ? = ? AND ? IS NOT NULL", t.ID, bun.Ident(k.warned), k.Warned(t), bun.Ident(k.warnAt)).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("record %s warning: %w", k.name, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// Policy is the SLA policy t was timed under (its PolicyID), or the default one.
func (tx Tx) Policy(ctx context.Context, t *Ticket) (*Policy, error) {
	return tx.s.policyByID(ctx, tx.IDB, t)
}

// Warnings returns when t's warnings on clock k fall under p, counted as its deadline is:
// the first response from the ticket's creation, the resolution from its SLA window with
// the time it waited on the customer added. The function gives the warning that follows
// `settled` settled ones, nil when none is left.
func (tx Tx) Warnings(ctx context.Context, k SLAClock, t *Ticket, p *Policy) (func(settled int) *time.Time, error) {
	s := tx.s
	start, pauses := t.CreatedAt, []pause(nil)
	if k.name == ResolutionClock.name {
		var err error
		if pauses, err = s.pausesOf(ctx, tx.IDB, t); err != nil {
			return nil, err
		}
		start = t.slaStart()
	}
	return func(settled int) *time.Time {
		return s.nextWarn(start, k.duration(p), p.WorkingTime, pauses, settled)
	}, nil
}

// SupervisorsOf lists the people who answer for a team (nil: no team): its supervisors,
// or the admins when it has none.
func (tx Tx) SupervisorsOf(ctx context.Context, team *int64) ([]int64, error) {
	return tx.s.supervisorsOf(ctx, tx.IDB, team)
}

// OpenComplaints asks the Complaints, when one is plugged in (Service.SetComplaints), to
// open cs in the transaction, as the core's own changes do; nil when none is.
func (tx Tx) OpenComplaints(ctx context.Context, actor Actor, cs []ComplaintRequest) ([]*OpenedComplaint, error) {
	return tx.s.openComplaints(ctx, tx.IDB, actor, cs)
}
