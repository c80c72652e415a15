package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Change is one audit event as the web console's live feed sees it: which ticket or
// complaint moved, and whose queue it sits in now.
type Change struct {
	ID         int64
	Kind       string // the event kind, e.g. "message.received", "ticket.assigned"
	Entity     string // "ticket" or "complaint"
	EntityID   int64
	TicketID   int64 // the ticket, for a complaint's change too
	TeamID     *int64
	AssigneeID *int64
	ActorID    *int64 // the agent who made the change; nil for the customer and the system
	CreatedAt  time.Time
}

// Ref is the reference of the ticket the change belongs to.
func (c *Change) Ref() string { return FormatRef(c.TicketID) }

// ChangesAfter lists ticket and complaint events with an id above after, oldest first.
// It reads the primary key only, so polling it costs the same on any size of desk.
func (s *Service) ChangesAfter(ctx context.Context, after int64, limit int) ([]*Change, error) {
	var out []*Change
	err := s.db.NewSelect().
		TableExpr("events AS e").
		ColumnExpr("e.id, e.kind, e.entity, e.entity_id, e.actor_id, e.created_at").
		ColumnExpr("COALESCE(t.id, c.ticket_id, 0) AS ticket_id").
		ColumnExpr("COALESCE(t.team_id, ct.team_id) AS team_id").
		ColumnExpr("COALESCE(t.assignee_id, ct.assignee_id) AS assignee_id").
		Join("LEFT JOIN tickets AS t ON e.entity = 'ticket' AND t.id = e.entity_id").
		Join("LEFT JOIN complaints AS c ON e.entity = 'complaint' AND c.id = e.entity_id").
		Join("LEFT JOIN tickets AS ct ON ct.id = c.ticket_id").
		Where("e.id > ?", after).
		Where("e.entity IN ('ticket', 'complaint')").
		OrderExpr("e.id").
		Limit(limit).
		Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("read changes: %w", err)
	}
	return out, nil
}

// LastEventID is the newest audit event's id: where a live feed starts.
func (s *Service) LastEventID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.db.NewSelect().TableExpr("events").ColumnExpr("COALESCE(MAX(id), 0)").Scan(ctx, &id); err != nil {
		return 0, fmt.Errorf("read last event: %w", err)
	}
	return id, nil
}

// ReplyOptions says how an agent can answer a ticket's customer: the channel a reply goes
// by unless told otherwise, every channel that reaches them, and until when WeChat's
// 48-hour window is open (nil when it is closed or they never wrote by WeChat).
type ReplyOptions struct {
	Default     Channel
	Channels    []Channel
	WeChatUntil *time.Time
}

// ReplyOptions works out a ticket's reply options.
func (s *Service) ReplyOptions(ctx context.Context, t *Ticket) (*ReplyOptions, error) {
	def, err := s.replyChannel(ctx, s.db, t)
	if err != nil {
		return nil, err
	}
	o := &ReplyOptions{Default: def}
	for _, ch := range []Channel{ChannelSMS, ChannelWeChat, ChannelEmail} {
		if s.canReach(ctx, s.db, t.CustomerID, ch) == nil {
			o.Channels = append(o.Channels, ch)
		}
	}
	last, err := s.lastWeChatAt(ctx, s.db, t.CustomerID)
	if err != nil {
		return nil, err
	}
	if until := last.Add(WeChatWindow); !last.IsZero() && s.now().Before(until) {
		o.WeChatUntil = &until
	}
	return o, nil
}

// Attachment is one attachment's row.
func (s *Service) Attachment(ctx context.Context, id int64) (*Attachment, error) {
	a := new(Attachment)
	if err := s.db.NewSelect().Model(a).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFoundf("attachment %d not found", id)
		}
		return nil, fmt.Errorf("load attachment: %w", err)
	}
	return a, nil
}

// AttachmentFile returns an attachment and the whole file Hotline keeps for it, for files
// small enough to hold (a reply's media a provider fetches); downloads stream with
// AttachmentStream and OpenFile.
func (s *Service) AttachmentFile(ctx context.Context, id int64) (*Attachment, []byte, error) {
	a, err := s.Attachment(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if a.FileSHA256 == nil {
		return nil, nil, notFoundf("Hotline does not keep the file %s; the provider has it at its own address", a.Filename)
	}
	content, err := s.readFile(ctx, *a.FileSHA256)
	if err != nil {
		return nil, nil, fmt.Errorf("load attachment file: %w", err)
	}
	return a, content, nil
}
