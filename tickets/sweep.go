package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// sweepBatch is how many rows one sweep transaction handles.
const sweepBatch = 1000

// deadline describes one of a ticket's two clocks by its columns. The WHERE text of each
// stage is the predicate of its partial index, so finding what is due is an index range
// scan however many tickets are open.
type deadline struct {
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
	firstResponseClock = deadline{
		name: "first_response", timer: "first",
		due: "first_response_due_at", breached: "first_response_breached_at",
		warned: "first_response_warned", warnAt: "first_response_warn_at",
		waiting:  "first_responded_at IS NULL AND first_response_breached_at IS NULL AND status IN ('new', 'open', 'pending')",
		duration: (*Policy).firstResponse,
		action:   func(p *Policy) BreachAction { return p.FirstResponseBreach },
	}
	resolutionClock = deadline{
		name: "resolution", timer: "resolution",
		due: "resolution_due_at", breached: "resolution_breached_at",
		warned: "resolution_warned", warnAt: "resolution_warn_at",
		waiting:  "resolved_at IS NULL AND resolution_breached_at IS NULL AND paused_at IS NULL",
		duration: (*Policy).resolution,
		action:   func(p *Policy) BreachAction { return p.ResolutionBreach },
	}
)

// SweepResult counts what a sweep handled.
type SweepResult struct {
	Warnings int
	// SkippedWarnings are warning points whose deadline had passed when they were handled:
	// recorded, not sent.
	SkippedWarnings   int
	Breaches          int
	ComplaintWarnings int
	ComplaintBreaches int
}

func (r *SweepResult) add(o SweepResult) {
	r.Warnings += o.Warnings
	r.SkippedWarnings += o.SkippedWarnings
	r.Breaches += o.Breaches
	r.ComplaintWarnings += o.ComplaintWarnings
	r.ComplaintBreaches += o.ComplaintBreaches
}

// sweepStage is one kind of work a sweep does, committed in its own transactions: it
// returns how many rows it handled (a full batch means more may wait) and what that came to.
type sweepStage struct {
	name string
	run  func(context.Context) (int, SweepResult, error)
}

// Sweep handles every warning and breach that has come due, in batches. Deadline timers
// and the reconciler both call it. Each stage is guarded in the database (the breach column
// is set only where it is still empty), so two workers sweeping at once, or a timer and the
// reconciler, act exactly once; on PostgreSQL they also split the work (SKIP LOCKED).
// Warnings are settled before breaches, so a timeline never shows a warning after the
// breach it was meant to prevent.
//
// The stages fail alone: one that fails (a row it cannot handle, say) is logged and the
// others still run and commit, so a stuck ticket never keeps complaints from being
// escalated. The errors are returned together afterwards, so the job is retried.
func (s *Service) Sweep(ctx context.Context) (SweepResult, error) {
	var r SweepResult
	counted := func(run func(context.Context) (int, error), field func(*SweepResult) *int) func(context.Context) (int, SweepResult, error) {
		return func(ctx context.Context) (int, SweepResult, error) {
			n, err := run(ctx)
			var got SweepResult
			*field(&got) = n
			return n, got, err
		}
	}
	stages := []sweepStage{
		{"first response warnings", func(ctx context.Context) (int, SweepResult, error) { return s.warn(ctx, firstResponseClock) }},
		{"resolution warnings", func(ctx context.Context) (int, SweepResult, error) { return s.warn(ctx, resolutionClock) }},
		{"first response breaches", func(ctx context.Context) (int, SweepResult, error) { return s.breach(ctx, firstResponseClock) }},
		{"resolution breaches", func(ctx context.Context) (int, SweepResult, error) { return s.breach(ctx, resolutionClock) }},
		{"complaint warnings", counted(s.warnComplaints, func(r *SweepResult) *int { return &r.ComplaintWarnings })},
		{"complaint breaches", counted(s.breachComplaints, func(r *SweepResult) *int { return &r.ComplaintBreaches })},
	}
	var errs []error
	for _, st := range stages {
		if ctx.Err() != nil { // shutting down: what is left waits for the next sweep
			errs = append(errs, fmt.Errorf("sweep: %w", ctx.Err()))
			break
		}
		got, err := s.sweepStage(ctx, st)
		r.add(got)
		if err != nil {
			s.log.ErrorContext(ctx, "sweep stage failed; the other stages go on", "stage", st.name, "err", err)
			errs = append(errs, fmt.Errorf("sweep %s: %w", st.name, err))
		}
	}
	return r, errors.Join(errs...)
}

