package deadlines

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
)

// The tickets' stages of the sweep: warnings before a first-response or resolution
// deadline, and what a breach does under the ticket's policy (warn the supervisors,
// escalate the priority, open a complaint).

// SweepResult counts what a sweep of the tickets' deadlines handled.
type SweepResult struct {
	Warnings int
	// SkippedWarnings are warning points whose deadline had passed when they were handled:
	// recorded, not sent.
	SkippedWarnings int
	Breaches        int
}

func (r *SweepResult) add(o SweepResult) {
	r.Warnings += o.Warnings
	r.SkippedWarnings += o.SkippedWarnings
	r.Breaches += o.Breaches
}

// Sweep handles every warning and breach of the tickets' deadlines that has come due, in
// batches. Deadline timers and the reconciler both call it (and then the complaints'
// sweep, which runs its stages as these run, with tickets.Service.RunSweep). Each stage is
// guarded in the database (the breach column is set only where it is still empty), so two
// workers sweeping at once, or a timer and the reconciler, act exactly once; on PostgreSQL
// they also split the work (SKIP LOCKED). Warnings are settled before breaches, so a
// timeline never shows a warning after the breach it was meant to prevent.
//
// The stages fail alone: one that fails (a row it cannot handle, say) is logged and the
// others still run and commit, so a stuck ticket never keeps other deadlines from being
// handled. The errors are returned together afterwards, so the job is retried.
func (s *Service) Sweep(ctx context.Context) (SweepResult, error) {
	var (
		mu sync.Mutex
		r  SweepResult
	)
	stage := func(name string, run func(context.Context) (int, SweepResult, error)) tickets.SweepStage {
		return tickets.SweepStage{Name: name, Run: func(ctx context.Context) (int, error) {
			n, got, err := run(ctx)
			mu.Lock()
			r.add(got)
			mu.Unlock()
			return n, err
		}}
	}
	first, resolution := tickets.FirstResponseClock, tickets.ResolutionClock
	_, err := s.svc.RunSweep(ctx,
		stage("first response warnings", func(ctx context.Context) (int, SweepResult, error) { return s.warn(ctx, first) }),
		stage("resolution warnings", func(ctx context.Context) (int, SweepResult, error) { return s.warn(ctx, resolution) }),
		stage("first response breaches", func(ctx context.Context) (int, SweepResult, error) { return s.breach(ctx, first) }),
		stage("resolution breaches", func(ctx context.Context) (int, SweepResult, error) { return s.breach(ctx, resolution) }),
	)
	return r, err // every stage's transactions have ended
}

