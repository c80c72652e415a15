package reports

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
)

// Scorecards assess a person or a team by the promises kept over a period (考核). Every
// figure is a count of rows, each row a ticket, so each figure can list the tickets behind
// it (ScorecardTickets) with the very predicate that counted them.
//
// Who a row belongs to: a ticket and its complaints to the ticket's assignee and team now;
// a follow-up call and a survey to the assignee and team when the ticket was resolved (as
// aftercare stamped them); a quality review to the agent reviewed, and to that agent's
// team now. A team's breakdown lists the team's rows by agent, so an agent's line there
// leaves out their tickets of other teams, which their own scorecard counts.
//
// How a period counts, for [from, to) with cut = the earlier of to and now:
//   - handled: tickets resolved in the period;
//   - first response and resolution: as Report counts them (met when answered in the
//     period by the deadline; missed when the deadline passed in the period, before cut,
//     unanswered or answered late);
//   - complaints: received in the period; on time when decided within their 10 working
//     days (due_at: an extension does not make a late decision timely), late when decided
//     after or undecided past it by now; the rest are still running;
//   - follow-up calls: due in the period and not cancelled; on time when completed by
//     their due time (the end of their day), missed when not, once due;
//   - CSAT: surveys answered in the period; quality reviews: reviews written in it.

// Figure names one count of a scorecard, and the ticket list behind it.
type Figure string

const (
	FigHandled          Figure = "handled"
	FigFirstMet         Figure = "first_met"
	FigFirstMissed      Figure = "first_missed"
	FigResolutionMet    Figure = "resolution_met"
	FigResolutionMissed Figure = "resolution_missed"
	FigComplaints       Figure = "complaints"
	FigComplaintsOnTime Figure = "complaints_on_time"
	FigComplaintsLate   Figure = "complaints_late"
	FigFollowUpsOnTime  Figure = "followups_on_time"
	FigFollowUpsMissed  Figure = "followups_missed"
	FigCSAT             Figure = "csat"
	FigCSATDissatisfied Figure = "csat_dissatisfied"
	FigReviews          Figure = "reviews"
)

const (
	// maxScorecardDays bounds a scorecard's period: a year's assessment.
	maxScorecardDays = 366
	// MaxScorecardTickets bounds the tickets listed behind one figure.
	MaxScorecardTickets = 500
	// scopeArg is the placeholder of the agent or team a part is filtered on.
	scopeArg = "?4"
)

// Figures lists every figure, in the order a scorecard shows them.
var Figures = []Figure{FigHandled, FigFirstMet, FigFirstMissed, FigResolutionMet, FigResolutionMissed,
	FigComplaints, FigComplaintsOnTime, FigComplaintsLate, FigFollowUpsOnTime, FigFollowUpsMissed,
	FigCSAT, FigCSATDissatisfied, FigReviews}

// figurePart is one SELECT of a figure; a figure with several counts disjoint sets of rows
// (each read through its own partial index, whose predicate the WHERE repeats word for
// word). Placeholders: ?0 from, ?1 to, ?2 cut (the earlier of to and now), ?3 now, ?4 the
// agent or team.
type figurePart struct {
	from  string // tables; the ticket, when joined, is t
	join  string // what the ticket list adds to from to reach the ticket t
	where string
	agent string // the column naming whose row it is
	team  string
	at    string // the time the list shows
	score string // summed: a survey's or review's score ("0" when none)
	good  string // summed: 1 for a satisfied answer
}

const (
	ticketsFrom    = "tickets AS t"
	complaintsFrom = "complaints AS c JOIN tickets AS t ON t.id = c.ticket_id"
	followupsFrom  = "followups AS f"
	surveysFrom    = "surveys AS sv"
	reviewsFrom    = "quality_reviews AS qr JOIN agents AS qa ON qa.id = qr.agent_id"
	surveysJoin    = " JOIN tickets AS t ON t.id = sv.ticket_id"
	surveyAnswered = "sv.answered_at IS NOT NULL AND sv.score IS NOT NULL AND sv.answered_at >= ?0 AND sv.answered_at < ?1"
)

func tp(where, at string) figurePart {
	return figurePart{from: ticketsFrom, where: where, agent: "t.assignee_id", team: "t.team_id", at: at, score: "0", good: "0"}
}

