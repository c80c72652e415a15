// Package notices is the console's notices (/notices): what Hotline told the signed-in
// agent (tickets given to them, deadline warnings and breaches, complaints to handle),
// newest first, and the form that marks them read. The menu's unread count and the live
// feed that raises it belong to the shell.
package notices

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
)

// pageSize is how many notices a page lists.
const pageSize = 50

// Handler serves the notices' page and forms.
type Handler struct {
	kit *ui.Kit
	svc *tickets.Service
}

// New is the notices' section over svc, which keeps the notices.
func New(kit *ui.Kit, svc *tickets.Service) *Handler { return &Handler{kit: kit, svc: svc} }

// Register mounts the notices' routes.
func (h *Handler) Register(r ui.Router) {
	r.Get("/notices", h.list)
	r.Get("/notices/unread", h.unread)
	r.Post("/notices/read", h.read)
}

type noticeView struct {
	*tickets.Notice
	Ticket    string // the ticket's reference, "" when none
	Complaint string // the complaint's reference, "" when none
	Page      string // the page it links to otherwise (a path on this site), "" when none
}

type noticesData struct {
	Unread bool // only unread ones are listed
	Items  []noticeView
	Newest int64 // the newest listed: "mark read" reads up to it
	Older  int64 // the cursor of the next page, 0 when this is the last
}

// list serves GET /notices?unread=1&cursor=<id>: the agent's own notices, newest first.
func (h *Handler) list(ctx *fiber.Ctx, a *tickets.Agent) error {
	d := noticesData{Unread: ctx.Query("unread") == "1"}
	f := tickets.NoticeFilter{Unread: d.Unread, Limit: pageSize}
	if v := ctx.Query("cursor"); v != "" {
		var err error
		if f.Before, err = strconv.ParseInt(v, 10, 64); err != nil || f.Before < 1 {
			return fiber.NewError(fiber.StatusBadRequest, ui.T(ui.Lang(ctx, a), "notices.bad_cursor"))
		}
	}
	ns, err := h.svc.ListNotices(ctx.UserContext(), a.ID, f)
	if err != nil {
		return err
	}
	for _, n := range ns {
		v := noticeView{Notice: n}
		if n.TicketID != nil {
			v.Ticket = tickets.FormatRef(*n.TicketID)
		}
		if n.ComplaintID != nil {
			v.Complaint = tickets.FormatComplaintRef(*n.ComplaintID)
		}
		if strings.HasPrefix(n.Link, "/") && !strings.HasPrefix(n.Link, "//") && !strings.ContainsAny(n.Link, "\\\t\r\n") {
			v.Page = n.Link
		}
		d.Items = append(d.Items, v)
	}
	if len(ns) > 0 && f.Before == 0 {
		d.Newest = ns[0].ID
	}
	if len(ns) == pageSize {
		d.Older = ns[len(ns)-1].ID
	}
	v := h.kit.View(ctx, a, "notices", d)
	v.Title = v.T("notices.title")
	return h.kit.Render(ctx, "notices", v)
}

// unread serves GET /notices/unread: {"unread": n}, for a page to set its menu's count
// when its live feed (re)connects.
func (h *Handler) unread(ctx *fiber.Ctx, a *tickets.Agent) error {
	n, err := h.svc.UnreadNotices(ctx.UserContext(), a.ID)
	if err != nil {
		return err
	}
	ctx.Set(fiber.HeaderCacheControl, "no-store")
	return ctx.JSON(fiber.Map{"unread": n})
}

// read serves POST /notices/read (up_to): the agent's notices up to that id are read.
func (h *Handler) read(ctx *fiber.Ctx, a *tickets.Agent) error {
	upTo, err := strconv.ParseInt(ctx.FormValue("up_to"), 10, 64)
	if err != nil || upTo < 1 {
		return fiber.NewError(fiber.StatusBadRequest, ui.T(ui.Lang(ctx, a), "notices.bad_up_to"))
	}
	if err := h.svc.MarkNoticesRead(ctx.UserContext(), a.ID, upTo); err != nil {
		return err
	}
	return ui.Redirect(ctx, "/notices", ui.T(ui.Lang(ctx, a), "notices.marked"))
}
