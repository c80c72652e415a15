// Package stages holds the progress stages a customer is told of (issue 22): per category,
// an ordered list of steps worded in Chinese and English (a claim: received, documents
// complete, under investigation, in review, payment scheduled, paid), where each ticket
// stands among them, the deadline a stage may carry (working days on the core's calendar,
// warned and breached once by its own sweep stages, run by the core's stage runner as the
// tickets' and complaints' deadlines are), and the documents a ticket waiting on its
// customer still lacks. Moves and document requests run in the core's transaction for the
// ticket (tickets.Service.ChangeTicket) and queue the customer's notice there (Tx.Notify,
// after the opt-out check); intake tells the chapter of files a customer sends
// (tickets.Progress).
package stages

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

// Stage is one step of a category's progress, as customers read it.
type Stage struct {
	bun.BaseModel `bun:"table:stages"`

	ID       int64  `bun:",pk,autoincrement"`
	Category string `bun:",notnull"`
	Position int    `bun:",notnull"`
	NameZh   string `bun:"name_zh,notnull"`
	NameEn   string `bun:"name_en,notnull"`
	// DueDays is how many working days a ticket may stay at this stage; 0: no deadline.
	DueDays   int       `bun:",notnull"`
	CreatedAt time.Time `bun:",notnull"`
	UpdatedAt time.Time `bun:",notnull"`
}

// Name is the stage in a language: English for en, Chinese otherwise.
func (st *Stage) Name(english bool) string {
	if english {
		return st.NameEn
	}
	return st.NameZh
}

// current is where one ticket stands, with its stage's deadline.
type current struct {
	bun.BaseModel `bun:"table:ticket_stages"`

	TicketID   int64     `bun:",pk"`
	StageID    int64     `bun:",notnull"`
	EnteredAt  time.Time `bun:",notnull"`
	DueAt      *time.Time
	WarnAt     *time.Time
	WarnedAt   *time.Time
	BreachedAt *time.Time
}

type history struct {
	bun.BaseModel `bun:"table:stage_history"`

	ID        int64     `bun:",pk,autoincrement"`
	TicketID  int64     `bun:",notnull"`
	StageID   int64     `bun:",notnull"`
	EnteredAt time.Time `bun:",notnull"`
}

// Document is an item a ticket waiting on its customer still lacks, or had.
type Document struct {
	bun.BaseModel `bun:"table:document_requests"`

	ID          int64     `bun:",pk,autoincrement"`
	TicketID    int64     `bun:",notnull"`
	Item        string    `bun:",notnull"`
	RequestedAt time.Time `bun:",notnull"`
	ReceivedAt  *time.Time
}

// Service is the progress stages of svc's tickets.
type Service struct {
	svc *tickets.Service
	db  *bun.DB
}

// New builds the stages over the core.
func New(svc *tickets.Service) *Service { return &Service{svc: svc, db: svc.DB()} }

var system = tickets.Actor{Kind: "system"}

// Limits on what admins and agents type.
const (
	maxStages   = 20
	maxName     = 60
	maxDueDays  = 60
	maxItems    = 20
	maxItem     = 200
	maxCategory = 100
)

// Stages lists a category's stages in order; none when it has no stages.
func (s *Service) Stages(ctx context.Context, category string) ([]*Stage, error) {
	return s.stagesOf(ctx, s.db, category)
}

func (s *Service) stagesOf(ctx context.Context, db bun.IDB, category string) ([]*Stage, error) {
	var out []*Stage
	if err := db.NewSelect().Model(&out).Where("category = ?", category).OrderExpr("position").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load stages of %q: %w", category, err)
	}
	return out, nil
}

// Categories lists the categories that have stages, by name.
func (s *Service) Categories(ctx context.Context) ([]string, error) {
	var out []string
	if err := s.db.NewSelect().Table("stages").ColumnExpr("DISTINCT category").OrderExpr("category").Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("list stage categories: %w", err)
	}
	return out, nil
}

// Step is one stage of a ticket's progress as it is shown: passed (with when it was
// entered), the current one, or ahead.
type Step struct {
	Stage   *Stage
	State   string     // "passed", "current", "ahead"
	At      *time.Time // when the ticket entered it, for passed and current stages
	DueAt   *time.Time // the current stage's deadline
	Breach  bool       // the current stage's deadline was missed
	Warned  bool       // the current stage's warning was given
	Skipped bool       // a passed stage the ticket never entered
}

// Progress is a ticket's stages and the documents it waits for.
type Progress struct {
	Steps     []Step
	Current   *Stage // nil before the first move
	Documents []*Document
}

