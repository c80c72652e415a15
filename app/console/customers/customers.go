// Package customers is the console's customer page (/customers/:id): who the customer is
// and how to reach them (each identity with its opt-out), every ticket and complaint,
// their satisfaction answers and follow-up calls, and the form that changes their name,
// tags and language.
package customers

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/privacy"
)

// Handler serves the customer page and its form.
type Handler struct {
	kit        *ui.Kit
	svc        *tickets.Service
	complaints *complaints.Service
	care       *aftercare.Service
	privacy    *privacy.Service
}

// New is the customers' section over the core and the chapters whose records it shows;
// reveals (the "show" buttons of the customer and ticket pages) and the customer's rights
// go through pv, nil meaning the default rules.
func New(kit *ui.Kit, svc *tickets.Service, cps *complaints.Service, care *aftercare.Service, pv *privacy.Service) *Handler {
	if pv == nil {
		pv = privacy.New(svc, privacy.Config{})
	}
	return &Handler{kit: kit, svc: svc, complaints: cps, care: care, privacy: pv}
}

// Register mounts the customers' routes.
func (h *Handler) Register(r ui.Router) {
	r.Get("/customers/:id", h.customer)
	r.Post("/customers/:id", h.update)
	h.registerPrivacy(r)
	r.Post("/customers/:id/reveal", h.reveal)
}

// Locales are the languages a customer may be written to in; "" is not known yet.
var Locales = []string{"", "zh-CN", "en"}

type customerData struct {
	C          *tickets.CustomerDetail
	Complaints []*complaints.Complaint
	Surveys    []*aftercare.Survey
	FollowUps  []*aftercare.FollowUp
	Locales    []string
	// The customer's personal information: erased when, legal holds, and who read or
	// changed what of it, newest first.
	ErasedAt *time.Time
	Holds    []*privacy.Hold
	// HeldAsCustomer: a hold on the customer is in force (a second is not offered).
	HeldAsCustomer bool
	Trail          []trailRow
	Reveal         map[string]bool // the fields the agent may reveal ("show" buttons)
	// From is the queue the page was opened from (its search's matches), passed on to the
	// ticket links as it came: the ticket page keeps only what names a queue, and goes on
	// to that queue's next ticket after a resolution.
	From string
}

func customerID(ctx *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(ctx.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fiber.NewError(fiber.StatusNotFound, "no such customer")
	}
	return id, nil
}

// customer serves GET /customers/:id.
func (h *Handler) customer(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := customerID(ctx)
	if err != nil {
		return err
	}
	cx := ctx.UserContext()
	d := customerData{Locales: Locales}
	if from := ctx.Query("from"); len(from) <= 1024 {
		d.From = from
	}
	if d.C, err = h.svc.Customer(cx, id); err != nil {
		return err
	}
	if d.Complaints, err = h.complaints.OfCustomer(cx, id); err != nil {
		return err
	}
	if d.Surveys, err = h.care.CustomerSurveys(cx, id); err != nil {
		return err
	}
	if d.FollowUps, err = h.care.FollowUps(cx, aftercare.FollowUpFilter{CustomerID: id, Limit: 50}); err != nil {
		return err
	}
	if err := h.privacyData(cx, ui.Lang(ctx, a), &d); err != nil {
		return err
	}
	if d.Reveal, err = h.privacy.Revealable(cx, tickets.AgentActor(a), id, 0); err != nil {
		return err
	}
	v := h.kit.View(ctx, a, "queue", d)
	v.Title = v.T("customer.title")
	if d.C.Name != "" {
		v.Title = d.C.Name
	}
	return h.kit.Render(ctx, "customer", v)
}

// update serves POST /customers/:id: name, tags and language, through the method the API
// uses, which records who changed what.
func (h *Handler) update(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := customerID(ctx)
	if err != nil {
		return err
	}
	name, tags, locale := ctx.FormValue("name"), ctx.FormValue("tags"), ctx.FormValue("locale")
	known := false
	for _, l := range Locales {
		known = known || l == locale
	}
	if !known {
		return fiber.NewError(fiber.StatusBadRequest, ui.T(ui.Lang(ctx, a), "customer.bad_locale"))
	}
	if _, err := h.svc.UpdateCustomer(ctx.UserContext(), tickets.AgentActor(a), id,
		tickets.CustomerUpdate{Name: &name, Tags: &tags, Locale: &locale}); err != nil {
		return err
	}
	return ui.Redirect(ctx, "/customers/"+strconv.FormatInt(id, 10), ui.T(ui.Lang(ctx, a), "customer.saved"))
}

// reveal serves POST /customers/:id/reveal (field, identity, message, ticket): one value
// in full, recorded as it is read (privacy.Service.Reveal). console.js asks for JSON and
// puts the value in place of the masked one; without script the value is shown on a page
// of its own. A refusal is 403 and records nothing.
func (h *Handler) reveal(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := customerID(ctx)
	if err != nil {
		return err
	}
	req := privacy.Request{CustomerID: id, Field: ctx.FormValue("field")}
	for name, dst := range map[string]*int64{"identity": &req.IdentityID, "message": &req.MessageID} {
		if v := ctx.FormValue(name); v != "" {
			if *dst, err = strconv.ParseInt(v, 10, 64); err != nil || *dst <= 0 {
				return fiber.NewError(fiber.StatusBadRequest, name+" must be an id")
			}
		}
	}
	if ref := strings.TrimSpace(ctx.FormValue("ticket")); ref != "" {
		tid, ok := tickets.ParseRef(strings.ToUpper(ref))
		if !ok {
			return fiber.NewError(fiber.StatusBadRequest, "ticket must be a ticket reference")
		}
		req.TicketID = tid
	}
	wantsJSON := strings.Contains(ctx.Get(fiber.HeaderAccept), "json")
	v, err := h.privacy.Reveal(ctx.UserContext(), tickets.AgentActor(a), req)
	if err != nil {
		if wantsJSON {
			status, reason := ui.StatusIn(ui.Lang(ctx, a), err)
			if status == fiber.StatusForbidden {
				reason = ui.T(ui.Lang(ctx, a), "privacy.refused")
			}
			return ctx.Status(status).JSON(fiber.Map{"error": reason})
		}
		return err
	}
	ctx.Set(fiber.HeaderCacheControl, "no-store")
	if wantsJSON {
		return ctx.JSON(v)
	}
	page := h.kit.View(ctx, a, "queue", struct{ Value, Back string }{v.Value, ui.BackTo(ctx)})
	page.Title = page.T("privacy.revealed")
	return h.kit.Render(ctx, "revealed", page)
}
