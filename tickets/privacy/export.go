package privacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// Bounds of a customer's copy: beyond them it says it was cut short.
const (
	MaxCopyTickets  = 2000
	MaxCopyMessages = 20000
	MaxCopyEvents   = 20000
	copyPage        = 100 // tickets read at once
)

// Copy is everything held about a customer, read a page at a time as it is written out
// (EachTicket, EachEvent), for an access request.
type Copy struct {
	ExportedAt time.Time
	Customer   *tickets.Customer // with identities
	ErasedAt   *time.Time
	Holds      []*Hold

	s  *Service
	db bun.IDB
}

// TicketCopy is one ticket of a copy with all it holds about the customer.
type TicketCopy struct {
	Ticket     *tickets.Ticket
	Messages   []*tickets.Message // with their attachments' metadata
	Complaints []*ComplaintCopy
	Surveys    []*SurveyCopy
}

// ComplaintCopy is a complaint as the customer's copy shows it.
type ComplaintCopy struct {
	bun.BaseModel `bun:"table:complaints" json:"-"`

	ID         int64      `json:"id"`
	TicketID   int64      `json:"-"`
	Source     string     `json:"source"`
	Summary    string     `json:"summary"`
	Status     string     `json:"status"`
	Decision   string     `json:"decision"`
	Outcome    string     `json:"outcome"`
	ReceivedAt time.Time  `json:"received_at"`
	DecidedAt  *time.Time `json:"decided_at,omitempty"`
}

// SurveyCopy is a satisfaction survey as the customer's copy shows it.
type SurveyCopy struct {
	bun.BaseModel `bun:"table:surveys" json:"-"`

	TicketID   int64      `json:"-"`
	Channel    string     `json:"channel"`
	SentAt     *time.Time `json:"sent_at,omitempty"`
	Score      *int       `json:"score,omitempty"`
	Comment    string     `json:"comment,omitempty"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
}

// Export starts customer id's copy for an access request, in format ("json" or "html"),
// recording "customer.exported" by actor: supervisors and admins only.
func (s *Service) Export(ctx context.Context, actor tickets.Actor, id int64, format string) (*Copy, error) {
	if err := mayHandle(actor, "export a customer's data"); err != nil {
		return nil, err
	}
	if format != "json" && format != "html" {
		return nil, tickets.Invalidf(`format must be "json" or "html"`)
	}
	c := &Copy{ExportedAt: s.svc.Now(), Customer: new(tickets.Customer), s: s, db: s.svc.DB()}
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		err := tx.NewSelect().Model(c.Customer).Relation("Identities").Where("customer.id = ?", id).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return tickets.NotFoundf("customer %d not found", id)
		} else if err != nil {
			return fmt.Errorf("load customer %d: %w", id, err)
		}
		if err := tx.NewSelect().Table("customers").Column("erased_at").Where("id = ?", id).Scan(ctx, &c.ErasedAt); err != nil {
			return fmt.Errorf("load customer %d: %w", id, err)
		}
		if c.Holds, err = s.holds(ctx, tx, id, false); err != nil {
			return err
		}
		return tx.Record(ctx, tx.Event(actor, "customer", id, KindExported, map[string]any{"format": format}))
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// EachTicket hands fn the customer's tickets, oldest first, each with its messages,
// complaints and surveys, until MaxCopyTickets or MaxCopyMessages; it reports whether
// it stopped there (the copy is then cut short).
func (c *Copy) EachTicket(ctx context.Context, fn func(*TicketCopy) error) (cut bool, err error) {
	var after int64
	nt, messages := 0, 0
	for {
		var ts []*tickets.Ticket
		if err := c.db.NewSelect().Model(&ts).Where("customer_id = ? AND id > ?", c.Customer.ID, after).
			OrderExpr("id").Limit(copyPage).Scan(ctx); err != nil {
			return false, fmt.Errorf("read tickets: %w", err)
		}
		if len(ts) == 0 {
			return false, nil
		}
		ids := make([]int64, len(ts))
		for i, t := range ts {
			ids[i] = t.ID
		}
		var cps []*ComplaintCopy
		if err := c.db.NewSelect().Model(&cps).Where("ticket_id IN (?)", bun.In(ids)).OrderExpr("id").Scan(ctx); err != nil {
			return false, fmt.Errorf("read complaints: %w", err)
		}
		var svs []*SurveyCopy
		if err := c.db.NewSelect().Model(&svs).Where("ticket_id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
			return false, fmt.Errorf("read surveys: %w", err)
		}
		for _, t := range ts {
			if nt >= MaxCopyTickets || messages >= MaxCopyMessages {
				return true, nil
			}
			tc := &TicketCopy{Ticket: t}
			if err := c.db.NewSelect().Model(&tc.Messages).Relation("Attachments").Where("ticket_id = ?", t.ID).
				OrderExpr("message.id").Limit(MaxCopyMessages - messages).Scan(ctx); err != nil {
				return false, fmt.Errorf("read messages of %s: %w", t.Ref(), err)
			}
			for _, cp := range cps {
				if cp.TicketID == t.ID {
					tc.Complaints = append(tc.Complaints, cp)
				}
			}
			for _, sv := range svs {
				if sv.TicketID == t.ID {
					tc.Surveys = append(tc.Surveys, sv)
				}
			}
			nt++
			messages += len(tc.Messages)
			if err := fn(tc); err != nil {
				return false, err
			}
			after = t.ID
		}
	}
}

// EachEvent hands fn the audit events about the customer, their tickets and their
// complaints, oldest first, until MaxCopyEvents; it reports whether it stopped there.
func (c *Copy) EachEvent(ctx context.Context, fn func(*tickets.Event) error) (cut bool, err error) {
	var after int64
	n := 0
	for {
		var evs []*tickets.Event
		id := c.Customer.ID
		if err := c.db.NewSelect().Model(&evs).Where("id > ?", after).
			WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
				return q.Where("entity = 'customer' AND entity_id = ?", id).
					WhereOr("entity = 'ticket' AND entity_id IN (SELECT id FROM tickets WHERE customer_id = ?)", id).
					WhereOr("entity = 'complaint' AND entity_id IN (SELECT c.id FROM complaints c JOIN tickets t ON t.id = c.ticket_id WHERE t.customer_id = ?)", id)
			}).OrderExpr("id").Limit(500).Scan(ctx); err != nil {
			return false, fmt.Errorf("read events: %w", err)
		}
		if len(evs) == 0 {
			return false, nil
		}
		for _, ev := range evs {
			if n >= MaxCopyEvents {
				return true, nil
			}
			n++
			if err := fn(ev); err != nil {
				return false, err
			}
			after = ev.ID
		}
	}
}
