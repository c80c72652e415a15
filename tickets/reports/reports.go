// Package reports computes the supervisors' figures: how many promises the desk kept
// (first response, resolution and complaint deadlines), how satisfied customers were
// (CSAT), where the work came from and what customers wrote about, and who is carrying the
// load. It only reads the database; nothing in tickets depends on it.
//
// How a period counts (every figure is for one half-open period [from, to)):
//
//   - Deadlines (first response, resolution, complaint decision) count in the period in
//     which their outcome became known, against each row's own deadline as it stands now
//     (the policy's 24h/48h or the complaint's 10 working days, moved by pauses and
//     extensions). A deadline is met when it was answered by the deadline, and counts when
//     the answer came (first_responded_at <= first_response_due_at, resolved_at <=
//     resolution_due_at, decided_at <= deadline_at, counted at that time). It is missed
//     when its deadline passed unanswered or answered late, and counts when the deadline
//     passed, which is never after now. The share is met of met+missed; a deadline still
//     running is in neither. Rows the sweep no longer waits on count as it does: a ticket
//     resolved without a reply before its first-response deadline passed has no outcome,
//     and a resolution clock paused while waiting on the customer has not run out.
//   - Volumes (by channel, by category, by day) count tickets created in the period; days
//     are calendar days in the desk's time zone.
//   - Satisfaction is the surveys answered in the period (CSAT).
//   - Keywords are counted in the inbound messages of the period, at most
//     KeywordSample of them (the most recent), see TopKeywords.
//
// A team filter keeps tickets of that team, complaints about them, surveys answered for
// them (the team when the ticket was resolved) and the team's agents.
package reports

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// Reader computes the reports. It holds no state of its own and is safe for concurrent
// use.
type Reader struct {
	svc   *tickets.Service // who may read figures about people; the agents and teams
	db    *bun.DB
	now   func() time.Time // the service's time, as it stamps rows
	cal   *tickets.Calendar
	rules func(context.Context) ([]*tickets.RoutingRule, error)
}

// New builds the reports over the database svc writes to. It takes the Service rather than
// a database, a clock and a calendar one by one because the figures must be counted on the
// same ones the rows were written with (a test's moved clock, the zone whose midnights cut
// the days, the routing rules whose keywords count), and a single argument cannot be wired
// with a mismatched one. It reads them through the Service's exported accessors only.
func New(svc *tickets.Service) *Reader {
	return &Reader{svc: svc, db: svc.DB(), now: svc.Now, cal: svc.Calendar(), rules: svc.RoutingRules}
}

// Share is how many deadlines were met out of those whose outcome is known.
type Share struct {
	Met   int64
	Total int64 // met + missed
}

// Missed is how many deadlines were not met.
func (s Share) Missed() int64 { return s.Total - s.Met }

// Rate is the share met, 0..1; ok is false when no deadline came to an end.
func (s Share) Rate() (rate float64, ok bool) {
	if s.Total <= 0 {
		return 0, false
	}
	return float64(s.Met) / float64(s.Total), true
}

// Satisfaction sums up the surveys answered in a period.
type Satisfaction struct {
	Responses      int64
	Average        float64 // 1..5; 0 without responses
	SatisfiedShare float64 // the share of 4s and 5s, 0..1
}

// Count is how often something occurred: a channel, a category, a keyword.
type Count struct {
	Key string `bun:"key"`
	N   int64  `bun:"n"`
}

// DayCount is the tickets created on one calendar day.
type DayCount struct {
	Day time.Time // midnight in the desk's time zone
	N   int64
}

// Report is one period's figures.
type Report struct {
	From, To      time.Time
	TeamID        *int64
	FirstResponse Share
	Resolution    Share
	Complaints    Share
	CSAT          Satisfaction
	Created       int64      // tickets created in the period
	ByChannel     []Count    // most first
	ByCategory    []Count    // most first; "" is uncategorised
	Daily         []DayCount // each calendar day the period touches, oldest first
}

// maxReportDays bounds a report's daily series.
const maxReportDays = 92

