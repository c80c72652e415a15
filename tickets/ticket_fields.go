package tickets

import (
	"context"
	"strings"

	"github.com/uptrace/bun"
)

// A ticket's priority and category, and the deadlines that follow them.

// SetPriority changes how urgent a ticket is.
func (s *Service) SetPriority(ctx context.Context, actor Actor, ref string, p Priority, reason string) (*Ticket, error) {
	return s.setPriority(ctx, actor, ref, p, reason, nil)
}

// SetPriorityDetail is SetPriority answering with the ticket's detail as it leaves it
// (changeInto).
func (s *Service) SetPriorityDetail(ctx context.Context, actor Actor, ref string, p Priority, reason string) (*TicketDetail, error) {
	d := new(TicketDetail)
	if _, err := s.setPriority(ctx, actor, ref, p, reason, d); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Service) setPriority(ctx context.Context, actor Actor, ref string, p Priority, reason string, d *TicketDetail) (*Ticket, error) {
	if !p.Valid() {
		return nil, invalidf("unknown priority %q (low, normal, high, urgent)", p)
	}
	return s.changeInto(ctx, actor, ref, func(tx bun.Tx, t *Ticket) error {
		if t.Priority == p {
			return conflictf("%s is already %s priority", t.Ref(), p)
		}
		data := changeData(t.Priority, p, reason)
		t.Priority = p
		if err := s.retime(ctx, tx, t, data); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, "ticket", t.ID, "priority.changed", data)
	}, d)
}

// SetCategory files a ticket under a category; its SLA policy may change with it.
func (s *Service) SetCategory(ctx context.Context, actor Actor, ref, category, reason string) (*Ticket, error) {
	return s.setCategory(ctx, actor, ref, category, reason, nil)
}

// SetCategoryDetail is SetCategory answering with the ticket's detail as it leaves it
// (changeInto).
func (s *Service) SetCategoryDetail(ctx context.Context, actor Actor, ref, category, reason string) (*TicketDetail, error) {
	d := new(TicketDetail)
	if _, err := s.setCategory(ctx, actor, ref, category, reason, d); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Service) setCategory(ctx context.Context, actor Actor, ref, category, reason string, d *TicketDetail) (*Ticket, error) {
	category = strings.TrimSpace(category)
	if len(category) > 100 {
		return nil, invalidf("a category has at most 100 characters")
	}
	return s.changeInto(ctx, actor, ref, func(tx bun.Tx, t *Ticket) error {
		if t.Category == category {
			return conflictf("%s is already in category %q", t.Ref(), category)
		}
		data := changeData(t.Category, category, reason)
		t.Category = category
		if err := s.retime(ctx, tx, t, data); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, "ticket", t.ID, "category.changed", data)
	}, d)
}

// retime applies the SLA policy that now matches an open ticket after a change of priority
// or category, and notes the new deadlines in the event's data.
func (s *Service) retime(ctx context.Context, tx bun.IDB, t *Ticket, data map[string]any) error {
	if !t.Status.Active() {
		return nil
	}
	if err := s.applyDeadlines(ctx, tx, t); err != nil {
		return err
	}
	data["first_response_due_at"], data["resolution_due_at"] = t.FirstResponseDueAt, t.ResolutionDueAt
	return nil
}
