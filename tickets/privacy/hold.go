package privacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// Hold is a legal hold: while in force (ReleasedAt nil) nothing of its customer, or of its
// complaint's ticket, is erased by retention, and the customer cannot be erased on request.
type Hold struct {
	bun.BaseModel `bun:"table:legal_holds,alias:h" json:"-"`

	ID            int64      `bun:",pk,autoincrement" json:"id"`
	Entity        string     `bun:",notnull" json:"on"` // "customer" or "complaint"
	EntityID      int64      `bun:",notnull" json:"entity_id"`
	CustomerID    int64      `bun:",notnull" json:"customer_id"`
	TicketID      *int64     `json:"ticket_id,omitempty"` // the complaint's ticket
	Reason        string     `bun:",notnull" json:"reason"`
	HeldBy        int64      `bun:",notnull" json:"held_by"`
	HeldAt        time.Time  `bun:",notnull" json:"held_at"`
	ReleasedBy    *int64     `json:"released_by,omitempty"`
	ReleasedAt    *time.Time `json:"released_at,omitempty"`
	ReleaseReason string     `bun:",notnull" json:"release_reason,omitempty"`

	HeldByEmail string `bun:",scanonly" json:"held_by_email,omitempty"`
}

// Hold entities.
const (
	OnCustomer  = "customer"
	OnComplaint = "complaint"
)

// MaxReason bounds a hold's or an erasure's reason, in characters.
const MaxReason = 500

func reason(r string) (string, error) {
	r = strings.TrimSpace(r)
	if r == "" {
		return "", tickets.Invalidf("say why (a case number, the authority that asked)")
	}
	if utf8.RuneCountInString(r) > MaxReason {
		return "", tickets.Invalidf("the reason is longer than %d characters", MaxReason)
	}
	return r, nil
}

// mayHold refuses anyone but supervisors, complaint officers and admins.
func mayHold(actor tickets.Actor) error {
	if a := actor.Agent; a == nil || a.Role == tickets.RoleAgent {
		return tickets.Forbiddenf("only supervisors, complaint officers and admins place or release legal holds")
	}
	// A hold is a person's legal decision, kept with who made it; another system's key
	// (an agent without an id) cannot answer for one.
	if actor.Kind != "agent" {
		return tickets.Forbiddenf("a legal hold is placed and released by a person, not an API key")
	}
	return nil
}

// PlaceHold puts customer or complaint (entity OnCustomer or OnComplaint) id under a legal
// hold, for why. A second hold on the same one is refused (409): one is in force.
func (s *Service) PlaceHold(ctx context.Context, actor tickets.Actor, entity string, id int64, why string) (*Hold, error) {
	if err := mayHold(actor); err != nil {
		return nil, err
	}
	why, err := reason(why)
	if err != nil {
		return nil, err
	}
	h := &Hold{Entity: entity, EntityID: id, Reason: why, HeldBy: actor.Agent.ID, HeldByEmail: actor.Agent.Email}
	err = s.svc.InTx(ctx, func(tx tickets.Tx) error {
		switch entity {
		case OnCustomer:
			h.CustomerID, h.TicketID = id, nil
			if n, err := tx.NewSelect().Table("customers").Where("id = ?", id).Count(ctx); err != nil {
				return fmt.Errorf("find customer %d: %w", id, err)
			} else if n == 0 {
				return tickets.NotFoundf("customer %d not found", id)
			}
		case OnComplaint:
			var row struct {
				TicketID   int64 `bun:"ticket_id"`
				CustomerID int64 `bun:"customer_id"`
			}
			err := tx.NewSelect().TableExpr("complaints AS c").Join("JOIN tickets AS t ON t.id = c.ticket_id").
				ColumnExpr("c.ticket_id, t.customer_id").Where("c.id = ?", id).Scan(ctx, &row)
			if errors.Is(err, sql.ErrNoRows) {
				return tickets.NotFoundf("complaint %d not found", id)
			} else if err != nil {
				return fmt.Errorf("find complaint %d: %w", id, err)
			}
			h.CustomerID, h.TicketID = row.CustomerID, &row.TicketID
		default:
			return tickets.Invalidf("a legal hold is on a customer or a complaint")
		}
		h.ID, h.HeldAt = 0, s.svc.Now()
		res, err := tx.NewInsert().Model(h).On("CONFLICT (entity, entity_id) WHERE released_at IS NULL DO NOTHING").Exec(ctx)
		if err != nil {
			return fmt.Errorf("place legal hold: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return tickets.Conflictf("this %s is under a legal hold already", entity)
		}
		return tx.Record(ctx, tx.Event(actor, "customer", h.CustomerID, KindHoldPlaced, holdData(h)))
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

func holdData(h *Hold) map[string]any {
	d := map[string]any{"hold": h.ID, "on": h.Entity, "reason": h.Reason}
	if h.Entity == OnComplaint {
		d["complaint"] = h.EntityID
	}
	if h.ReleasedAt != nil {
		d["release_reason"] = h.ReleaseReason
	}
	return d
}

// ReleaseHold ends hold id, for why; a hold released already is refused (409).
func (s *Service) ReleaseHold(ctx context.Context, actor tickets.Actor, id int64, why string) (*Hold, error) {
	if err := mayHold(actor); err != nil {
		return nil, err
	}
	why, err := reason(why)
	if err != nil {
		return nil, err
	}
	h := new(Hold)
	err = s.svc.InTx(ctx, func(tx tickets.Tx) error {
		now := s.svc.Now()
		err := tx.NewUpdate().Model(h).Set("released_by = ?, released_at = ?, release_reason = ?", actor.Agent.ID, now, why).
			Where("id = ? AND released_at IS NULL", id).Returning("*").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return tickets.Conflictf("legal hold %d is not in force", id)
		} else if err != nil {
			return fmt.Errorf("release legal hold %d: %w", id, err)
		}
		return tx.Record(ctx, tx.Event(actor, "customer", h.CustomerID, KindHoldReleased, holdData(h)))
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// Holds lists the legal holds on customer id and on their complaints, those in force first,
// then the newest.
func (s *Service) Holds(ctx context.Context, customerID int64) ([]*Hold, error) {
	return s.holds(ctx, s.svc.DB(), customerID, false)
}

func (s *Service) holds(ctx context.Context, db bun.IDB, customerID int64, inForce bool) ([]*Hold, error) {
	out := []*Hold{}
	q := db.NewSelect().Model(&out).ColumnExpr("h.*, ag.email AS held_by_email").Join("JOIN agents AS ag ON ag.id = h.held_by").
		Where("h.customer_id = ?", customerID).OrderExpr("h.released_at IS NULL DESC, h.id DESC").Limit(100)
	if inForce {
		q = q.Where("h.released_at IS NULL")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list legal holds: %w", err)
	}
	return out, nil
}