// sweepStage runs one stage until it has handled what is due.
func (s *Service) sweepStage(ctx context.Context, st sweepStage) (SweepResult, error) {
	n, r, err := st.run(ctx)
	if err != nil || n < sweepBatch {
		return r, err
	}
	// A burst: on PostgreSQL the rest is shared by a few transactions at once, which
	// take different rows (SKIP LOCKED), so the database's cores all work on it.
	workers := 1
	if s.db.Dialect().Name() == dialect.PG {
		workers = sweepWorkers
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, got, err := st.run(ctx)
				mu.Lock()
				r.add(got)
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
				if err != nil || n < sweepBatch {
					return
				}
			}
		}()
	}
	wg.Wait()
	return r, errors.Join(errs...)
}

// sweepWorkers is how many transactions share a burst of due deadlines.
const sweepWorkers = 4

// skipLocked lets concurrent sweeps on PostgreSQL take different rows; SQLite has one
// writer at a time anyway. NO KEY UPDATE is the lock the sweep's own updates take (they
// change no key): unlike FOR UPDATE it lets another transaction insert a row referring to
// the ticket (a complaint, a message), whose foreign-key check takes KEY SHARE, so the
// sweep and a complaint being opened on the same ticket no longer deadlock.
func (s *Service) skipLocked(q *bun.SelectQuery) *bun.SelectQuery {
	if s.db.Dialect().Name() == dialect.PG {
		return q.For("NO KEY UPDATE SKIP LOCKED")
	}
	return q
}