// Report computes the figures of [from, to), optionally for one team.
func (rd *Reader) Report(ctx context.Context, from, to time.Time, teamID *int64) (*Report, error) {
	from, to = from.UTC(), to.UTC()
	if !from.Before(to) {
		return nil, tickets.Invalidf("a report's start must be before its end")
	}
	days := rd.dayBounds(from, to)
	if len(days)-1 > maxReportDays {
		return nil, tickets.Invalidf("a report covers at most %d days", maxReportDays)
	}
	if err := rd.checkTeam(ctx, teamID); err != nil {
		return nil, err
	}
	r := &Report{From: from, To: to, TeamID: teamID}
	cut := rd.now().Add(time.Microsecond) // a deadline has passed once it is at or before now
	if to.Before(cut) {
		cut = to
	}
	if err := rd.deadlineShares(ctx, r, cut); err != nil {
		return nil, err
	}
	var err error
	if r.CSAT, err = rd.satisfaction(ctx, from, to, teamID); err != nil {
		return nil, err
	}
	if r.ByChannel, err = rd.ticketCounts(ctx, "channel", from, to, teamID); err != nil {
		return nil, err
	}
	for _, c := range r.ByChannel {
		r.Created += c.N
	}
	if r.ByCategory, err = rd.ticketCounts(ctx, "category", from, to, teamID); err != nil {
		return nil, err
	}
	if r.Daily, err = rd.dailyVolume(ctx, days, teamID); err != nil {
		return nil, err
	}
	return r, nil
}

// checkTeam refuses a filter on a team that does not exist.
func (rd *Reader) checkTeam(ctx context.Context, teamID *int64) error {
	if teamID == nil {
		return nil
	}
	n, err := rd.db.NewSelect().Table("teams").Where("id = ?", *teamID).Count(ctx)
	if err != nil {
		return fmt.Errorf("find team %d: %w", *teamID, err)
	}
	if n == 0 {
		return tickets.Invalidf("there is no team %d", *teamID)
	}
	return nil
}

// teamClause narrows a query on tickets aliased t to one team.
func teamClause(teamID *int64) (string, []any) {
	if teamID == nil {
		return "", nil
	}
	return " AND t.team_id = ?", []any{*teamID}
}

// deadlineShares counts met and missed deadlines of tickets and complaints. cut is when
// deadlines stop counting as passed: the end of the period, or now.
//
// Each figure is a count of the rows with one outcome in the period, read through an index
// that holds only rows with that outcome (migration 0011) or, for deadlines still running,
// the sweep's own index (migration 0002): a report reads the period's rows, not the desk.
// A count's WHERE repeats its index's predicate word for word, which is how the planner
// knows the partial index applies.
func (rd *Reader) deadlineShares(ctx context.Context, r *Report, cut time.Time) error {
	team, teamArgs := teamClause(r.TeamID)
	team = strings.ReplaceAll(team, "?", "?3")
	// met: answered in the period, by the deadline; missed: the deadline passed in the
	// period (before cut) without an answer by then. Unanswered rows count as missed only
	// while the sweep would still wait on them, or once it recorded the breach. Missed is
	// two disjoint counts: answered late or breached (tickets_*_missed_idx), and still
	// waiting, unbreached (tickets_*_due_idx).
	tq := `SELECT
  (SELECT COUNT(*) FROM tickets AS t WHERE t.first_responded_at >= ?0 AND t.first_responded_at < ?1
    AND t.first_responded_at <= t.first_response_due_at` + team + `),
  (SELECT COUNT(*) FROM tickets AS t WHERE t.first_response_due_at >= ?0 AND t.first_response_due_at < ?2
    AND (t.first_responded_at > t.first_response_due_at OR (t.first_responded_at IS NULL AND t.first_response_breached_at IS NOT NULL))` + team + `)
  + (SELECT COUNT(*) FROM tickets AS t WHERE t.first_response_due_at >= ?0 AND t.first_response_due_at < ?2
    AND t.first_responded_at IS NULL AND t.first_response_breached_at IS NULL AND t.status IN ('new', 'open', 'pending')` + team + `),
  (SELECT COUNT(*) FROM tickets AS t WHERE t.resolved_at >= ?0 AND t.resolved_at < ?1
    AND t.resolved_at <= t.resolution_due_at` + team + `),
  (SELECT COUNT(*) FROM tickets AS t WHERE t.resolution_due_at >= ?0 AND t.resolution_due_at < ?2
    AND (t.resolved_at > t.resolution_due_at OR (t.resolved_at IS NULL AND t.resolution_breached_at IS NOT NULL))` + team + `)
  + (SELECT COUNT(*) FROM tickets AS t WHERE t.resolution_due_at >= ?0 AND t.resolution_due_at < ?2
    AND t.resolved_at IS NULL AND t.resolution_breached_at IS NULL AND t.paused_at IS NULL` + team + `)`
	args := append([]any{r.From, r.To, cut}, teamArgs...)
	var firstMet, firstMissed, resMet, resMissed int64
	if err := rd.db.NewRaw(tq, args...).Scan(ctx, &firstMet, &firstMissed, &resMet, &resMissed); err != nil {
		return fmt.Errorf("count ticket deadlines: %w", err)
	}
	// Complaints: the ticket is joined only to filter by team. Missed is decided late or
	// breached undecided (complaints_decision_missed_idx), plus undecided and unbreached
	// (complaints_deadline_idx): together, every undecided one.
	from := "complaints AS c"
	if r.TeamID != nil {
		from += " JOIN tickets AS t ON t.id = c.ticket_id"
	}
	cq := `SELECT
  (SELECT COUNT(*) FROM ` + from + ` WHERE c.decided_at >= ?0 AND c.decided_at < ?1 AND c.decided_at <= c.deadline_at` + team + `),
  (SELECT COUNT(*) FROM ` + from + ` WHERE c.deadline_at >= ?0 AND c.deadline_at < ?2
    AND (c.decided_at > c.deadline_at OR (c.decided_at IS NULL AND c.breached_at IS NOT NULL))` + team + `)
  + (SELECT COUNT(*) FROM ` + from + ` WHERE c.deadline_at >= ?0 AND c.deadline_at < ?2
    AND c.breached_at IS NULL AND c.decided_at IS NULL` + team + `)`
	var cMet, cMissed int64
	if err := rd.db.NewRaw(cq, args...).Scan(ctx, &cMet, &cMissed); err != nil {
		return fmt.Errorf("count complaint deadlines: %w", err)
	}
	r.FirstResponse = Share{Met: firstMet, Total: firstMet + firstMissed}
	r.Resolution = Share{Met: resMet, Total: resMet + resMissed}
	r.Complaints = Share{Met: cMet, Total: cMet + cMissed}
	return nil
}

