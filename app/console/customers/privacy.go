package customers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/app/exports"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/privacy"
)

// The customer's rights on their page: the trail of who read or changed their personal
// information, their copy (JSON, or a page to print), legal holds and erasure with a
// confirmation step. Copies and erasure are for supervisors and admins; holds for them
// and complaint officers (the service checks, the page offers only what one may do).

func (h *Handler) registerPrivacy(r ui.Router) {
	r.Get("/customers/:id/export", h.export)
	r.Get("/customers/:id/erase", h.eraseConfirm)
	r.Post("/customers/:id/erase", h.erase)
	r.Post("/customers/:id/holds", h.placeHold)
	r.Post("/customers/:id/holds/:hold/release", h.releaseHold)
}

// privacyData fills in the page's personal-information parts, worded in lang.
func (h *Handler) privacyData(ctx context.Context, lang string, d *customerData) error {
	var err error
	if d.ErasedAt, err = h.privacy.ErasedAt(ctx, d.C.ID); err != nil {
		return err
	}
	if d.Holds, err = h.privacy.Holds(ctx, d.C.ID); err != nil {
		return err
	}
	for _, hd := range d.Holds {
		d.HeldAsCustomer = d.HeldAsCustomer || hd.ReleasedAt == nil && hd.Entity == privacy.OnCustomer
	}
	evs, err := h.privacy.Trail(ctx, d.C.ID)
	if err != nil {
		return err
	}
	for _, ev := range evs {
		d.Trail = append(d.Trail, trailRow{At: ev.CreatedAt, Kind: ev.Kind, Actor: ev.Actor, Detail: detail(lang, ev)})
	}
	return nil
}

// trailRow is one line of the customer's trail: when, what, who, and its particulars.
type trailRow struct {
	At                  time.Time
	Kind, Actor, Detail string
}