// breach handles tickets whose deadline passed: records the breach once and does what the
// ticket's policy says (escalate: priority up a step; complaint: open one), telling the
// team's supervisors.
func (s *Service) breach(ctx context.Context, k deadline) (int, SweepResult, error) {
	now := s.now()
	var handled int
	var got SweepResult
	var opened []*Complaint
	err := s.inTx(ctx, func(tx bun.Tx) error {
		handled, got, opened = 0, SweepResult{}, nil
		var due []*Ticket
		q := tx.NewSelect().Model(&due).
			Column("id", "priority", "team_id", "assignee_id", "policy_id", "channel", k.due, k.warned).
			Where(k.waiting).Where("? <= ?", bun.Ident(k.due), now).
			OrderExpr("? ASC", bun.Ident(k.due)).Limit(sweepBatch)
		if err := s.skipLocked(q).Scan(ctx); err != nil {
			return fmt.Errorf("find %s breaches: %w", k.name, err)
		}
		if len(due) == 0 {
			return nil
		}
		ids := make([]int64, len(due))
		actions := make(map[int64]BreachAction, len(due))
		var escalate []int64
		for i, t := range due {
			ids[i] = t.ID
			p, err := s.policyByID(ctx, tx, t)
			if err != nil {
				return err
			}
			actions[t.ID] = k.action(p)
			if actions[t.ID] == BreachEscalate && t.Priority.raised() != t.Priority {
				escalate = append(escalate, t.ID)
			}
		}
		// One guarded UPDATE stamps the breach and raises the priority: a row another sweep
		// handled meanwhile no longer matches k.waiting and is left alone. Warnings not yet
		// given are settled as skipped (below), never to be sent after the breach.
		uq := tx.NewUpdate().Table("tickets").
			Set("? = ?", bun.Ident(k.breached), now).Set("? = NULL", bun.Ident(k.warnAt)).
			Set("? = ?", bun.Ident(k.warned), len(s.cfg.SLA.WarnAt)).Set("updated_at = ?", now)
		if len(escalate) > 0 {
			uq = uq.Set("priority = CASE WHEN id IN (?) THEN (CASE priority WHEN 'low' THEN 'normal' WHEN 'normal' THEN 'high' ELSE 'urgent' END) ELSE priority END", bun.In(escalate))
		}
		var breached []int64
		if err := uq.Where("id IN (?)", bun.In(ids)).Where(k.waiting).Returning("id").Scan(ctx, &breached); err != nil {
			return fmt.Errorf("record %s breaches: %w", k.name, err)
		}
		won := make(map[int64]bool, len(breached))
		for _, id := range breached {
			won[id] = true
		}

		var complaints []*Complaint
		var evs []*Event
		byTeam := map[int64][]string{}
		for _, t := range due {
			if !won[t.ID] {
				continue
			}
			action := actions[t.ID]
			data := map[string]any{"deadline": k.name, "due_at": dueOf(t, k), "action": action}
			switch action {
			case BreachEscalate:
				if up := t.Priority.raised(); up != t.Priority {
					data["priority_from"], data["priority_to"] = t.Priority, up
				}
			case BreachComplaint:
				complaints = append(complaints, s.newComplaint(t.ID, SourceSLABreach, fmt.Sprintf("%s missed its %s deadline", t.Ref(), strings.ReplaceAll(k.name, "_", " ")), now))
			}
			// Warning points the warning stage had not reached (their moment came between
			// its reading of the clock and this one's) are recorded skipped, before the breach.
			var skipped []int
			for level := warnedOf(t, k); level < len(s.cfg.SLA.WarnAt); level++ {
				skipped = append(skipped, int(s.cfg.SLA.WarnAt[level]*100))
			}
			got.SkippedWarnings += len(skipped)
			evs = append(evs, skippedWarnings(s, t.ID, k, dueOf(t, k), skipped)...)
			evs = append(evs, s.event(systemActor, "ticket", t.ID, "sla.breached", data))
			var team int64
			if t.TeamID != nil {
				team = *t.TeamID
			}
			byTeam[team] = append(byTeam[team], t.Ref())
		}
		if err := s.insertEvents(ctx, tx, evs); err != nil {
			return err
		}
		var err error
		if opened, err = s.openComplaints(ctx, tx, systemActor, complaints); err != nil {
			return err
		}
		if err := s.tellSupervisors(ctx, tx, "sla.breached", byTeam, func(refs string) string {
			return fmt.Sprintf("Missed %s deadline: %s", strings.ReplaceAll(k.name, "_", " "), refs)
		}); err != nil {
			return err
		}
		handled = len(breached)
		got.Breaches = handled
		return nil
	})
	if err != nil {
		return 0, SweepResult{}, err
	}
	var timers []Timer
	var receipts []int64
	for _, c := range opened {
		timers = append(timers, c.timers()...)
		receipts = append(receipts, c.receipt)
	}
	s.schedule(ctx, timers)
	s.deliver(ctx, receipts...)
	return handled, got, nil
}

// warnedOf is how many of a clock's warnings the ticket has had settled.
func warnedOf(t *Ticket, k deadline) int {
	if k.name == firstResponseClock.name {
		return t.FirstResponseWarned
	}
	return t.ResolutionWarned
}

func dueOf(t *Ticket, k deadline) *time.Time {
	if k.name == firstResponseClock.name {
		return t.FirstResponseDueAt
	}
	return t.ResolutionDueAt
}

// raised is one priority step up.
func (p Priority) raised() Priority {
	switch p {
	case PriorityLow:
		return PriorityNormal
	case PriorityNormal:
		return PriorityHigh
	}
	return PriorityUrgent
}

