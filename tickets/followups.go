package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
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

	Ticket   *Ticket `bun:"rel:belongs-to,join:ticket_id=id"`
	Assignee *Agent  `bun:"rel:belongs-to,join:assignee_id=id"`
}

// Offset is how long after resolution the call is due.
func (f *FollowUp) Offset() time.Duration { return time.Duration(f.OffsetSeconds) * time.Second }

// scheduleFollowUps creates the follow-up calls of a ticket just resolved, one per offset
// that has no open or done call yet, each due at the end of its day in the calendar's zone.
func (s *Service) scheduleFollowUps(ctx context.Context, tx bun.IDB, t *Ticket) error {
	offsets := s.afterCare().FollowUpOffsets
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
	now := s.now()
	var fresh []*FollowUp
	for _, d := range offsets {
		secs := int64(d / time.Second)
		if has[secs] {
			continue
		}
		has[secs] = true
		due := s.cal.endOfDay(now.Add(d)).UTC()
		fresh = append(fresh, &FollowUp{TicketID: t.ID, OffsetSeconds: secs, TeamID: t.TeamID, AssigneeID: t.AssigneeID,
			Status: FollowUpOpen, DueAt: due, CreatedAt: now, UpdatedAt: now})
	}
	if len(fresh) == 0 {
		return nil
	}
	if _, err := tx.NewInsert().Model(&fresh).Exec(ctx); err != nil {
		return fmt.Errorf("create follow-ups: %w", err)
	}
	evs := make([]*Event, 0, len(fresh))
	for _, f := range fresh {
		evs = append(evs, s.event(systemActor, "ticket", t.ID, "followup.scheduled", map[string]any{
			"followup_id": f.ID, "offset_seconds": f.OffsetSeconds, "due_at": f.DueAt, "assignee_id": f.AssigneeID}))
	}
	return s.insertEvents(ctx, tx, evs)
}