// detail words the particulars of a trail event: the field revealed, the copy's format,
// what an erasure or a retention run removed, a hold's reason.
func detail(lang string, ev *tickets.Event) string {
	var data map[string]any
	if json.Unmarshal([]byte(ev.Data), &data) != nil {
		return ""
	}
	str := func(k string) string {
		switch v := data[k].(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return ""
	}
	switch ev.Kind {
	case privacy.KindRevealed:
		d := ui.TOrKey(lang, "privacy.field."+str("field"), str("field"))
		if t := str("ticket"); t != "" {
			d += " · " + t
		}
		return d
	case privacy.KindExported:
		return strings.ToUpper(str("format"))
	case privacy.KindErased:
		return ui.T(lang, "privacy.d.erased", str("messages"), str("attachments"), str("identities")) + " · " + str("reason")
	case privacy.KindRetention:
		counts, _ := data["counts"].(map[string]any)
		var parts []string
		for _, k := range []string{"messages", "attachments", "recordings", "customers"} {
			if n, ok := counts[k].(float64); ok {
				parts = append(parts, ui.T(lang, "privacy.kind."+k)+" "+strconv.FormatFloat(n, 'f', -1, 64))
			}
		}
		return strings.Join(parts, ", ")
	case privacy.KindHoldPlaced, privacy.KindHoldReleased:
		d := str("reason")
		if ev.Kind == privacy.KindHoldReleased {
			d = str("release_reason")
		}
		if c := str("complaint"); c != "" {
			d = ui.T(lang, "privacy.on_complaint", c) + " · " + d
		}
		return d
	}
	return ""
}

func back(id int64) string { return "/customers/" + strconv.FormatInt(id, 10) }

// export serves GET /customers/:id/export?format=json|html: the customer's copy, in the
// console's language for the page.
func (h *Handler) export(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := customerID(ctx)
	if err != nil {
		return err
	}
	format := ctx.Query("format", "html")
	cp, err := h.privacy.Export(ctx.UserContext(), tickets.AgentActor(a), id, format)
	if err != nil {
		return err
	}
	if format == "json" {
		return exports.StreamCopy(ctx, slog.Default(), exports.CopyName(id, "json"), "application/json", func(c context.Context, w io.Writer) error {
			return exports.CopyJSON(c, w, cp)
		})
	}
	en := ui.Lang(ctx, a) == "en"
	err = exports.StreamCopy(ctx, slog.Default(), exports.CopyName(id, "html"), "text/html; charset=utf-8", func(c context.Context, w io.Writer) error {
		return exports.CopyHTML(c, w, cp, en, h.svc.Calendar().Location())
	})
	ctx.Set(fiber.HeaderContentDisposition, `inline; filename="`+exports.CopyName(id, "html")+`"`) // opened to print
	return err
}

type eraseData struct {
	C        *tickets.CustomerDetail
	ErasedAt *time.Time
	Held     *privacy.Hold // a hold in force refuses the erasure
	Open     int           // open tickets refuse it too
	Reason   string
}

// eraseConfirm serves GET /customers/:id/erase: what erasing removes and keeps, and the
// form that does it, or why it cannot be done now.
func (h *Handler) eraseConfirm(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := customerID(ctx)
	if err != nil {
		return err
	}
	if a.Role != tickets.RoleSupervisor && a.Role != tickets.RoleAdmin {
		return fiber.NewError(fiber.StatusForbidden, ui.T(ui.Lang(ctx, a), "privacy.only_supervisors"))
	}
	cx := ctx.UserContext()
	d := eraseData{}
	if d.C, err = h.svc.Customer(cx, id); err != nil {
		return err
	}
	if d.ErasedAt, err = h.privacy.ErasedAt(cx, id); err != nil {
		return err
	}
	hs, err := h.privacy.Holds(cx, id)
	if err != nil {
		return err
	}
	for _, hd := range hs {
		if hd.ReleasedAt == nil {
			d.Held = hd
			break
		}
	}
	for _, t := range d.C.Tickets {
		if t.Status != tickets.StatusResolved && t.Status != tickets.StatusClosed {
			d.Open++
		}
	}
	v := h.kit.View(ctx, a, "queue", d)
	v.Title = v.T("privacy.erase_title")
	return h.kit.Render(ctx, "customer_erase", v)
}

// erase serves POST /customers/:id/erase (reason, confirmed=1).
func (h *Handler) erase(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := customerID(ctx)
	if err != nil {
		return err
	}
	lang := ui.Lang(ctx, a)
	if ctx.FormValue("confirmed") != "1" {
		return fiber.NewError(fiber.StatusBadRequest, ui.T(lang, "privacy.confirm_first"))
	}
	e, err := h.privacy.Erase(ctx.UserContext(), tickets.AgentActor(a), id, ctx.FormValue("reason"))
	if err != nil {
		return err
	}
	msg := ui.T(lang, "privacy.erased", e.Messages, e.Attachments, e.Identities)
	if e.Already {
		msg = ui.T(lang, "privacy.erased_already")
	}
	return ui.Redirect(ctx, back(id), msg)
}

// placeHold serves POST /customers/:id/holds (reason; complaint, a complaint's id, to hold
// that complaint rather than the customer).
func (h *Handler) placeHold(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := customerID(ctx)
	if err != nil {
		return err
	}
	entity, on := privacy.OnCustomer, id
	if v := ctx.FormValue("complaint"); v != "" {
		if on, err = strconv.ParseInt(v, 10, 64); err != nil || on <= 0 {
			return fiber.NewError(fiber.StatusBadRequest, ui.T(ui.Lang(ctx, a), "privacy.bad_complaint"))
		}
		entity = privacy.OnComplaint
	}
	if _, err := h.privacy.PlaceHold(ctx.UserContext(), tickets.AgentActor(a), entity, on, ctx.FormValue("reason")); err != nil {
		return err
	}
	return ui.Redirect(ctx, back(id), ui.T(ui.Lang(ctx, a), "privacy.held"))
}

// releaseHold serves POST /customers/:id/holds/:hold/release (reason).
func (h *Handler) releaseHold(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := customerID(ctx)
	if err != nil {
		return err
	}
	hold, err := strconv.ParseInt(ctx.Params("hold"), 10, 64)
	if err != nil || hold <= 0 {
		return fiber.NewError(fiber.StatusNotFound, fmt.Sprintf("no legal hold %q", ctx.Params("hold")))
	}
	if _, err := h.privacy.ReleaseHold(ctx.UserContext(), tickets.AgentActor(a), hold, ctx.FormValue("reason")); err != nil {
		return err
	}
	return ui.Redirect(ctx, back(id), ui.T(ui.Lang(ctx, a), "privacy.released"))
}
