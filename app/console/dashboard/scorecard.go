package dashboard

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/app/exports"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/reports"
)

// Scorecards (/dashboard/scorecard): an agent's promises kept over a period, or a team's
// with a line per agent, each figure against the admins' targets and linked to the
// tickets behind it. Agents see their own; supervisors their team and its people; admins
// everyone. Who may read what is the reports chapter's to say (through the service's
// MayReadAgentFigures and MayReadTeamFigures); this page only chooses and lays out.

// scorecardData is the page, laid out.
type scorecardData struct {
	Who      string // "agent:12" or "team:3", as chosen
	Choices  []whoChoice
	From, To string // dates, to inclusive
	Title    string // the agent's or team's name
	IsTeam   bool
	Cards    []figureCard
	Lines    []agentLineView
	Targets  []targetField // the admins' form; nil for others
	Query    string        // who and period, for links
	Period   string
	Unowned  bool // the team has rows assigned to nobody
	Boards   bool // the viewer may open the dashboard's other views
}

type whoChoice struct {
	Value, Label string
	Selected     bool
}

// figureCard is one figure: its value, what it rests on, its target and verdict, and the
// ticket lists behind it.
type figureCard struct {
	Key, Title, Hint string
	Value, Unit      string
	Detail           string
	Tone             string // good, bad, or ""
	Target           string // "Target ≥ 95%"; "" without one
	Verdict          string // "Met", "Not met", "No data yet"
	Links            []figureLink
}

type figureLink struct {
	Label, Href string
	N           int64
}

// agentLineView is one agent's line of a team's scorecard: each cell a value with a tone.
type agentLineView struct {
	Name, Href string
	Cells      []lineCell
}

type lineCell struct {
	Value, Tone, Verdict string
}

type targetField struct {
	Key, Label, Value, Unit string
}

// scorecardPeriod reads from and to (dates in the desk's zone, to inclusive), by default
// this month to today.
func (h *Handler) scorecardPeriod(ctx *fiber.Ctx, lang string) (time.Time, time.Time, error) {
	from, to, err := exports.MonthRange(ctx.Query, h.svc.Now(), h.svc.Calendar().Location())
	if err != nil {
		return from, to, fiber.NewError(fiber.StatusBadRequest, ui.T(lang, "score.bad_period"))
	}
	return from, to, nil
}

// scorecardScope reads ?who=agent:<id>|team:<id>; by default a supervisor's own team, an
// admin's first team, anyone else's own scorecard.
func (h *Handler) scorecardScope(ctx *fiber.Ctx, a *tickets.Agent, lang string) (reports.Scope, string, error) {
	who := ctx.Query("who")
	if who == "" {
		switch {
		case a.Role == tickets.RoleSupervisor && a.TeamID != nil:
			who = "team:" + strconv.FormatInt(*a.TeamID, 10)
		case a.Role == tickets.RoleAdmin:
			teams, err := h.svc.Teams(ctx.UserContext())
			if err != nil {
				return reports.Scope{}, "", err
			}
			who = "agent:" + strconv.FormatInt(a.ID, 10)
			if len(teams) > 0 {
				who = "team:" + strconv.FormatInt(teams[0].ID, 10)
			}
		default:
			who = "agent:" + strconv.FormatInt(a.ID, 10)
		}
	}
	scope, ok := parseWho(who)
	if !ok {
		return scope, who, fiber.NewError(fiber.StatusBadRequest, ui.T(lang, "score.bad_who"))
	}
	return scope, who, nil
}

// parseWho reads "agent:<id>" or "team:<id>" (a positive id).
func parseWho(who string) (reports.Scope, bool) {
	kind, idText, _ := strings.Cut(who, ":")
	id, err := strconv.ParseInt(idText, 10, 64)
	switch {
	case err != nil || id <= 0:
		return reports.Scope{}, false
	case kind == "agent":
		return reports.Scope{AgentID: &id}, true
	case kind == "team":
		return reports.Scope{TeamID: &id}, true
	}
	return reports.Scope{}, false
}

