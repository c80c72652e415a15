package privacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun/dialect"

	"github.com/hotlinedesk/hotline/tickets"
)

// Erasure is what erasing a customer removed.
type Erasure struct {
	CustomerID  int64
	Already     bool // erased before: nothing was done again
	Messages    int  `json:"messages"`
	Attachments int  `json:"attachments"` // files and recordings
	Identities  int  `json:"identities"`
	At          time.Time
}

// Erase erases customer id at their request: every message's text, their tickets'
// subjects, files and recordings, survey comments and follow-up notes, their name and
// tags, and their identities (a number or address that writes again starts a new
// customer). The complaints' records and the audit trail are kept, with a
// "customer.erased" event saying who did it and why. Supervisors and admins only; refused
// (409) while a legal hold is on the customer or one of their complaints, or while they
// have open tickets or complaints. Erasing an erased customer does nothing again.
func (s *Service) Erase(ctx context.Context, actor tickets.Actor, id int64, why string) (*Erasure, error) {
	if err := mayHandle(actor, "erase a customer"); err != nil {
		return nil, err
	}
	why, err := reason(why)
	if err != nil {
		return nil, err
	}
	var e *Erasure
	var freed []string
	err = s.svc.InTx(ctx, func(tx tickets.Tx) error {
		e = &Erasure{CustomerID: id, At: s.svc.Now()}
		var erasedAt *time.Time
		q := tx.NewSelect().Table("customers").Column("erased_at").Where("id = ?", id)
		if tx.Dialect().Name() == dialect.PG {
			q = q.For("UPDATE") // intake takes the customer's row too: no message lands mid-erasure
		}
		if err := q.Scan(ctx, &erasedAt); errors.Is(err, sql.ErrNoRows) {
			return tickets.NotFoundf("customer %d not found", id)
		} else if err != nil {
			return fmt.Errorf("lock customer %d: %w", id, err)
		}
		if erasedAt != nil {
			e.Already, e.At = true, *erasedAt
			return nil
		}
		if err := s.mayErase(ctx, tx, id); err != nil {
			return err
		}
		var msgs []erasedRow
		if err := tx.NewSelect().TableExpr("messages AS m").Join("JOIN tickets AS t ON t.id = m.ticket_id").
			ColumnExpr("m.id, m.ticket_id, t.customer_id").Where("t.customer_id = ? AND m.erased_at IS NULL", id).Scan(ctx, &msgs); err != nil {
			return fmt.Errorf("find messages: %w", err)
		}
		var files []fileRow
		if err := tx.NewSelect().TableExpr("attachments AS a").Join("JOIN messages AS m ON m.id = a.message_id").Join("JOIN tickets AS t ON t.id = m.ticket_id").
			ColumnExpr("a.id, a.message_id, a.file_sha256, t.customer_id").Where("t.customer_id = ? AND a.erased_at IS NULL", id).Scan(ctx, &files); err != nil {
			return fmt.Errorf("find attachments: %w", err)
		}
		by, keys, err := s.eraseFiles(ctx, tx, files, false)
		if err != nil {
			return err
		}
		freed = keys
		e.Attachments = by[id]
		if by, err = s.eraseMessages(ctx, tx, msgs); err != nil {
			return err
		}
		e.Messages = by[id]
		if _, err := tx.NewUpdate().Table("tickets").Set("subject = ?", Erased).Where("customer_id = ? AND subject <> ?", id, Erased).Exec(ctx); err != nil {
			return fmt.Errorf("erase subjects: %w", err)
		}
		if _, err := tx.NewUpdate().Table("followups").Set("note = ''").
			Where("note <> '' AND ticket_id IN (SELECT id FROM tickets WHERE customer_id = ?)", id).Exec(ctx); err != nil {
			return fmt.Errorf("erase follow-up notes: %w", err)
		}
		if e.Identities, err = tx.NewSelect().Table("customer_identities").Where("customer_id = ?", id).Count(ctx); err != nil {
			return fmt.Errorf("count identities: %w", err)
		}
		if _, err := s.anonymise(ctx, tx, []int64{id}); err != nil {
			return err
		}
		return tx.Record(ctx, tx.Event(actor, "customer", id, KindErased, map[string]any{
			"reason": why, "messages": e.Messages, "attachments": e.Attachments, "identities": e.Identities}))
	})
	if err != nil {
		return nil, err
	}
	s.sweepFreed(ctx, freed)
	return e, nil
}

// mayErase refuses erasing customer id while a legal hold is on them or their complaints,
// or while work of theirs is open.
func (s *Service) mayErase(ctx context.Context, tx tickets.Tx, id int64) error {
	hs, err := s.holds(ctx, tx, id, true)
	if err != nil {
		return err
	}
	if len(hs) > 0 {
		h := hs[0]
		return tickets.Conflictf("customer %d is under a legal hold (on the %s, since %s, by %s: %s); release it before erasing",
			id, h.Entity, h.HeldAt.UTC().Format("2006-01-02"), h.HeldByEmail, h.Reason)
	}
	var open []int64
	if err := tx.NewSelect().Table("tickets").Column("id").Where("customer_id = ? AND status NOT IN (?, ?)", id, tickets.StatusResolved, tickets.StatusClosed).
		OrderExpr("id").Limit(5).Scan(ctx, &open); err != nil {
		return fmt.Errorf("find open tickets: %w", err)
	}
	if len(open) > 0 {
		refs := make([]string, len(open))
		for i, t := range open {
			refs[i] = tickets.FormatRef(t)
		}
		return tickets.Conflictf("customer %d has open tickets (%s); resolve or close them before erasing", id, strings.Join(refs, ", "))
	}
	n, err := tx.NewSelect().TableExpr("complaints AS c").Join("JOIN tickets AS t ON t.id = c.ticket_id").
		Where("t.customer_id = ? AND c.status IN (?, ?)", id, tickets.ComplaintReceived, tickets.ComplaintInvestigating).Count(ctx)
	if err != nil {
		return fmt.Errorf("find open complaints: %w", err)
	}
	if n > 0 {
		return tickets.Conflictf("customer %d has a complaint still open; decide it before erasing", id)
	}
	return nil
}

// ErasedAt is when customer id was erased (on request or by retention), or nil.
func (s *Service) ErasedAt(ctx context.Context, id int64) (*time.Time, error) {
	var at *time.Time
	err := s.svc.DB().NewSelect().Table("customers").Column("erased_at").Where("id = ?", id).Scan(ctx, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tickets.NotFoundf("customer %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read customer %d: %w", id, err)
	}
	return at, nil
}
