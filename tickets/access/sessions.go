package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
)

// Session is one of an agent's signed-in sessions, as their account page and the people
// admin page list them: the browser that signed in, its address masked, and when.
type Session struct {
	ID         int64
	AgentID    int64
	UserAgent  string
	Client     string // masked: 203.0.*.*, 2001:db8::*
	CreatedAt  time.Time
	LastSeenAt *time.Time
	Current    bool // the session asking
}

// Sessions lists agent id's live sessions, newest first; current is the asker's token,
// marked Current. Agents see their own, admins anyone's (ErrForbidden otherwise).
func (s *Service) Sessions(ctx context.Context, actor tickets.Actor, id int64, current string) ([]Session, error) {
	if err := ownOrAdmin(actor, id); err != nil {
		return nil, err
	}
	var rows []apiToken
	err := s.db.NewSelect().Model(&rows).
		Where("agent_id = ? AND revoked_at IS NULL AND expires_at > ?", id, s.now()).
		OrderExpr("created_at DESC, id DESC").Limit(200).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	cur := ""
	if current != "" {
		cur = hashToken(current)
	}
	out := make([]Session, len(rows))
	for i, r := range rows {
		out[i] = Session{ID: r.ID, AgentID: r.AgentID, UserAgent: r.UserAgent, Client: MaskIP(r.ClientIP),
			CreatedAt: r.CreatedAt, LastSeenAt: r.LastSeenAt, Current: cur != "" && r.TokenHash == cur}
	}
	return out, nil
}

// EndSession ends session id: an agent their own, an admin anyone's (ErrForbidden
// otherwise; ErrNotFound when it is not live). It returns the session's agent id.
func (s *Service) EndSession(ctx context.Context, actor tickets.Actor, id int64) (int64, error) {
	var agentID int64
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		row := new(apiToken)
		err := tx.NewSelect().Model(row).Where("id = ? AND revoked_at IS NULL AND expires_at > ?", id, s.now()).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return tickets.NotFoundf("no such session, or it has ended")
		}
		if err != nil {
			return fmt.Errorf("find session: %w", err)
		}
		if err := ownOrAdmin(actor, row.AgentID); err != nil {
			return err
		}
		agentID = row.AgentID
		res, err := tx.NewUpdate().Model((*apiToken)(nil)).Set("revoked_at = ?", s.now()).
			Where("id = ? AND revoked_at IS NULL", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return tickets.NotFoundf("no such session, or it has ended")
		}
		return tx.Record(ctx, tx.Event(actor, "agent", row.AgentID, "agent.session_ended", map[string]any{"session": id}))
	})
	return agentID, err
}

func ownOrAdmin(actor tickets.Actor, id int64) error {
	if actor.Agent == nil || (actor.Agent.ID != id && actor.Agent.Role != tickets.RoleAdmin) {
		return tickets.Forbiddenf("only admins see and end other people's sessions")
	}
	return nil
}

// MaskIP hides the host part of an address: the last two octets of IPv4, all but the
// first 32 bits of IPv6.
func MaskIP(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return ""
	}
	ip = ip.Unmap()
	if ip.Is4() {
		b := ip.As4()
		return fmt.Sprintf("%d.%d.*.*", b[0], b[1])
	}
	b := ip.As16()
	return fmt.Sprintf("%x:%x::*", uint16(b[0])<<8|uint16(b[1]), uint16(b[2])<<8|uint16(b[3]))
}