// satisfaction is the CSAT report's totals, or its line for the team.
func (rd *Reader) satisfaction(ctx context.Context, from, to time.Time, teamID *int64) (Satisfaction, error) {
	c, err := rd.CSAT(ctx, from, to)
	if err != nil {
		return Satisfaction{}, err
	}
	if teamID == nil {
		return Satisfaction{Responses: c.Responses, Average: c.Average, SatisfiedShare: c.SatisfiedShare}, nil
	}
	for _, g := range c.ByTeam {
		if g.ID == *teamID {
			return Satisfaction{Responses: g.Responses, Average: g.Average, SatisfiedShare: g.SatisfiedShare}, nil
		}
	}
	return Satisfaction{}, nil
}

// ticketCounts counts the tickets created in [from, to) by a column: channel or category.
func (rd *Reader) ticketCounts(ctx context.Context, column string, from, to time.Time, teamID *int64) ([]Count, error) {
	if column != "channel" && column != "category" {
		return nil, fmt.Errorf("count tickets by %q: not a reported column", column)
	}
	team, teamArgs := teamClause(teamID)
	var out []Count
	if err := rd.db.NewRaw("SELECT t."+column+" AS key, COUNT(*) AS n FROM tickets AS t WHERE t.created_at >= ? AND t.created_at < ?"+team+
		" GROUP BY t."+column+" ORDER BY n DESC, key", append([]any{from, to}, teamArgs...)...).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("count tickets by %s: %w", column, err)
	}
	return out, nil
}

// dayBounds splits [from, to) at midnights in the desk's zone: n+1 bounds for n days.
func (rd *Reader) dayBounds(from, to time.Time) []time.Time {
	loc := rd.cal.Location()
	bounds := []time.Time{from}
	y, m, d := from.In(loc).Date()
	for i := 1; ; i++ {
		next := time.Date(y, m, d+i, 0, 0, 0, 0, loc).UTC()
		if !next.Before(to) || len(bounds) > maxReportDays+1 {
			break
		}
		bounds = append(bounds, next)
	}
	return append(bounds, to)
}

