package quality

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/hotlinedesk/hotline/tickets"
)

// Bounds of a review.
const (
	MaxComment = 4000 // characters
	MaxAnswer  = 2000 // characters
	MaxList    = 200  // reviews a list shows
)

// Mark is a criterion as a review scored it: the criterion as the rubric's version had it,
// and the marks given (0 to Max).
type Mark struct {
	Criterion
	Mark int `json:"mark"`
}

// Sheet is what a review keeps of the rubric it was scored on, with its marks: the
// quality_reviews.criteria JSON. A later edit of the rubric never changes it.
type Sheet struct {
	Rubric  string `json:"rubric"`
	Version int    `json:"version"`
	Items   []Mark `json:"items"`
}

// Review is a quality review as stored.
type Review struct {
	bun.BaseModel `bun:"table:quality_reviews"`

	ID         int64 `bun:",pk,autoincrement"`
	TicketID   int64 `bun:",notnull"`
	AgentID    int64 `bun:",notnull"` // whose handling was reviewed: the ticket's assignee
	ReviewerID int64 `bun:",notnull"`
	RubricID   *int64
	Score      float64 `bun:",notnull"` // the weighted total, 0–100
	Criteria   Sheet   `bun:",type:text,notnull"`
	Comment    string  `bun:",notnull"`
	Answer     *string // the agent's one answer
	AnsweredAt *time.Time
	CreatedAt  time.Time `bun:",notnull"`

	// Filled when read for a list or a page.
	Ref      string `bun:"-"` // the ticket's reference
	Subject  string `bun:"-"` // the ticket's subject
	Agent    string `bun:"-"` // the agent's name
	Reviewer string `bun:"-"` // the reviewer's name
	Edited   bool   `bun:"-"` // Submit changed a review stored before
}

// ScoreText is the score as people read it (FormatScore).
func (r *Review) ScoreText() string { return FormatScore(r.Score) }

// Answered reports whether the agent answered.
func (r *Review) Answered() bool { return r.AnsweredAt != nil }

// Score is the weighted total of marks, 0 to 100 rounded to two decimals: the sum of
// weight × mark ÷ most marks, the weights adding up to 100.
func Score(marks []Mark) float64 {
	total := 0.0
	for _, m := range marks {
		if m.Max > 0 {
			total += float64(m.Weight) * float64(m.Mark) / float64(m.Max)
		}
	}
	return math.Round(total*100) / 100
}

// ReviewInput is a reviewer's marks for a ticket: criterion key → marks, and a comment.
type ReviewInput struct {
	TicketRef string
	RubricID  int64 // the rubric of a new review; an edit keeps the criteria it was scored on
	Marks     map[string]int
	Comment   string
}

// sheet scores marks on crits: every criterion marked, from 0 to its most, and no
// other key.
func sheet(crits []Criterion, marks map[string]int) ([]Mark, error) {
	out := make([]Mark, 0, len(crits))
	for _, c := range crits {
		m, ok := marks[c.Key]
		switch {
		case !ok:
			return nil, tickets.Invalidf("give marks for %q (%s)", c.NameEN, c.NameZH)
		case m < 0 || m > c.Max:
			return nil, tickets.Invalidf("the marks for %q (%s) must be between 0 and %d", c.NameEN, c.NameZH, c.Max)
		}
		out = append(out, Mark{Criterion: c, Mark: m})
	}
	if len(marks) != len(out) {
		return nil, tickets.Invalidf("marks were given for a criterion the rubric does not have")
	}
	return out, nil
}

