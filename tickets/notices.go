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
	// Link is the console page the notice is about when that is not a ticket or a
	// complaint: a path on this site (/admin/webhooks/3), "" for none.
	Link string `bun:",notnull"`
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

// Notices lists an agent's notices, newest first (ListNotices with only the unread filter).
func (s *Service) Notices(ctx context.Context, agentID int64, unreadOnly bool, limit int) ([]*Notice, error) {
	return s.ListNotices(ctx, agentID, NoticeFilter{Unread: unreadOnly, Limit: limit})
}

// NoticeFilter picks a page of an agent's notices.
type NoticeFilter struct {
	Unread bool  // only those not yet read
	Before int64 // only those with a smaller id (the last id of the previous page); 0: from the newest
	Limit  int   // 1–500; anything else means 100
}

// ListNotices lists a page of an agent's notices, newest first. Only the agent's own are
// ever read: agentID is the signed-in agent, never a parameter of the request.
func (s *Service) ListNotices(ctx context.Context, agentID int64, f NoticeFilter) ([]*Notice, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	var ns []*Notice
	q := s.db.NewSelect().Model(&ns).Where("agent_id = ?", agentID).OrderExpr("id DESC").Limit(f.Limit)
	if f.Unread {
		q = q.Where("read_at IS NULL")
	}
	if f.Before > 0 {
		q = q.Where("id < ?", f.Before)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list notices: %w", err)
	}
	return ns, nil
}

// UnreadNotices counts an agent's notices not yet read: the number on the console's menu.
func (s *Service) UnreadNotices(ctx context.Context, agentID int64) (int, error) {
	n, err := s.db.NewSelect().Model((*Notice)(nil)).Where("agent_id = ? AND read_at IS NULL", agentID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count unread notices: %w", err)
	}
	return n, nil
}

// NoticeSignal says a notice was stored for an agent: what the live feed passes on.
type NoticeSignal struct {
	ID       int64
	AgentID  int64
	Kind     string
	TicketID *int64
	Body     string
}

// NoticesAfter lists the notices stored with an id above after, oldest first, at most
// limit: the live feed's reading of new notices for every agent.
func (s *Service) NoticesAfter(ctx context.Context, after int64, limit int) ([]NoticeSignal, error) {
	var out []NoticeSignal
	err := s.db.NewSelect().Table("notices").Column("id", "agent_id", "kind", "ticket_id", "body").
		Where("id > ?", after).OrderExpr("id").Limit(limit).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("read new notices: %w", err)
	}
	return out, nil
}

// LastNoticeID is the newest notice's id, 0 when there is none.
func (s *Service) LastNoticeID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.db.NewSelect().Table("notices").ColumnExpr("COALESCE(MAX(id), 0)").Scan(ctx, &id); err != nil {
		return 0, fmt.Errorf("read the last notice: %w", err)
	}
	return id, nil
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