// dailyVolume counts the tickets created between each pair of bounds, in one statement:
// a CASE puts each ticket in its day, which is the same on both databases and follows the
// zone's own midnights.
func (rd *Reader) dailyVolume(ctx context.Context, bounds []time.Time, teamID *int64) ([]DayCount, error) {
	var b strings.Builder
	args := []any{}
	b.WriteString("SELECT x.day AS day, COUNT(*) AS n FROM (SELECT CASE")
	for i := 1; i < len(bounds); i++ {
		b.WriteString(" WHEN t.created_at < ? THEN ")
		fmt.Fprintf(&b, "%d", i-1)
		args = append(args, bounds[i])
	}
	team, teamArgs := teamClause(teamID)
	b.WriteString(" END AS day FROM tickets AS t WHERE t.created_at >= ? AND t.created_at < ?" + team + ") AS x GROUP BY x.day")
	args = append(append(args, bounds[0], bounds[len(bounds)-1]), teamArgs...)
	var rows []struct {
		Day int   `bun:"day"`
		N   int64 `bun:"n"`
	}
	if err := rd.db.NewRaw(b.String(), args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count tickets by day: %w", err)
	}
	loc := rd.cal.Location()
	out := make([]DayCount, len(bounds)-1)
	for i := range out {
		y, m, d := bounds[i].In(loc).Date()
		out[i].Day = time.Date(y, m, d, 0, 0, 0, 0, loc)
	}
	for _, r := range rows {
		if r.Day >= 0 && r.Day < len(out) {
			out[r.Day].N = r.N
		}
	}
	return out, nil
}

// AgentLoad is one agent's presence and open work.
type AgentLoad struct {
	ID       int64        `bun:"id"`
	Name     string       `bun:"name"`
	Email    string       `bun:"email"`
	Role     tickets.Role `bun:"role"`
	TeamID   *int64       `bun:"team_id"`
	TeamName string       `bun:"team_name"`
	Online   bool         `bun:"online"`
	Load     int          `bun:"load"`     // open tickets assigned: new, open or pending
	Capacity int          `bun:"capacity"` // how many auto-assignment gives them at most
}

// openLoad is an agent's open tickets, counted as auto-assignment counts them (tickets,
// ticket_assign.go: autoAssign).
const openLoad = "(SELECT COUNT(*) FROM tickets AS t WHERE t.assignee_id = agent.id AND t.status IN ('new', 'open', 'pending'))"

// AgentLoads lists the active agents (admins aside), optionally of one team, online first,
// with their open tickets against their capacity.
func (rd *Reader) AgentLoads(ctx context.Context, teamID *int64) ([]*AgentLoad, error) {
	if err := rd.checkTeam(ctx, teamID); err != nil {
		return nil, err
	}
	var out []*AgentLoad
	q := "SELECT agent.id AS id, agent.name AS name, agent.email AS email, agent.role AS role, agent.team_id AS team_id, " +
		"COALESCE(tm.name, '') AS team_name, agent.online AS online, agent.capacity AS capacity, " + openLoad + " AS load " +
		"FROM agents AS agent LEFT JOIN teams AS tm ON tm.id = agent.team_id WHERE agent.active AND agent.role <> ?"
	args := []any{tickets.RoleAdmin}
	if teamID != nil {
		q += " AND agent.team_id = ?"
		args = append(args, *teamID)
	}
	q += " ORDER BY agent.online DESC, agent.name, agent.id"
	if err := rd.db.NewRaw(q, args...).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("list agents' load: %w", err)
	}
	return out, nil
}

// Dashboard is what the supervisor's page shows: today and the last 30 days.
type Dashboard struct {
	Now      time.Time
	TeamID   *int64
	Today    *Report // since midnight in the desk's zone
	Month    *Report // the 30 calendar days ending today, today included
	Keywords []Count // the month's top keywords
	Sampled  int     // inbound messages the keywords were counted in
	Agents   []*AgentLoad
}

// DashboardDays is how many calendar days the dashboard's longer period covers.
const DashboardDays = 30

// Dashboard computes the supervisor's page as of now, optionally for one team. "Today" is
// the calendar day in the desk's zone; the month is the 30 calendar days ending today, so
// its daily series has 30 days and sums to its volume.
func (rd *Reader) Dashboard(ctx context.Context, teamID *int64) (*Dashboard, error) {
	now := rd.now()
	loc := rd.cal.Location()
	y, m, d := now.In(loc).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, loc)
	tomorrow := time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	monthStart := time.Date(y, m, d-(DashboardDays-1), 0, 0, 0, 0, loc)
	out := &Dashboard{Now: now, TeamID: teamID}
	var err error
	if out.Today, err = rd.Report(ctx, today, tomorrow, teamID); err != nil {
		return nil, err
	}
	if out.Month, err = rd.Report(ctx, monthStart, tomorrow, teamID); err != nil {
		return nil, err
	}
	if out.Keywords, out.Sampled, err = rd.TopKeywords(ctx, monthStart, tomorrow, teamID, 10, KeywordSample); err != nil {
		return nil, err
	}
	if out.Agents, err = rd.AgentLoads(ctx, teamID); err != nil {
		return nil, err
	}
	return out, nil
}
