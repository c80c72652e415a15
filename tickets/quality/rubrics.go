// Package quality holds the quality reviews (质检): the rubrics admins define, the samples of
// resolved tickets supervisors draw for a period, the reviews they score on a rubric, the
// agent's one answer to each, and the calibration of two reviewers on one ticket.
//
// A rubric is a list of criteria, each named in Chinese and English, with a weight (the
// weights add up to 100) and the most marks it gives. It is never changed in place: an edit
// stores a new version and retires the old one, so a past review still points at the version
// it was scored on, and keeps that version's criteria beside its marks (the criteria JSON).
// A review's score is the weighted total, 0 to 100: the sum over the criteria of
// weight × marks ÷ most marks. Scorecards average it.
//
// Who may do what: admins keep the rubrics; supervisors review the tickets of their team's
// agents and admins any (never a ticket of their own); the agent reads their reviews and
// answers each once; the agent, their team's supervisors and admins read an agent's reviews
// (tickets.Service.MayReadAgentFigures), and a reviewer their own.
//
// It is a chapter beside the core (package tickets): it reads the core's rows and writes
// its own through tickets.Tx, and the core knows nothing of it.
package quality

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/hotlinedesk/hotline/tickets"
)

// Bounds of a rubric.
const (
	MaxName        = 80  // characters: a rubric's or a criterion's name, each language
	MaxDescription = 500 // characters: a criterion's description, each language
	MaxCriteria    = 20
	MaxMarks       = 100 // the most marks one criterion may give
	TotalWeight    = 100 // the weights of a rubric add up to this
)

// Criterion is one line of a rubric.
type Criterion struct {
	// Key names the criterion across the rubric's versions ("k1", "k2", ...): an edit keeps
	// the key of a criterion it keeps, so calibration lines up reviews scored on different
	// versions.
	Key    string `json:"key"`
	NameZH string `json:"name_zh"`
	NameEN string `json:"name_en"`
	DescZH string `json:"desc_zh,omitempty"`
	DescEN string `json:"desc_en,omitempty"`
	Weight int    `json:"weight"` // share of the score, in percent
	Max    int    `json:"max"`    // the most marks it gives, 1–MaxMarks
}

// Name is the criterion's name in lang ("en" or Chinese otherwise).
func (c Criterion) Name(lang string) string {
	if lang == "en" {
		return c.NameEN
	}
	return c.NameZH
}

// Desc is the criterion's description in lang, or in the other language when it has none
// in lang.
func (c Criterion) Desc(lang string) string {
	if lang == "en" && c.DescEN != "" || c.DescZH == "" {
		return c.DescEN
	}
	return c.DescZH
}

// Rubric is one version of a rubric as stored.
type Rubric struct {
	bun.BaseModel `bun:"table:quality_rubrics"`

	ID         int64       `bun:",pk,autoincrement"`
	Name       string      `bun:",notnull"`
	Version    int         `bun:",notnull"`
	PreviousID *int64      // the version this one replaced
	Criteria   []Criterion `bun:",type:text,notnull"`
	CreatedBy  *int64
	CreatedAt  time.Time `bun:",notnull"`
	RetiredAt  *time.Time
}

// RubricInput is what an admin saves: a name and the criteria in order. A criterion's Key
// is kept when it names one of the version edited, and given a new one otherwise.
type RubricInput struct {
	Name     string
	Criteria []Criterion
}

// Service keeps the rubrics and the reviews. It is safe for concurrent use.
type Service struct {
	svc *tickets.Service
}

// New is the quality reviews of svc, on its database and clock.
func New(svc *tickets.Service) *Service { return &Service{svc: svc} }

func mayKeepRubrics(a *tickets.Agent) error {
	if a == nil || a.Role == tickets.RoleAdmin {
		return nil
	}
	return tickets.Forbiddenf("only admins keep the quality review rubrics")
}

// mayReview refuses agents who review nobody: only supervisors and admins review.
func mayReview(a *tickets.Agent) error {
	if a != nil && (a.Role == tickets.RoleAdmin || a.Role == tickets.RoleSupervisor) {
		return nil
	}
	return tickets.Forbiddenf("only supervisors and admins review tickets")
}

