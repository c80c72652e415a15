package api

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets/privacy"
	"github.com/hotlinedesk/hotline/tickets/reports"
)

type floorWaitingJSON struct {
	Team    *teamJSON `json:"team"` // null: not routed to a team
	Channel string    `json:"channel"`
	Count   int64     `json:"count"`
	Oldest  time.Time `json:"oldest"`
}

type floorBreachJSON struct {
	Ticket   string    `json:"ticket"`
	Kind     string    `json:"kind"` // first_response or resolution
	DueAt    time.Time `json:"due_at"`
	Channel  string    `json:"channel"`
	Team     string    `json:"team"`
	Assignee string    `json:"assignee"`
}

type floorComplaintJSON struct {
	Ticket      string    `json:"ticket"`
	Summary     string    `json:"summary"`
	DeadlineAt  time.Time `json:"deadline_at"`
	WorkingDays int       `json:"working_days_left"`
	Officer     string    `json:"officer"`
}

type floorAgentJSON struct {
	Agent    agentRefJSON   `json:"agent"`
	Team     *teamJSON      `json:"team"`
	Online   bool           `json:"online"`
	Load     int            `json:"load"`
	Capacity int            `json:"capacity"`
	CSAT     *csatGroupJSON `json:"csat_today"` // null without answers today
}

// floorReport serves GET /reports/floor?team=<id>: the supervisors' live view as of now
// (reports.Reader.Floor). Agents get 403; per-agent figures are listed only for admins and
// the supervisors of the agents' team ("agents": null otherwise).
func (s *server) floorReport(c *fiber.Ctx) error {
	var teamID *int64
	if v := c.Query("team"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return fiber.NewError(fiber.StatusBadRequest, "team must be a team id")
		}
		teamID = &id
	}
	f, err := s.reports.Floor(c.UserContext(), agentOf(c), teamID)
	if err != nil {
		return err
	}
	waiting := make([]floorWaitingJSON, 0, len(f.Waiting))
	for _, g := range f.Waiting {
		w := floorWaitingJSON{Channel: string(g.Channel), Count: g.N, Oldest: g.Oldest}
		if g.TeamID != nil {
			w.Team = &teamJSON{ID: *g.TeamID, Name: g.TeamName}
		}
		waiting = append(waiting, w)
	}
	breaching := make([]floorBreachJSON, 0, len(f.Breaching))
	for _, b := range f.Breaching {
		breaching = append(breaching, floorBreachJSON{Ticket: b.Ref(), Kind: b.Kind, DueAt: b.DueAt, Channel: string(b.Channel), Team: b.TeamName, Assignee: b.AssigneeName})
	}
	due := make([]floorComplaintJSON, 0, len(f.Complaints))
	for _, cp := range f.Complaints {
		due = append(due, floorComplaintJSON{Ticket: cp.Ref(), Summary: privacy.MaskText(cp.Summary), DeadlineAt: cp.DeadlineAt, WorkingDays: cp.DaysLeft, Officer: cp.OfficerName})
	}
	var agents []floorAgentJSON
	if f.AgentsShown {
		agents = make([]floorAgentJSON, 0, len(f.Agents))
		for _, a := range f.Agents {
			aj := floorAgentJSON{Agent: agentRefJSON{ID: a.ID, Name: a.Name, Email: a.Email}, Online: a.Online, Load: a.Load, Capacity: a.Capacity}
			if a.TeamID != nil {
				aj.Team = &teamJSON{ID: *a.TeamID, Name: a.TeamName}
			}
			if a.CSAT.Responses > 0 {
				aj.CSAT = &csatGroupJSON{Responses: a.CSAT.Responses, Average: a.CSAT.Average, SatisfiedShare: a.CSAT.SatisfiedShare}
			}
			agents = append(agents, aj)
		}
	}
	var oldest *float64
	if f.OldestSince != nil {
		secs := f.OldestWait().Seconds()
		oldest = &secs
	}
	return c.JSON(fiber.Map{"now": f.Now, "horizon_seconds": reports.FloorHorizon.Seconds(), "week_ends_at": f.WeekEnd,
		"waiting":                  fiber.Map{"total": f.WaitingTotal, "oldest_wait_seconds": oldest, "oldest_since": f.OldestSince, "by_team_channel": waiting},
		"breaching_within_hour":    fiber.Map{"total": f.BreachingN, "deadlines": breaching},
		"complaints_due_this_week": fiber.Map{"total": f.ComplaintsN, "overdue": f.Overdue, "complaints": due},
		"agents_online":            f.Online, "agents": agents})
}
