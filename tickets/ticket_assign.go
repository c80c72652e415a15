package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

// Who has a ticket: assignment by hand (Assign), auto-assignment of a new ticket to the
// team's agent with the fewest open tickets, agents going online, and filling a team's
// unassigned queue.

// Assignment moves a ticket to a team and/or an agent. A nil AssigneeID with a TeamID
// puts the ticket in that team's unassigned queue.
type Assignment struct {
	TeamID     *int64
	AssigneeID *int64
	Reason     string
	// Unassigned takes the ticket only if nobody has it yet (Slack's "Take it", clicked by
	// several people at once): checked under the ticket's row lock, ErrConflict otherwise.
	Unassigned bool
}

// Assign gives a ticket an owner. Agents may take unassigned tickets for themselves;
// moving a ticket to someone else is for supervisors and admins.
func (s *Service) Assign(ctx context.Context, actor Actor, ref string, in Assignment) (*Ticket, error) {
	return s.assign(ctx, actor, ref, in, nil)
}

// AssignDetail is Assign answering with the ticket's detail as it leaves it (changeInto).
func (s *Service) AssignDetail(ctx context.Context, actor Actor, ref string, in Assignment) (*TicketDetail, error) {
	d := new(TicketDetail)
	if _, err := s.assign(ctx, actor, ref, in, d); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Service) assign(ctx context.Context, actor Actor, ref string, in Assignment, d *TicketDetail) (*Ticket, error) {
	if in.TeamID == nil && in.AssigneeID == nil {
		return nil, invalidf("say which team or agent to assign to")
	}
	return s.changeInto(ctx, actor, ref, func(tx bun.Tx, t *Ticket) error {
		if a := actor.Agent; a != nil && a.Role != RoleAdmin && a.Role != RoleSupervisor {
			if in.AssigneeID == nil || *in.AssigneeID != a.ID {
				return forbiddenf("agents can only assign tickets to themselves")
			}
			if in.TeamID != nil && !a.InTeam(in.TeamID) {
				return forbiddenf("agents take tickets into their own team; ask a supervisor to move it")
			}
		}
		if in.Unassigned && t.AssigneeID != nil {
			holder, err := s.agentByID(ctx, tx, *t.AssigneeID)
			if err != nil {
				return err
			}
			return conflictf("%s is already taken by %s", t.Ref(), holder.Email)
		}
		team := in.TeamID
		if in.AssigneeID != nil {
			owner, err := s.agentByID(ctx, tx, *in.AssigneeID)
			if err != nil {
				return err
			}
			if !owner.Active {
				return conflictf("%s is deactivated", owner.Email)
			}
			if team == nil {
				team = owner.TeamID
			}
		}
		if team != nil {
			if _, err := s.teamByID(ctx, tx, *team); err != nil {
				return err
			}
		}
		data := map[string]any{
			"from_team": t.TeamID, "to_team": team,
			"from_assignee": t.AssigneeID, "to_assignee": in.AssigneeID,
		}
		if r := strings.TrimSpace(in.Reason); r != "" {
			data["reason"] = r
		}
		t.TeamID, t.AssigneeID = team, in.AssigneeID
		return s.record(ctx, tx, actor, "ticket", t.ID, "ticket.assigned", data)
	}, d)
}

// MayTake reports whether actor may take t for themselves (the console's "Take it"): not
// theirs yet, and Assign would let them, by the rule every change of the ticket follows.
func (s *Service) MayTake(ctx context.Context, actor Actor, t *Ticket) (bool, error) {
	a := actor.Agent
	if a == nil || t.AssigneeID != nil && *t.AssigneeID == a.ID {
		return false, nil
	}
	if err := s.mayChange(ctx, s.db, actor, t); errors.Is(err, ErrForbidden) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return true, nil
}