// cancelFollowUps cancels a reopened ticket's open follow-up calls.
func (s *Service) cancelFollowUps(ctx context.Context, tx bun.IDB, t *Ticket, actor Actor) error {
	var ids []int64
	if err := tx.NewSelect().Model((*FollowUp)(nil)).Column("id").
		Where("ticket_id = ? AND status = ?", t.ID, FollowUpOpen).OrderExpr("id").Scan(ctx, &ids); err != nil {
		return fmt.Errorf("find open follow-ups: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	now := s.now()
	if _, err := tx.NewUpdate().Model((*FollowUp)(nil)).
		Set("status = ?, cancelled_at = ?, updated_at = ?", FollowUpCancelled, now, now).
		Where("id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
		return fmt.Errorf("cancel follow-ups: %w", err)
	}
	return s.record(ctx, tx, actor, "ticket", t.ID, "followup.cancelled", map[string]any{"followup_ids": ids, "reason": "ticket reopened"})
}

// FollowUpFilter selects follow-up calls. Zero fields do not filter.
type FollowUpFilter struct {
	AssigneeID *int64
	Unassigned bool
	TeamID     *int64 // the team the ticket was with when it was resolved
	Statuses   []FollowUpStatus
	DueBefore  *time.Time
	TicketID   int64
	Limit      int // 1..500, default 200
}

// FollowUps lists follow-up calls, the soonest due first.
func (s *Service) FollowUps(ctx context.Context, f FollowUpFilter) ([]*FollowUp, error) {
	if f.Limit <= 0 {
		f.Limit = 200
	}
	if f.Limit > 500 {
		return nil, invalidf("limit may be at most 500")
	}
	for _, st := range f.Statuses {
		if st != FollowUpOpen && st != FollowUpDone && st != FollowUpCancelled {
			return nil, invalidf("unknown follow-up status %q (open, done, cancelled)", st)
		}
	}
	var out []*FollowUp
	q := s.db.NewSelect().Model(&out).Relation("Ticket").Relation("Ticket.Customer").Relation("Assignee").
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
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list follow-ups: %w", err)
	}
	// Whoever makes the call needs the customer's number.
	ts := make([]*Ticket, 0, len(out))
	for _, fu := range out {
		if fu.Ticket != nil {
			ts = append(ts, fu.Ticket)
		}
	}
	if err := s.loadIdentities(ctx, ts); err != nil {
		return nil, err
	}
	return out, nil
}

// FollowUp loads one follow-up call with its ticket and assignee.
func (s *Service) FollowUp(ctx context.Context, id int64) (*FollowUp, error) {
	f := new(FollowUp)
	err := s.db.NewSelect().Model(f).Relation("Ticket").Relation("Assignee").Where("followup.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFoundf("follow-up %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load follow-up: %w", err)
	}
	return f, nil
}

// mayCompleteFollowUp: admins; the assignee; a supervisor of the call's team or of the
// assignee's team; while unassigned, any agent of its team (anyone when it has no team).
func (s *Service) mayCompleteFollowUp(ctx context.Context, db bun.IDB, a *Agent, f *FollowUp) error {
	if a == nil || a.Role == RoleAdmin {
		return nil
	}
	if f.AssigneeID != nil && *f.AssigneeID == a.ID {
		return nil
	}
	if f.AssigneeID == nil && (f.TeamID == nil || a.InTeam(f.TeamID)) {
		return nil
	}
	if a.Role == RoleSupervisor {
		if a.InTeam(f.TeamID) {
			return nil
		}
		if f.AssigneeID != nil {
			owner, err := s.agentByID(ctx, db, *f.AssigneeID)
			if err != nil {
				return err
			}
			if a.InTeam(owner.TeamID) {
				return nil
			}
		}
	}
	return forbiddenf("only the follow-up's assignee, their supervisor or an admin can complete it")
}

// CompleteFollowUp records that the call was made, with a note of what the customer said.
func (s *Service) CompleteFollowUp(ctx context.Context, actor Actor, id int64, note string) (*FollowUp, error) {
	if actor.Agent == nil {
		return nil, forbiddenf("only agents complete follow-ups")
	}
	note = strings.TrimSpace(note)
	if note == "" {
		return nil, invalidf("say how the follow-up went in a note")
	}
	if len(note) > maxBodyBytes {
		return nil, invalidf("note is %d bytes, more than the %d allowed", len(note), maxBodyBytes)
	}
	err := s.inTx(ctx, func(tx bun.Tx) error {
		now := s.now()
		res, err := tx.NewUpdate().Model((*FollowUp)(nil)).Set("updated_at = updated_at").Where("id = ?", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("lock follow-up: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFoundf("follow-up %d not found", id)
		}
		f := new(FollowUp)
		if err := tx.NewSelect().Model(f).Where("id = ?", id).Scan(ctx); err != nil {
			return fmt.Errorf("load follow-up: %w", err)
		}
		if err := s.mayCompleteFollowUp(ctx, tx, actor.Agent, f); err != nil {
			return err
		}
		switch f.Status {
		case FollowUpDone:
			return conflictf("follow-up %d was already completed", id)
		case FollowUpCancelled:
			return conflictf("follow-up %d was cancelled when its ticket was reopened", id)
		}
		if _, err := tx.NewUpdate().Model((*FollowUp)(nil)).
			Set("status = ?, note = ?, completed_at = ?, completed_by = ?, updated_at = ?", FollowUpDone, note, now, actor.Agent.ID, now).
			Where("id = ?", id).Exec(ctx); err != nil {
			return fmt.Errorf("complete follow-up: %w", err)
		}
		return s.record(ctx, tx, actor, "ticket", f.TicketID, "followup.completed", map[string]any{
			"followup_id": f.ID, "offset_seconds": f.OffsetSeconds, "note": note, "on_time": !now.After(f.DueAt)})
	})
	if err != nil {
		return nil, err
	}
	return s.FollowUp(ctx, id)
}
