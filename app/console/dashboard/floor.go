package dashboard

import (
	"html/template"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/reports"
)

// The live floor (/dashboard/floor) is what a supervisor watches now: the figures of
// reports.Reader.Floor. It stays current through the console's live feed, which every
// signed-in page already holds open: console.js redraws the page shortly after any change
// on the desk (a ticket arriving, a reply, an agent going online). Figures that move with
// time alone (the oldest wait, deadlines entering the hour) are redrawn every 30 seconds,
// and the breach countdowns tick each second as the queue's do.

// floorData is the live floor, laid out.
type floorData struct {
	teamChoice
	F       *reports.Floor
	Oldest  string // the longest wait, worded
	Waiting []waitingView
	Due     []complaintView
	Agents  []floorAgentView
}

type waitingView struct {
	reports.WaitingGroup
	Wait string
}

type complaintView struct {
	*reports.ComplaintDue
	Left string // "due today", "2 working days left", "overdue by 1 working day"
	Tone string
}

type floorAgentView struct {
	*reports.FloorAgent
	Bar  template.HTML
	Tone string
	CSAT string // "4.5 / 5 · 2 answers", or "" without answers today
}

// floor serves GET /dashboard/floor?team=all|ID to supervisors and admins, the team
// chosen as on the dashboard.
func (h *Handler) floor(ctx *fiber.Ctx, a *tickets.Agent) error {
	lang := ui.Lang(ctx, a)
	if a.Role != tickets.RoleSupervisor && a.Role != tickets.RoleAdmin {
		return fiber.NewError(fiber.StatusForbidden, ui.T(lang, "error.forbidden"))
	}
	choice, err := h.chooseTeam(ctx, a, lang)
	if err != nil {
		return err
	}
	d, teamID := floorData{teamChoice: choice}, choice.id
	f, err := h.reports.Floor(ctx.UserContext(), a, teamID)
	if err != nil {
		return err
	}
	v := h.kit.View(ctx, a, "dashboard", nil)
	v.Title = v.T("floor.title")
	layoutFloor(&d, f, v)
	v.Data = d
	return h.kit.Render(ctx, "floor", v)
}

// layoutFloor words the figures.
func layoutFloor(d *floorData, f *reports.Floor, v ui.View) {
	d.F = f
	if f.OldestSince != nil {
		d.Oldest = waitText(v, f.OldestWait())
	}
	for _, g := range f.Waiting {
		d.Waiting = append(d.Waiting, waitingView{WaitingGroup: g, Wait: waitText(v, f.Now.Sub(g.Oldest))})
	}
	for _, c := range f.Complaints {
		cv := complaintView{ComplaintDue: c, Tone: "warn"}
		switch {
		case !c.DeadlineAt.After(f.Now):
			cv.Tone = "bad"
			switch {
			case c.DaysLeft >= 0:
				cv.Left = v.T("floor.overdue")
			case c.DaysLeft == -1:
				cv.Left = v.T("floor.overdue_1")
			default:
				cv.Left = v.T("floor.overdue_days", -c.DaysLeft)
			}
		case c.DaysLeft == 0:
			cv.Left = v.T("floor.due_today")
		case c.DaysLeft == 1:
			cv.Left = v.T("floor.days_left_1")
		default:
			cv.Left, cv.Tone = v.T("floor.days_left", c.DaysLeft), ""
		}
		d.Due = append(d.Due, cv)
	}
	for _, ag := range f.Agents {
		av := floorAgentView{FloorAgent: ag, Bar: meter(0, "")}
		if ag.Capacity > 0 {
			frac := float64(ag.Load) / float64(ag.Capacity)
			av.Tone = "good"
			switch {
			case frac >= 1:
				av.Tone = "bad"
			case frac >= 0.8:
				av.Tone = "warn"
			}
			av.Bar = meter(frac, av.Tone)
		}
		if n := ag.CSAT.Responses; n > 0 {
			answers := v.T("kpi.answers", n)
			if n == 1 {
				answers = v.T("kpi.answer")
			}
			av.CSAT = strconv.FormatFloat(ag.CSAT.Average, 'f', 1, 64) + " " + v.T("kpi.out_of_5") + " · " + answers
		}
		d.Agents = append(d.Agents, av)
	}
}

// waitText words a wait to the minute: "2 h 5 min", "3 d 4 h", "under a minute".
func waitText(v ui.View, w time.Duration) string {
	m := int(w / time.Minute)
	switch {
	case m < 1:
		return v.T("floor.wait_now")
	case m < 60:
		return v.T("floor.wait_m", m)
	case m < 24*60:
		return v.T("floor.wait_hm", m/60, m%60)
	}
	return v.T("floor.wait_dh", m/(24*60), m%(24*60)/60)
}
