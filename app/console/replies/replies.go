// Package replies is the console's canned replies section (/canned-replies), where
// supervisors keep their team's canned replies and admins every one: titled texts with
// variables that agents pick in the reply composer (the desk fills and offers them). The
// service checks who may change which again.
package replies

import (
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/canned"
)

// Handler serves the canned replies page and its forms.
type Handler struct {
	kit    *ui.Kit
	svc    *tickets.Service
	canned *canned.Service
}

// New is the section over the service's teams and the canned replies.
func New(kit *ui.Kit, svc *tickets.Service, cs *canned.Service) *Handler {
	return &Handler{kit: kit, svc: svc, canned: cs}
}

// Register mounts the section's routes, each for supervisors and admins only.
func (h *Handler) Register(r ui.Router) {
	r.Get("/canned-replies", managers(h.page))
	r.Post("/canned-replies", managers(h.save))
	r.Post("/canned-replies/:id", managers(h.save))
	r.Post("/canned-replies/:id/delete", managers(h.delete))
}

// managers refuses everyone but supervisors and admins, before anything is read.
func managers(next ui.Handler) ui.Handler {
	return func(ctx *fiber.Ctx, a *tickets.Agent) error {
		if a.Role != tickets.RoleSupervisor && a.Role != tickets.RoleAdmin {
			return fiber.NewError(fiber.StatusForbidden, ui.T(ui.Lang(ctx, a), "error.forbidden"))
		}
		return next(ctx, a)
	}
}

// entry is a reply on the page: whether the agent may change it, and its team's name.
type entry struct {
	*canned.Reply
	Team     string // "" for a global reply
	Editable bool
}

// draft is a form as typed: a refused one is shown again with its reason.
type draft struct {
	ID     int64 // 0: the new reply's form
	TeamID int64 // 0: global
	Title  string
	BodyZH string
	BodyEN string
	Error  string
}

type pageData struct {
	Replies []entry
	Teams   []*tickets.Team // the teams the agent may write for
	Global  bool            // whether the agent may write global replies
	Vars    []string
	New     draft  // the new reply's form
	Failed  *draft // an edit that was refused, shown open on its reply
}

func (h *Handler) page(ctx *fiber.Ctx, a *tickets.Agent) error {
	return h.render(ctx, a, fiber.StatusOK, draft{}, nil)
}

func (h *Handler) render(ctx *fiber.Ctx, a *tickets.Agent, status int, nw draft, failed *draft) error {
	cx := ctx.UserContext()
	rs, err := h.canned.List(cx, tickets.AgentActor(a), "")
	if err != nil {
		return err
	}
	teams, err := h.svc.Teams(cx)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	d := pageData{Global: a.Role == tickets.RoleAdmin, New: nw, Failed: failed, Vars: canned.Vars}
	for _, t := range teams {
		names[t.ID] = t.Name
		if a.Role == tickets.RoleAdmin || a.InTeam(&t.ID) {
			d.Teams = append(d.Teams, t)
		}
	}
	for _, r := range rs {
		e := entry{Reply: r, Editable: a.Role == tickets.RoleAdmin || r.TeamID != nil && a.InTeam(r.TeamID)}
		if r.TeamID != nil {
			e.Team = names[*r.TeamID]
		}
		d.Replies = append(d.Replies, e)
	}
	v := h.kit.View(ctx, a, "canned", d)
	v.Title = v.T("canned.title")
	return h.kit.RenderStatus(ctx, status, "canned", v)
}

// save serves POST /canned-replies (a new reply) and /canned-replies/:id (an edit).
func (h *Handler) save(ctx *fiber.Ctx, a *tickets.Agent) error {
	var id int64
	if p := ctx.Params("id"); p != "" {
		var err error
		if id, err = strconv.ParseInt(p, 10, 64); err != nil || id <= 0 {
			return fiber.NewError(fiber.StatusNotFound, ui.T(ui.Lang(ctx, a), "canned.not_found"))
		}
	}
	dr := draft{ID: id, Title: ctx.FormValue("title"), BodyZH: ctx.FormValue("body_zh"), BodyEN: ctx.FormValue("body_en")}
	in := canned.Input{Title: dr.Title, BodyZH: dr.BodyZH, BodyEN: dr.BodyEN}
	if v := ctx.FormValue("team"); v != "" {
		team, err := strconv.ParseInt(v, 10, 64)
		if err != nil || team <= 0 {
			return fiber.NewError(fiber.StatusBadRequest, ui.T(ui.Lang(ctx, a), "canned.bad_team"))
		}
		in.TeamID, dr.TeamID = &team, team
	}
	var err error
	if id == 0 {
		_, err = h.canned.Create(ctx.UserContext(), tickets.AgentActor(a), in)
	} else {
		_, err = h.canned.Update(ctx.UserContext(), tickets.AgentActor(a), id, in)
	}
	if err != nil {
		status, reason := ui.Status(err)
		if status >= 500 || status == fiber.StatusForbidden || reason == "" {
			return err
		}
		// Shown again as typed, with the reason, so a long text is not lost to a typo.
		dr.Error = capitalised(reason)
		if id == 0 {
			return h.render(ctx, a, status, dr, nil)
		}
		return h.render(ctx, a, status, draft{}, &dr)
	}
	return ui.Redirect(ctx, "/canned-replies", ui.T(ui.Lang(ctx, a), "canned.saved"))
}

func (h *Handler) delete(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := strconv.ParseInt(ctx.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return fiber.NewError(fiber.StatusNotFound, ui.T(ui.Lang(ctx, a), "canned.not_found"))
	}
	if err := h.canned.Delete(ctx.UserContext(), tickets.AgentActor(a), id); err != nil {
		return err
	}
	return ui.Redirect(ctx, "/canned-replies", ui.T(ui.Lang(ctx, a), "canned.deleted"))
}

// capitalised is a service reason, worded as a clause, shown as a sentence.
func capitalised(s string) string {
	if r, size := utf8.DecodeRuneInString(s); unicode.IsLower(r) {
		return string(unicode.ToUpper(r)) + s[size:]
	}
	return s
}
