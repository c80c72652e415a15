// Package canned holds canned replies: titled texts an agent picks in the composer and
// edits before sending, with variables ({{customer_name}}, {{ticket_ref}}, ...) filled from
// the ticket. A reply is global or one team's, with a body in Chinese, in English or both;
// the composer fills the body in the customer's language (the other when that one is
// empty). Agents read the global replies and their team's; supervisors write their team's,
// admins every one; every change is audited in its transaction.
//
// It is a chapter beside the core (package tickets): it reads the core's rows and writes
// its own through tickets.Tx, and the core knows nothing of it.
package canned

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/hotlinedesk/hotline/tickets"
)

// Bounds of what a canned reply holds, and of how many a desk keeps.
const (
	MaxTitle   = 120  // characters
	MaxBody    = 4000 // characters, each language
	MaxReplies = 500  // read at once: the picker's list
)

// Reply is a canned reply as stored.
type Reply struct {
	bun.BaseModel `bun:"table:canned_replies"`

	ID        int64 `bun:",pk,autoincrement"`
	TeamID    *int64
	Title     string    `bun:",notnull"`
	BodyZH    string    `bun:"body_zh,notnull"`
	BodyEN    string    `bun:"body_en,notnull"`
	CreatedAt time.Time `bun:",notnull"`
	UpdatedAt time.Time `bun:",notnull"`
}

// Body is the reply's text in locale's language (see Lang), or in the other language when
// it has none in that one, and the language it is in.
func (r *Reply) Body(locale string) (body, lang string) {
	if Lang(locale) == "en" && r.BodyEN != "" || r.BodyZH == "" {
		return r.BodyEN, "en"
	}
	return r.BodyZH, "zh-CN"
}

// Lang is the language of a reply for a customer's locale: "en" for English ("en…"),
// "zh-CN" for anything else.
func Lang(locale string) string {
	if strings.HasPrefix(strings.ToLower(locale), "en") {
		return "en"
	}
	return "zh-CN"
}

// Input is what a supervisor or admin saves: TeamID nil makes a global reply.
type Input struct {
	TeamID *int64
	Title  string
	BodyZH string
	BodyEN string
}

// Service reads and changes canned replies. It is safe for concurrent use.
type Service struct {
	svc *tickets.Service
}

// New is the canned replies of svc, on its database and clock.
func New(svc *tickets.Service) *Service { return &Service{svc: svc} }

// mayRead reports whether a may read r: admins every reply, others the global ones and
// their team's. The system (no agent) reads all.
func mayRead(a *tickets.Agent, r *Reply) bool {
	return a == nil || a.Role == tickets.RoleAdmin || r.TeamID == nil || a.InTeam(r.TeamID)
}

// mayWrite refuses a change to the replies of team (nil: the global ones) by an agent
// who may not make it: admins write all, supervisors their own team's.
func mayWrite(a *tickets.Agent, team *int64) error {
	switch {
	case a == nil || a.Role == tickets.RoleAdmin:
		return nil
	case a.Role != tickets.RoleSupervisor:
		return tickets.Forbiddenf("only supervisors and admins manage canned replies")
	case team == nil:
		return tickets.Forbiddenf("only admins manage global canned replies; choose your team")
	case !a.InTeam(team):
		return tickets.Forbiddenf("supervisors manage the canned replies of their own team only")
	}
	return nil
}

// List is the replies actor may read, by title, at most MaxReplies; q, when not empty,
// keeps those whose title contains it (any case).
func (s *Service) List(ctx context.Context, actor tickets.Actor, q string) ([]*Reply, error) {
	out := []*Reply{}
	sel := s.svc.DB().NewSelect().Model(&out).OrderExpr("title, id").Limit(MaxReplies)
	if a := actor.Agent; a != nil && a.Role != tickets.RoleAdmin {
		if a.TeamID != nil {
			sel = sel.Where("team_id IS NULL OR team_id = ?", *a.TeamID)
		} else {
			sel = sel.Where("team_id IS NULL")
		}
	}
	if q = strings.TrimSpace(q); q != "" {
		if utf8.RuneCountInString(q) > MaxTitle {
			return nil, tickets.Invalidf("the search is longer than a title (%d characters)", MaxTitle)
		}
		sel = sel.Where("LOWER(title) LIKE ? ESCAPE '\\'", "%"+escapeLike(strings.ToLower(q))+"%")
	}
	if err := sel.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list canned replies: %w", err)
	}
	return out, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Get is reply id, when actor may read it.