// reviewable loads the resolved ticket ref and its agent, refusing who may not review it:
// supervisors review their team's agents, admins anyone, nobody their own ticket.
func (s *Service) reviewable(ctx context.Context, db bun.IDB, actor tickets.Actor, ref string) (*tickets.Ticket, *tickets.Agent, error) {
	if err := mayReview(actor.Agent); err != nil {
		return nil, nil, err
	}
	id, ok := tickets.ParseRef(ref)
	if !ok {
		return nil, nil, tickets.NotFoundf("ticket %q not found", ref)
	}
	t := new(tickets.Ticket)
	err := db.NewSelect().Model(t).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, tickets.NotFoundf("ticket %s not found", ref)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load ticket %s: %w", ref, err)
	}
	if t.Status != tickets.StatusResolved && t.Status != tickets.StatusClosed {
		return nil, nil, tickets.Conflictf("%s is not resolved: only handled tickets are reviewed", t.Ref())
	}
	if t.AssigneeID == nil {
		return nil, nil, tickets.Conflictf("%s has no agent to review", t.Ref())
	}
	ag := new(tickets.Agent)
	if err := db.NewSelect().Model(ag).Where("id = ?", *t.AssigneeID).Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("load the agent of %s: %w", t.Ref(), err)
	}
	a := actor.Agent
	switch {
	case a.ID == ag.ID:
		return nil, nil, tickets.Forbiddenf("nobody reviews their own tickets")
	case a.Role == tickets.RoleSupervisor && !a.InTeam(ag.TeamID):
		return nil, nil, tickets.Forbiddenf("supervisors review the tickets of their own team's agents only")
	}
	return t, ag, nil
}

// MayReview refuses actor a review of ticket ref as Submit would (who they are, the
// ticket's state and agent), for a page to say so before the marks are given.
func (s *Service) MayReview(ctx context.Context, actor tickets.Actor, ref string) error {
	_, _, err := s.reviewable(ctx, s.svc.DB(), actor, ref)
	return err
}

