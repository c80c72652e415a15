package dashboard

import (
	"context"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/app/exports"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/reports"
)

// Frequent issues (/dashboard/issues): categories and keywords week by week, with the
// change on the week before (reports.Reader.FrequentIssues), for supervisors and admins.

// issuesWeeks are the spans the page offers.
var issuesWeeks = []int{4, 8, 12, 26}

type issuesData struct {
	teamChoice
	Weeks    int
	WeekOpts []int
	End      string
	Heads    []weekHead
	Colspan  int // the tables' columns
	Cats     []trendView
	Keywords []trendView
	Sampled  int
	PerWeek  int
	Export   string
}

// weekHead is a week's column: its Monday ("11-02"), said in full in its title.
type weekHead struct {
	Label, Title string
	SoFar        bool // the week is not over
}

type trendView struct {
	Name      string
	Weeks     []int64
	Total     int64
	Seen      int
	Recurring bool
	Change    string // "▲ up 2 (+200%)"
	Tone      string // bad when growing, good when falling
}

// issuesParams reads ?weeks=&end=&team= as the page and its export share them.
func (h *Handler) issuesParams(ctx *fiber.Ctx, a *tickets.Agent, lang string) (*reports.FrequentIssues, issuesData, error) {
	var d issuesData
	if a.Role != tickets.RoleSupervisor && a.Role != tickets.RoleAdmin {
		return nil, d, fiber.NewError(fiber.StatusForbidden, ui.T(lang, "error.forbidden"))
	}
	choice, err := h.chooseTeam(ctx, a, lang)
	if err != nil {
		return nil, d, err
	}
	d.teamChoice, d.Weeks, d.WeekOpts = choice, 8, issuesWeeks
	if v := ctx.Query("weeks"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 || n > reports.MaxIssueWeeks {
			return nil, d, fiber.NewError(fiber.StatusBadRequest, ui.T(lang, "issues.bad_weeks"))
		}
		d.Weeks = n
	}
	loc := h.svc.Calendar().Location()
	end := h.svc.Now().In(loc)
	if v := ctx.Query("end"); v != "" {
		day, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			return nil, d, fiber.NewError(fiber.StatusBadRequest, ui.T(lang, "issues.bad_end"))
		}
		end = day
	}
	d.End = end.Format(time.DateOnly)
	fi, err := h.reports.FrequentIssues(ctx.UserContext(), end, d.Weeks, choice.id, 20)
	if err != nil {
		return nil, d, err
	}
	return fi, d, nil
}

// issues serves GET /dashboard/issues.
func (h *Handler) issues(ctx *fiber.Ctx, a *tickets.Agent) error {
	lang := ui.Lang(ctx, a)
	fi, d, err := h.issuesParams(ctx, a, lang)
	if err != nil {
		return err
	}
	v := h.kit.View(ctx, a, "dashboard", nil)
	v.Title = v.T("issues.title")
	for i, w := range fi.Weeks {
		d.Heads = append(d.Heads, weekHead{Label: w.Format("01-02"), Title: v.T("issues.week_of", w.Format(time.DateOnly)),
			SoFar: fi.Partial && i == len(fi.Weeks)-1})
	}
	d.Colspan, d.Sampled, d.PerWeek = len(d.Heads)+4, fi.Sampled, reports.IssueWeekSample
	d.Cats = trendViews(fi.Categories, v, func(k string) string {
		if k == "" {
			return v.T("dash.uncategorised")
		}
		return v.TOr("category."+k, k)
	})
	d.Keywords = trendViews(fi.Keywords, v, func(k string) string { return k })
	d.Export = "/dashboard/issues.csv?" + url.Values{"weeks": {strconv.Itoa(d.Weeks)}, "end": {d.End}, "team": {d.Team}}.Encode()
	v.Data = d
	return h.kit.Render(ctx, "issues", v)
}

// trendViews words the trends; name says a category or keyword as the page shows it.
func trendViews(ts []reports.IssueTrend, v ui.View, name func(string) string) []trendView {
	out := make([]trendView, 0, len(ts))
	for _, t := range ts {
		tv := trendView{Name: name(t.Key), Weeks: t.Weeks, Total: t.Total, Seen: t.WeeksSeen, Recurring: t.WeeksSeen*2 > len(t.Weeks) && len(t.Weeks) >= 3}
		ch := t.Change()
		rate, rated := t.ChangeRate()
		switch {
		case ch > 0 && !rated:
			tv.Change, tv.Tone = v.T("issues.new", ch), "bad"
		case ch > 0:
			tv.Change, tv.Tone = v.T("issues.up_pct", ch, "+"+ui.Percent(rate)), "bad"
		case ch < 0:
			tv.Change, tv.Tone = v.T("issues.down_pct", -ch, "-"+ui.Percent(-rate)), "good"
		default:
			tv.Change = v.T("issues.same")
		}
		out = append(out, tv)
	}
	return out
}

// exportIssues serves GET /dashboard/issues.csv, in the page's language.
func (h *Handler) exportIssues(ctx *fiber.Ctx, a *tickets.Agent) error {
	lang := ui.Lang(ctx, a)
	fi, _, err := h.issuesParams(ctx, a, lang)
	if err != nil {
		return err
	}
	en := lang == "en"
	return exports.Stream(ctx, slog.Default(), exports.FrequentIssuesName(fi), func(_ context.Context, w *exports.Writer) error {
		return exports.FrequentIssues(w, fi, en)
	})
}