// scorecard serves GET /dashboard/scorecard?who=&from=&to=.
func (h *Handler) scorecard(ctx *fiber.Ctx, a *tickets.Agent) error {
	lang := ui.Lang(ctx, a)
	scope, who, err := h.scorecardScope(ctx, a, lang)
	if err != nil {
		return err
	}
	from, to, err := h.scorecardPeriod(ctx, lang)
	if err != nil {
		return err
	}
	v := h.kit.View(ctx, a, scorecardNav(a), nil)
	v.Title = v.T("score.title")
	loc := h.svc.Calendar().Location()
	d := scorecardData{Who: who, From: from.In(loc).Format(time.DateOnly), To: to.Add(-time.Nanosecond).In(loc).Format(time.DateOnly),
		Boards: a.Role == tickets.RoleSupervisor || a.Role == tickets.RoleAdmin}
	d.Period = d.From + " – " + d.To
	d.Query = url.Values{"who": {who}, "from": {d.From}, "to": {d.To}}.Encode()
	if d.Choices, err = h.scorecardChoices(ctx, a, who, v); err != nil {
		return err
	}
	rctx := ctx.UserContext()
	actor := tickets.AgentActor(a)
	var targets reports.Targets
	if scope.AgentID != nil {
		card, err := h.reports.AgentScorecard(rctx, actor, *scope.AgentID, from, to)
		if err != nil {
			return err
		}
		d.Title, targets = card.Agent.Name, card.Targets
		d.Cards = figureCards(card.Card, card.Targets, v, "/dashboard/scorecard/tickets?"+d.Query)
	} else {
		card, err := h.reports.TeamScorecard(rctx, actor, *scope.TeamID, from, to)
		if err != nil {
			return err
		}
		d.Title, d.IsTeam, targets = card.Team.Name, true, card.Targets
		d.Cards = figureCards(card.Card, card.Targets, v, "/dashboard/scorecard/tickets?"+d.Query)
		d.Unowned = card.Others != nil
		for _, l := range card.Agents {
			q := url.Values{"who": {"agent:" + strconv.FormatInt(l.ID, 10)}, "from": {d.From}, "to": {d.To}}.Encode()
			d.Lines = append(d.Lines, agentLineView{Name: l.Name, Href: "/dashboard/scorecard?" + q, Cells: lineCells(l.Card, card.Targets, v)})
		}
	}
	if a.Role == tickets.RoleAdmin {
		d.Targets = targetFields(targets, v)
	}
	v.Data = d
	return h.kit.Render(ctx, "scorecard", v)
}

// scorecardChoices lists whose scorecard the viewer may open: an agent only their own; a
// supervisor their teams and the teams' people; an admin every team and person.
func (h *Handler) scorecardChoices(ctx *fiber.Ctx, a *tickets.Agent, who string, v ui.View) ([]whoChoice, error) {
	self := whoChoice{Value: "agent:" + strconv.FormatInt(a.ID, 10), Label: v.T("score.me", a.Name)}
	out := []whoChoice{self}
	if a.Role != tickets.RoleSupervisor && a.Role != tickets.RoleAdmin {
		out[0].Selected = true
		return out, nil
	}
	teams, err := h.svc.Teams(ctx.UserContext())
	if err != nil {
		return nil, err
	}
	for _, t := range teams {
		if a.Role != tickets.RoleAdmin && !a.InTeam(&t.ID) {
			continue
		}
		out = append(out, whoChoice{Value: "team:" + strconv.FormatInt(t.ID, 10), Label: v.T("score.team_of", t.Name)})
		members, err := h.svc.Agents(ctx.UserContext(), &t.ID)
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			if m.ID == a.ID || !m.Active || m.Role == tickets.RoleAdmin {
				continue
			}
			out = append(out, whoChoice{Value: "agent:" + strconv.FormatInt(m.ID, 10), Label: "　" + m.Name})
		}
	}
	for i := range out {
		out[i].Selected = out[i].Value == who
	}
	return out, nil
}

