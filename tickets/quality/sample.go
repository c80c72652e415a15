package quality

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
)

// Bounds of a sample.
const (
	MaxSample = 200  // tickets a sample draws
	MaxPool   = 5000 // resolved tickets a period may hold to be sampled
	MaxPeriod = 366 * 24 * time.Hour
	MaxSeed   = 999_999_999 // seeds are short enough to read out and type again
	MaxHours  = 24 * 366    // "longer than X hours"
	LowCSAT   = 2           // a satisfaction score this low or lower is low
)

// SampleRequest is what a supervisor draws: the resolved tickets of a team's agents whose
// resolution falls in [From, To), narrowed by the filters (a ticket matching any one of
// those set), then N of them at random, in an order the seed fixes.
type SampleRequest struct {
	TeamID   int64
	From, To time.Time
	N        int   // 1–MaxSample
	Seed     int64 // 1–MaxSeed; 0 draws a new one, which the sample shows
	LowCSAT  bool  // satisfaction LowCSAT or lower
	Complain bool  // a complaint was opened on the ticket
	Long     bool  // resolved after its deadline (or breached it), or open longer than Hours
	Hours    int   // with Long and above 0: also tickets resolved more than Hours after they came in
}

// Filtered reports whether any filter narrows the pool.
func (r SampleRequest) Filtered() bool { return r.LowCSAT || r.Complain || r.Long }

// Sampled is a ticket of a sample, with what a reviewer chooses by.
type Sampled struct {
	TicketID   int64
	Ref        string
	Subject    string
	AgentID    int64
	Agent      string
	CreatedAt  time.Time
	ResolvedAt time.Time
	CSAT       *int // the customer's satisfaction score, 1–5, when they gave one
	Complaints int
	Late       bool          // resolved after its deadline, or breached it
	Handled    time.Duration // from coming in to its resolution
	Reviews    int           // reviews of it by anyone
	Mine       bool          // the drawing supervisor reviewed it
}

// Sample is a drawn sample: the request as drawn (its Seed set), how many tickets matched,
// and those drawn, in ticket order.
type Sample struct {
	SampleRequest
	Matched int
	Items   []Sampled
}

func (r SampleRequest) check() error {
	switch {
	case r.TeamID <= 0:
		return tickets.Invalidf("choose a team")
	case r.From.IsZero() || r.To.IsZero() || !r.From.Before(r.To):
		return tickets.Invalidf("the period must end after it starts")
	case r.To.Sub(r.From) > MaxPeriod:
		return tickets.Invalidf("a period is at most a year")
	case r.N < 1 || r.N > MaxSample:
		return tickets.Invalidf("a sample is 1 to %d tickets", MaxSample)
	case r.Seed < 0 || r.Seed > MaxSeed:
		return tickets.Invalidf("the seed is a number from 1 to %d", MaxSeed)
	case r.Hours < 0 || r.Hours > MaxHours:
		return tickets.Invalidf("the hours are a number from 0 to %d", MaxHours)
	}
	return nil
}

// Draw draws a sample for actor, a supervisor of the team or an admin. The same request
// with the same seed draws the same tickets while the period's resolved tickets stay the
// same.
func (s *Service) Draw(ctx context.Context, actor tickets.Actor, req SampleRequest) (*Sample, error) {
	if err := mayReview(actor.Agent); err != nil {
		return nil, err
	}
	if err := req.check(); err != nil {
		return nil, err
	}
	if err := s.svc.MayReadTeamFigures(actor, req.TeamID); err != nil {
		return nil, err
	}
	if req.Seed == 0 {
		req.Seed = rand.Int64N(MaxSeed) + 1
	}
	var rows []struct {
		ID                   int64
		Subject              string
		AssigneeID           int64
		AgentName            string
		AgentEmail           string
		CreatedAt            time.Time
		ResolvedAt           time.Time
		ResolutionDueAt      *time.Time
		ResolutionBreachedAt *time.Time
		CSAT                 *int
		Complaints           int
		Reviews              int
		Mine                 int
	}
	err := s.svc.DB().NewRaw(`SELECT t.id, t.subject, t.assignee_id, a.name AS agent_name, a.email AS agent_email,
		t.created_at, t.resolved_at, t.resolution_due_at, t.resolution_breached_at,
		(SELECT s.score FROM surveys AS s WHERE s.ticket_id = t.id) AS csat,
		(SELECT COUNT(*) FROM complaints AS c WHERE c.ticket_id = t.id) AS complaints,
		(SELECT COUNT(*) FROM quality_reviews AS q WHERE q.ticket_id = t.id) AS reviews,
		(SELECT COUNT(*) FROM quality_reviews AS q WHERE q.ticket_id = t.id AND q.reviewer_id = ?) AS mine
		FROM tickets AS t JOIN agents AS a ON a.id = t.assignee_id
		WHERE a.team_id = ? AND t.status IN (?, ?) AND t.resolved_at >= ? AND t.resolved_at < ?
		ORDER BY t.id LIMIT ?`,
		actor.Agent.ID, req.TeamID, tickets.StatusResolved, tickets.StatusClosed, req.From.UTC(), req.To.UTC(), MaxPool+1).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("find the resolved tickets to sample: %w", err)
	}
	if len(rows) > MaxPool {
		return nil, tickets.Invalidf("the period holds more than %d resolved tickets; choose a shorter one", MaxPool)
	}
	var pool []Sampled
	for _, r := range rows {
		it := Sampled{TicketID: r.ID, Ref: tickets.FormatRef(r.ID), Subject: r.Subject, AgentID: r.AssigneeID, Agent: r.AgentName,
			CreatedAt: r.CreatedAt, ResolvedAt: r.ResolvedAt, CSAT: r.CSAT, Complaints: r.Complaints,
			Late:    r.ResolutionBreachedAt != nil || r.ResolutionDueAt != nil && r.ResolvedAt.After(*r.ResolutionDueAt),
			Handled: r.ResolvedAt.Sub(r.CreatedAt), Reviews: r.Reviews, Mine: r.Mine > 0}
		if it.Agent == "" {
			it.Agent = r.AgentEmail
		}
		if req.Filtered() && !matches(req, it) {
			continue
		}
		pool = append(pool, it)
	}
	out := &Sample{SampleRequest: req, Matched: len(pool)}
	// The draw: the pool in ticket order, shuffled by the seed, its first N.
	rand.New(rand.NewPCG(uint64(req.Seed), 0x9e3779b97f4a7c15)).Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	out.Items = pool[:min(req.N, len(pool))]
	slices.SortFunc(out.Items, func(a, b Sampled) int { return int(a.TicketID - b.TicketID) })
	return out, nil
}

// matches reports whether a ticket meets any of the request's filters.
func matches(req SampleRequest, it Sampled) bool {
	switch {
	case req.LowCSAT && it.CSAT != nil && *it.CSAT <= LowCSAT:
		return true
	case req.Complain && it.Complaints > 0:
		return true
	case req.Long && (it.Late || req.Hours > 0 && it.Handled > time.Duration(req.Hours)*time.Hour):
		return true
	}
	return false
}
