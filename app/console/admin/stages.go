package admin

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/stages"
)

// The progress stages: each category's ordered steps, one a line in both languages with
// the working days each may last, replaced as a whole.

type stagesData struct {
	adminPage
	Categories []stageCategory
	// NewCategory and NewText are what was typed for a category without stages yet.
	NewCategory, NewText string
}

type stageCategory struct {
	Name   string
	Stages []*stages.Stage
	Text   string // the form's text: the stages as saved, or as typed when refused
	Failed bool
}

// adminStages serves GET /admin/stages.
func (h *Handler) adminStages(ctx *fiber.Ctx, a *tickets.Agent) error {
	return h.showStages(ctx, a, nil, "", "")
}

func (h *Handler) showStages(ctx *fiber.Ctx, a *tickets.Agent, r *refused, category, typed string) error {
	d := stagesData{adminPage: newAdminPage("stages")}
	status := r.set(&d.adminPage)
	cats, err := h.stages.Categories(ctx.UserContext())
	if err != nil {
		return err
	}
	known := false
	for _, c := range cats {
		sts, err := h.stages.Stages(ctx.UserContext(), c)
		if err != nil {
			return err
		}
		sc := stageCategory{Name: c, Stages: sts, Text: stages.Format(sts)}
		if r != nil && c == category {
			sc.Text, sc.Failed, known = typed, true, true
		}
		d.Categories = append(d.Categories, sc)
	}
	if r != nil && !known {
		d.NewCategory, d.NewText, d.Refused = category, typed, "new"
	}
	v := h.adminView(ctx, a, "admin.stages.title", d)
	return h.kit.RenderStatus(ctx, status, "admin_stages", v)
}

// saveStages serves POST /admin/stages: a category's stages (category, stages: one a line).
func (h *Handler) saveStages(ctx *fiber.Ctx, a *tickets.Agent) error {
	category, text := strings.TrimSpace(ctx.FormValue("category")), ctx.FormValue("stages")
	list, err := stages.ParseStages(text)
	if err == nil {
		err = h.stages.SaveStages(ctx.UserContext(), tickets.AgentActor(a), category, list)
	}
	if err != nil {
		if r, ok := refusal("edit", err); ok {
			_, r.reason = ui.StatusIn(ui.Lang(ctx, a), err)
			return h.showStages(ctx, a, r, category, text)
		}
		return err
	}
	return ui.Redirect(ctx, "/admin/stages", ui.T(ui.Lang(ctx, a), "admin.stages.saved", category))
}
