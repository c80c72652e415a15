package quality

import (
	"context"
	"fmt"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
)

// WideSpread is the difference between two reviewers' marks on a criterion, in percent of
// its most marks, from which calibration calls it wide.
const WideSpread = 20

// Calibration is the reviews of one ticket side by side: a line a criterion (matched by
// key across the rubric's versions, in the first review's order), each review's marks on
// it, and how far they are apart.
type Calibration struct {
	TicketID int64
	Ref      string
	Reviews  []*Review // oldest first
	Lines    []CalibrationLine
	Spread   float64 // between the highest and the lowest score
}

// CalibrationLine is one criterion across the reviews.
type CalibrationLine struct {
	Criterion
	Marks  []*int // a review's marks, nil where its rubric had no such criterion
	Spread int    // between the highest and the lowest marks
	Wide   bool   // Spread is WideSpread percent of the most marks or more
}

// Differ reports whether the reviewers gave different marks.
func (l CalibrationLine) Differ() bool { return l.Spread > 0 }

// mayCalibrate refuses all but the supervisors of the agent's team and admins.
func (s *Service) mayCalibrate(ctx context.Context, actor tickets.Actor, agentID int64) error {
	if err := mayReview(actor.Agent); err != nil {
		return err
	}
	return s.svc.MayReadAgentFigures(ctx, actor, agentID)
}

// Calibrate is the reviews of ticket ref side by side, for the supervisors of its agent's
// team and admins.
func (s *Service) Calibrate(ctx context.Context, actor tickets.Actor, ref string) (*Calibration, error) {
	id, ok := tickets.ParseRef(ref)
	if !ok {
		return nil, tickets.NotFoundf("ticket %q not found", ref)
	}
	rs := []*Review{}
	if err := s.svc.DB().NewSelect().Model(&rs).Where("ticket_id = ?", id).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list the reviews of %s: %w", tickets.FormatRef(id), err)
	}
	if len(rs) == 0 {
		return nil, tickets.NotFoundf("%s has no reviews", tickets.FormatRef(id))
	}
	for _, r := range rs {
		if err := s.mayCalibrate(ctx, actor, r.AgentID); err != nil {
			return nil, err
		}
	}
	if err := s.name(ctx, rs); err != nil {
		return nil, err
	}
	return calibrate(id, rs), nil
}

func calibrate(id int64, rs []*Review) *Calibration {
	c := &Calibration{TicketID: id, Ref: tickets.FormatRef(id), Reviews: rs}
	at := map[string]int{}
	for i, r := range rs {
		for _, m := range r.Criteria.Items {
			k, ok := at[m.Key]
			if !ok {
				k = len(c.Lines)
				at[m.Key] = k
				c.Lines = append(c.Lines, CalibrationLine{Criterion: m.Criterion, Marks: make([]*int, len(rs))})
			}
			c.Lines[k].Marks[i] = &m.Mark
		}
	}
	for i := range c.Lines {
		l := &c.Lines[i]
		lo, hi, n := 0, 0, 0
		for _, m := range l.Marks {
			if m == nil {
				continue
			}
			if n == 0 || *m < lo {
				lo = *m
			}
			if n == 0 || *m > hi {
				hi = *m
			}
			n++
		}
		l.Spread = hi - lo
		l.Wide = l.Max > 0 && l.Spread*100 >= WideSpread*l.Max
	}
	lo, hi := rs[0].Score, rs[0].Score
	for _, r := range rs {
		lo, hi = min(lo, r.Score), max(hi, r.Score)
	}
	c.Spread = hi - lo
	return c
}

// Calibratable is a ticket reviewed by two reviewers or more.
type Calibratable struct {
	TicketID int64
	Ref      string
	Agent    string
	Reviews  int
	Last     time.Time
}

// Calibrations are the tickets of the team's agents reviewed more than once, the latest
// first, at most MaxList, for the team's supervisors and admins.
func (s *Service) Calibrations(ctx context.Context, actor tickets.Actor, teamID int64) ([]Calibratable, error) {
	if err := mayReview(actor.Agent); err != nil {
		return nil, err
	}
	if err := s.svc.MayReadTeamFigures(actor, teamID); err != nil {
		return nil, err
	}
	var rows []struct {
		TicketID int64
		Name     string
		Email    string
		Reviews  int
		LastAt   time.Time
	}
	err := s.svc.DB().NewRaw(`SELECT q.ticket_id, a.name, a.email, COUNT(*) AS reviews, MAX(q.created_at) AS last_at
		FROM quality_reviews AS q JOIN agents AS a ON a.id = q.agent_id
		WHERE a.team_id = ? GROUP BY q.ticket_id, a.name, a.email HAVING COUNT(*) > 1
		ORDER BY last_at DESC, q.ticket_id DESC LIMIT ?`, teamID, MaxList).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("find the tickets reviewed twice: %w", err)
	}
	out := make([]Calibratable, 0, len(rows))
	for _, r := range rows {
		name := r.Name
		if name == "" {
			name = r.Email
		}
		out = append(out, Calibratable{TicketID: r.TicketID, Ref: tickets.FormatRef(r.TicketID), Agent: name, Reviews: r.Reviews, Last: r.LastAt})
	}
	return out, nil
}
