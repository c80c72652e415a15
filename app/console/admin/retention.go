package admin

import (
	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/privacy"
)

type retentionData struct {
	adminPage
	Policy privacy.Policy
	Runs   []*privacy.Run
}

// adminRetention serves GET /admin/retention: how long each kind of data is kept after
// its ticket ended, and what the latest runs erased.
func (h *Handler) adminRetention(ctx *fiber.Ctx, a *tickets.Agent) error {
	return h.showRetention(ctx, a, nil, nil)
}

func (h *Handler) showRetention(ctx *fiber.Ctx, a *tickets.Agent, r *refused, typed *privacy.Policy) error {
	d := retentionData{adminPage: newAdminPage("retention")}
	status := r.set(&d.adminPage)
	var err error
	if d.Policy, err = h.privacy.Policy(ctx.UserContext()); err != nil {
		return err
	}
	if typed != nil {
		d.Policy = *typed
	}
	if d.Runs, err = h.privacy.Runs(ctx.UserContext(), 14); err != nil {
		return err
	}
	return h.kit.RenderStatus(ctx, status, "admin_retention", h.adminView(ctx, a, "admin.retention", d))
}

// saveRetention serves POST /admin/retention: the four periods, in days (0 keeps).
func (h *Handler) saveRetention(ctx *fiber.Ctx, a *tickets.Agent) error {
	var p privacy.Policy
	for _, f := range []struct {
		field string
		days  *int
	}{{"messages", &p.Messages}, {"attachments", &p.Attachments}, {"recordings", &p.Recordings}, {"customers", &p.Customers}} {
		n, err := optionalInt(ctx, a, f.field, 0)
		if err != nil {
			return err
		}
		*f.days = n
	}
	if err := h.privacy.SetPolicy(ctx.UserContext(), tickets.AgentActor(a), p); err != nil {
		if r, ok := refusal("retention", err); ok {
			return h.showRetention(ctx, a, r, &p)
		}
		return err
	}
	return ui.Redirect(ctx, "/admin/retention", ui.T(ui.Lang(ctx, a), "admin.ret.saved"))
}
