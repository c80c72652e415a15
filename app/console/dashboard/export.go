package dashboard

import (
	"context"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/app/exports"
	"github.com/hotlinedesk/hotline/tickets"
)

// exportKPI serves GET /dashboard/export.csv?month=2026-11&team=all|ID to supervisors and
// admins: the month's KPI table for the team the dashboard shows (a supervisor's own by
// default).
func (h *Handler) exportKPI(ctx *fiber.Ctx, a *tickets.Agent) error {
	lang := ui.Lang(ctx, a)
	if a.Role != tickets.RoleSupervisor && a.Role != tickets.RoleAdmin {
		return fiber.NewError(fiber.StatusForbidden, ui.T(lang, "error.forbidden"))
	}
	month := h.svc.Now()
	if v := ctx.Query("month"); v != "" {
		m, err := time.ParseInLocation("2006-01", v, h.svc.Calendar().Location())
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, ui.T(lang, "dash.bad_month"))
		}
		month = m
	}
	choice, err := h.chooseTeam(ctx, a, lang)
	if err != nil {
		return err
	}
	k, err := h.reports.MonthKPI(ctx.UserContext(), month, choice.id)
	if err != nil {
		return err
	}
	en := lang == "en"
	return exports.Stream(ctx, slog.Default(), exports.KPIName(k), func(_ context.Context, w *exports.Writer) error {
		return exports.KPI(w, k, en)
	})
}
