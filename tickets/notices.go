package tickets

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Notice is something a member of staff was told: a warning, a breach, a complaint to
// handle. It is written in the transaction that decided to tell them, so it is never lost
// or sent twice; delivery to Slack or email reads from here.
type Notice struct {
	bun.BaseModel `bun:"table:notices"`

	ID          int64  `bun:",pk,autoincrement"`
	AgentID     int64  `bun:",notnull"`
	Kind        string `bun:",notnull"`
	TicketID    *int64
	ComplaintID *int64
	Body        string    `bun:",notnull"`
	CreatedAt   time.Time `bun:",notnull"`
	ReadAt      *time.Time
	// SourceEventID is the audit event the notice was derived from, when it was.
	SourceEventID *int64
}

// AddNotices tells members of staff something inside tx, many rows a statement: the
// notices are stamped with the service's time and delivered (Slack, email) after the
// commit, never lost nor sent twice.
func (s *Service) AddNotices(ctx context.Context, tx bun.IDB, ns []*Notice) error {
	return s.insertNotices(ctx, tx, ns)
}

func (s *Service) insertNotices(ctx context.Context, tx bun.IDB, ns []*Notice) error {
	if len(ns) == 0 {
		return nil
	}
	now := s.now()
	for _, n := range ns {
		n.CreatedAt = now
	}
	for start := 0; start < len(ns); start += 1000 {
		batch := ns[start:min(start+1000, len(ns))]
		if _, err := tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
			return fmt.Errorf("store notices: %w", err)
		}
	}
	return nil
}

// agentsWithRole lists active agents of a role, of one team when team is not nil.
func (s *Service) agentsWithRole(ctx context.Context, db bun.IDB, role Role, team *int64) ([]int64, error) {
	var ids []int64
	q := db.NewSelect().Table("agents").Column("id").Where("role = ? AND active", role)
	if team != nil {
		q = q.Where("team_id = ?", *team)
	}
	if err := q.OrderExpr("id").Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("find %s agents: %w", role, err)
	}
	return ids, nil
}

// AgentsWithRole lists, from db, the ids of the active agents of a role, of one team when
// team is not nil, in id order.
func (s *Service) AgentsWithRole(ctx context.Context, db bun.IDB, role Role, team *int64) ([]int64, error) {
	return s.agentsWithRole(ctx, db, role, team)
}

// supervisorsOf are the people who answer for a team: its supervisors, or the admins when
// it has none.
func (s *Service) supervisorsOf(ctx context.Context, db bun.IDB, team *int64) ([]int64, error) {
	if team != nil {
		ids, err := s.agentsWithRole(ctx, db, RoleSupervisor, team)
		if err != nil || len(ids) > 0 {
			return ids, err
		}
	}
	return s.agentsWithRole(ctx, db, RoleAdmin, nil)
}

// Notices lists an agent's notices, newest first.
func (s *Service) Notices(ctx context.Context, agentID int64, unreadOnly bool, limit int) ([]*Notice, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var ns []*Notice
	q := s.db.NewSelect().Model(&ns).Where("agent_id = ?", agentID).OrderExpr("id DESC").Limit(limit)
	if unreadOnly {
		q = q.Where("read_at IS NULL")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list notices: %w", err)
	}
	return ns, nil
}

// MarkNoticesRead marks an agent's notices up to and including id as read.
func (s *Service) MarkNoticesRead(ctx context.Context, agentID, upTo int64) error {
	_, err := s.db.NewUpdate().Model((*Notice)(nil)).Set("read_at = ?", s.now()).
		Where("agent_id = ? AND id <= ? AND read_at IS NULL", agentID, upTo).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark notices read: %w", err)
	}
	return nil
}
