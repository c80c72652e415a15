package tickets

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// The status machine (new → open → pending → resolved → closed, and reopening) and moving
// a ticket along it: pending pauses the resolution clock (sla.go), resolving tells the
// customer and sets off the Aftercare, reopening starts a new resolution window.

// Status is where a ticket stands: new → open → pending → resolved → closed, with reopening.
type Status string

const (
	StatusNew      Status = "new"      // nobody has answered yet
	StatusOpen     Status = "open"     // an agent is on it
	StatusPending  Status = "pending"  // waiting on the customer
	StatusResolved Status = "resolved" // answered; reopens if the customer comes back
	StatusClosed   Status = "closed"   // done and archived
)

// transitions lists where each status may go. Reopening is resolved/closed → open.
var transitions = map[Status][]Status{
	StatusNew:      {StatusOpen, StatusPending, StatusResolved},
	StatusOpen:     {StatusPending, StatusResolved},
	StatusPending:  {StatusOpen, StatusResolved},
	StatusResolved: {StatusOpen, StatusClosed},
	StatusClosed:   {StatusOpen},
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// CanBecome reports whether a ticket in status s may move to next.
func (s Status) CanBecome(next Status) bool {
	for _, to := range transitions[s] {
		if to == next {
			return true
		}
	}
	return false
}

// Active reports whether the ticket still needs work: new, open or pending.
func (s Status) Active() bool {
	return s == StatusNew || s == StatusOpen || s == StatusPending
}

var activeStatuses = []Status{StatusNew, StatusOpen, StatusPending}

// statusWords are the statuses as customers read them, in Chinese and English.
var statusWords = map[Status][2]string{
	StatusNew: {"已受理", "received"}, StatusOpen: {"处理中", "being worked on"},
	StatusPending: {"等待您的回复", "waiting for your reply"}, StatusResolved: {"已解决", "resolved"}, StatusClosed: {"已结案", "closed"},
}

// Words is the status as a customer reads it: by SMS, on the phone, on the status page.
func (s Status) Words(english bool) string {
	if english {
		return statusWords[s][1]
	}
	return statusWords[s][0]
}

// SetStatus moves a ticket along new → open → pending → resolved → closed, or reopens it.
func (s *Service) SetStatus(ctx context.Context, actor Actor, ref string, to Status, reason string) (*Ticket, error) {
	return s.setStatus(ctx, actor, ref, to, reason, nil)
}

// SetStatusDetail is SetStatus answering with the ticket's detail as it leaves it
// (changeInto).
func (s *Service) SetStatusDetail(ctx context.Context, actor Actor, ref string, to Status, reason string) (*TicketDetail, error) {
	d := new(TicketDetail)
	if _, err := s.setStatus(ctx, actor, ref, to, reason, d); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Service) setStatus(ctx context.Context, actor Actor, ref string, to Status, reason string, d *TicketDetail) (*Ticket, error) {
	if !to.Valid() {
		return nil, invalidf("unknown status %q (new, open, pending, resolved, closed)", to)
	}
	var told []int64
	t, err := s.changeInto(ctx, actor, ref, func(tx bun.Tx, t *Ticket) error {
		var err error
		told, err = s.transition(ctx, tx, t, to, actor, reason)
		return err
	}, d)
	if err != nil {
		return nil, err
	}
	s.deliver(ctx, told...)
	return t, nil
}

// changeStatus applies a transition to t (saved by the caller) and records it. A message
// it queues to the customer (on resolution) is sent by the reconciler; callers
// that resolve tickets use transition and hand it to deliver after the commit.
func (s *Service) changeStatus(ctx context.Context, tx bun.IDB, t *Ticket, to Status, actor Actor, reason string) error {
	_, err := s.transition(ctx, tx, t, to, actor, reason)
	return err
}

// transition is changeStatus returning the ids of the messages it queued to the customer.
// Resolving a ticket tells the customer (Config.Notices) and sets off the Aftercare (the
// follow-up calls, the satisfaction survey); reopening one tells the Aftercare, which
// cancels the calls still open.
func (s *Service) transition(ctx context.Context, tx bun.IDB, t *Ticket, to Status, actor Actor, reason string) ([]int64, error) {
	from := t.Status
	if from == to {
		return nil, conflictf("%s is already %s", t.Ref(), to)
	}
	if !from.CanBecome(to) {
		return nil, conflictf("%s cannot go from %s to %s", t.Ref(), from, to)
	}
	now := s.now()
	data := changeData(from, to, reason)
	if from == StatusPending {
		paused, err := s.resumeClock(ctx, tx, t, now)
		if err != nil {
			return nil, err
		}
		data["paused_seconds"] = int64(paused / time.Second)
	}
	switch to {
	case StatusPending:
		if err := s.pauseClock(ctx, tx, t, now); err != nil {
			return nil, err
		}
	case StatusResolved:
		t.ResolvedAt = &now
		t.FirstResponseWarnAt, t.ResolutionWarnAt = nil, nil
	case StatusClosed:
		t.ClosedAt = &now
	case StatusOpen:
		if from == StatusResolved || from == StatusClosed {
			// Reopened: a new resolution window starts now.
			t.ResolvedAt, t.ClosedAt, t.ResolutionBreachedAt, t.ResolutionWarned = nil, nil, nil, 0
			t.SLAStartedAt = &now
			t.Status = to
			if err := s.applyDeadlines(ctx, tx, t); err != nil {
				return nil, err
			}
		}
	}
	t.Status = to
	t.refreshNextDue()
	if to.Active() {
		data["resolution_due_at"] = t.ResolutionDueAt
	}
	kind := "status.changed"
	if to == StatusOpen && (from == StatusResolved || from == StatusClosed) {
		kind = "ticket.reopened"
	}
	// What the change sets off is recorded first, so the change itself is the last event.
	var told []int64
	switch {
	case kind == "ticket.reopened":
		if s.care != nil {
			if err := s.care.Reopened(ctx, s.chapterTx(tx), t, actor); err != nil {
				return nil, err
			}
		}
	case to == StatusResolved:
		// The customer is told it is resolved, then the aftercare follows (the calls, and
		// the survey asking how it went).
		if s.cfg.Notices {
			notice, err := s.notify(ctx, tx, t, TemplateResolved, TemplateData{})
			if err != nil {
				return nil, err
			}
			told = append(told, notice)
		}
		if s.care != nil {
			queued, err := s.care.Resolved(ctx, s.chapterTx(tx), t)
			if err != nil {
				return nil, err
			}
			told = append(told, queued...)
		}
	}
	return told, s.record(ctx, tx, actor, "ticket", t.ID, kind, data)
}