func (s *Service) Get(ctx context.Context, actor tickets.Actor, id int64) (*Reply, error) {
	r, err := load(ctx, s.svc.DB(), id)
	if err != nil {
		return nil, err
	}
	if !mayRead(actor.Agent, r) {
		return nil, notFound(id) // another team's: not theirs to know of
	}
	return r, nil
}

func notFound(id int64) error { return tickets.NotFoundf("canned reply %d not found", id) }

func load(ctx context.Context, db bun.IDB, id int64) (*Reply, error) {
	r := new(Reply)
	err := db.NewSelect().Model(r).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("load canned reply %d: %w", id, err)
	}
	return r, nil
}

// clean checks in: a title, a body in one language at least, within the bounds, and only
// known variables.
func clean(in Input) (Input, error) {
	in.Title = strings.TrimSpace(in.Title)
	in.BodyZH = strings.TrimSpace(in.BodyZH)
	in.BodyEN = strings.TrimSpace(in.BodyEN)
	switch {
	case in.Title == "":
		return in, tickets.Invalidf("a canned reply needs a title")
	case utf8.RuneCountInString(in.Title) > MaxTitle:
		return in, tickets.Invalidf("the title is longer than %d characters", MaxTitle)
	case in.BodyZH == "" && in.BodyEN == "":
		return in, tickets.Invalidf("a canned reply needs a text in Chinese or English")
	}
	for _, b := range []struct{ lang, text string }{{"Chinese", in.BodyZH}, {"English", in.BodyEN}} {
		if utf8.RuneCountInString(b.text) > MaxBody {
			return in, tickets.Invalidf("the %s text is longer than %d characters", b.lang, MaxBody)
		}
		if err := Check(b.text); err != nil {
			return in, tickets.Invalidf("the %s text: %s", b.lang, tickets.Reason(err))
		}
	}
	return in, nil
}

// teamExists refuses a reply for a team that is not there.
func teamExists(ctx context.Context, db bun.IDB, team *int64) error {
	if team == nil {
		return nil
	}
	n, err := db.NewSelect().Table("teams").Where("id = ?", *team).Count(ctx)
	if err != nil {
		return fmt.Errorf("find team %d: %w", *team, err)
	}
	if n == 0 {
		return tickets.Invalidf("there is no team %d", *team)
	}
	return nil
}

func eventData(r *Reply) map[string]any {
	return map[string]any{"title": r.Title, "team_id": r.TeamID}
}