// Missing are the documents not yet ticked off.
func (p *Progress) Missing() []*Document {
	var out []*Document
	for _, d := range p.Documents {
		if d.ReceivedAt == nil {
			out = append(out, d)
		}
	}
	return out
}

// Of is a ticket's progress: its category's stages with where it stands, and its
// documents, oldest first.
func (s *Service) Of(ctx context.Context, t *tickets.Ticket) (*Progress, error) {
	return s.progress(ctx, s.db, t)
}

func (s *Service) progress(ctx context.Context, db bun.IDB, t *tickets.Ticket) (*Progress, error) {
	p := &Progress{}
	sts, err := s.stagesOf(ctx, db, t.Category)
	if err != nil {
		return nil, err
	}
	cur := new(current)
	err = db.NewSelect().Model(cur).Where("ticket_id = ?", t.ID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		cur = nil
	} else if err != nil {
		return nil, fmt.Errorf("load ticket's stage: %w", err)
	}
	var hs []*history
	if err := db.NewSelect().Model(&hs).Where("ticket_id = ?", t.ID).OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load stage history: %w", err)
	}
	entered := map[int64]time.Time{} // the last time each stage was entered
	for _, h := range hs {
		entered[h.StageID] = h.EnteredAt
	}
	curPos := -1
	for i, st := range sts {
		if cur != nil && st.ID == cur.StageID {
			curPos, p.Current = i, st
		}
	}
	for i, st := range sts {
		step := Step{Stage: st, State: "ahead"}
		switch {
		case i < curPos:
			step.State = "passed"
			if at, ok := entered[st.ID]; ok {
				step.At = &at
			} else {
				step.Skipped = true
			}
		case i == curPos:
			step.State, step.At, step.DueAt = "current", &cur.EnteredAt, cur.DueAt
			step.Breach, step.Warned = cur.BreachedAt != nil, cur.WarnedAt != nil
		}
		p.Steps = append(p.Steps, step)
	}
	if err := db.NewSelect().Model(&p.Documents).Where("ticket_id = ?", t.ID).OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load documents: %w", err)
	}
	return p, nil
}

// Move puts the ticket ref names at a stage of its category, as actor: the move is
// audited (stage.changed, any direction), the stage's deadline starts, and the customer is
// told on their channel in their language. A stage of another category is refused.
func (s *Service) Move(ctx context.Context, actor tickets.Actor, ref string, stageID int64) (*tickets.Ticket, error) {
	var timers []tickets.Timer
	t, err := s.svc.ChangeTicket(ctx, actor, ref, func(tx tickets.Tx, t *tickets.Ticket) ([]int64, error) {
		timers = nil
		st := new(Stage)
		if err := tx.NewSelect().Model(st).Where("id = ?", stageID).Scan(ctx); errors.Is(err, sql.ErrNoRows) {
			return nil, tickets.Invalidf("stage %d does not exist", stageID)
		} else if err != nil {
			return nil, fmt.Errorf("load stage: %w", err)
		}
		if st.Category != t.Category {
			return nil, tickets.Invalidf("stage %q belongs to category %q, and %s is in %q", st.NameEn, st.Category, t.Ref(), t.Category)
		}
		if t.Status == tickets.StatusClosed {
			return nil, tickets.Conflictf("%s is closed; reopen it before moving its stage", t.Ref())
		}
		was := new(current)
		err := tx.NewSelect().Model(was).Where("ticket_id = ?", t.ID).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			was = nil
		} else if err != nil {
			return nil, fmt.Errorf("load ticket's stage: %w", err)
		}
		if was != nil && was.StageID == st.ID {
			return nil, tickets.Conflictf("%s is already at stage %q", t.Ref(), st.NameEn)
		}
		now := s.svc.Now()
		cur := &current{TicketID: t.ID, StageID: st.ID, EnteredAt: now}
		if st.DueDays > 0 {
			cal := s.svc.Calendar()
			due := cal.AddWorkingDays(now, st.DueDays).UTC()
			cur.DueAt = &due
			if st.DueDays > 1 {
				warn := cal.WorkingDaysBefore(due, 1).UTC()
				cur.WarnAt = &warn
			}
		}
		if _, err := tx.NewInsert().Model(cur).On("CONFLICT (ticket_id) DO UPDATE").
			Set("stage_id = EXCLUDED.stage_id, entered_at = EXCLUDED.entered_at, due_at = EXCLUDED.due_at, warn_at = EXCLUDED.warn_at, warned_at = NULL, breached_at = NULL").
			Exec(ctx); err != nil {
			return nil, fmt.Errorf("set ticket's stage: %w", err)
		}
		if _, err := tx.NewInsert().Model(&history{TicketID: t.ID, StageID: st.ID, EnteredAt: now}).Exec(ctx); err != nil {
			return nil, fmt.Errorf("record stage history: %w", err)
		}
		data := map[string]any{"stage_id": st.ID, "to": st.NameEn, "to_zh": st.NameZh}
		if was != nil {
			data["from_stage_id"] = was.StageID
			var from Stage
			if err := tx.NewSelect().Model(&from).Where("id = ?", was.StageID).Scan(ctx); err == nil {
				data["from"], data["from_zh"] = from.NameEn, from.NameZh
			}
		}
		if cur.DueAt != nil {
			data["due_at"] = *cur.DueAt
			timers = stageTimers(cur)
		}
		if err := tx.Record(ctx, tx.Event(actor, "ticket", t.ID, "stage.changed", data)); err != nil {
			return nil, err
		}
		missing, err := missingItems(ctx, tx, t.ID)
		if err != nil {
			return nil, err
		}
		id, err := s.tell(ctx, tx, t, "stage", func(english bool) tickets.TemplateData {
			return tickets.TemplateData{Stage: st.Name(english), Items: listItems(missing, english)}
		}, tickets.TemplateStageChanged)
		return []int64{id}, err
	})
	if err != nil {
		return nil, err
	}
	s.svc.Schedule(ctx, timers)
	return t, nil
}