// breach handles tickets whose deadline passed: records the breach once and does what the
// ticket's policy says (escalate: priority up a step; complaint: open one), telling the
// team's supervisors.
func (s *Service) breach(ctx context.Context, k tickets.SLAClock) (int, SweepResult, error) {
	now := s.svc.Now()
	warnAt := s.svc.WarnAt()
	var handled int
	var got SweepResult
	var opened []*tickets.OpenedComplaint
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		handled, got, opened = 0, SweepResult{}, nil
		due, err := tx.DueBreaches(ctx, k, now)
		if err != nil || len(due) == 0 {
			return err
		}
		ids := make([]int64, len(due))
		actions := make(map[int64]tickets.BreachAction, len(due))
		var escalate []int64
		for i, t := range due {
			ids[i] = t.ID
			p, err := tx.Policy(ctx, t)
			if err != nil {
				return err
			}
			actions[t.ID] = k.Action(p)
			if actions[t.ID] == tickets.BreachEscalate && t.Priority.Raised() != t.Priority {
				escalate = append(escalate, t.ID)
			}
		}
		// One guarded UPDATE stamps the breach and raises the priority: a row another sweep
		// handled meanwhile no longer waits on the clock and is left alone. Warnings not yet
		// given are settled as skipped (below), never to be sent after the breach.
		breached, err := tx.RecordBreaches(ctx, k, ids, escalate, now)
		if err != nil {
			return err
		}
		won := make(map[int64]bool, len(breached))
		for _, id := range breached {
			won[id] = true
		}

		var complaints []tickets.ComplaintRequest
		var evs []*tickets.Event
		byTeam := map[int64][]string{}
		for _, t := range due {
			if !won[t.ID] {
				continue
			}
			action := actions[t.ID]
			data := map[string]any{"deadline": k.Name(), "due_at": k.Due(t), "action": action}
			switch action {
			case tickets.BreachEscalate:
				if up := t.Priority.Raised(); up != t.Priority {
					data["priority_from"], data["priority_to"] = t.Priority, up
				}
			case tickets.BreachComplaint:
				complaints = append(complaints, tickets.ComplaintRequest{TicketID: t.ID, Source: tickets.SourceSLABreach,
					Summary: fmt.Sprintf("%s missed its %s deadline", t.Ref(), strings.ReplaceAll(k.Name(), "_", " ")), ReceivedAt: now})
			}
			// Warning points the warning stage had not reached (their moment came between
			// its reading of the clock and this one's) are recorded skipped, before the breach.
			var skipped []int
			for level := k.Warned(t); level < len(warnAt); level++ {
				skipped = append(skipped, int(warnAt[level]*100))
			}
			got.SkippedWarnings += len(skipped)
			evs = append(evs, skippedWarnings(tx, t.ID, k, k.Due(t), skipped)...)
			evs = append(evs, tx.Event(system, "ticket", t.ID, "sla.breached", data))
			var team int64
			if t.TeamID != nil {
				team = *t.TeamID
			}
			byTeam[team] = append(byTeam[team], t.Ref())
		}
		if err := tx.Record(ctx, evs...); err != nil {
			return err
		}
		if opened, err = tx.OpenComplaints(ctx, system, complaints); err != nil {
			return err
		}
		if err := tellSupervisors(ctx, tx, "sla.breached", byTeam, func(refs string) string {
			return fmt.Sprintf("Missed %s deadline: %s", strings.ReplaceAll(k.Name(), "_", " "), refs)
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
	var timers []tickets.Timer
	var receipts []int64
	for _, c := range opened {
		timers = append(timers, c.Timers...)
		receipts = append(receipts, c.Receipt)
	}
	s.svc.Schedule(ctx, timers)
	s.svc.Deliver(ctx, receipts...)
	return handled, got, nil
}

// tellSupervisors sends one notice per team's supervisor listing the team's tickets.
func tellSupervisors(ctx context.Context, tx tickets.Tx, kind string, byTeam map[int64][]string, body func(refs string) string) error {
	var notes []*tickets.Notice
	for team, refs := range byTeam {
		var teamID *int64
		if team != 0 {
			teamID = &team
		}
		to, err := tx.SupervisorsOf(ctx, teamID)
		if err != nil {
			return err
		}
		list := strings.Join(refs[:min(len(refs), 20)], ", ")
		if len(refs) > 20 {
			list += fmt.Sprintf(" and %d more", len(refs)-20)
		}
		for _, a := range to {
			n := &tickets.Notice{AgentID: a, Kind: kind, Body: body(list)}
			if len(refs) == 1 {
				id, _ := tickets.ParseRef(refs[0])
				n.TicketID = &id
			}
			notes = append(notes, n)
		}
	}
	return tx.AddNotices(ctx, notes)
}

// warn tells owners that a deadline is near (75% and 90% of its time, by default). Every
// warning point that has passed is settled in one go: sent while its deadline is still
// ahead (late, after a lost timer, but still useful), or recorded as skipped once the
// deadline itself has passed, so that no owner is warned of a deadline already missed and
// no warning is left hanging to be recorded after the breach.
func (s *Service) warn(ctx context.Context, k tickets.SLAClock) (int, SweepResult, error) {
	now := s.svc.Now()
	warnAt := s.svc.WarnAt()
	loc := s.svc.Calendar().Location()
	var handled int
	var got SweepResult
	var timers []tickets.Timer
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		handled, got, timers = 0, SweepResult{}, nil
		due, err := tx.DueWarnings(ctx, k, now)
		if err != nil {
			return err
		}
		var notes []*tickets.Notice
		var evs []*tickets.Event
		for _, t := range due {
			level, next := k.Warned(t), k.WarnAt(t)
			p, err := tx.Policy(ctx, t)
			if err != nil {
				return err
			}
			warning, err := tx.Warnings(ctx, k, t, p)
			if err != nil {
				return err
			}
			deadlineAt := k.Due(t)
			missed := deadlineAt != nil && !deadlineAt.After(now)
			var sent, skipped []int // the percentages settled now, in order
			reached := level
			for next != nil && !next.After(now) && reached < len(warnAt) {
				pct := int(warnAt[reached] * 100)
				if missed {
					skipped = append(skipped, pct)
				} else {
					sent = append(sent, pct)
				}
				reached++
				next = warning(reached)
			}
			if missed { // every point lies before the deadline: none is left to come
				for ; reached < len(warnAt); reached++ {
					skipped = append(skipped, int(warnAt[reached]*100))
				}
				next = nil
			}
			if reached == level { // no warning is left to give (fewer configured now): stop asking
				next = nil
			}
			if ok, err := tx.SettleWarnings(ctx, k, t, reached, next); err != nil {
				return err
			} else if !ok {
				continue
			}
			handled++
			got.Warnings += len(sent)
			got.SkippedWarnings += len(skipped)
			evs = append(evs, skippedWarnings(tx, t.ID, k, deadlineAt, skipped)...)
			if len(sent) == 0 {
				continue
			}
			to := []int64{}
			if t.AssigneeID != nil {
				to = append(to, *t.AssigneeID)
			} else if to, err = tx.SupervisorsOf(ctx, t.TeamID); err != nil {
				return err
			}
			for _, pct := range sent {
				evs = append(evs, tx.Event(system, "ticket", t.ID, "sla.warning", map[string]any{"deadline": k.Name(), "due_at": deadlineAt, "percent": pct}))
				for _, a := range to {
					notes = append(notes, &tickets.Notice{AgentID: a, Kind: "sla.warning", TicketID: &t.ID,
						Body: fmt.Sprintf("%s: %d%% of the %s time has passed; due %s.", t.Ref(), pct, strings.ReplaceAll(k.Name(), "_", " "), deadlineAt.In(loc).Format("2006-01-02 15:04"))})
				}
			}
			if next != nil {
				timers = append(timers, tickets.Timer{Kind: fmt.Sprintf("%s-warn%d", k.TimerKind(), reached+1), ID: t.ID, At: *next, Due: *deadlineAt})
			}
		}
		if err := tx.Record(ctx, evs...); err != nil {
			return err
		}
		return tx.AddNotices(ctx, notes)
	})
	if err != nil {
		return 0, SweepResult{}, err
	}
	s.svc.Schedule(ctx, timers)
	return handled, got, nil
}

// warningSkippedReason says, in a skipped warning's event, why it was not sent.
const warningSkippedReason = "skipped: deadline already passed"

// skippedWarnings are the audit events of warning points given up because their deadline
// had passed by the time they were handled: the timeline shows them, no owner is told.
func skippedWarnings(tx tickets.Tx, ticketID int64, k tickets.SLAClock, dueAt *time.Time, percents []int) []*tickets.Event {
	evs := make([]*tickets.Event, 0, len(percents))
	for _, pct := range percents {
		evs = append(evs, tx.Event(system, "ticket", ticketID, "sla.warning_skipped", map[string]any{
			"deadline": k.Name(), "due_at": dueAt, "percent": pct, "reason": warningSkippedReason}))
	}
	return evs
}