// Create saves a new reply.
func (s *Service) Create(ctx context.Context, actor tickets.Actor, in Input) (*Reply, error) {
	in, err := clean(in)
	if err != nil {
		return nil, err
	}
	if err := mayWrite(actor.Agent, in.TeamID); err != nil {
		return nil, err
	}
	var r *Reply
	err = s.svc.InTx(ctx, func(tx tickets.Tx) error {
		if err := teamExists(ctx, tx, in.TeamID); err != nil {
			return err
		}
		now := s.svc.Now()
		r = &Reply{TeamID: in.TeamID, Title: in.Title, BodyZH: in.BodyZH, BodyEN: in.BodyEN, CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(r).Exec(ctx); err != nil {
			return fmt.Errorf("store canned reply: %w", err)
		}
		return tx.Record(ctx, tx.Event(actor, "canned_reply", r.ID, "canned_reply.created", eventData(r)))
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Update replaces reply id's team, title and texts; actor must be allowed to write both
// its team's replies and the new team's.
func (s *Service) Update(ctx context.Context, actor tickets.Actor, id int64, in Input) (*Reply, error) {
	in, err := clean(in)
	if err != nil {
		return nil, err
	}
	if err := mayWrite(actor.Agent, in.TeamID); err != nil {
		return nil, err
	}
	var r *Reply
	err = s.svc.InTx(ctx, func(tx tickets.Tx) error {
		var err error
		if r, err = s.writable(ctx, tx, actor, id); err != nil {
			return err
		}
		if err := teamExists(ctx, tx, in.TeamID); err != nil {
			return err
		}
		from := eventData(r)
		r.TeamID, r.Title, r.BodyZH, r.BodyEN, r.UpdatedAt = in.TeamID, in.Title, in.BodyZH, in.BodyEN, s.svc.Now()
		if _, err := tx.NewUpdate().Model(r).WherePK().ExcludeColumn("id", "created_at").Exec(ctx); err != nil {
			return fmt.Errorf("save canned reply %d: %w", id, err)
		}
		return tx.Record(ctx, tx.Event(actor, "canned_reply", r.ID, "canned_reply.updated", map[string]any{"from": from, "to": eventData(r)}))
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Delete removes reply id.
func (s *Service) Delete(ctx context.Context, actor tickets.Actor, id int64) error {
	return s.svc.InTx(ctx, func(tx tickets.Tx) error {
		r, err := s.writable(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model(r).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("delete canned reply %d: %w", id, err)
		}
		return tx.Record(ctx, tx.Event(actor, "canned_reply", r.ID, "canned_reply.deleted", eventData(r)))
	})
}

// writable loads reply id in tx, locked on PostgreSQL, when actor may change it.
func (s *Service) writable(ctx context.Context, tx tickets.Tx, actor tickets.Actor, id int64) (*Reply, error) {
	r := new(Reply)
	q := tx.NewSelect().Model(r).Where("id = ?", id)
	if tx.Dialect().Name() == dialect.PG {
		q = q.For("UPDATE")
	}
	err := q.Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("load canned reply %d: %w", id, err)
	}
	if !mayRead(actor.Agent, r) {
		return nil, notFound(id)
	}
	return r, mayWrite(actor.Agent, r.TeamID)
}

// Filled is a reply as the composer inserts it: its body in the customer's language with
// the variables filled from a ticket.
type Filled struct {
	ID     int64
	Title  string
	Locale string // the body's language: "zh-CN" or "en"
	Body   string
	// Fallback: the body is not in the customer's language, which the reply has no text in.
	Fallback bool
}

// Fill is reply id filled for ticket ref, as actor would send it.
func (s *Service) Fill(ctx context.Context, actor tickets.Actor, ref string, id int64) (*Filled, error) {
	r, err := s.Get(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	d, err := s.svc.Ticket(ctx, ref)
	if err != nil {
		return nil, err
	}
	vars, err := s.vars(ctx, actor, d.Ticket)
	if err != nil {
		return nil, err
	}
	f := fill(r, d.Ticket, vars)
	return &f, nil
}

// ForTicket is every reply actor may read (see List) filled for t, whose customer is
// loaded: the composer's picker.
func (s *Service) ForTicket(ctx context.Context, actor tickets.Actor, t *tickets.Ticket) ([]Filled, error) {
	rs, err := s.List(ctx, actor, "")
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	vars, err := s.vars(ctx, actor, t)
	if err != nil {
		return nil, err
	}
	out := make([]Filled, 0, len(rs))
	for _, r := range rs {
		out = append(out, fill(r, t, vars))
	}
	return out, nil
}

func fill(r *Reply, t *tickets.Ticket, vars map[string]string) Filled {
	locale := ""
	if t.Customer != nil {
		locale = t.Customer.Locale
	}
	body, in := r.Body(locale)
	return Filled{ID: r.ID, Title: r.Title, Locale: in, Body: Render(body, vars), Fallback: in != Lang(locale)}
}

// timeFormat is how deadlines read in a reply: in the calendar's zone, to the minute.
const timeFormat = "2006-01-02 15:04"

// vars are the values of the variables for t, as actor writes to its customer.
func (s *Service) vars(ctx context.Context, actor tickets.Actor, t *tickets.Ticket) (map[string]string, error) {
	loc := s.svc.Calendar().Location()
	when := func(at *time.Time) string {
		if at == nil {
			return ""
		}
		return at.In(loc).Format(timeFormat)
	}
	v := map[string]string{
		VarTicketRef:        t.Ref(),
		VarFirstResponseDue: when(t.FirstResponseDueAt),
		VarResolutionDue:    when(t.ResolutionDueAt),
	}
	if t.Customer != nil {
		v[VarCustomerName] = t.Customer.Name
	}
	if a := actor.Agent; a != nil {
		v[VarAgentName] = a.Name
	}
	// The ticket's complaint: the open one, else the latest.
	var c struct {
		ID         int64
		DeadlineAt time.Time
	}
	err := s.svc.DB().NewSelect().Table("complaints").Column("id", "deadline_at").Where("ticket_id = ?", t.ID).
		OrderExpr("CASE WHEN status IN ('received', 'investigating') THEN 0 ELSE 1 END, id DESC").Limit(1).Scan(ctx, &c.ID, &c.DeadlineAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("find the complaint of %s: %w", t.Ref(), err)
	default:
		v[VarComplaintRef] = tickets.FormatComplaintRef(c.ID)
		v[VarComplaintDue] = when(&c.DeadlineAt)
	}
	return v, nil
}