// scorecardNav is the menu entry the scorecard belongs to: the dashboard for those who
// have one, "My scorecard" for everyone else.
func scorecardNav(a *tickets.Agent) string {
	if a.Role == tickets.RoleSupervisor || a.Role == tickets.RoleAdmin {
		return "dashboard"
	}
	return "scorecard"
}

// verdictWords says a verdict in words (the colour is never the only sign).
func verdictWords(vd reports.Verdict, v ui.View) (words, tone string) {
	switch vd {
	case reports.Met:
		return v.T("score.met"), "good"
	case reports.NotMet:
		return v.T("score.not_met"), "bad"
	case reports.NoData:
		return v.T("score.no_data"), ""
	}
	return "", ""
}

func targetText(t *float64, points bool, v ui.View) string {
	if t == nil {
		return ""
	}
	n := strconv.FormatFloat(*t, 'f', -1, 64)
	if points {
		return v.T("score.target_points", n)
	}
	return v.T("score.target_pct", n)
}

// figureCards lays out a scorecard's figures; list is the ticket list's URL without the
// figure.
func figureCards(c reports.Scorecard, t reports.Targets, v ui.View, list string) []figureCard {
	vd := t.Judge(c)
	link := func(label string, fig reports.Figure, n int64) figureLink {
		return figureLink{Label: label, Href: list + "&figure=" + string(fig), N: n}
	}
	share := func(key, title, hint string, s reports.Share, target *float64, verdict reports.Verdict, met, missed reports.Figure) figureCard {
		fc := figureCard{Key: key, Title: title, Hint: hint, Value: "—", Detail: v.T("kpi.none"), Target: targetText(target, false, v)}
		if r, ok := s.Rate(); ok {
			fc.Value, fc.Detail = ui.Percent(r), v.T("kpi.met_of", s.Met, s.Total)
		}
		fc.Verdict, fc.Tone = verdictWords(verdict, v)
		fc.Links = []figureLink{link(v.T("score.list_met"), met, s.Met), link(v.T("score.list_missed"), missed, s.Missed())}
		return fc
	}
	cards := []figureCard{{Key: "handled", Title: v.T("score.handled"), Hint: v.T("score.handled_hint"), Value: strconv.FormatInt(c.Handled, 10),
		Links: []figureLink{link(v.T("score.list_tickets"), reports.FigHandled, c.Handled)}}}
	cards = append(cards,
		share("first", v.T("kpi.first"), v.T("kpi.first_hint"), c.FirstResponse, t.FirstResponse, vd.FirstResponse, reports.FigFirstMet, reports.FigFirstMissed),
		share("resolution", v.T("kpi.resolution"), v.T("kpi.resolution_hnt"), c.Resolution, t.Resolution, vd.Resolution, reports.FigResolutionMet, reports.FigResolutionMissed))
	cp := share("complaints", v.T("kpi.complaints"), v.T("score.complaints_hint"), c.Complaints.Decided(), t.Complaints, vd.Complaints,
		reports.FigComplaintsOnTime, reports.FigComplaintsLate)
	cp.Detail += " · " + v.T("score.complaints_opened", c.Complaints.Opened, c.Complaints.Running())
	cp.Links = append([]figureLink{link(v.T("score.list_opened"), reports.FigComplaints, c.Complaints.Opened)}, cp.Links...)
	cards = append(cards, cp,
		share("followups", v.T("score.followups"), v.T("score.followups_hint"), c.FollowUps, t.FollowUps, vd.FollowUps, reports.FigFollowUpsOnTime, reports.FigFollowUpsMissed))

	cs := figureCard{Key: "csat", Title: v.T("kpi.csat"), Hint: v.T("kpi.csat_hint"), Value: "—", Detail: v.T("kpi.no_answers"), Target: targetText(t.Satisfied, false, v)}
	if n := c.CSAT.Responses; n > 0 {
		cs.Value, cs.Unit = strconv.FormatFloat(c.CSAT.Average, 'f', 1, 64), v.T("kpi.out_of_5")
		cs.Detail = v.T("kpi.satisfied", ui.Percent(c.CSAT.SatisfiedShare)) + " · " + v.T("kpi.answers", n)
	}
	if cs.Target != "" {
		cs.Target = v.T("score.target_csat", cs.Target)
	}
	cs.Verdict, cs.Tone = verdictWords(vd.Satisfied, v)
	dissatisfied := c.CSAT.Responses - int64(float64(c.CSAT.Responses)*c.CSAT.SatisfiedShare+0.5)
	cs.Links = []figureLink{link(v.T("score.list_answers"), reports.FigCSAT, c.CSAT.Responses), link(v.T("score.list_dissatisfied"), reports.FigCSATDissatisfied, dissatisfied)}

	rv := figureCard{Key: "reviews", Title: v.T("score.reviews"), Hint: v.T("score.reviews_hint"), Value: "—", Detail: v.T("score.no_reviews"), Target: targetText(t.Reviews, true, v)}
	if c.Reviews.N > 0 {
		rv.Value, rv.Unit, rv.Detail = strconv.FormatFloat(c.Reviews.Average, 'f', 1, 64), v.T("score.out_of_100"), v.T("score.reviews_n", c.Reviews.N)
	}
	rv.Verdict, rv.Tone = verdictWords(vd.Reviews, v)
	rv.Links = []figureLink{link(v.T("score.list_reviewed"), reports.FigReviews, c.Reviews.N)}
	return append(cards, cs, rv)
}

