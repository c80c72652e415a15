package api

import (
	"context"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/exports"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/privacy"
	"github.com/hotlinedesk/hotline/tickets/reports"
)

type shareJSON struct {
	Met     int64    `json:"met"`
	Total   int64    `json:"total"`
	Rate    *float64 `json:"rate"`   // 0..1; null when nothing came to an end
	Target  *float64 `json:"target"` // percent; null without a target
	Verdict string   `json:"verdict"`
}

type scorecardJSON struct {
	Handled       int64     `json:"handled"`
	FirstResponse shareJSON `json:"first_response"`
	Resolution    shareJSON `json:"resolution"`
	Complaints    struct {
		Opened  int64 `json:"opened"`
		Running int64 `json:"running"`
		shareJSON
	} `json:"complaints"` // met: decided within 10 working days; total: decided or past them
	FollowUps shareJSON `json:"followups"`
	CSAT      struct {
		Responses      int64    `json:"responses"`
		Average        *float64 `json:"average"`
		SatisfiedShare *float64 `json:"satisfied_share"`
		Target         *float64 `json:"target"`
		Verdict        string   `json:"verdict"`
	} `json:"csat"`
	Reviews struct {
		Count   int64    `json:"count"`
		Average *float64 `json:"average"`
		Target  *float64 `json:"target"`
		Verdict string   `json:"verdict"`
	} `json:"reviews"`
}

func cardJSON(c reports.Scorecard, t reports.Targets) scorecardJSON {
	v := t.Judge(c)
	share := func(s reports.Share, target *float64, verdict reports.Verdict) shareJSON {
		out := shareJSON{Met: s.Met, Total: s.Total, Target: target, Verdict: verdict.String()}
		if r, ok := s.Rate(); ok {
			out.Rate = &r
		}
		return out
	}
	var out scorecardJSON
	out.Handled = c.Handled
	out.FirstResponse = share(c.FirstResponse, t.FirstResponse, v.FirstResponse)
	out.Resolution = share(c.Resolution, t.Resolution, v.Resolution)
	out.Complaints.Opened, out.Complaints.Running = c.Complaints.Opened, c.Complaints.Running()
	out.Complaints.shareJSON = share(c.Complaints.Decided(), t.Complaints, v.Complaints)
	out.FollowUps = share(c.FollowUps, t.FollowUps, v.FollowUps)
	out.CSAT.Responses, out.CSAT.Target, out.CSAT.Verdict = c.CSAT.Responses, t.Satisfied, v.Satisfied.String()
	if c.CSAT.Responses > 0 {
		out.CSAT.Average, out.CSAT.SatisfiedShare = &c.CSAT.Average, &c.CSAT.SatisfiedShare
	}
	out.Reviews.Count, out.Reviews.Target, out.Reviews.Verdict = c.Reviews.N, t.Reviews, v.Reviews.String()
	if c.Reviews.N > 0 {
		out.Reviews.Average = &c.Reviews.Average
	}
	return out
}

// scorecardScope reads ?agent=<id> or ?team=<id>; neither is the caller's own scorecard.
func scorecardScope(c *fiber.Ctx) (reports.Scope, error) {
	var sc reports.Scope
	for name, dst := range map[string]**int64{"agent": &sc.AgentID, "team": &sc.TeamID} {
		if v := c.Query(name); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				return sc, fiber.NewError(fiber.StatusBadRequest, name+" must be an id")
			}
			*dst = &id
		}
	}
	switch {
	case sc.AgentID != nil && sc.TeamID != nil:
		return sc, fiber.NewError(fiber.StatusBadRequest, "choose an agent or a team, not both")
	case sc.AgentID == nil && sc.TeamID == nil && keyOf(c) != nil:
		return sc, fiber.NewError(fiber.StatusBadRequest, "an API key names an agent or a team")
	case sc.AgentID == nil && sc.TeamID == nil:
		sc.AgentID = &agentOf(c).ID
	}
	return sc, nil
}

// period reads from and to as the console does (dates in the desk's zone, to inclusive;
// by default this month to today).
func (s *server) period(c *fiber.Ctx) (from, to time.Time, err error) {
	return exports.MonthRange(c.Query, s.svc.Now(), s.svc.Calendar().Location())
}

// scorecard serves GET /reports/scorecard?agent=<id>|team=<id>&from=&to=: an agent's
// figures (for the agent, their team's supervisors and admins) or a team's with its agents'
// lines (for its supervisors and admins), each against the targets.
func (s *server) scorecard(c *fiber.Ctx) error {
	sc, err := scorecardScope(c)
	if err != nil {
		return err
	}
	from, to, err := s.period(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	if sc.AgentID != nil {
		card, err := s.reports.AgentScorecard(ctx, actorOf(c), *sc.AgentID, from, to)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"from": card.From, "to": card.To, "agent": agentRefJSON{ID: card.Agent.ID, Name: card.Agent.Name, Email: card.Agent.Email},
			"figures": cardJSON(card.Card, card.Targets)})
	}
	card, err := s.reports.TeamScorecard(ctx, actorOf(c), *sc.TeamID, from, to)
	if err != nil {
		return err
	}
	type line struct {
		Agent   agentRefJSON  `json:"agent"`
		Figures scorecardJSON `json:"figures"`
	}
	lines := make([]line, 0, len(card.Agents))
	for _, l := range card.Agents {
		lines = append(lines, line{Agent: agentRefJSON{ID: l.ID, Name: l.Name, Email: l.Email}, Figures: cardJSON(l.Card, card.Targets)})
	}
	var others *scorecardJSON
	if card.Others != nil {
		o := cardJSON(*card.Others, card.Targets)
		others = &o
	}
	return c.JSON(fiber.Map{"from": card.From, "to": card.To, "team": teamJSON{ID: card.Team.ID, Name: card.Team.Name},
		"figures": cardJSON(card.Card, card.Targets), "agents": lines, "unassigned": others})
}