// autoAssign gives an unassigned ticket of a team to the available agent with the fewest
// open tickets below their capacity, the longest-waiting first among equals. It reports
// whether anyone was free. The team row is touched first so two assignments in one team
// never both take an agent's last free place. pending are the tickets this transaction
// has assigned but not yet written (an intake batch on PostgreSQL writes its rows at the
// end): they count towards their agents' loads as if they were stored, so a batch fills an
// agent exactly as the same messages one by one would.
func (s *Service) autoAssign(ctx context.Context, tx bun.IDB, t *Ticket, pending []*Ticket) (bool, error) {
	if t.TeamID == nil || t.AssigneeID != nil {
		return false, nil
	}
	if _, err := tx.NewUpdate().Table("teams").Set("updated_at = updated_at").Where("id = ?", *t.TeamID).Exec(ctx); err != nil {
		return false, fmt.Errorf("lock team: %w", err)
	}
	// The team's available agents with their stored loads, in the tie-break order; the load
	// and capacity are compared here, with the pending tickets added.
	var agents []*Agent
	err := tx.NewSelect().Model(&agents).
		ColumnExpr("agent.*").
		ColumnExpr("(SELECT COUNT(*) FROM tickets AS t WHERE t.assignee_id = agent.id AND t.status IN ('new', 'open', 'pending')) AS load").
		Where("agent.team_id = ? AND agent.active AND agent.online AND agent.role <> ? AND agent.capacity > 0", *t.TeamID, RoleAdmin).
		OrderExpr("agent.last_assigned_at ASC NULLS FIRST, agent.id ASC").
		Scan(ctx)
	if err != nil {
		return false, fmt.Errorf("find available agent: %w", err)
	}
	extra := map[int64]int{}
	for _, p := range pending {
		if p.AssigneeID != nil && p.Status.Active() {
			extra[*p.AssigneeID]++
		}
	}
	var a *Agent
	for _, c := range agents {
		c.Load += extra[c.ID]
		if c.Load < c.Capacity && (a == nil || c.Load < a.Load) {
			a = c
		}
	}
	if a == nil {
		return false, nil
	}
	now := s.now()
	t.AssigneeID = &a.ID
	if _, err := tx.NewUpdate().Model(a).Set("last_assigned_at = ?", now).WherePK().Exec(ctx); err != nil {
		return false, fmt.Errorf("mark agent assigned: %w", err)
	}
	return true, nil
}

// SetOnline says whether an agent is taking new work. Coming online pulls waiting tickets
// from the team's unassigned queue.
func (s *Service) SetOnline(ctx context.Context, actor Actor, online bool) (*Agent, error) {
	a := actor.Agent
	if a == nil {
		return nil, forbiddenf("only agents go online")
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model(a).Set("online = ?", online).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("set presence: %w", err)
		}
		kind := "agent.offline"
		if online {
			kind = "agent.online"
		}
		return s.record(ctx, tx, actor, "agent", a.ID, kind, nil)
	})
	if err != nil {
		return nil, err
	}
	a.Online = online
	if online && a.TeamID != nil {
		if _, err := s.FillQueue(ctx, *a.TeamID); err != nil {
			return a, err
		}
	}
	return a, nil
}

// FillQueue assigns a team's waiting tickets, nearest deadline first, while agents have room.
func (s *Service) FillQueue(ctx context.Context, teamID int64) (int, error) {
	assigned := 0
	for {
		var t *Ticket
		done := false
		err := s.inTx(ctx, func(tx bun.Tx) error {
			t = new(Ticket)
			err := tx.NewSelect().Model(t).
				Where("team_id = ? AND assignee_id IS NULL AND status IN ('new', 'open', 'pending')", teamID).
				OrderExpr("next_due_at, id").Limit(1).Scan(ctx)
			if errors.Is(err, sql.ErrNoRows) {
				done = true
				return nil
			}
			if err != nil {
				return fmt.Errorf("next unassigned ticket: %w", err)
			}
			ok, err := s.autoAssign(ctx, tx, t, nil)
			if err != nil || !ok {
				done = true
				return err
			}
			res, err := tx.NewUpdate().Table("tickets").Set("assignee_id = ?, updated_at = ?", *t.AssigneeID, s.now()).
				Where("id = ? AND assignee_id IS NULL", t.ID).Exec(ctx)
			if err != nil {
				return fmt.Errorf("assign from queue: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil // someone took it meanwhile; look again
			}
			return s.record(ctx, tx, systemActor, "ticket", t.ID, "ticket.assigned", map[string]any{
				"to_assignee": *t.AssigneeID, "to_team": teamID, "reason": "auto-assigned from the team queue",
			})
		})
		if err != nil || done {
			return assigned, err
		}
		assigned++
	}
}

// FillQueues runs FillQueue for every team with waiting tickets.
func (s *Service) FillQueues(ctx context.Context) (int, error) {
	var teams []int64
	if err := s.db.NewSelect().Table("tickets").ColumnExpr("DISTINCT team_id").
		Where("team_id IS NOT NULL AND assignee_id IS NULL AND status IN ('new', 'open', 'pending')").Scan(ctx, &teams); err != nil {
		return 0, fmt.Errorf("teams with waiting tickets: %w", err)
	}
	total := 0
	for _, id := range teams {
		n, err := s.FillQueue(ctx, id)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
