package aftercare

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// FollowUpStatus is where a follow-up call stands.
type FollowUpStatus string

const (
	FollowUpOpen      FollowUpStatus = "open"
	FollowUpDone      FollowUpStatus = "done"
	FollowUpCancelled FollowUpStatus = "cancelled" // the ticket was reopened first
)

// FollowUp is a call-back (回访) to the customer of a resolved ticket, due some time after
// the resolution: the same day, after a week, after a month.
type FollowUp struct {
	bun.BaseModel `bun:"table:followups,alias:followup"`

	ID            int64          `bun:",pk,autoincrement"`
	TicketID      int64          `bun:",notnull"`
	OffsetSeconds int64          `bun:",notnull"`
	TeamID        *int64         // the ticket's team when it was resolved
	AssigneeID    *int64         // the ticket's assignee when it was resolved; nil: unassigned
	Status        FollowUpStatus `bun:",notnull"`
	DueAt         time.Time      `bun:",notnull"`
	Note          string         `bun:",notnull"`
	CompletedAt   *time.Time
	CompletedBy   *int64
	CancelledAt   *time.Time
	CreatedAt     time.Time `bun:",notnull"`
	UpdatedAt     time.Time `bun:",notnull"`

	Ticket   *tickets.Ticket `bun:"rel:belongs-to,join:ticket_id=id"`
	Assignee *tickets.Agent  `bun:"rel:belongs-to,join:assignee_id=id"`
}

// Offset is how long after resolution the call is due.
func (f *FollowUp) Offset() time.Duration { return time.Duration(f.OffsetSeconds) * time.Second }

// scheduleFollowUps creates the follow-up calls of a ticket just resolved, one per offset
// that has no open or done call yet, each due at the end of its day in the calendar's zone.
func (s *Service) scheduleFollowUps(ctx context.Context, tx tickets.Tx, t *tickets.Ticket) error {
	offsets := s.cfg.FollowUpOffsets
	if len(offsets) == 0 {
		return nil
	}
	var taken []int64
	if err := tx.NewSelect().Model((*FollowUp)(nil)).Column("offset_seconds").
		Where("ticket_id = ? AND status <> ?", t.ID, FollowUpCancelled).Scan(ctx, &taken); err != nil {
		return fmt.Errorf("find follow-ups: %w", err)
	}
	has := map[int64]bool{}
	for _, o := range taken {
		has[o] = true
	}
	now := s.svc.Now()
	var fresh []*FollowUp
	for _, d := range offsets {
		secs := int64(d / time.Second)
		if has[secs] {
			continue
		}
		has[secs] = true
		due := s.svc.Calendar().EndOfDay(now.Add(d)).UTC()
		fresh = append(fresh, &FollowUp{TicketID: t.ID, OffsetSeconds: secs, TeamID: t.TeamID, AssigneeID: t.AssigneeID,
			Status: FollowUpOpen, DueAt: due, CreatedAt: now, UpdatedAt: now})
	}
	if len(fresh) == 0 {
		return nil
	}
	if _, err := tx.NewInsert().Model(&fresh).Exec(ctx); err != nil {
		return fmt.Errorf("create follow-ups: %w", err)
	}
	evs := make([]*tickets.Event, 0, len(fresh))
	for _, f := range fresh {
		evs = append(evs, tx.Event(system, "ticket", t.ID, "followup.scheduled", map[string]any{
			"followup_id": f.ID, "offset_seconds": f.OffsetSeconds, "due_at": f.DueAt, "assignee_id": f.AssigneeID}))
	}
	return tx.Record(ctx, evs...)
}

