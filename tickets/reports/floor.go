package reports

import (
	"context"
	"fmt"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
)

// The floor is what a supervisor watches now, as opposed to the dashboard's look back:
//
//   - Waiting: tickets nobody has answered yet (new or open, no first response), by team
//     and channel, each group with its oldest; the wait runs from the ticket's creation.
//   - Breaching: deadlines still running (first response or resolution, not breached, not
//     paused) that fall due within the next hour, (now, now+1h].
//   - Complaints due this week: undecided complaints whose deadline in force falls before
//     next Monday in the desk's zone, overdue ones included, each with its working days
//     left on the desk's calendar (holidays off, make-up days on).
//   - Agents: online, their open load against capacity, and their CSAT today (answers
//     given since midnight in the desk's zone).
//
// Per-agent figures (load and CSAT) are for admins and for the supervisors of the
// agent's team; a supervisor looking at another team sees its queue but not its people.

// FloorHorizon is how far ahead the floor looks for breaches.
const FloorHorizon = time.Hour

// floorListMax bounds the lists the floor shows one by one.
const floorListMax = 50

// WaitingGroup is the unanswered tickets of one team (nil: none) on one channel.
type WaitingGroup struct {
	TeamID   *int64          `bun:"team_id"`
	TeamName string          `bun:"team_name"`
	Channel  tickets.Channel `bun:"channel"`
	N        int64           `bun:"n"`
	Oldest   time.Time       `bun:"oldest"`
}

// Breaching is one deadline falling due within the horizon.
type Breaching struct {
	TicketID     int64           `bun:"ticket_id"`
	Kind         string          `bun:"kind"` // "first_response" or "resolution"
	DueAt        time.Time       `bun:"due_at"`
	Channel      tickets.Channel `bun:"channel"`
	Subject      string          `bun:"subject"`
	TeamName     string          `bun:"team_name"`
	AssigneeName string          `bun:"assignee_name"`
}

// Ref is the ticket's reference.
func (b *Breaching) Ref() string { return tickets.FormatRef(b.TicketID) }

// ComplaintDue is one undecided complaint falling due this week.
type ComplaintDue struct {
	ID          int64     `bun:"id"`
	TicketID    int64     `bun:"ticket_id"`
	Summary     string    `bun:"summary"`
	DeadlineAt  time.Time `bun:"deadline_at"`
	OfficerName string    `bun:"officer_name"`
	DaysLeft    int       `bun:"-"` // working days, tickets.Calendar.WorkingDaysLeft
}

// Ref is the complaint's ticket reference.
func (c *ComplaintDue) Ref() string { return tickets.FormatRef(c.TicketID) }

// FloorAgent is one agent's presence, load and satisfaction today.
type FloorAgent struct {
	*AgentLoad
	CSAT Satisfaction // answers given today for this agent
}

// Floor is the live view.
type Floor struct {
	Now          time.Time
	TeamID       *int64
	WeekEnd      time.Time // complaints due before this count
	Waiting      []WaitingGroup
	WaitingTotal int64
	OldestSince  *time.Time // the longest-waiting ticket's creation; nil when none waits
	Breaching    []*Breaching
	BreachingN   int64 // may exceed len(Breaching), which is bounded
	Complaints   []*ComplaintDue
	ComplaintsN  int64
	Overdue      int64 // of ComplaintsN, past their deadline
	Online       int   // agents online among those shown
	Agents       []*FloorAgent
	AgentsShown  bool // false when the viewer may not see per-agent figures
}

// OldestWait is how long the longest-waiting ticket has waited.
func (f *Floor) OldestWait() time.Duration {
	if f.OldestSince == nil {
		return 0
	}
	return f.Now.Sub(*f.OldestSince)
}

// Floor computes the live view as of now for viewer, optionally for one team. Only
// supervisors and admins may see it.
func (rd *Reader) Floor(ctx context.Context, viewer *tickets.Agent, teamID *int64) (*Floor, error) {
	if viewer == nil || (viewer.Role != tickets.RoleSupervisor && viewer.Role != tickets.RoleAdmin) {
		return nil, tickets.Forbiddenf("the floor is for supervisors and admins")
	}
	if err := rd.checkTeam(ctx, teamID); err != nil {
		return nil, err
	}
	now := rd.now().UTC()
	loc := rd.cal.Location()
	y, m, d := now.In(loc).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, loc)
	daysToMonday := (8 - int(today.Weekday())) % 7
	if daysToMonday == 0 {
		daysToMonday = 7
	}
	f := &Floor{Now: now, TeamID: teamID, WeekEnd: time.Date(y, m, d+daysToMonday, 0, 0, 0, 0, loc).UTC()}
	if err := rd.floorWaiting(ctx, f); err != nil {
		return nil, err
	}
	if err := rd.floorBreaching(ctx, f); err != nil {
		return nil, err
	}
	if err := rd.floorComplaints(ctx, f); err != nil {
		return nil, err
	}
	// Per-agent rows: an admin sees the chosen team's (or everyone's); a supervisor only
	// their own team's, and none when looking at another team.
	agentTeam := teamID
	f.AgentsShown = true
	if viewer.Role == tickets.RoleSupervisor {
		switch {
		case viewer.TeamID == nil, teamID != nil && *teamID != *viewer.TeamID:
			f.AgentsShown = false
		default:
			agentTeam = viewer.TeamID
		}
	}
	if !f.AgentsShown {
		return f, nil
	}
	loads, err := rd.AgentLoads(ctx, agentTeam)
	if err != nil {
		return nil, err
	}
	csat, err := rd.CSAT(ctx, today, today.AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	byAgent := map[int64]CSATGroup{}
	for _, g := range csat.ByAgent {
		byAgent[g.ID] = g
	}
	for _, l := range loads {
		g := byAgent[l.ID]
		f.Agents = append(f.Agents, &FloorAgent{AgentLoad: l, CSAT: Satisfaction{Responses: g.Responses, Average: g.Average, SatisfiedShare: g.SatisfiedShare}})
		if l.Online {
			f.Online++
		}
	}
	return f, nil
}

