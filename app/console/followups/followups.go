// Package followups is the console's follow-up calls (/followups): the calls an agent
// makes after a ticket is resolved, the same day, after a week and after a month
// (HOTLINE_FOLLOWUP_OFFSETS), soonest due first, and the form that marks one done.
package followups

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
)

// Handler serves the follow-up calls' page and form.
type Handler struct {
	kit  *ui.Kit
	care *aftercare.Service
}

// New is the follow-up calls' section over aftercare, which keeps the calls.
func New(kit *ui.Kit, care *aftercare.Service) *Handler {
	return &Handler{kit: kit, care: care}
}

var followupViews = []string{"mine", "unassigned", "done"}

type followupsData struct {
	View  string
	Views []string
	Items []*aftercare.FollowUp
}

// Register mounts the follow-up calls' routes.
func (h *Handler) Register(r ui.Router) {
	r.Get("/followups", h.followUps)
	r.Post("/followups/:id/complete", h.completeFollowUp)
}

// followUps serves GET /followups?view=mine|unassigned|done.
func (h *Handler) followUps(ctx *fiber.Ctx, a *tickets.Agent) error {
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
	items, err := h.care.FollowUps(ctx.UserContext(), f)
	if err != nil {
		return err
	}
	if d.View == "done" { // the most recent first
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	}
	d.Items = items
	v := h.kit.View(ctx, a, "followups", d)
	v.Title = v.T("followups.title")
	return h.kit.Render(ctx, "followups", v)
}

// completeFollowUp serves POST /followups/:id/complete with what was said on the call.
func (h *Handler) completeFollowUp(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := strconv.ParseInt(ctx.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return fiber.NewError(fiber.StatusNotFound, "no such follow-up call")
	}
	if _, err := h.care.CompleteFollowUp(ctx.UserContext(), tickets.AgentActor(a), id, strings.TrimSpace(ctx.FormValue("note"))); err != nil {
		return err
	}
	return ui.Redirect(ctx, ui.BackTo(ctx), ui.T(ui.Lang(ctx, a), "followups.completed"))
}
