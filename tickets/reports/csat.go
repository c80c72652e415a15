package reports

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
)

// CSATReport sums up the survey answers given in a period.
type CSATReport struct {
	From, To       time.Time
	Responses      int64
	Average        float64 // 0 when there are no responses
	SatisfiedShare float64 // the share of 4s and 5s, 0..1
	Distribution   map[int]int64
	ByAgent        []CSATGroup
	ByTeam         []CSATGroup
}

// CSATGroup is one agent's or team's figures.
type CSATGroup struct {
	ID             int64   `bun:"id"`
	Name           string  `bun:"name"`
	Email          string  `bun:"email"` // agents only
	Responses      int64   `bun:"responses"`
	Average        float64 `bun:"average"`
	SatisfiedShare float64 `bun:"satisfied_share"`
}

// CSAT computes the satisfaction report for answers given in [from, to); zero times mean
// the last 30 days.
func (rd *Reader) CSAT(ctx context.Context, from, to time.Time) (*CSATReport, error) {
	if to.IsZero() {
		to = rd.now()
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -30)
	}
	from, to = from.UTC(), to.UTC()
	if !from.Before(to) {
		return nil, tickets.Invalidf("from must be before to")
	}
	r := &CSATReport{From: from, To: to, Distribution: map[int]int64{1: 0, 2: 0, 3: 0, 4: 0, 5: 0}}
	const figures = "COUNT(*) AS responses, CAST(COALESCE(AVG(sv.score), 0) AS DOUBLE PRECISION) AS average, " +
		"CAST(COALESCE(CAST(SUM(CASE WHEN sv.score >= 4 THEN 1 ELSE 0 END) AS DOUBLE PRECISION) / NULLIF(COUNT(*), 0), 0) AS DOUBLE PRECISION) AS satisfied_share"
	const where = "sv.answered_at IS NOT NULL AND sv.score IS NOT NULL AND sv.answered_at >= ? AND sv.answered_at < ?"

	var dist []struct {
		Score int   `bun:"score"`
		N     int64 `bun:"n"`
	}
	if err := rd.db.NewRaw("SELECT sv.score AS score, COUNT(*) AS n FROM surveys AS sv WHERE "+where+" GROUP BY sv.score", from, to).
		Scan(ctx, &dist); err != nil {
		return nil, fmt.Errorf("csat distribution: %w", err)
	}
	var total []CSATGroup
	if err := rd.db.NewRaw("SELECT 0 AS id, '' AS name, '' AS email, "+figures+" FROM surveys AS sv WHERE "+where, from, to).
		Scan(ctx, &total); err != nil {
		return nil, fmt.Errorf("csat totals: %w", err)
	}
	if len(total) == 1 && total[0].Responses > 0 {
		r.Responses, r.Average, r.SatisfiedShare = total[0].Responses, total[0].Average, total[0].SatisfiedShare
	}
	for _, d := range dist {
		r.Distribution[d.Score] = d.N
	}
	if err := rd.db.NewRaw("SELECT a.id AS id, a.name AS name, a.email AS email, "+figures+
		" FROM surveys AS sv JOIN agents AS a ON a.id = sv.agent_id WHERE "+where+
		" GROUP BY a.id, a.name, a.email ORDER BY a.name, a.id", from, to).Scan(ctx, &r.ByAgent); err != nil {
		return nil, fmt.Errorf("csat by agent: %w", err)
	}
	if err := rd.db.NewRaw("SELECT tm.id AS id, tm.name AS name, '' AS email, "+figures+
		" FROM surveys AS sv JOIN teams AS tm ON tm.id = sv.team_id WHERE "+where+
		" GROUP BY tm.id, tm.name ORDER BY tm.name, tm.id", from, to).Scan(ctx, &r.ByTeam); err != nil {
		return nil, fmt.Errorf("csat by team: %w", err)
	}
	return r, nil
}

// CSATFor is the satisfaction report as actor may read it: the totals, the distribution
// and the teams' lines as they are, and of the agents' lines only those about people the
// actor manages (tickets.Service.MayReadAgentFigures: an admin all, a supervisor their
// team's agents, an agent their own line). Figures about people are for those who
// manage them.
func (rd *Reader) CSATFor(ctx context.Context, actor tickets.Actor, from, to time.Time) (*CSATReport, error) {
	r, err := rd.CSAT(ctx, from, to)
	if err != nil {
		return nil, err
	}
	mine := r.ByAgent[:0:0]
	for _, g := range r.ByAgent {
		err := rd.svc.MayReadAgentFigures(ctx, actor, g.ID)
		switch {
		case err == nil:
			mine = append(mine, g)
		case !errors.Is(err, tickets.ErrForbidden):
			return nil, fmt.Errorf("csat: who may read agent %d: %w", g.ID, err)
		}
	}
	r.ByAgent = mine
	return r, nil
}