func cp(where, at string) figurePart {
	return figurePart{from: complaintsFrom, where: "c.received_at >= ?0 AND c.received_at < ?1" + where, agent: "t.assignee_id", team: "t.team_id", at: at, score: "0", good: "0"}
}

func fp(where, at string) figurePart {
	return figurePart{from: followupsFrom, join: " JOIN tickets AS t ON t.id = f.ticket_id", where: where, agent: "f.assignee_id", team: "f.team_id", at: at, score: "0", good: "0"}
}

var figureParts = map[Figure][]figurePart{
	FigHandled: {tp("t.resolved_at IS NOT NULL AND t.resolved_at >= ?0 AND t.resolved_at < ?1", "t.resolved_at")},
	FigFirstMet: {tp("t.first_responded_at >= ?0 AND t.first_responded_at < ?1 AND t.first_responded_at <= t.first_response_due_at",
		"t.first_responded_at")},
	FigFirstMissed: {
		tp("t.first_response_due_at >= ?0 AND t.first_response_due_at < ?2 AND (t.first_responded_at > t.first_response_due_at OR (t.first_responded_at IS NULL AND t.first_response_breached_at IS NOT NULL))",
			"t.first_response_due_at"),
		tp("t.first_response_due_at >= ?0 AND t.first_response_due_at < ?2 AND t.first_responded_at IS NULL AND t.first_response_breached_at IS NULL AND t.status IN ('new', 'open', 'pending')",
			"t.first_response_due_at"),
	},
	FigResolutionMet: {tp("t.resolved_at >= ?0 AND t.resolved_at < ?1 AND t.resolved_at <= t.resolution_due_at", "t.resolved_at")},
	FigResolutionMissed: {
		tp("t.resolution_due_at >= ?0 AND t.resolution_due_at < ?2 AND (t.resolved_at > t.resolution_due_at OR (t.resolved_at IS NULL AND t.resolution_breached_at IS NOT NULL))",
			"t.resolution_due_at"),
		tp("t.resolution_due_at >= ?0 AND t.resolution_due_at < ?2 AND t.resolved_at IS NULL AND t.resolution_breached_at IS NULL AND t.paused_at IS NULL",
			"t.resolution_due_at"),
	},
	FigComplaints:       {cp("", "c.received_at")},
	FigComplaintsOnTime: {cp(" AND c.decided_at <= c.due_at", "c.decided_at")},
	FigComplaintsLate:   {cp(" AND (c.decided_at > c.due_at OR (c.decided_at IS NULL AND c.due_at < ?3))", "c.due_at")},
	FigFollowUpsOnTime: {fp("f.due_at >= ?0 AND f.due_at < ?1 AND f.status IN ('open', 'done') AND f.completed_at <= f.due_at",
		"f.completed_at")},
	FigFollowUpsMissed: {fp("f.due_at >= ?0 AND f.due_at < ?2 AND f.status IN ('open', 'done') AND (f.completed_at IS NULL OR f.completed_at > f.due_at)",
		"f.due_at")},
	FigCSAT: {{from: surveysFrom, join: surveysJoin, where: surveyAnswered, agent: "sv.agent_id", team: "sv.team_id", at: "sv.answered_at",
		score: "sv.score", good: "CASE WHEN sv.score >= 4 THEN 1 ELSE 0 END"}},
	FigCSATDissatisfied: {{from: surveysFrom, join: surveysJoin, where: surveyAnswered + " AND sv.score < 4", agent: "sv.agent_id", team: "sv.team_id",
		at: "sv.answered_at", score: "sv.score", good: "0"}},
	FigReviews: {{from: reviewsFrom, join: " JOIN tickets AS t ON t.id = qr.ticket_id", where: "qr.created_at >= ?0 AND qr.created_at < ?1", agent: "qr.agent_id", team: "qa.team_id",
		at: "qr.created_at", score: "qr.score", good: "0"}},
}

// ComplaintFigures are the complaints received in a period about someone's tickets.
type ComplaintFigures struct {
	Opened int64
	OnTime int64 // decided within 10 working days
	Late   int64 // decided after them, or undecided past them
}