// scorecardTickets serves GET /reports/scorecard/tickets?figure=<name>&agent=|team=&from=&to=:
// the tickets behind one figure, newest first (at most reports.MaxScorecardTickets).
func (s *server) scorecardTickets(c *fiber.Ctx) error {
	sc, err := scorecardScope(c)
	if err != nil {
		return err
	}
	from, to, err := s.period(c)
	if err != nil {
		return err
	}
	list, err := s.reports.ScorecardTickets(c.UserContext(), actorOf(c), sc, reports.Figure(c.Query("figure")), from, to)
	if err != nil {
		return err
	}
	type row struct {
		Ticket   string    `json:"ticket"`
		Subject  string    `json:"subject"`
		Status   string    `json:"status"`
		Channel  string    `json:"channel"`
		Assignee string    `json:"assignee"`
		At       time.Time `json:"at"`
		Score    *float64  `json:"score,omitempty"`
	}
	out := make([]row, 0, len(list))
	for _, t := range list {
		out = append(out, row{Ticket: t.Ref(), Subject: privacy.MaskText(t.Subject), Status: string(t.Status), Channel: t.Channel, Assignee: t.Assignee, At: t.At, Score: t.Score})
	}
	return c.JSON(fiber.Map{"figure": c.Query("figure"), "from": from.UTC(), "to": to.UTC(), "tickets": out, "limit": reports.MaxScorecardTickets})
}

// targets serves GET /reports/targets to staff.
func (s *server) targets(c *fiber.Ctx) error {
	t, err := s.reports.Targets(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(t)
}

// setTargets serves PUT /reports/targets to admins: the whole set, null for no target.
func (s *server) setTargets(c *fiber.Ctx) error {
	var in reports.Targets
	if err := decode(c, &in); err != nil {
		return err
	}
	if err := s.reports.SetTargets(c.UserContext(), actorOf(c), in); err != nil {
		return err
	}
	return s.targets(c)
}

// frequentIssues reads ?weeks=<2..26, 8 by default>&end=<a date in the last week, this
// week (so far) by default>&team=<id>, for supervisors and admins.
func (s *server) frequentIssues(c *fiber.Ctx) (*reports.FrequentIssues, error) {
	a := agentOf(c)
	if a.Role != tickets.RoleSupervisor && a.Role != tickets.RoleAdmin {
		return nil, fiber.NewError(fiber.StatusForbidden, "frequent issues are for supervisors and admins")
	}
	weeks := 8
	if v := c.Query("weeks"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fiber.NewError(fiber.StatusBadRequest, "weeks must be a number of weeks")
		}
		weeks = n
	}
	loc := s.svc.Calendar().Location()
	end := s.svc.Now().In(loc)
	if v := c.Query("end"); v != "" {
		d, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			return nil, fiber.NewError(fiber.StatusBadRequest, "end must be a date such as 2026-11-30")
		}
		end = d
	}
	var teamID *int64
	if v := c.Query("team"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return nil, fiber.NewError(fiber.StatusBadRequest, "team must be a team id")
		}
		teamID = &id
	}
	return s.reports.FrequentIssues(c.UserContext(), end, weeks, teamID, 20)
}

// frequentIssuesReport serves GET /reports/frequent-issues.
func (s *server) frequentIssuesReport(c *fiber.Ctx) error {
	fi, err := s.frequentIssues(c)
	if err != nil {
		return err
	}
	type trend struct {
		Key       string   `json:"key"`
		Weeks     []int64  `json:"weeks"`
		Total     int64    `json:"total"`
		WeeksSeen int      `json:"weeks_seen"`
		Change    int64    `json:"change"`
		Rate      *float64 `json:"change_rate"` // null when the week before had none
	}
	conv := func(ts []reports.IssueTrend) []trend {
		out := make([]trend, 0, len(ts))
		for _, t := range ts {
			tr := trend{Key: t.Key, Weeks: t.Weeks, Total: t.Total, WeeksSeen: t.WeeksSeen, Change: t.Change()}
			if r, ok := t.ChangeRate(); ok {
				tr.Rate = &r
			}
			out = append(out, tr)
		}
		return out
	}
	return c.JSON(fiber.Map{"weeks": fi.Weeks, "last_week_partial": fi.Partial, "categories": conv(fi.Categories),
		"keywords": conv(fi.Keywords), "messages_read": fi.Sampled})
}

// exportFrequentIssues serves GET /reports/frequent-issues.csv (?lang=en for English heads).
func (s *server) exportFrequentIssues(c *fiber.Ctx) error {
	fi, err := s.frequentIssues(c)
	if err != nil {
		return err
	}
	en := c.Query("lang") == "en"
	return exports.Stream(c, s.log, exports.FrequentIssuesName(fi), func(_ context.Context, w *exports.Writer) error {
		return exports.FrequentIssues(w, fi, en)
	})
}