// Submit stores actor's review of a resolved ticket, or changes it: one review a reviewer a
// ticket (the unique index). A second submit edits the reviewer's own review, on the
// criteria it was first scored on, until the agent answered it; after that it is refused
// (409). A new review tells the agent (a staff notice).
func (s *Service) Submit(ctx context.Context, actor tickets.Actor, in ReviewInput) (*Review, error) {
	in.Comment = strings.TrimSpace(in.Comment)
	if utf8.RuneCountInString(in.Comment) > MaxComment {
		return nil, tickets.Invalidf("the comment is longer than %d characters", MaxComment)
	}
	var r *Review
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		t, ag, err := s.reviewable(ctx, tx, actor, in.TicketRef)
		if err != nil {
			return err
		}
		old := new(Review)
		q := tx.NewSelect().Model(old).Where("ticket_id = ? AND reviewer_id = ?", t.ID, actor.Agent.ID)
		if tx.Dialect().Name() == dialect.PG {
			q = q.For("UPDATE")
		}
		switch err := q.Scan(ctx); {
		case errors.Is(err, sql.ErrNoRows):
			r, err = s.create(ctx, tx, actor, t, ag, in)
			return err
		case err != nil:
			return fmt.Errorf("find the review of %s: %w", t.Ref(), err)
		}
		r, err = s.edit(ctx, tx, actor, old, t, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (s *Service) create(ctx context.Context, tx tickets.Tx, actor tickets.Actor, t *tickets.Ticket, ag *tickets.Agent, in ReviewInput) (*Review, error) {
	if in.RubricID <= 0 {
		return nil, tickets.Invalidf("choose a rubric")
	}
	rb, err := loadRubric(ctx, tx, in.RubricID, false)
	if err != nil {
		return nil, err
	}
	if rb.RetiredAt != nil {
		return nil, tickets.Conflictf("rubric %q version %d is no longer in use; reload the page", rb.Name, rb.Version)
	}
	marks, err := sheet(rb.Criteria, in.Marks)
	if err != nil {
		return nil, err
	}
	r := &Review{TicketID: t.ID, AgentID: ag.ID, ReviewerID: actor.Agent.ID, RubricID: &rb.ID, Score: Score(marks),
		Criteria: Sheet{Rubric: rb.Name, Version: rb.Version, Items: marks}, Comment: in.Comment, CreatedAt: s.svc.Now()}
	// A concurrent first submit by the same reviewer fails here on the unique index, and
	// InTx's retry finds its review and edits it.
	if _, err := tx.NewInsert().Model(r).Exec(ctx); err != nil {
		return nil, fmt.Errorf("store the review of %s: %w", t.Ref(), err)
	}
	if err := tx.AddNotices(ctx, []*tickets.Notice{{AgentID: ag.ID, Kind: "quality.reviewed", TicketID: &t.ID,
		Body: fmt.Sprintf("%s was reviewed by %s: %s of 100.", t.Ref(), actor.Agent.Name, FormatScore(r.Score))}}); err != nil {
		return nil, err
	}
	return r, tx.Record(ctx, tx.Event(actor, "quality_review", r.ID, "quality_review.created",
		map[string]any{"ticket": t.Ref(), "agent_id": ag.ID, "rubric_id": rb.ID, "score": r.Score}))
}

func (s *Service) edit(ctx context.Context, tx tickets.Tx, actor tickets.Actor, r *Review, t *tickets.Ticket, in ReviewInput) (*Review, error) {
	if r.Answered() {
		return nil, tickets.Conflictf("the agent has answered your review of %s; it can no longer change", t.Ref())
	}
	crits := make([]Criterion, len(r.Criteria.Items))
	for i, m := range r.Criteria.Items {
		crits[i] = m.Criterion
	}
	marks, err := sheet(crits, in.Marks)
	if err != nil {
		return nil, err
	}
	from := r.Score
	r.Edited = true
	r.Criteria.Items, r.Score, r.Comment = marks, Score(marks), in.Comment
	res, err := tx.NewUpdate().Model(r).Column("criteria", "score", "comment").WherePK().Where("answered_at IS NULL").Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("save the review of %s: %w", t.Ref(), err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, tickets.Conflictf("the agent has answered your review of %s; it can no longer change", t.Ref())
	}
	return r, tx.Record(ctx, tx.Event(actor, "quality_review", r.ID, "quality_review.updated",
		map[string]any{"ticket": t.Ref(), "from": from, "to": r.Score}))
}

// FormatScore is a score as people read it: "87.5", "90".
func FormatScore(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", f), "0"), ".")
}

// Answer stores the agent's answer to review id, once: the guarded update takes it only
// while the review has none, so of two answers at once one is stored and the other refused
// (409). The reviewer is told.
func (s *Service) Answer(ctx context.Context, actor tickets.Actor, id int64, text string) (*Review, error) {
	text = strings.TrimSpace(text)
	switch {
	case actor.Agent == nil:
		return nil, tickets.Forbiddenf("only the agent reviewed answers a review")
	case text == "":
		return nil, tickets.Invalidf("write an answer")
	case utf8.RuneCountInString(text) > MaxAnswer:
		return nil, tickets.Invalidf("the answer is longer than %d characters", MaxAnswer)
	}
	var r *Review
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		var err error
		if r, err = s.readable(ctx, tx, actor, id); err != nil {
			return err
		}
		if r.AgentID != actor.Agent.ID {
			return tickets.Forbiddenf("only the agent reviewed answers a review")
		}
		now := s.svc.Now()
		res, err := tx.NewUpdate().Model((*Review)(nil)).Set("answer = ?, answered_at = ?", text, now).
			Where("id = ? AND answered_at IS NULL", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("store the answer to review %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return tickets.Conflictf("this review is answered already; an answer is given once")
		}
		r.Answer, r.AnsweredAt = &text, &now
		ref := tickets.FormatRef(r.TicketID)
		if err := tx.AddNotices(ctx, []*tickets.Notice{{AgentID: r.ReviewerID, Kind: "quality.answered", TicketID: &r.TicketID,
			Body: fmt.Sprintf("%s answered your review of %s.", actor.Agent.Name, ref)}}); err != nil {
			return err
		}
		return tx.Record(ctx, tx.Event(actor, "quality_review", r.ID, "quality_review.answered", map[string]any{"ticket": ref}))
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// readable loads review id when actor may read it: its reviewer, and whoever may read the
// agent's figures (the agent, their team's supervisors, admins). Others are told it is not
// there.
func (s *Service) readable(ctx context.Context, db bun.IDB, actor tickets.Actor, id int64) (*Review, error) {
	r := new(Review)
	err := db.NewSelect().Model(r).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tickets.NotFoundf("review %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load review %d: %w", id, err)
	}
	if actor.Agent != nil && actor.Agent.ID == r.ReviewerID {
		return r, nil
	}
	if err := s.svc.MayReadAgentFigures(ctx, actor, r.AgentID); err != nil {
		return nil, err
	}
	return r, nil
}

// Review is review id, with its ticket and people named, when actor may read it.
func (s *Service) Review(ctx context.Context, actor tickets.Actor, id int64) (*Review, error) {
	r, err := s.readable(ctx, s.svc.DB(), actor, id)
	if err != nil {
		return nil, err
	}
	return r, s.name(ctx, []*Review{r})
}

// OfAgent is the reviews of agent agentID, newest first, at most MaxList, for who may read
// the agent's figures: the agent's "My reviews", and their team's supervisors and admins.
func (s *Service) OfAgent(ctx context.Context, actor tickets.Actor, agentID int64) ([]*Review, error) {
	if err := s.svc.MayReadAgentFigures(ctx, actor, agentID); err != nil {
		return nil, err
	}
	out := []*Review{}
	if err := s.svc.DB().NewSelect().Model(&out).Where("agent_id = ?", agentID).OrderExpr("created_at DESC, id DESC").Limit(MaxList).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list the reviews of agent %d: %w", agentID, err)
	}
	return out, s.name(ctx, out)
}

// Mine is actor's own review of ticket id, or nil.
func (s *Service) Mine(ctx context.Context, actor tickets.Actor, ticketID int64) (*Review, error) {
	if actor.Agent == nil {
		return nil, nil
	}
	r := new(Review)
	err := s.svc.DB().NewSelect().Model(r).Where("ticket_id = ? AND reviewer_id = ?", ticketID, actor.Agent.ID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find your review: %w", err)
	}
	return r, s.name(ctx, []*Review{r})
}

// name fills the reviews' ticket references and subjects and their people's names.
func (s *Service) name(ctx context.Context, rs []*Review) error {
	if len(rs) == 0 {
		return nil
	}
	var ticketIDs, agentIDs []int64
	for _, r := range rs {
		ticketIDs = append(ticketIDs, r.TicketID)
		agentIDs = append(agentIDs, r.AgentID, r.ReviewerID)
	}
	var ts []struct {
		ID      int64
		Subject string
	}
	if err := s.svc.DB().NewSelect().Table("tickets").Column("id", "subject").Where("id IN (?)", bun.In(ticketIDs)).Scan(ctx, &ts); err != nil {
		return fmt.Errorf("name the reviewed tickets: %w", err)
	}
	var as []struct {
		ID    int64
		Name  string
		Email string
	}
	if err := s.svc.DB().NewSelect().Table("agents").Column("id", "name", "email").Where("id IN (?)", bun.In(agentIDs)).Scan(ctx, &as); err != nil {
		return fmt.Errorf("name the reviews' people: %w", err)
	}
	subjects, names := map[int64]string{}, map[int64]string{}
	for _, t := range ts {
		subjects[t.ID] = t.Subject
	}
	for _, a := range as {
		names[a.ID] = a.Name
		if a.Name == "" {
			names[a.ID] = a.Email
		}
	}
	for _, r := range rs {
		r.Ref, r.Subject, r.Agent, r.Reviewer = tickets.FormatRef(r.TicketID), subjects[r.TicketID], names[r.AgentID], names[r.ReviewerID]
	}
	return nil
}
