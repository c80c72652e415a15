package api

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/privacy"
)

type followUpJSON struct {
	ID            int64         `json:"id"`
	TicketRef     string        `json:"ticket_ref"`
	Subject       string        `json:"subject"`
	OffsetSeconds int64         `json:"offset_seconds"`
	Status        string        `json:"status"`
	DueAt         time.Time     `json:"due_at"`
	Overdue       bool          `json:"overdue"`
	Assignee      *agentRefJSON `json:"assignee"`
	TeamID        *int64        `json:"team_id"`
	Note          string        `json:"note"`
	CompletedAt   *time.Time    `json:"completed_at"`
	CompletedBy   *int64        `json:"completed_by"`
	CancelledAt   *time.Time    `json:"cancelled_at"`
	CreatedAt     time.Time     `json:"created_at"`
}

func viewFollowUp(f *aftercare.FollowUp, now time.Time) followUpJSON {
	v := followUpJSON{ID: f.ID, TicketRef: tickets.FormatRef(f.TicketID), OffsetSeconds: f.OffsetSeconds, Status: string(f.Status),
		DueAt: f.DueAt.UTC(), Overdue: f.Status == aftercare.FollowUpOpen && now.After(f.DueAt), TeamID: f.TeamID, Note: privacy.MaskText(f.Note),
		CompletedAt: utc(f.CompletedAt), CompletedBy: f.CompletedBy, CancelledAt: utc(f.CancelledAt), CreatedAt: f.CreatedAt.UTC()}
	if f.Ticket != nil {
		v.Subject = privacy.MaskText(f.Ticket.Subject)
	}
	if f.Assignee != nil {
		v.Assignee = &agentRefJSON{ID: f.Assignee.ID, Name: f.Assignee.Name, Email: f.Assignee.Email}
	}
	return v
}

// listFollowUps serves GET /followups?assignee=me|none|<id>&status=open,done&due_before=<RFC3339>,
// the soonest due first.
func (s *server) listFollowUps(c *fiber.Ctx) error {
	var f aftercare.FollowUpFilter
	var err error
	if f.AssigneeID, f.Unassigned, err = assigneeParam(c); err != nil {
		return err
	}
	for _, st := range strings.Split(c.Query("status"), ",") {
		if st = strings.TrimSpace(st); st != "" {
			f.Statuses = append(f.Statuses, aftercare.FollowUpStatus(st))
		}
	}
	if f.DueBefore, err = timeParam(c, "due_before"); err != nil {
		return err
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fiber.NewError(fiber.StatusBadRequest, "limit must be a positive number")
		}
		f.Limit = n
	}
	fs, err := s.care.FollowUps(c.UserContext(), f)
	if err != nil {
		return err
	}
	now := time.Now()
	out := listJSON[followUpJSON]{Items: make([]followUpJSON, 0, len(fs))}
	for _, fu := range fs {
		out.Items = append(out.Items, viewFollowUp(fu, now))
	}
	return c.JSON(out)
}

// completeFollowUp serves POST /followups/:id/complete {"note": "..."}.
func (s *server) completeFollowUp(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		Note string `json:"note"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	f, err := s.care.CompleteFollowUp(c.UserContext(), actorOf(c), id, in.Note)
	if err != nil {
		return err
	}
	return c.JSON(viewFollowUp(f, time.Now()))
}

type csatGroupJSON struct {
	Responses      int64   `json:"responses"`
	Average        float64 `json:"average"`
	SatisfiedShare float64 `json:"satisfied_share"`
}

type csatAgentJSON struct {
	Agent agentRefJSON `json:"agent"`
	csatGroupJSON
}

type csatTeamJSON struct {
	Team teamJSON `json:"team"`
	csatGroupJSON
}

// csatReport serves GET /reports/csat?from=<RFC3339>&to=<RFC3339> (default: the last 30
// days): answers given in [from, to); by_agent lists only the agents the caller may read
// figures of (reports.Reader.CSATFor).
func (s *server) csatReport(c *fiber.Ctx) error {
	var from, to time.Time
	for name, dst := range map[string]*time.Time{"from": &from, "to": &to} {
		t, err := timeParam(c, name)
		if err != nil {
			return err
		}
		if t != nil {
			*dst = *t
		}
	}
	// The agents' lines are for those who manage them; totals and teams for all staff.
	r, err := s.reports.CSATFor(c.UserContext(), actorOf(c), from, to)
	if err != nil {
		return err
	}
	dist := fiber.Map{}
	for score, n := range r.Distribution {
		dist[strconv.Itoa(score)] = n
	}
	byAgent := make([]csatAgentJSON, 0, len(r.ByAgent))
	for _, g := range r.ByAgent {
		byAgent = append(byAgent, csatAgentJSON{Agent: agentRefJSON{ID: g.ID, Name: g.Name, Email: g.Email},
			csatGroupJSON: csatGroupJSON{Responses: g.Responses, Average: g.Average, SatisfiedShare: g.SatisfiedShare}})
	}
	byTeam := make([]csatTeamJSON, 0, len(r.ByTeam))
	for _, g := range r.ByTeam {
		byTeam = append(byTeam, csatTeamJSON{Team: teamJSON{ID: g.ID, Name: g.Name},
			csatGroupJSON: csatGroupJSON{Responses: g.Responses, Average: g.Average, SatisfiedShare: g.SatisfiedShare}})
	}
	return c.JSON(fiber.Map{"from": r.From, "to": r.To, "responses": r.Responses, "average": r.Average,
		"satisfied_share": r.SatisfiedShare, "distribution": dist, "by_agent": byAgent, "by_team": byTeam})
}