// tellSupervisors sends one notice per team's supervisor listing the team's tickets.
func (s *Service) tellSupervisors(ctx context.Context, tx bun.IDB, kind string, byTeam map[int64][]string, body func(refs string) string) error {
	var notes []*Notice
	for team, refs := range byTeam {
		var teamID *int64
		if team != 0 {
			teamID = &team
		}
		to, err := s.supervisorsOf(ctx, tx, teamID)
		if err != nil {
			return err
		}
		list := strings.Join(refs[:min(len(refs), 20)], ", ")
		if len(refs) > 20 {
			list += fmt.Sprintf(" and %d more", len(refs)-20)
		}
		for _, a := range to {
			n := &Notice{AgentID: a, Kind: kind, Body: body(list)}
			if len(refs) == 1 {
				id, _ := ParseRef(refs[0])
				n.TicketID = &id
			}
			notes = append(notes, n)
		}
	}
	return s.insertNotices(ctx, tx, notes)
}

// warn tells owners that a deadline is near (75% and 90% of its time, by default). Every
// warning point that has passed is settled in one go: sent while its deadline is still
// ahead (late, after a lost timer, but still useful), or recorded as skipped once the
// deadline itself has passed, so that no owner is warned of a deadline already missed and
// no warning is left hanging to be recorded after the breach.
func (s *Service) warn(ctx context.Context, k deadline) (int, SweepResult, error) {
	now := s.now()
	var handled int
	var got SweepResult
	var timers []Timer
	err := s.inTx(ctx, func(tx bun.Tx) error {
		handled, got, timers = 0, SweepResult{}, nil
		var due []*Ticket
		q := tx.NewSelect().Model(&due).
			Where("? IS NOT NULL AND ? <= ?", bun.Ident(k.warnAt), bun.Ident(k.warnAt), now).
			OrderExpr("? ASC", bun.Ident(k.warnAt)).Limit(sweepBatch)
		if err := s.skipLocked(q).Scan(ctx); err != nil {
			return fmt.Errorf("find %s warnings: %w", k.name, err)
		}
		var notes []*Notice
		var evs []*Event
		for _, t := range due {
			level, next := warnedOf(t, k), t.FirstResponseWarnAt
			if k.name == resolutionClock.name {
				next = t.ResolutionWarnAt
			}
			p, err := s.policyByID(ctx, tx, t)
			if err != nil {
				return err
			}
			pauses, err := s.pausesOf(ctx, tx, t)
			if err != nil {
				return err
			}
			start := t.slaStart()
			if k.name == firstResponseClock.name {
				start, pauses = t.CreatedAt, nil
			}
			deadlineAt := dueOf(t, k)
			missed := deadlineAt != nil && !deadlineAt.After(now)
			var sent, skipped []int // the percentages settled now, in order
			reached := level
			for next != nil && !next.After(now) && reached < len(s.cfg.SLA.WarnAt) {
				pct := int(s.cfg.SLA.WarnAt[reached] * 100)
				if missed {
					skipped = append(skipped, pct)
				} else {
					sent = append(sent, pct)
				}
				reached++
				next = s.nextWarn(start, k.duration(p), p.WorkingTime, pauses, reached)
			}
			if missed { // every point lies before the deadline: none is left to come
				for ; reached < len(s.cfg.SLA.WarnAt); reached++ {
					skipped = append(skipped, int(s.cfg.SLA.WarnAt[reached]*100))
				}
				next = nil
			}
			if reached == level { // no warning is left to give (fewer configured now): stop asking
				next = nil
			}
			res, err := tx.NewUpdate().Table("tickets").
				Set("? = ?", bun.Ident(k.warned), reached).Set("? = ?", bun.Ident(k.warnAt), next).
				Where("id = ? AND ? = ? AND ? IS NOT NULL", t.ID, bun.Ident(k.warned), level, bun.Ident(k.warnAt)).Exec(ctx)
			if err != nil {
				return fmt.Errorf("record %s warning: %w", k.name, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue
			}
			handled++
			got.Warnings += len(sent)
			got.SkippedWarnings += len(skipped)
			evs = append(evs, skippedWarnings(s, t.ID, k, deadlineAt, skipped)...)
			if len(sent) == 0 {
				continue
			}
			to := []int64{}
			if t.AssigneeID != nil {
				to = append(to, *t.AssigneeID)
			} else if to, err = s.supervisorsOf(ctx, tx, t.TeamID); err != nil {
				return err
			}
			for _, pct := range sent {
				evs = append(evs, s.event(systemActor, "ticket", t.ID, "sla.warning", map[string]any{"deadline": k.name, "due_at": deadlineAt, "percent": pct}))
				for _, a := range to {
					notes = append(notes, &Notice{AgentID: a, Kind: "sla.warning", TicketID: &t.ID,
						Body: fmt.Sprintf("%s: %d%% of the %s time has passed; due %s.", t.Ref(), pct, strings.ReplaceAll(k.name, "_", " "), deadlineAt.In(s.cal.loc).Format("2006-01-02 15:04"))})
				}
			}
			if next != nil {
				timers = append(timers, Timer{Kind: fmt.Sprintf("%s-warn%d", k.timer, reached+1), ID: t.ID, At: *next, Due: *deadlineAt})
			}
		}
		if err := s.insertEvents(ctx, tx, evs); err != nil {
			return err
		}
		return s.insertNotices(ctx, tx, notes)
	})
	if err != nil {
		return 0, SweepResult{}, err
	}
	s.schedule(ctx, timers)
	return handled, got, nil
}

// warningSkippedReason says, in a skipped warning's event, why it was not sent.
const warningSkippedReason = "skipped: deadline already passed"

// skippedWarnings are the audit events of warning points given up because their deadline
// had passed by the time they were handled: the timeline shows them, no owner is told.
func skippedWarnings(s *Service, ticketID int64, k deadline, dueAt *time.Time, percents []int) []*Event {
	evs := make([]*Event, 0, len(percents))
	for _, pct := range percents {
		evs = append(evs, s.event(systemActor, "ticket", ticketID, "sla.warning_skipped", map[string]any{
			"deadline": k.name, "due_at": dueAt, "percent": pct, "reason": warningSkippedReason}))
	}
	return evs
}

func (s *Service) pausesOf(ctx context.Context, db bun.IDB, t *Ticket) ([]pause, error) {
	var rows []*TicketPause
	if err := db.NewSelect().Model(&rows).Where("ticket_id = ? AND started_at >= ? AND ended_at IS NOT NULL", t.ID, t.slaStart()).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load pauses: %w", err)
	}
	out := make([]pause, len(rows))
	for i, r := range rows {
		out[i] = pause{r.StartedAt, *r.EndedAt}
	}
	return out, nil
}