// Decided is the complaints whose outcome is known: on time of on time + late.
func (c ComplaintFigures) Decided() Share { return Share{Met: c.OnTime, Total: c.OnTime + c.Late} }

// Running is the complaints still within their 10 working days, undecided.
func (c ComplaintFigures) Running() int64 { return c.Opened - c.OnTime - c.Late }

// ReviewFigures are the quality reviews written in a period.
type ReviewFigures struct {
	N       int64
	Average float64 // 0..100; 0 without reviews
}

// Scorecard is one agent's or team's figures over a period.
type Scorecard struct {
	Handled       int64
	FirstResponse Share
	Resolution    Share
	Complaints    ComplaintFigures
	FollowUps     Share
	CSAT          Satisfaction
	Reviews       ReviewFigures
}

// Scope is whose scorecard: one agent's or one team's (exactly one is set).
type Scope struct {
	AgentID *int64
	TeamID  *int64
}

// AgentCard is one agent's scorecard.
type AgentCard struct {
	From, To time.Time
	Agent    *tickets.Agent
	Card     Scorecard
	Targets  Targets
}

// TeamCard is a team's scorecard with its agents' lines.
type TeamCard struct {
	From, To time.Time
	Team     *tickets.Team
	Card     Scorecard
	Agents   []AgentLine // the team's active agents (admins aside), then anyone else with rows, by name
	Others   *Scorecard  // rows of the team's tickets assigned to nobody; nil when there are none
	Targets  Targets
}

// AgentLine is one agent's figures within a team.
type AgentLine struct {
	ID    int64
	Name  string
	Email string
	Card  Scorecard
}

// checkPeriod refuses an empty, inverted or overlong period.
func checkPeriod(from, to time.Time) error {
	if !from.Before(to) {
		return tickets.Invalidf("a scorecard's start must be before its end")
	}
	if to.Sub(from) > maxScorecardDays*24*time.Hour+time.Hour {
		return tickets.Invalidf("a scorecard covers at most %d days", maxScorecardDays)
	}
	return nil
}

// AgentScorecard computes agentID's scorecard over [from, to), for a viewer who may read
// it (tickets.Service.MayReadAgentFigures).
func (rd *Reader) AgentScorecard(ctx context.Context, viewer tickets.Actor, agentID int64, from, to time.Time) (*AgentCard, error) {
	from, to = from.UTC(), to.UTC()
	if err := checkPeriod(from, to); err != nil {
		return nil, err
	}
	if err := rd.svc.MayReadAgentFigures(ctx, viewer, agentID); err != nil {
		return nil, err
	}
	a, err := rd.svc.Agent(ctx, agentID)
	if err != nil {
		return nil, err
	}
	tallies, err := rd.tally(ctx, Scope{AgentID: &agentID}, from, to)
	if err != nil {
		return nil, err
	}
	targets, err := rd.Targets(ctx)
	if err != nil {
		return nil, err
	}
	out := &AgentCard{From: from, To: to, Agent: a, Targets: targets}
	if t := tallies[agentID]; t != nil {
		out.Card = t.card()
	}
	return out, nil
}

