// Package dashboard is the supervisor's dashboard (/dashboard): the promises kept today
// and over the last 30 days, where the work comes from, what customers write about, and
// who is carrying it. The figures are computed by reports.Reader.Dashboard; this package
// only lays them out, drawing its charts as inline SVG (chart.go).
package dashboard

import (
	"fmt"
	"html/template"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/reports"
)

// Handler serves the dashboard.
type Handler struct {
	kit     *ui.Kit
	svc     *tickets.Service // the teams to filter by, the desk's calendar
	reports *reports.Reader
}

// New is the dashboard over the reports chapter.
func New(kit *ui.Kit, svc *tickets.Service, figures *reports.Reader) *Handler {
	return &Handler{kit: kit, svc: svc, reports: figures}
}

// Register mounts the dashboard's routes.
func (h *Handler) Register(r ui.Router) {
	r.Get("/dashboard", h.dashboard)
	r.Get("/dashboard/floor", h.floor)
	r.Get("/dashboard/export.csv", h.exportKPI)
	r.Get("/dashboard/scorecard", h.scorecard)
	r.Get("/dashboard/scorecard/tickets", h.scorecardTickets)
	r.Post("/dashboard/scorecard/targets", h.saveTargets)
	r.Get("/dashboard/issues", h.issues)
	r.Get("/dashboard/issues.csv", h.exportIssues)
}

// dashData is the page, laid out: every figure formatted, every chart drawn.
type dashData struct {
	teamChoice
	AsOf         time.Time
	TodayRange   string
	MonthRange   string
	KPIs         []kpiView
	Daily        template.HTML
	Created      int64 // in the 30 days
	CreatedToday int64
	Channels     template.HTML
	Categories   template.HTML
	Keywords     []keywordView
	Sampled      int
	Agents       []agentView
	Online       int
}

// kpiView is one promise, today and over 30 days.
type kpiView struct {
	Key, Title, Hint string
	Today, Month     kpiCell
}

type kpiCell struct {
	Value  string // "87.5%", "4.3" or "—"
	Unit   string // "/ 5" after a CSAT average
	Detail string // the denominator: "105 of 120 on time"
	Sub    string // what else the figure rests on: "15 missed", "42 answers"
	Tone   string // good, warn, bad, or "" without data
	Meter  template.HTML
}

type keywordView struct {
	Rank int
	Term string
	N    int64
	Bar  template.HTML
}

type agentView struct {
	*reports.AgentLoad
	Bar  template.HTML
	Tone string
}

// dashboard serves GET /dashboard?team=all|ID to supervisors and admins. A supervisor sees
// their own team unless they choose another; an admin sees all teams.
func (h *Handler) dashboard(ctx *fiber.Ctx, a *tickets.Agent) error {
	lang := ui.Lang(ctx, a)
	if a.Role != tickets.RoleSupervisor && a.Role != tickets.RoleAdmin {
		return fiber.NewError(fiber.StatusForbidden, ui.T(lang, "error.forbidden"))
	}
	choice, err := h.chooseTeam(ctx, a, lang)
	if err != nil {
		return err
	}
	d, teamID := dashData{teamChoice: choice}, choice.id
	dash, err := h.reports.Dashboard(ctx.UserContext(), teamID)
	if err != nil {
		return err
	}
	v := h.kit.View(ctx, a, "dashboard", nil)
	v.Title = v.T("dash.title")
	layoutDashboard(&d, dash, v, h.svc.Calendar().Location())
	v.Data = d
	return h.kit.Render(ctx, "dashboard", v)
}

