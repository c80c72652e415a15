package desk

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/app/exports"
	"github.com/hotlinedesk/hotline/tickets"
)

// exportQueue serves GET /queue/export.csv: the queue as the page shows it (view, status,
// channel, priority, q), created in the date range (from, to), every page of it.
func (h *Handler) exportQueue(ctx *fiber.Ctx, a *tickets.Agent) error {
	f, err := queueFilter(ctx, a, ctx.Query)
	if err != nil {
		return err
	}
	from, to, err := exports.Range(ctx.Query, h.svc.Now(), h.svc.Calendar().Location())
	if err != nil {
		return err
	}
	probe := f // a bad filter is an error page, not a broken file
	probe.Limit = 1
	if _, err := h.svc.ListTickets(ctx.UserContext(), probe); err != nil {
		return err
	}
	en := ui.Lang(ctx, a) == "en"
	return exports.Stream(ctx, h.log, "queue.csv", func(c context.Context, w *exports.Writer) error {
		return exports.Tickets(c, w, h.svc, f, from, to, en)
	})
}