// TeamScorecard computes teamID's scorecard over [from, to) and its agents' lines, for a
// viewer who may read them (tickets.Service.MayReadTeamFigures).
func (rd *Reader) TeamScorecard(ctx context.Context, viewer tickets.Actor, teamID int64, from, to time.Time) (*TeamCard, error) {
	from, to = from.UTC(), to.UTC()
	if err := checkPeriod(from, to); err != nil {
		return nil, err
	}
	if err := rd.svc.MayReadTeamFigures(viewer, teamID); err != nil {
		return nil, err
	}
	team, err := rd.team(ctx, teamID)
	if err != nil {
		return nil, err
	}
	tallies, err := rd.tally(ctx, Scope{TeamID: &teamID}, from, to)
	if err != nil {
		return nil, err
	}
	targets, err := rd.Targets(ctx)
	if err != nil {
		return nil, err
	}
	out := &TeamCard{From: from, To: to, Team: team, Targets: targets}
	total := &tally{}
	for _, t := range tallies {
		total.add(t)
	}
	out.Card = total.card()
	if t := tallies[0]; t != nil {
		c := t.card()
		out.Others = &c
	}
	members, err := rd.svc.Agents(ctx, &teamID)
	if err != nil {
		return nil, err
	}
	listed := map[int64]bool{}
	for _, a := range members {
		if !a.Active || a.Role == tickets.RoleAdmin {
			continue
		}
		listed[a.ID] = true
		line := AgentLine{ID: a.ID, Name: a.Name, Email: a.Email}
		if t := tallies[a.ID]; t != nil {
			line.Card = t.card()
		}
		out.Agents = append(out.Agents, line)
	}
	for id, t := range tallies { // people who left the team but still hold its rows
		if id == 0 || listed[id] {
			continue
		}
		a, err := rd.svc.Agent(ctx, id)
		if err != nil {
			return nil, err
		}
		out.Agents = append(out.Agents, AgentLine{ID: id, Name: a.Name, Email: a.Email, Card: t.card()})
	}
	slices.SortFunc(out.Agents, func(a, b AgentLine) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (rd *Reader) team(ctx context.Context, id int64) (*tickets.Team, error) {
	teams, err := rd.svc.Teams(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range teams {
		if t.ID == id {
			return t, nil
		}
	}
	return nil, tickets.NotFoundf("there is no team %d", id)
}

// tally is one person's counts, by figure.
type tally struct {
	n     map[Figure]int64
	score map[Figure]float64
	good  map[Figure]float64
}

func (t *tally) add(o *tally) {
	for _, f := range Figures {
		t.put(f, o.n[f], o.score[f], o.good[f])
	}
}

func (t *tally) put(f Figure, n int64, score, good float64) {
	if t.n == nil {
		t.n, t.score, t.good = map[Figure]int64{}, map[Figure]float64{}, map[Figure]float64{}
	}
	t.n[f] += n
	t.score[f] += score
	t.good[f] += good
}

func (t *tally) card() Scorecard {
	c := Scorecard{
		Handled:       t.n[FigHandled],
		FirstResponse: Share{Met: t.n[FigFirstMet], Total: t.n[FigFirstMet] + t.n[FigFirstMissed]},
		Resolution:    Share{Met: t.n[FigResolutionMet], Total: t.n[FigResolutionMet] + t.n[FigResolutionMissed]},
		Complaints:    ComplaintFigures{Opened: t.n[FigComplaints], OnTime: t.n[FigComplaintsOnTime], Late: t.n[FigComplaintsLate]},
		FollowUps:     Share{Met: t.n[FigFollowUpsOnTime], Total: t.n[FigFollowUpsOnTime] + t.n[FigFollowUpsMissed]},
		CSAT:          Satisfaction{Responses: t.n[FigCSAT]},
		Reviews:       ReviewFigures{N: t.n[FigReviews]},
	}
	if n := c.CSAT.Responses; n > 0 {
		c.CSAT.Average = t.score[FigCSAT] / float64(n)
		c.CSAT.SatisfiedShare = t.good[FigCSAT] / float64(n)
	}
	if n := c.Reviews.N; n > 0 {
		c.Reviews.Average = t.score[FigReviews] / float64(n)
	}
	return c
}

// periodArgs are the placeholders ?0 to ?4 of the figures' parts.
func (rd *Reader) periodArgs(scope Scope, from, to time.Time) []any {
	now := rd.now().UTC().Add(time.Microsecond) // a deadline has passed once it is at or before now
	cut := to
	if now.Before(cut) {
		cut = now
	}
	var who int64
	if scope.AgentID != nil {
		who = *scope.AgentID
	} else if scope.TeamID != nil {
		who = *scope.TeamID
	}
	return []any{from, to, cut, now, who}
}

// scopeColumn is the part's column the scope filters on.
func (p figurePart) scopeColumn(scope Scope) string {
	if scope.AgentID != nil {
		return p.agent
	}
	return p.team
}

// tally counts every figure of scope in one statement, by agent (0: nobody).
func (rd *Reader) tally(ctx context.Context, scope Scope, from, to time.Time) (map[int64]*tally, error) {
	var b strings.Builder
	for _, f := range Figures {
		for _, p := range figureParts[f] {
			if b.Len() > 0 {
				b.WriteString("\nUNION ALL ")
			}
			fmt.Fprintf(&b, "SELECT '%s' AS figure, %s AS agent_id, COUNT(*) AS n, "+
				"CAST(COALESCE(SUM(%s), 0) AS DOUBLE PRECISION) AS score, CAST(COALESCE(SUM(%s), 0) AS DOUBLE PRECISION) AS good "+
				"FROM %s WHERE %s AND %s = %s GROUP BY %s",
				f, p.agent, p.score, p.good, p.from, p.where, p.scopeColumn(scope), scopeArg, p.agent)
		}
	}
	var rows []struct {
		Figure  Figure  `bun:"figure"`
		AgentID *int64  `bun:"agent_id"`
		N       int64   `bun:"n"`
		Score   float64 `bun:"score"`
		Good    float64 `bun:"good"`
	}
	if err := rd.db.NewRaw(b.String(), rd.periodArgs(scope, from, to)...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count scorecard figures: %w", err)
	}
	out := map[int64]*tally{}
	for _, r := range rows {
		var id int64
		if r.AgentID != nil {
			id = *r.AgentID
		}
		if out[id] == nil {
			out[id] = &tally{}
		}
		out[id].put(r.Figure, r.N, r.Score, r.Good)
	}
	return out, nil
}

// FigureTicket is one ticket behind a figure.
type FigureTicket struct {
	ID       int64          `bun:"id"`
	Subject  string         `bun:"subject"`
	Status   tickets.Status `bun:"status"`
	Channel  string         `bun:"channel"`
	Assignee string         `bun:"assignee"`
	At       time.Time      `bun:"at"`    // when it counted: the answer, the deadline, the survey's answer...
	Score    *float64       `bun:"score"` // a survey's or review's score
}

// Ref is the ticket's reference.
func (t FigureTicket) Ref() string { return tickets.FormatRef(t.ID) }

// ScorecardTickets lists the tickets behind one figure of scope's scorecard over
// [from, to), newest first, at most MaxScorecardTickets, for a viewer who may read the
// scorecard. A ticket is listed once per row it counts for (two reviews of one ticket:
// twice), as the figure counts it.
func (rd *Reader) ScorecardTickets(ctx context.Context, viewer tickets.Actor, scope Scope, fig Figure, from, to time.Time) ([]FigureTicket, error) {
	from, to = from.UTC(), to.UTC()
	if err := checkPeriod(from, to); err != nil {
		return nil, err
	}
	parts, ok := figureParts[fig]
	if !ok {
		return nil, tickets.Invalidf("there is no scorecard figure %q", fig)
	}
	switch {
	case scope.AgentID != nil && scope.TeamID == nil:
		if err := rd.svc.MayReadAgentFigures(ctx, viewer, *scope.AgentID); err != nil {
			return nil, err
		}
	case scope.TeamID != nil && scope.AgentID == nil:
		if err := rd.svc.MayReadTeamFigures(viewer, *scope.TeamID); err != nil {
			return nil, err
		}
	default:
		return nil, tickets.Invalidf("choose an agent or a team")
	}
	var b strings.Builder
	b.WriteString("SELECT x.* FROM (")
	for i, p := range parts {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		score := "CAST(NULL AS DOUBLE PRECISION)"
		if p.score != "0" {
			score = "CAST(" + p.score + " AS DOUBLE PRECISION)"
		}
		fmt.Fprintf(&b, "SELECT t.id AS id, t.subject AS subject, t.status AS status, t.channel AS channel, "+
			"COALESCE((SELECT la.name FROM agents AS la WHERE la.id = t.assignee_id), '') AS assignee, %s AS at, %s AS score "+
			"FROM %s%s WHERE %s AND %s = %s", p.at, score, p.from, p.join, p.where, p.scopeColumn(scope), scopeArg)
	}
	fmt.Fprintf(&b, ") AS x ORDER BY x.at DESC, x.id DESC LIMIT %d", MaxScorecardTickets)
	var out []FigureTicket
	if err := rd.db.NewRaw(b.String(), rd.periodArgs(scope, from, to)...).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("list the tickets behind %s: %w", fig, err)
	}
	return out, nil
}
