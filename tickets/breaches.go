package tickets

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// The tickets' stages of the sweep: warnings before a first-response or resolution
// deadline, and what a breach does under the ticket's policy (warn the supervisors,
// escalate the priority, open a complaint).

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

// breach handles tickets whose deadline passed: records the breach once and does what the
// ticket's policy says (escalate: priority up a step; complaint: open one), telling the
// team's supervisors.
func (s *Service) breach(ctx context.Context, k deadline) (int, SweepResult, error) {
	now := s.now()
	var handled int
	var got SweepResult
	var opened []*OpenedComplaint
	err := s.inTx(ctx, func(tx bun.Tx) error {
		handled, got, opened = 0, SweepResult{}, nil
		var due []*Ticket
		q := tx.NewSelect().Model(&due).
			Column("id", "priority", "team_id", "assignee_id", "policy_id", "channel", k.due, k.warned).
			Where(k.waiting).Where("? <= ?", bun.Ident(k.due), now).
			OrderExpr("? ASC", bun.Ident(k.due)).Limit(sweepBatch)
		if err := s.SkipLocked(q).Scan(ctx); err != nil {
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

		var complaints []ComplaintRequest
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
				complaints = append(complaints, ComplaintRequest{TicketID: t.ID, Source: SourceSLABreach,
					Summary: fmt.Sprintf("%s missed its %s deadline", t.Ref(), strings.ReplaceAll(k.name, "_", " ")), ReceivedAt: now})
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
		timers = append(timers, c.Timers...)
		receipts = append(receipts, c.Receipt)
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
		if err := s.SkipLocked(q).Scan(ctx); err != nil {
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