// cleanRubric checks in: a name and 1–MaxCriteria criteria, each named in both languages,
// with a weight above 0 and 1–MaxMarks marks, the weights adding up to TotalWeight.
func cleanRubric(in RubricInput) (RubricInput, error) {
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		return in, tickets.Invalidf("a rubric needs a name")
	case utf8.RuneCountInString(in.Name) > MaxName:
		return in, tickets.Invalidf("the rubric's name is longer than %d characters", MaxName)
	case len(in.Criteria) == 0:
		return in, tickets.Invalidf("a rubric needs at least one criterion")
	case len(in.Criteria) > MaxCriteria:
		return in, tickets.Invalidf("a rubric has at most %d criteria", MaxCriteria)
	}
	total := 0
	out := make([]Criterion, len(in.Criteria))
	for i, c := range in.Criteria {
		n := i + 1
		c.Key = strings.TrimSpace(c.Key)
		c.NameZH, c.NameEN = strings.TrimSpace(c.NameZH), strings.TrimSpace(c.NameEN)
		c.DescZH, c.DescEN = strings.TrimSpace(c.DescZH), strings.TrimSpace(c.DescEN)
		switch {
		case c.NameZH == "":
			return in, tickets.Invalidf("criterion %d needs a Chinese name", n)
		case c.NameEN == "":
			return in, tickets.Invalidf("criterion %d needs an English name", n)
		case utf8.RuneCountInString(c.NameZH) > MaxName || utf8.RuneCountInString(c.NameEN) > MaxName:
			return in, tickets.Invalidf("criterion %d's name is longer than %d characters", n, MaxName)
		case utf8.RuneCountInString(c.DescZH) > MaxDescription || utf8.RuneCountInString(c.DescEN) > MaxDescription:
			return in, tickets.Invalidf("criterion %d's description is longer than %d characters", n, MaxDescription)
		case c.Weight <= 0 || c.Weight > TotalWeight:
			return in, tickets.Invalidf("criterion %d's weight must be between 1 and %d", n, TotalWeight)
		case c.Max <= 0 || c.Max > MaxMarks:
			return in, tickets.Invalidf("criterion %d's most marks must be between 1 and %d", n, MaxMarks)
		}
		for _, o := range out[:i] {
			if o.NameZH == c.NameZH || strings.EqualFold(o.NameEN, c.NameEN) {
				return in, tickets.Invalidf("criterion %d has the name of another", n)
			}
		}
		total += c.Weight
		out[i] = c
	}
	if total != TotalWeight {
		return in, tickets.Invalidf("the weights add up to %d, not %d", total, TotalWeight)
	}
	in.Criteria = out
	return in, nil
}

// keyed gives each criterion a key: its own when it names one of prev's, else the next free.
func keyed(cs []Criterion, prev []Criterion) []Criterion {
	known := map[string]bool{}
	next := 0
	bump := func(k string) {
		if n, err := strconv.Atoi(strings.TrimPrefix(k, "k")); err == nil && strings.HasPrefix(k, "k") && n > next {
			next = n
		}
	}
	for _, c := range prev {
		known[c.Key] = true
		bump(c.Key)
	}
	used := map[string]bool{}
	for i := range cs {
		if !known[cs[i].Key] || used[cs[i].Key] {
			cs[i].Key = ""
		} else {
			used[cs[i].Key] = true
		}
	}
	for i := range cs {
		if cs[i].Key == "" {
			next++
			cs[i].Key = "k" + strconv.Itoa(next)
		}
	}
	return cs
}

// Rubrics are the rubrics in use (not retired), by name.
func (s *Service) Rubrics(ctx context.Context) ([]*Rubric, error) {
	out := []*Rubric{}
	if err := s.svc.DB().NewSelect().Model(&out).Where("retired_at IS NULL").OrderExpr("name, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list quality rubrics: %w", err)
	}
	return out, nil
}

// Rubric is version id of a rubric, retired or not.
func (s *Service) Rubric(ctx context.Context, id int64) (*Rubric, error) {
	return loadRubric(ctx, s.svc.DB(), id, false)
}

func loadRubric(ctx context.Context, db bun.IDB, id int64, lock bool) (*Rubric, error) {
	r := new(Rubric)
	q := db.NewSelect().Model(r).Where("id = ?", id)
	if lock && db.Dialect().Name() == dialect.PG {
		q = q.For("UPDATE")
	}
	err := q.Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tickets.NotFoundf("rubric %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load rubric %d: %w", id, err)
	}
	return r, nil
}