// lineCells are an agent's line: handled, then each promise's share, CSAT and reviews.
func lineCells(c reports.Scorecard, t reports.Targets, v ui.View) []lineCell {
	vd := t.Judge(c)
	cell := func(s reports.Share, verdict reports.Verdict) lineCell {
		lc := lineCell{Value: "—"}
		if r, ok := s.Rate(); ok {
			lc.Value = ui.Percent(r) + " (" + strconv.FormatInt(s.Met, 10) + "/" + strconv.FormatInt(s.Total, 10) + ")"
		}
		lc.Verdict, lc.Tone = verdictWords(verdict, v)
		return lc
	}
	out := []lineCell{{Value: strconv.FormatInt(c.Handled, 10)}, cell(c.FirstResponse, vd.FirstResponse), cell(c.Resolution, vd.Resolution),
		cell(c.Complaints.Decided(), vd.Complaints), cell(c.FollowUps, vd.FollowUps)}
	cs := lineCell{Value: "—"}
	if c.CSAT.Responses > 0 {
		cs.Value = strconv.FormatFloat(c.CSAT.Average, 'f', 1, 64) + " · " + ui.Percent(c.CSAT.SatisfiedShare)
	}
	cs.Verdict, cs.Tone = verdictWords(vd.Satisfied, v)
	rv := lineCell{Value: "—"}
	if c.Reviews.N > 0 {
		rv.Value = strconv.FormatFloat(c.Reviews.Average, 'f', 1, 64)
	}
	rv.Verdict, rv.Tone = verdictWords(vd.Reviews, v)
	return append(out, cs, rv)
}

// targetKeys are the targets' form fields, in the page's order.
var targetKeys = []string{"first_response", "resolution", "complaints", "followups", "satisfied", "reviews"}

func targetPtrs(t *reports.Targets) []**float64 {
	return []**float64{&t.FirstResponse, &t.Resolution, &t.Complaints, &t.FollowUps, &t.Satisfied, &t.Reviews}
}

