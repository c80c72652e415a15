package console

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
)

// The follow-up calls an agent makes after a ticket is resolved: the same day, after a
// week and after a month (HOTLINE_FOLLOWUP_OFFSETS), soonest due first.

var followupsText = texts{
	"nav.followups":        {"回访", "Follow-ups"},
	"followups.title":      {"回访电话", "Follow-up calls"},
	"followups.mine":       {"我的回访", "Mine"},
	"followups.unassigned": {"团队待认领", "Team, unassigned"},
	"followups.done":       {"已完成", "Done"},
	"followups.empty":      {"没有待办的回访。", "No follow-up calls here."},
	"followups.due":        {"到期", "Due"},
	"followups.after":      {"解决后", "After resolution"},
	"followups.same_day":   {"当天", "same day"},
	"followups.days":       {"%d 天", "%d days"},
	"followups.call":       {"拨打", "Call"},
	"followups.note":       {"回访记录（必填）", "What was said (required)"},
	"followups.complete":   {"完成回访", "Mark done"},
	"followups.completed":  {"回访已完成。", "Follow-up call done."},
	"followups.overdue":    {"已逾期", "overdue"},
	"followups.done_at":    {"%s 完成", "done %s"},
	"followups.no_phone":   {"客户没有电话号码", "The customer has no phone number"},
}

var followupViews = []string{"mine", "unassigned", "done"}

type followupsData struct {
	View  string
	Views []string
	Items []*aftercare.FollowUp
}

func (c *Console) registerFollowUps(app *fiber.App) {
	c.get(app, "/followups", c.followUps)
	c.post(app, "/followups/:id/complete", c.completeFollowUp)
}

// followUps serves GET /followups?view=mine|unassigned|done.
func (c *Console) followUps(ctx *fiber.Ctx, a *tickets.Agent) error {
	d := followupsData{View: ctx.Query("view", "mine"), Views: followupViews}
	f := aftercare.FollowUpFilter{Statuses: []aftercare.FollowUpStatus{aftercare.FollowUpOpen}}
	switch d.View {
	case "mine":
		f.AssigneeID = &a.ID
	case "unassigned":
		f.Unassigned, f.TeamID = true, a.TeamID
	case "done":
		f.AssigneeID, f.Statuses, f.Limit = &a.ID, []aftercare.FollowUpStatus{aftercare.FollowUpDone}, 50
	default:
		return fiber.NewError(fiber.StatusBadRequest, "view must be mine, unassigned or done")
	}
	items, err := c.care.FollowUps(ctxOf(ctx), f)
	if err != nil {
		return err
	}
	if d.View == "done" { // the most recent first
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	}
	d.Items = items
	v := c.view(ctx, a, "followups", d)
	v.Title = v.T("followups.title")
	return c.render(ctx, "followups", v)
}

// completeFollowUp serves POST /followups/:id/complete with what was said on the call.
func (c *Console) completeFollowUp(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := strconv.ParseInt(ctx.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return fiber.NewError(fiber.StatusNotFound, "no such follow-up call")
	}
	if _, err := c.care.CompleteFollowUp(ctxOf(ctx), tickets.AgentActor(a), id, strings.TrimSpace(ctx.FormValue("note"))); err != nil {
		return err
	}
	return redirect(ctx, backTo(ctx), translate(langOf(ctx, a), "followups.completed"))
}

// afterLabel says when after resolution a call falls: "same day", "7 days".
func afterLabel(v view, f *aftercare.FollowUp) string {
	days := int(f.Offset() / (24 * time.Hour))
	if days == 0 {
		return v.T("followups.same_day")
	}
	return v.T("followups.days", days)
}