func rubricEvent(r *Rubric) map[string]any {
	return map[string]any{"name": r.Name, "version": r.Version, "criteria": len(r.Criteria)}
}

// CreateRubric stores a new rubric, version 1.
func (s *Service) CreateRubric(ctx context.Context, actor tickets.Actor, in RubricInput) (*Rubric, error) {
	if err := mayKeepRubrics(actor.Agent); err != nil {
		return nil, err
	}
	in, err := cleanRubric(in)
	if err != nil {
		return nil, err
	}
	var r *Rubric
	err = s.svc.InTx(ctx, func(tx tickets.Tx) error {
		r = &Rubric{Name: in.Name, Version: 1, Criteria: keyed(in.Criteria, nil), CreatedBy: agentID(actor), CreatedAt: s.svc.Now()}
		if _, err := tx.NewInsert().Model(r).Exec(ctx); err != nil {
			return fmt.Errorf("store rubric: %w", err)
		}
		return tx.Record(ctx, tx.Event(actor, "quality_rubric", r.ID, "quality_rubric.created", rubricEvent(r)))
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// UpdateRubric replaces rubric version id by a new version holding in, and retires id: the
// reviews scored on id keep it. Only a rubric in use is edited; of two edits of one version
// at once, the second is refused (the unique successor).
func (s *Service) UpdateRubric(ctx context.Context, actor tickets.Actor, id int64, in RubricInput) (*Rubric, error) {
	if err := mayKeepRubrics(actor.Agent); err != nil {
		return nil, err
	}
	in, err := cleanRubric(in)
	if err != nil {
		return nil, err
	}
	var r *Rubric
	err = s.svc.InTx(ctx, func(tx tickets.Tx) error {
		old, err := loadRubric(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if old.RetiredAt != nil {
			return tickets.Conflictf("rubric %q version %d was replaced or retired; edit the one in use", old.Name, old.Version)
		}
		now := s.svc.Now()
		r = &Rubric{Name: in.Name, Version: old.Version + 1, PreviousID: &old.ID, Criteria: keyed(in.Criteria, old.Criteria),
			CreatedBy: agentID(actor), CreatedAt: now}
		if err := retire(ctx, tx, old.ID, now); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(r).Exec(ctx); err != nil {
			return fmt.Errorf("store rubric version: %w", err)
		}
		return tx.Record(ctx, tx.Event(actor, "quality_rubric", r.ID, "quality_rubric.updated", map[string]any{"from": old.ID, "to": rubricEvent(r)}))
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// RetireRubric takes rubric version id out of use; the reviews scored on it keep it.
func (s *Service) RetireRubric(ctx context.Context, actor tickets.Actor, id int64) error {
	if err := mayKeepRubrics(actor.Agent); err != nil {
		return err
	}
	return s.svc.InTx(ctx, func(tx tickets.Tx) error {
		r, err := loadRubric(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if r.RetiredAt != nil {
			return tickets.Conflictf("rubric %q is not in use", r.Name)
		}
		if err := retire(ctx, tx, id, s.svc.Now()); err != nil {
			return err
		}
		return tx.Record(ctx, tx.Event(actor, "quality_rubric", r.ID, "quality_rubric.retired", rubricEvent(r)))
	})
}

// retire sets a version's retired_at while it is empty: a concurrent edit that retired it
// first makes this one a conflict.
func retire(ctx context.Context, tx tickets.Tx, id int64, now time.Time) error {
	res, err := tx.NewUpdate().Model((*Rubric)(nil)).Set("retired_at = ?", now).Where("id = ? AND retired_at IS NULL", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("retire rubric %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return tickets.Conflictf("the rubric was changed meanwhile; reload it")
	}
	return nil
}

// agentID is the person who made a change: nil for the system and for another system's
// API key, whose agent has no id (the audit event names the key).
func agentID(actor tickets.Actor) *int64 {
	if actor.Agent == nil || actor.Kind != "agent" {
		return nil
	}
	return &actor.Agent.ID
}

// criteriaJSON is how a review keeps the criteria it was scored on, with its marks.
type criteriaJSON struct {
	Rubric  string `json:"rubric"`
	Version int    `json:"version"`
	Items   []Mark `json:"items"`
}

func (c criteriaJSON) encode() (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode review criteria: %w", err)
	}
	return string(b), nil
}
