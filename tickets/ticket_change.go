package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// How a change to one ticket runs (change): the ticket found by its reference, who may
// change it (mayChange), the change made in one transaction with the row locked, then its
// timers scheduled and, when an agent was freed, the team's queue refilled. The changes
// themselves are in ticket_status.go, ticket_assign.go, ticket_fields.go and replies.go.

// ticketByID loads a ticket, or ErrNotFound.
func (s *Service) ticketByID(ctx context.Context, db bun.IDB, id int64) (*Ticket, error) {
	t := new(Ticket)
	if err := db.NewSelect().Model(t).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFoundf("ticket %s not found", FormatRef(id))
		}
		return nil, fmt.Errorf("load ticket %d: %w", id, err)
	}
	return t, nil
}

// TicketByID loads ticket id, or ErrNotFound: for the chapters that hold a ticket's id
// outside a transaction (Tx.Ticket is the one inside).
func (s *Service) TicketByID(ctx context.Context, id int64) (*Ticket, error) {
	return s.ticketByID(ctx, s.db, id)
}

// change loads the ticket a reference names, checks that the actor may change it, and runs
// fn in one transaction. The ticket row is locked for the transaction, so concurrent
// changes to one ticket happen one after the other.
func (s *Service) change(ctx context.Context, actor Actor, ref string, fn func(tx bun.Tx, t *Ticket) error) (*Ticket, error) {
	return s.changeInto(ctx, actor, ref, fn, nil)
}

// changeInto is change that, given d, also fills it with the ticket's detail as the change
// leaves it: on PostgreSQL read in the change's own transaction, the row still locked (no
// second transaction to begin and end); on SQLite read once the write has committed, so
// that the one writer's turn is not spent reading. If filling the team's queue then
// assigned tickets, the detail is read again: the change's answer shows what a read
// right after it shows.
func (s *Service) changeInto(ctx context.Context, actor Actor, ref string, fn func(tx bun.Tx, t *Ticket) error, d *TicketDetail) (*Ticket, error) {
	id, ok := ParseRef(ref)
	if !ok {
		return nil, notFoundf("%q is not a ticket reference (expected e.g. %s)", ref, FormatRef(123))
	}
	var t *Ticket
	var before Ticket
	pg := s.db.Dialect().Name() == dialect.PG
	err := s.inTx(ctx, func(tx bun.Tx) error {
		// Touch the row first: it takes the row lock on PostgreSQL (SQLite's immediate
		// transaction already holds the write lock).
		res, err := tx.NewUpdate().Table("tickets").Set("updated_at = ?", s.now()).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("lock ticket: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFoundf("ticket %s not found", FormatRef(id))
		}
		if t, err = s.ticketByID(ctx, tx, id); err != nil {
			return err
		}
		if err := s.mayChange(ctx, tx, actor, t); err != nil {
			return err
		}
		before = *t
		if err := fn(tx, t); err != nil {
			return err
		}
		t.refreshNextDue()
		if _, err := tx.NewUpdate().Model(t).WherePK().ExcludeColumn("id", "created_at").Exec(ctx); err != nil {
			return fmt.Errorf("save ticket: %w", err)
		}
		if d != nil && pg {
			loaded, err := s.loadDetail(ctx, tx, id)
			if err != nil {
				return err
			}
			*d = *loaded
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.schedule(ctx, t.timers())
	// An agent with one ticket fewer may take the next from the team's queue.
	freed := before.AssigneeID != nil && (before.Status.Active() && !t.Status.Active() || !sameID(before.AssigneeID, t.AssigneeID))
	filled := 0
	if freed && before.TeamID != nil {
		if filled, err = s.FillQueue(ctx, *before.TeamID); err != nil {
			s.log.Warn("could not fill the team queue; the reconciler will", "team", *before.TeamID, "err", err)
		}
	}
	if d != nil && (!pg || filled > 0) {
		loaded, err := s.loadDetail(ctx, s.db, id)
		if err != nil {
			return nil, err
		}
		*d = *loaded
	}
	return t, nil
}

func sameID(a, b *int64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

// MayChange refuses (ErrForbidden) an actor who may not work t; see mayChange. Readers
// outside a transaction ask it (tickets/privacy: who may reveal a customer's values).
func (s *Service) MayChange(ctx context.Context, actor Actor, t *Ticket) error {
	return s.mayChange(ctx, s.db, actor, t)
}

// mayChange enforces who may work a ticket: admins; the assignee; a supervisor of the
// ticket's team or of the assignee's team; and, while nobody owns it, any agent of its team
// (or anyone when it has no team), so unassigned work can be picked up.
func (s *Service) mayChange(ctx context.Context, db bun.IDB, actor Actor, t *Ticket) error {
	a := actor.Agent
	if a == nil || a.Role == RoleAdmin {
		return nil
	}
	if t.AssigneeID != nil && *t.AssigneeID == a.ID {
		return nil
	}
	if t.AssigneeID == nil && (t.TeamID == nil || a.InTeam(t.TeamID)) {
		return nil
	}
	if a.Role == RoleSupervisor {
		if a.InTeam(t.TeamID) {
			return nil
		}
		if t.AssigneeID != nil {
			owner, err := s.agentByID(ctx, db, *t.AssigneeID)
			if err != nil {
				return err
			}
			if a.InTeam(owner.TeamID) {
				return nil
			}
		}
	}
	return forbiddenf("only the assignee, their supervisor or an admin can change %s", t.Ref())
}

// changeData is an audit event's from, to and, when given, the reason.
func changeData(from, to any, reason string) map[string]any {
	data := map[string]any{"from": from, "to": to}
	if r := strings.TrimSpace(reason); r != "" {
		data["reason"] = r
	}
	return data
}