// cancelFollowUps cancels a reopened ticket's open follow-up calls.
func (s *Service) cancelFollowUps(ctx context.Context, tx tickets.Tx, t *tickets.Ticket, actor tickets.Actor) error {
	var ids []int64
	if err := tx.NewSelect().Model((*FollowUp)(nil)).Column("id").
		Where("ticket_id = ? AND status = ?", t.ID, FollowUpOpen).OrderExpr("id").Scan(ctx, &ids); err != nil {
		return fmt.Errorf("find open follow-ups: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	now := s.svc.Now()
	if _, err := tx.NewUpdate().Model((*FollowUp)(nil)).
		Set("status = ?, cancelled_at = ?, updated_at = ?", FollowUpCancelled, now, now).
		Where("id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
		return fmt.Errorf("cancel follow-ups: %w", err)
	}
	return tx.Record(ctx, tx.Event(actor, "ticket", t.ID, "followup.cancelled", map[string]any{"followup_ids": ids, "reason": "ticket reopened"}))
}

// FollowUpFilter selects follow-up calls. Zero fields do not filter.
type FollowUpFilter struct {
	AssigneeID *int64
	Unassigned bool
	TeamID     *int64 // the team the ticket was with when it was resolved
	Statuses   []FollowUpStatus
	DueBefore  *time.Time
	TicketID   int64
	CustomerID int64 // the calls on any of this customer's tickets
	Limit      int   // 1..500, default 200
}

// FollowUps lists follow-up calls, the soonest due first, with their tickets, customers
// and assignees.
func (s *Service) FollowUps(ctx context.Context, f FollowUpFilter) ([]*FollowUp, error) {
	if f.Limit <= 0 {
		f.Limit = 200
	}
	if f.Limit > 500 {
		return nil, tickets.Invalidf("limit may be at most 500")
	}
	for _, st := range f.Statuses {
		if st != FollowUpOpen && st != FollowUpDone && st != FollowUpCancelled {
			return nil, tickets.Invalidf("unknown follow-up status %q (open, done, cancelled)", st)
		}
	}
	var out []*FollowUp
	q := s.svc.DB().NewSelect().Model(&out).Relation("Ticket").Relation("Ticket.Customer").Relation("Assignee").
		OrderExpr("followup.due_at, followup.id").Limit(f.Limit)
	if f.AssigneeID != nil {
		q = q.Where("followup.assignee_id = ?", *f.AssigneeID)
	}
	if f.Unassigned {
		q = q.Where("followup.assignee_id IS NULL")
	}
	if f.TeamID != nil {
		q = q.Where("followup.team_id = ?", *f.TeamID)
	}
	if len(f.Statuses) > 0 {
		q = q.Where("followup.status IN (?)", bun.In(f.Statuses))
	}
	if f.DueBefore != nil {
		q = q.Where("followup.due_at < ?", f.DueBefore.UTC())
	}
	if f.TicketID != 0 {
		q = q.Where("followup.ticket_id = ?", f.TicketID)
	}
	if f.CustomerID != 0 {
		q = q.Where("followup.ticket_id IN (SELECT id FROM tickets WHERE customer_id = ?)", f.CustomerID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list follow-ups: %w", err)
	}
	// Whoever makes the call needs the customer's number.
	if err := s.loadIdentities(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// loadIdentities fills in the identities of the calls' customers, with one query for the
// whole page. Each call has its own copy of its ticket and customer (a ticket's three
// calls, a customer's several tickets), and every copy gets them.
func (s *Service) loadIdentities(ctx context.Context, fs []*FollowUp) error {
	byCustomer := map[int64][]*tickets.Customer{}
	var ids []int64
	for _, f := range fs {
		if t := f.Ticket; t != nil && t.Customer != nil {
			if byCustomer[t.CustomerID] == nil {
				ids = append(ids, t.CustomerID)
			}
			byCustomer[t.CustomerID] = append(byCustomer[t.CustomerID], t.Customer)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var idents []*tickets.Identity
	if err := s.svc.DB().NewSelect().Model(&idents).Where("customer_id IN (?)", bun.In(ids)).OrderExpr("id").Scan(ctx); err != nil {
		return fmt.Errorf("load identities: %w", err)
	}
	for _, id := range idents {
		for _, c := range byCustomer[id.CustomerID] {
			c.Identities = append(c.Identities, id)
		}
	}
	return nil
}

// FollowUp loads one follow-up call with its ticket and assignee.
func (s *Service) FollowUp(ctx context.Context, id int64) (*FollowUp, error) {
	f := new(FollowUp)
	err := s.svc.DB().NewSelect().Model(f).Relation("Ticket").Relation("Assignee").Where("followup.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tickets.NotFoundf("follow-up %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load follow-up: %w", err)
	}
	return f, nil
}

// mayCompleteFollowUp: admins; the assignee; a supervisor of the call's team or of the
// assignee's team; while unassigned, any agent of its team (anyone when it has no team).
func mayCompleteFollowUp(ctx context.Context, db bun.IDB, a *tickets.Agent, f *FollowUp) error {
	if a == nil || a.Role == tickets.RoleAdmin {
		return nil
	}
	if f.AssigneeID != nil && *f.AssigneeID == a.ID {
		return nil
	}
	if f.AssigneeID == nil && (f.TeamID == nil || a.InTeam(f.TeamID)) {
		return nil
	}
	if a.Role == tickets.RoleSupervisor {
		if a.InTeam(f.TeamID) {
			return nil
		}
		if f.AssigneeID != nil {
			owner := new(tickets.Agent)
			err := db.NewSelect().Model(owner).Where("id = ?", *f.AssigneeID).Scan(ctx)
			if errors.Is(err, sql.ErrNoRows) {
				return tickets.NotFoundf("agent %d not found", *f.AssigneeID)
			}
			if err != nil {
				return fmt.Errorf("load agent %d: %w", *f.AssigneeID, err)
			}
			if a.InTeam(owner.TeamID) {
				return nil
			}
		}
	}
	return tickets.Forbiddenf("only the follow-up's assignee, their supervisor or an admin can complete it")
}

// CompleteFollowUp records that the call was made, with a note of what the customer said.
func (s *Service) CompleteFollowUp(ctx context.Context, actor tickets.Actor, id int64, note string) (*FollowUp, error) {
	if actor.Agent == nil {
		return nil, tickets.Forbiddenf("only agents complete follow-ups")
	}
	note = strings.TrimSpace(note)
	if note == "" {
		return nil, tickets.Invalidf("say how the follow-up went in a note")
	}
	if len(note) > tickets.MaxBodyBytes {
		return nil, tickets.Invalidf("note is %d bytes, more than the %d allowed", len(note), tickets.MaxBodyBytes)
	}
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		now := s.svc.Now()
		res, err := tx.NewUpdate().Model((*FollowUp)(nil)).Set("updated_at = updated_at").Where("id = ?", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("lock follow-up: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return tickets.NotFoundf("follow-up %d not found", id)
		}
		f := new(FollowUp)
		if err := tx.NewSelect().Model(f).Where("id = ?", id).Scan(ctx); err != nil {
			return fmt.Errorf("load follow-up: %w", err)
		}
		if err := mayCompleteFollowUp(ctx, tx, actor.Agent, f); err != nil {
			return err
		}
		switch f.Status {
		case FollowUpDone:
			return tickets.Conflictf("follow-up %d was already completed", id)
		case FollowUpCancelled:
			return tickets.Conflictf("follow-up %d was cancelled when its ticket was reopened", id)
		}
		if _, err := tx.NewUpdate().Model((*FollowUp)(nil)).
			Set("status = ?, note = ?, completed_at = ?, completed_by = ?, updated_at = ?", FollowUpDone, note, now, actor.Agent.ID, now).
			Where("id = ?", id).Exec(ctx); err != nil {
			return fmt.Errorf("complete follow-up: %w", err)
		}
		return tx.Record(ctx, tx.Event(actor, "ticket", f.TicketID, "followup.completed", map[string]any{
			"followup_id": f.ID, "offset_seconds": f.OffsetSeconds, "note": note, "on_time": !now.After(f.DueAt)}))
	})
	if err != nil {
		return nil, err
	}
	return s.FollowUp(ctx, id)
}