// warnComplaints tells officers two working days before a complaint's deadline.
func (s *Service) warnComplaints(ctx context.Context) (int, error) {
	now := s.now()
	var handled int
	err := s.inTx(ctx, func(tx bun.Tx) error {
		var due []*Complaint
		q := tx.NewSelect().Model(&due).
			Where("warn_at IS NOT NULL AND warn_at <= ? AND status IN ('received', 'investigating')", now).
			OrderExpr("warn_at").Limit(sweepBatch)
		if err := s.skipLocked(q).Scan(ctx); err != nil {
			return fmt.Errorf("find complaint warnings: %w", err)
		}
		won, err := s.guardComplaints(ctx, tx, due, "warned_at", "warn_at IS NOT NULL", now)
		if err != nil {
			return err
		}
		var notes []*Notice
		var evs []*Event
		for _, c := range won {
			evs = append(evs, s.event(systemActor, "ticket", c.TicketID, "complaint.warning", map[string]any{"complaint": c.Ref(), "due_at": c.DeadlineAt}))
			to := []int64{}
			if c.OfficerID != nil {
				to = append(to, *c.OfficerID)
			} else if to, err = s.agentsWithRole(ctx, tx, RoleAdmin, nil); err != nil {
				return err
			}
			for _, a := range to {
				notes = append(notes, &Notice{AgentID: a, Kind: "complaint.warning", TicketID: &c.TicketID, ComplaintID: &c.ID,
					Body: fmt.Sprintf("Complaint %s must be decided by %s: %d working days left.", c.Ref(), c.DeadlineAt.In(s.cal.loc).Format("2006-01-02 15:04"), complaintWarnDays)})
			}
		}
		handled = len(won)
		if err := s.insertEvents(ctx, tx, evs); err != nil {
			return err
		}
		return s.insertNotices(ctx, tx, notes)
	})
	return handled, err
}

