package console

import (
	"fmt"
	"html/template"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/reports"
)

// The supervisor's dashboard: the promises kept today and over the last 30 days, where the
// work comes from, what customers write about, and who is carrying it. The figures are
// computed by reports.Reader.Dashboard; this file only lays them out.

var dashboardText = texts{
	"dash.title":         {"主管看板", "Supervisor dashboard"},
	"dash.team":          {"团队", "Team"},
	"dash.all_teams":     {"全部团队", "All teams"},
	"dash.show":          {"查看", "Show"},
	"dash.as_of":         {"数据截至 %s", "As of %s"},
	"dash.periods":       {"今天 %s · 近 30 天 %s", "today %s · last 30 days %s"},
	"dash.bad_team":      {"没有这个团队。", "There is no such team."},
	"dash.today":         {"今天", "Today"},
	"dash.month":         {"近 30 天", "Last 30 days"},
	"kpi.first":          {"24 小时内首次响应", "First response within 24h"},
	"kpi.first_hint":     {"按每张工单自身的时限计：默认 24 小时，邮件 48 小时。", "Against each ticket's own deadline: 24h by default, 48h for email."},
	"kpi.resolution":     {"48 小时内解决", "Resolved within 48h"},
	"kpi.resolution_hnt": {"按每张工单自身的时限计；等待客户的时间不计入。", "Against each ticket's own deadline; time waiting on the customer does not count."},
	"kpi.complaints":     {"10 个工作日内决定投诉", "Complaints decided within 10 working days"},
	"kpi.complaints_hnt": {"按每件投诉的决定期限计，含已批准的延期。", "Against each complaint's decision deadline, approved extensions included."},
	"kpi.csat":           {"客户满意度", "Customer satisfaction"},
	"kpi.csat_hint":      {"期间内收到的满意度评价，4–5 分为满意。", "Survey answers received in the period; 4 or 5 counts as satisfied."},
	"kpi.met_of":         {"%[1]d / %[2]d 项按时", "%[1]d of %[2]d on time"},
	"kpi.missed":         {"%d 项超时", "%d missed"},
	"kpi.all_met":        {"全部按时", "none missed"},
	"kpi.none":           {"期间内没有到期项", "Nothing came due"},
	"kpi.satisfied":      {"满意 %s", "%s satisfied"},
	"kpi.answers":        {"%d 份评价", "%d answers"},
	"kpi.answer":         {"1 份评价", "1 answer"},
	"kpi.no_answers":     {"暂无评价", "No answers yet"},
	"kpi.out_of_5":       {"/ 5", "/ 5"},
	"kpi.legend":         {"绿色：≥ 95%　黄色：≥ 80%　红色：低于 80%", "Green: 95% or more · amber: 80% or more · red: below 80%"},
	"dash.volume":        {"每日新工单", "New tickets per day"},
	"dash.volume_total":  {"近 30 天共 %d 张 · 今天 %d 张", "%d in 30 days · %d today"},
	"dash.volume_day":    {"%s：%d 张工单", "%s: %d tickets"},
	"dash.no_volume":     {"近 30 天没有新工单。", "No new tickets in the last 30 days."},
	"dash.by_channel":    {"按渠道", "By channel"},
	"dash.by_category":   {"按类别", "By category"},
	"dash.uncategorised": {"未分类", "Uncategorised"},
	"dash.other":         {"其他 %d 类", "%d others"},
	"dash.keywords":      {"热门关键词", "Top keywords"},
	"dash.keywords_hint": {"取自近 30 天最近 %d 条客户消息，每张工单每个词只计一次。", "From the latest %d customer messages of the last 30 days; each ticket counts a word once."},
	"dash.no_keywords":   {"消息还不够多，暂无热门关键词。", "Not enough messages yet to show trends."},
	"dash.tickets_n":     {"%d 张工单", "%d tickets"},
	"dash.agents":        {"坐席在线与负载", "Agents online and their load"},
	"dash.online_count":  {"在线 %d / %d", "%d of %d online"},
	"dash.col_agent":     {"坐席", "Agent"},
	"dash.col_team":      {"团队", "Team"},
	"dash.col_role":      {"角色", "Role"},
	"dash.col_state":     {"状态", "Status"},
	"dash.col_load":      {"未结工单 / 容量", "Open tickets / capacity"},
	"dash.online":        {"在线", "Online"},
	"dash.away":          {"离开", "Away"},
	"dash.no_team":       {"无团队", "No team"},
	"dash.no_agents":     {"这个团队还没有坐席。", "No agents in this team yet."},
	"dash.full":          {"已满", "full"},
	"dash.how":           {"时限按结果产生的时间计入：按时完成的计入完成的那天，超时的计入到期的那天，尚未到期的不计；比例的分母为期间内有结果的时限数。", "A deadline counts when its outcome is known: a met one on the day it was met, a missed one on the day it passed; deadlines still running are not counted. Each share's denominator is the deadlines with an outcome in the period."},
}

func (c *Console) registerDashboard(app *fiber.App) {
	c.get(app, "/dashboard", c.dashboard)
}

// dashData is the page, laid out: every figure formatted, every chart drawn.
type dashData struct {
	Teams        []*tickets.Team
	Team         string // the filter as chosen: "all" or a team's id
	TeamName     string
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
func (c *Console) dashboard(ctx *fiber.Ctx, a *tickets.Agent) error {
	lang := langOf(ctx, a)
	if a.Role != tickets.RoleSupervisor && a.Role != tickets.RoleAdmin {
		return fiber.NewError(fiber.StatusForbidden, translate(lang, "error.forbidden"))
	}
	teams, err := c.svc.Teams(ctxOf(ctx))
	if err != nil {
		return err
	}
	d := dashData{Teams: teams, Team: ctx.Query("team")}
	if d.Team == "" {
		d.Team = "all"
		if a.Role == tickets.RoleSupervisor && a.TeamID != nil {
			d.Team = strconv.FormatInt(*a.TeamID, 10)
		}
	}
	var teamID *int64
	if d.Team != "all" {
		id, err := strconv.ParseInt(d.Team, 10, 64)
		for _, t := range teams {
			if err == nil && t.ID == id {
				teamID, d.TeamName = &t.ID, t.Name
			}
		}
		if teamID == nil {
			return fiber.NewError(fiber.StatusBadRequest, translate(lang, "dash.bad_team"))
		}
	}
	dash, err := c.reports.Dashboard(ctxOf(ctx), teamID)
	if err != nil {
		return err
	}
	v := c.view(ctx, a, "dashboard", nil)
	v.Title = v.T("dash.title")
	layoutDashboard(&d, dash, v, c.svc.Calendar().Location())
	v.Data = d
	return c.render(ctx, "dashboard", v)
}

// layoutDashboard turns the figures into what the page shows.
func layoutDashboard(d *dashData, dash *reports.Dashboard, v view, loc *time.Location) {
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
		return kpiCell{Value: percent(r), Detail: v.T("kpi.met_of", s.Met, s.Total), Sub: sub, Tone: tone, Meter: meter(r, tone)}
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
			Detail: v.T("kpi.satisfied", percent(s.SatisfiedShare)), Sub: answers, Tone: tone, Meter: meter(s.SatisfiedShare, tone)}
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
	return fmt.Sprintf("%d · %s", n, percent(float64(n)/float64(total)))
}