// layoutDashboard turns the figures into what the page shows.
func layoutDashboard(d *dashData, dash *reports.Dashboard, v ui.View, loc *time.Location) {
	d.AsOf = dash.Now
	lastDay := dash.Month.To.Add(-time.Nanosecond).In(loc)
	d.TodayRange = lastDay.Format("01-02")
	d.MonthRange = dash.Month.From.In(loc).Format("01-02") + " – " + lastDay.Format("01-02")

	share := func(s reports.Share) kpiCell {
		r, ok := s.Rate()
		if !ok {
			return kpiCell{Value: "—", Detail: v.T("kpi.none"), Meter: meter(0, "")}
		}
		tone := toneOf(r)
		sub := v.T("kpi.all_met")
		if s.Missed() > 0 {
			sub = v.T("kpi.missed", s.Missed())
		}
		return kpiCell{Value: ui.Percent(r), Detail: v.T("kpi.met_of", s.Met, s.Total), Sub: sub, Tone: tone, Meter: meter(r, tone)}
	}
	csat := func(s reports.Satisfaction) kpiCell {
		if s.Responses == 0 {
			return kpiCell{Value: "—", Detail: v.T("kpi.no_answers"), Meter: meter(0, "")}
		}
		tone := toneOf(s.SatisfiedShare)
		answers := v.T("kpi.answers", s.Responses)
		if s.Responses == 1 {
			answers = v.T("kpi.answer")
		}
		return kpiCell{Value: strconv.FormatFloat(s.Average, 'f', 1, 64), Unit: v.T("kpi.out_of_5"),
			Detail: v.T("kpi.satisfied", ui.Percent(s.SatisfiedShare)), Sub: answers, Tone: tone, Meter: meter(s.SatisfiedShare, tone)}
	}
	d.KPIs = []kpiView{
		{Key: "first", Title: v.T("kpi.first"), Hint: v.T("kpi.first_hint"), Today: share(dash.Today.FirstResponse), Month: share(dash.Month.FirstResponse)},
		{Key: "resolution", Title: v.T("kpi.resolution"), Hint: v.T("kpi.resolution_hnt"), Today: share(dash.Today.Resolution), Month: share(dash.Month.Resolution)},
		{Key: "complaints", Title: v.T("kpi.complaints"), Hint: v.T("kpi.complaints_hnt"), Today: share(dash.Today.Complaints), Month: share(dash.Month.Complaints)},
		{Key: "csat", Title: v.T("kpi.csat"), Hint: v.T("kpi.csat_hint"), Today: csat(dash.Today.CSAT), Month: csat(dash.Month.CSAT)},
	}

	d.Created, d.CreatedToday = dash.Month.Created, dash.Today.Created
	cols := make([]column, len(dash.Month.Daily))
	for i, day := range dash.Month.Daily {
		cols[i] = column{Value: day.N, Title: v.T("dash.volume_day", day.Day.Format("2006-01-02"), day.N)}
		if (len(cols)-1-i)%5 == 0 {
			cols[i].Label = day.Day.Format("01-02")
		}
		if i == len(cols)-1 {
			cols[i].Class = "today"
		}
	}
	d.Daily = columns(cols, v.T("dash.volume"), v.T("dash.no_volume"))

	var bars []barItem
	for _, ch := range dash.Month.ByChannel {
		bars = append(bars, barItem{Label: v.T("chan." + ch.Key), Value: ch.N, Note: countNote(ch.N, dash.Month.Created), Class: "c-" + ch.Key})
	}
	d.Channels = hbars(bars, v.T("dash.by_channel"), v.T("dash.no_volume"))

	const shownCategories = 7
	bars = nil
	var rest, restN int64
	for i, cat := range dash.Month.ByCategory {
		if i >= shownCategories {
			rest += cat.N
			restN++
			continue
		}
		label := cat.Key
		if label == "" {
			label = v.T("dash.uncategorised")
		}
		bars = append(bars, barItem{Label: label, Value: cat.N, Note: countNote(cat.N, dash.Month.Created)})
	}
	if restN > 0 {
		bars = append(bars, barItem{Label: v.T("dash.other", restN), Value: rest, Note: countNote(rest, dash.Month.Created), Class: "rest"})
	}
	d.Categories = hbars(bars, v.T("dash.by_category"), v.T("dash.no_volume"))

	d.Sampled = dash.Sampled
	for i, k := range dash.Keywords {
		d.Keywords = append(d.Keywords, keywordView{Rank: i + 1, Term: k.Key, N: k.N,
			Bar: meter(float64(k.N)/float64(dash.Keywords[0].N), "")})
	}

	for _, ag := range dash.Agents {
		av := agentView{AgentLoad: ag}
		if ag.Capacity > 0 {
			f := float64(ag.Load) / float64(ag.Capacity)
			av.Tone = "good"
			switch {
			case f >= 1:
				av.Tone = "bad"
			case f >= 0.8:
				av.Tone = "warn"
			}
			av.Bar = meter(f, av.Tone)
		} else {
			av.Bar = meter(0, "")
		}
		if ag.Online {
			d.Online++
		}
		d.Agents = append(d.Agents, av)
	}
}

// toneOf colours a share: 95% and more is good, 80% and more needs watching, less is bad.
func toneOf(r float64) string {
	switch {
	case r >= 0.95:
		return "good"
	case r >= 0.80:
		return "warn"
	}
	return "bad"
}

// countNote is "12 · 35%": a count and its share of the total.
func countNote(n, total int64) string {
	if total <= 0 {
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprintf("%d · %s", n, ui.Percent(float64(n)/float64(total)))
}

// teamChoice is the team a supervisor's page shows (?team=all|ID): by default a
// supervisor's own team, all teams for an admin.
type teamChoice struct {
	Teams    []*tickets.Team
	Team     string // the filter as chosen: "all" or a team's id
	TeamName string
	id       *int64 // nil for all teams
}

// chooseTeam reads the page's team filter; an unknown team is a 400.
func (h *Handler) chooseTeam(ctx *fiber.Ctx, a *tickets.Agent, lang string) (teamChoice, error) {
	teams, err := h.svc.Teams(ctx.UserContext())
	if err != nil {
		return teamChoice{}, err
	}
	c := teamChoice{Teams: teams, Team: ctx.Query("team")}
	if c.Team == "" {
		c.Team = "all"
		if a.Role == tickets.RoleSupervisor && a.TeamID != nil {
			c.Team = strconv.FormatInt(*a.TeamID, 10)
		}
	}
	if c.Team == "all" {
		return c, nil
	}
	id, err := strconv.ParseInt(c.Team, 10, 64)
	for _, t := range teams {
		if err == nil && t.ID == id {
			c.id, c.TeamName = &t.ID, t.Name
		}
	}
	if c.id == nil {
		return c, fiber.NewError(fiber.StatusBadRequest, ui.T(lang, "dash.bad_team"))
	}
	return c, nil
}