// breachComplaints escalates complaints past their deadline to the supervisors and admins.
func (s *Service) breachComplaints(ctx context.Context) (int, error) {
	now := s.now()
	var handled int
	err := s.inTx(ctx, func(tx bun.Tx) error {
		var due []*Complaint
		q := tx.NewSelect().Model(&due).
			Where("breached_at IS NULL AND decided_at IS NULL AND deadline_at <= ? AND status IN ('received', 'investigating')", now).
			OrderExpr("deadline_at").Limit(sweepBatch)
		if err := s.skipLocked(q).Scan(ctx); err != nil {
			return fmt.Errorf("find complaint breaches: %w", err)
		}
		won, err := s.guardComplaints(ctx, tx, due, "breached_at", "breached_at IS NULL", now)
		if err != nil {
			return err
		}
		heads, err := s.agentsWithRole(ctx, tx, RoleAdmin, nil)
		if err != nil {
			return err
		}
		var notes []*Notice
		var evs []*Event
		for _, c := range won {
			evs = append(evs, s.event(systemActor, "ticket", c.TicketID, "complaint.breached", map[string]any{"complaint": c.Ref(), "due_at": c.DeadlineAt}))
			to := append([]int64{}, heads...)
			if c.OfficerID != nil {
				o, err := s.agentByID(ctx, tx, *c.OfficerID)
				if err != nil {
					return err
				}
				sup, err := s.agentsWithRole(ctx, tx, RoleSupervisor, o.TeamID)
				if err != nil {
					return err
				}
				to = append(to, sup...)
				if o.TeamID == nil {
					to = append(to, o.ID)
				}
			}
			for _, a := range dedupe(to) {
				notes = append(notes, &Notice{AgentID: a, Kind: "complaint.breached", TicketID: &c.TicketID, ComplaintID: &c.ID,
					Body: fmt.Sprintf("Complaint %s about %s is overdue: its decision was due %s.", c.Ref(), FormatRef(c.TicketID), c.DeadlineAt.In(s.cal.loc).Format("2006-01-02 15:04"))})
			}
		}
		handled = len(won)
		if err := s.insertEvents(ctx, tx, evs); err != nil {
			return err
		}
		return s.insertNotices(ctx, tx, notes)
	})
	return handled, err
}

// guardComplaints stamps column with now on the complaints where guard still holds and
// returns those: the ones this sweep, and no other, handles.
func (s *Service) guardComplaints(ctx context.Context, tx bun.IDB, cs []*Complaint, column, guard string, now time.Time) ([]*Complaint, error) {
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
	if err := q.Where("id IN (?)", bun.In(ids)).Where(guard).Returning("id").Scan(ctx, &won); err != nil {
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

// TimerDue reports whether a timer's row still waits on it: the handler re-reads the
// database and acts only then.
func (s *Service) TimerDue(ctx context.Context, tm Timer) (bool, error) {
	if tm.Kind == ReapplyTimer {
		return true, nil
	}
	if strings.HasPrefix(tm.Kind, "complaint") {
		c := new(Complaint)
		err := s.db.NewSelect().Model(c).Where("id = ?", tm.ID).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("load complaint: %w", err)
		}
		if tm.Kind == "complaint-warn" {
			return c.WarnAt != nil && c.Open(), nil
		}
		return c.BreachedAt == nil && c.Open() && c.DeadlineAt.Unix() == tm.Due.Unix(), nil
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
	if strings.HasPrefix(tm.Kind, resolutionClock.timer) {
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
