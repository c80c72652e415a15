package board

import (
	"context"
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/app/exports"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/reports"
)

// exportRegister serves GET /complaints/export.csv to any agent, as the board: the complaints
// received in the date range (from, to), oldest first.
func (h *Handler) exportRegister(ctx *fiber.Ctx, a *tickets.Agent) error {
	loc := h.svc.Calendar().Location()
	from, to, err := exports.Range(ctx.Query, h.svc.Now(), loc)
	if err != nil {
		return err
	}
	en := ui.Lang(ctx, a) == "en"
	register := reports.New(h.svc) // it holds no state: one per export is free
	return exports.Stream(ctx, slog.Default(), "complaints.csv", func(c context.Context, w *exports.Writer) error {
		return exports.Complaints(c, w, register, loc, from, to, en)
	})
}