// tell queues a notice to t's customer in their language, on the channel the core's
// notices take, unless nothing reaches them or they opted out of that channel: then the
// skip is recorded on the ticket (what.notice_skipped) and 0 is returned.
func (s *Service) tell(ctx context.Context, tx tickets.Tx, t *tickets.Ticket, what string, data func(english bool) tickets.TemplateData, key string) (int64, error) {
	_, skip, err := tx.Reachable(ctx, t)
	if err != nil {
		return 0, err
	}
	if skip != "" {
		return 0, tx.Record(ctx, tx.Event(system, "ticket", t.ID, what+".notice_skipped", map[string]any{"reason": skip}))
	}
	var locale string
	if err := tx.NewSelect().Table("customers").Column("locale").Where("id = ?", t.CustomerID).Scan(ctx, &locale); err != nil {
		return 0, fmt.Errorf("load customer locale: %w", err)
	}
	return tx.Notify(ctx, t, key, data(strings.HasPrefix(strings.ToLower(locale), "en")))
}

// listItems words a list of documents in a language.
func listItems(items []string, english bool) string {
	if english {
		return strings.Join(items, "; ")
	}
	return strings.Join(items, "、")
}

func missingItems(ctx context.Context, db bun.IDB, ticketID int64) ([]string, error) {
	var items []string
	if err := db.NewSelect().Table("document_requests").Column("item").
		Where("ticket_id = ? AND received_at IS NULL", ticketID).OrderExpr("id").Scan(ctx, &items); err != nil {
		return nil, fmt.Errorf("load missing documents: %w", err)
	}
	return items, nil
}

// Due lists the current stages' deadlines of the tickets ids names that have one, by
// ticket: the queue's stage chip.
func (s *Service) Due(ctx context.Context, ids []int64) (map[int64]Deadline, error) {
	out := map[int64]Deadline{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		TicketID   int64
		NameZh     string
		NameEn     string
		EnteredAt  time.Time
		DueAt      time.Time
		WarnAt     *time.Time
		WarnedAt   *time.Time
		BreachedAt *time.Time
	}
	err := s.db.NewSelect().TableExpr("ticket_stages AS ts").Join("JOIN stages AS st ON st.id = ts.stage_id").
		ColumnExpr("ts.ticket_id, st.name_zh, st.name_en, ts.entered_at, ts.due_at, ts.warn_at, ts.warned_at, ts.breached_at").
		Where("ts.ticket_id IN (?) AND ts.due_at IS NOT NULL", bun.In(ids)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("load stage deadlines: %w", err)
	}
	for _, r := range rows {
		d := Deadline{NameZh: r.NameZh, NameEn: r.NameEn, Due: r.DueAt, Warn: r.DueAt, Breached: r.BreachedAt != nil}
		switch {
		case r.WarnedAt != nil:
			d.Warn = r.EnteredAt
		case r.WarnAt != nil:
			d.Warn = *r.WarnAt
		}
		out[r.TicketID] = d
	}
	return out, nil
}

// Deadline is a ticket's current stage's deadline as the queue shows it.
type Deadline struct {
	NameZh, NameEn string
	Due, Warn      time.Time
	Breached       bool
}