func targetFields(t reports.Targets, v ui.View) []targetField {
	var out []targetField
	for i, p := range targetPtrs(&t) {
		f := targetField{Key: targetKeys[i], Label: v.T("score.target_" + targetKeys[i]), Unit: "%"}
		if targetKeys[i] == "reviews" {
			f.Unit = v.T("score.points")
		}
		if *p != nil {
			f.Value = strconv.FormatFloat(**p, 'f', -1, 64)
		}
		out = append(out, f)
	}
	return out
}

// saveTargets serves POST /dashboard/scorecard/targets to admins: empty fields are no
// target.
func (h *Handler) saveTargets(ctx *fiber.Ctx, a *tickets.Agent) error {
	lang := ui.Lang(ctx, a)
	var t reports.Targets
	for i, p := range targetPtrs(&t) {
		raw := strings.TrimSpace(ctx.FormValue(targetKeys[i]))
		if raw == "" {
			continue
		}
		n, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, ui.T(lang, "score.bad_target"))
		}
		*p = &n
	}
	if err := h.reports.SetTargets(ctx.UserContext(), tickets.AgentActor(a), t); err != nil {
		if errors.Is(err, tickets.ErrInvalid) {
			return fiber.NewError(fiber.StatusBadRequest, ui.T(lang, "score.bad_target"))
		}
		return err
	}
	return ui.Redirect(ctx, ui.BackTo(ctx), ui.T(lang, "score.targets_saved"))
}

// ticketsData is the list behind one figure.
type ticketsData struct {
	Figure, Who, Period string
	Back                string
	Tickets             []reports.FigureTicket
	Capped              bool
	Scored              bool
}

// scorecardTickets serves GET /dashboard/scorecard/tickets?figure=&who=&from=&to=.
func (h *Handler) scorecardTickets(ctx *fiber.Ctx, a *tickets.Agent) error {
	lang := ui.Lang(ctx, a)
	scope, who, err := h.scorecardScope(ctx, a, lang)
	if err != nil {
		return err
	}
	from, to, err := h.scorecardPeriod(ctx, lang)
	if err != nil {
		return err
	}
	fig := reports.Figure(ctx.Query("figure"))
	if !slices.Contains(reports.Figures, fig) {
		return fiber.NewError(fiber.StatusBadRequest, ui.T(lang, "score.bad_figure"))
	}
	list, err := h.reports.ScorecardTickets(ctx.UserContext(), tickets.AgentActor(a), scope, fig, from, to)
	if err != nil {
		return err
	}
	loc := h.svc.Calendar().Location()
	fromDay, toDay := from.In(loc).Format(time.DateOnly), to.Add(-time.Nanosecond).In(loc).Format(time.DateOnly)
	v := h.kit.View(ctx, a, scorecardNav(a), nil)
	v.Title = v.T("score.fig_" + string(fig))
	name, err := h.scopeName(ctx, scope)
	if err != nil {
		return err
	}
	v.Data = ticketsData{Figure: v.Title, Who: name, Period: fromDay + " – " + toDay, Tickets: list, Capped: len(list) >= reports.MaxScorecardTickets,
		Back:   "/dashboard/scorecard?" + url.Values{"who": {who}, "from": {fromDay}, "to": {toDay}}.Encode(),
		Scored: fig == reports.FigCSAT || fig == reports.FigCSATDissatisfied || fig == reports.FigReviews}
	return h.kit.Render(ctx, "scorecard_tickets", v)
}

// scopeName is the agent's or team's name, read after the reports allowed the viewer.
func (h *Handler) scopeName(ctx *fiber.Ctx, scope reports.Scope) (string, error) {
	if scope.AgentID != nil {
		ag, err := h.svc.Agent(ctx.UserContext(), *scope.AgentID)
		if err != nil {
			return "", err
		}
		return ag.Name, nil
	}
	teams, err := h.svc.Teams(ctx.UserContext())
	if err != nil {
		return "", err
	}
	for _, t := range teams {
		if t.ID == *scope.TeamID {
			return t.Name, nil
		}
	}
	return "", nil
}