// floorWaiting groups the unanswered tickets by team and channel, read through
// tickets_waiting_idx (migration 20261203100025), whose predicate the WHERE repeats.
func (rd *Reader) floorWaiting(ctx context.Context, f *Floor) error {
	team, args := teamClause(f.TeamID)
	q := "SELECT t.team_id AS team_id, COALESCE(tm.name, '') AS team_name, t.channel AS channel, COUNT(*) AS n, MIN(t.created_at) AS oldest " +
		"FROM tickets AS t LEFT JOIN teams AS tm ON tm.id = t.team_id " +
		"WHERE t.first_responded_at IS NULL AND t.status IN ('new', 'open')" + team +
		" GROUP BY t.team_id, tm.name, t.channel ORDER BY oldest, t.channel"
	if err := rd.db.NewRaw(q, args...).Scan(ctx, &f.Waiting); err != nil {
		return fmt.Errorf("count waiting tickets: %w", err)
	}
	for i := range f.Waiting {
		g := &f.Waiting[i]
		g.Oldest = g.Oldest.UTC()
		f.WaitingTotal += g.N
		if f.OldestSince == nil || g.Oldest.Before(*f.OldestSince) {
			f.OldestSince = &g.Oldest
		}
	}
	return nil
}

// floorBreaching lists the running deadlines due in (now, now+horizon], soonest first.
// Each half repeats its sweep index's predicate (migration 20261125000002), so it reads
// only the deadlines still running.
func (rd *Reader) floorBreaching(ctx context.Context, f *Floor) error {
	team, teamArgs := teamClause(f.TeamID)
	until := f.Now.Add(FloorHorizon)
	from := " FROM tickets AS t LEFT JOIN teams AS tm ON tm.id = t.team_id LEFT JOIN agents AS a ON a.id = t.assignee_id WHERE "
	cols := "t.id AS ticket_id, t.channel AS channel, t.subject AS subject, COALESCE(tm.name, '') AS team_name, COALESCE(a.name, '') AS assignee_name, "
	first := "t.first_responded_at IS NULL AND t.first_response_breached_at IS NULL AND t.status IN ('new', 'open', 'pending')" +
		" AND t.first_response_due_at > ? AND t.first_response_due_at <= ?" + team
	res := "t.resolved_at IS NULL AND t.resolution_breached_at IS NULL AND t.paused_at IS NULL" +
		" AND t.resolution_due_at > ? AND t.resolution_due_at <= ?" + team
	args := append(append([]any{f.Now, until}, teamArgs...), append([]any{f.Now, until}, teamArgs...)...)

	count := "SELECT (SELECT COUNT(*)" + from + first + ") + (SELECT COUNT(*)" + from + res + ")"
	if err := rd.db.NewRaw(count, args...).Scan(ctx, &f.BreachingN); err != nil {
		return fmt.Errorf("count deadlines due within the hour: %w", err)
	}
	list := "SELECT * FROM (SELECT " + cols + "'first_response' AS kind, t.first_response_due_at AS due_at" + from + first +
		" UNION ALL SELECT " + cols + "'resolution' AS kind, t.resolution_due_at AS due_at" + from + res +
		") AS x ORDER BY x.due_at, x.ticket_id LIMIT ?"
	if err := rd.db.NewRaw(list, append(args, floorListMax)...).Scan(ctx, &f.Breaching); err != nil {
		return fmt.Errorf("list deadlines due within the hour: %w", err)
	}
	for _, b := range f.Breaching {
		b.DueAt = b.DueAt.UTC()
	}
	return nil
}

// floorComplaints lists the undecided complaints due before the week ends, overdue ones
// first, read through complaints_open_deadline_idx (migration 20261203100025). The count
// reads the complaints alone; a team filter looks each one's ticket up by its key (a
// scalar subquery, which the planner keeps per row rather than scanning every ticket).
func (rd *Reader) floorComplaints(ctx context.Context, f *Floor) error {
	where := " WHERE c.status IN ('received', 'investigating') AND c.deadline_at < ?"
	args := []any{f.WeekEnd}
	if f.TeamID != nil {
		where += " AND (SELECT t.team_id FROM tickets AS t WHERE t.id = c.ticket_id) = ?"
		args = append(args, *f.TeamID)
	}
	if err := rd.db.NewRaw("SELECT COUNT(*), COALESCE(SUM(CASE WHEN c.deadline_at <= ? THEN 1 ELSE 0 END), 0) FROM complaints AS c"+where,
		append([]any{f.Now}, args...)...).Scan(ctx, &f.ComplaintsN, &f.Overdue); err != nil {
		return fmt.Errorf("count complaints due this week: %w", err)
	}
	q := "SELECT c.id AS id, c.ticket_id AS ticket_id, c.summary AS summary, c.deadline_at AS deadline_at, COALESCE(o.name, '') AS officer_name" +
		" FROM complaints AS c LEFT JOIN agents AS o ON o.id = c.officer_id" + where + " ORDER BY c.deadline_at, c.id LIMIT ?"
	if err := rd.db.NewRaw(q, append(args, floorListMax)...).Scan(ctx, &f.Complaints); err != nil {
		return fmt.Errorf("list complaints due this week: %w", err)
	}
	for _, c := range f.Complaints {
		c.DeadlineAt = c.DeadlineAt.UTC()
		c.DaysLeft = rd.cal.WorkingDaysLeft(f.Now, c.DeadlineAt)
	}
	return nil
}
