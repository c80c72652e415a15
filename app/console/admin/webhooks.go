package admin

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/webhooks"
)

// Outbound webhooks (/admin/webhooks): the subscriptions with their state (paused by an
// admin, or by Hotline after repeated failures, with the count and the last error), the
// form that adds one (its signing secret shown once), one subscription's page (edit,
// pause or resume, rotate the secret, ping, delete, and its deliveries), and a delivery's
// page (each attempt's answer, the JSON sent, Redeliver). The staff notice of a paused
// receiver links to /admin/webhooks/:id.

// eventGroup is the events of one kind, as the form's checkboxes group them.
type eventGroup struct {
	Key    string // "ticket", "message", "deadline", "complaint", "survey"
	Events []string
}

// eventGroups groups the events a subscription may name by their first word.
func eventGroups() []eventGroup {
	var out []eventGroup
	for _, e := range webhooks.EventNames() {
		if e == webhooks.EventPing {
			continue
		}
		k, _, _ := strings.Cut(e, ".")
		if n := len(out); n > 0 && out[n-1].Key == k {
			out[n-1].Events = append(out[n-1].Events, e)
			continue
		}
		out = append(out, eventGroup{Key: k, Events: []string{e}})
	}
	return out
}

// hookForm is a subscription as the form holds it.
type hookForm struct {
	Name, URL string
	Events    map[string]bool
}

func readHookForm(ctx *fiber.Ctx) (hookForm, webhooks.SubscriptionInput) {
	f := hookForm{Name: ctx.FormValue("name"), URL: ctx.FormValue("url"), Events: map[string]bool{}}
	in := webhooks.SubscriptionInput{Name: f.Name, URL: f.URL}
	for _, v := range ctx.Request().PostArgs().PeekMulti("event") {
		if len(in.Events) < 50 { // more than there are: the service refuses the unknown
			in.Events = append(in.Events, string(v))
			f.Events[string(v)] = true
		}
	}
	return f, in
}

// hookRow is a subscription as the list shows it.
type hookRow struct {
	*webhooks.Subscription
	LastError  string // of the latest delivery, for one paused because it fails
	LastStatus int
}

type hooksData struct {
	adminPage
	Hooks     []hookRow
	Groups    []eventGroup
	New       hookForm
	NewSecret string // the secret of the subscription just made, shown this once
	NewID     int64
}

// adminWebhooks serves GET /admin/webhooks.
func (h *Handler) adminWebhooks(ctx *fiber.Ctx, a *tickets.Agent) error {
	return h.showWebhooks(ctx, a, nil, hookForm{Events: map[string]bool{}}, "", 0)
}

func (h *Handler) showWebhooks(ctx *fiber.Ctx, a *tickets.Agent, r *refused, form hookForm, secret string, newID int64) error {
	d := hooksData{adminPage: newAdminPage("webhooks"), Groups: eventGroups(), New: form, NewSecret: secret, NewID: newID}
	status := r.set(&d.adminPage)
	if secret != "" {
		status = fiber.StatusCreated
		ctx.Set(fiber.HeaderCacheControl, "no-store")
	}
	subs, err := h.hooks.Subscriptions(ctx.UserContext(), tickets.AgentActor(a))
	if err != nil {
		return err
	}
	for _, s := range subs {
		row := hookRow{Subscription: s}
		if s.PausedReason == webhooks.PausedFailing || (s.State == webhooks.StateActive && s.ConsecutiveFailures > 0) {
			last, err := h.hooks.Deliveries(ctx.UserContext(), tickets.AgentActor(a), webhooks.DeliveryFilter{SubscriptionID: s.ID, Limit: 1})
			if err != nil {
				return err
			}
			if len(last) > 0 {
				row.LastError, row.LastStatus = last[0].LastError, last[0].LastStatus
			}
		}
		d.Hooks = append(d.Hooks, row)
	}
	return h.kit.RenderStatus(ctx, status, "admin_webhooks", h.adminView(ctx, a, "admin.webhooks", d))
}

// hookRefusal is a refused form's reason in the page's language.
func hookRefusal(ctx *fiber.Ctx, a *tickets.Agent, form string, err error) (*refused, bool) {
	r, ok := refusal(form, err)
	if ok {
		_, r.reason = ui.StatusIn(ui.Lang(ctx, a), err)
	}
	return r, ok
}

// createWebhook serves POST /admin/webhooks (name, url, event...): the page answers with
// the signing secret, shown this once.
func (h *Handler) createWebhook(ctx *fiber.Ctx, a *tickets.Agent) error {
	form, in := readHookForm(ctx)
	sub, secret, err := h.hooks.Create(ctx.UserContext(), tickets.AgentActor(a), in)
	if err != nil {
		if r, ok := hookRefusal(ctx, a, "new", err); ok {
			return h.showWebhooks(ctx, a, r, form, "", 0)
		}
		return err
	}
	return h.showWebhooks(ctx, a, nil, hookForm{Events: map[string]bool{}}, secret, sub.ID)
}

type hookData struct {
	adminPage
	Hook       *webhooks.Subscription
	Groups     []eventGroup
	Form       hookForm
	Secret     string // a secret just rotated, shown this once
	Deliveries []*webhooks.Delivery
	State      string   // the deliveries' filter
	States     []string // the filter's choices
	Older      int64    // the cursor of the next page, 0 on the last
}

// deliveryStates are the filter's choices, in the order a delivery goes through them.
var deliveryStates = []string{webhooks.DeliveryWaiting, webhooks.DeliveryPending, webhooks.DeliveryDelivering, webhooks.DeliveryDelivered, webhooks.DeliveryFailed}

const deliveriesPage = 50

// adminWebhook serves GET /admin/webhooks/:id?state=&cursor=.
func (h *Handler) adminWebhook(ctx *fiber.Ctx, a *tickets.Agent) error {
	return h.showWebhook(ctx, a, nil, nil, "")
}

func (h *Handler) showWebhook(ctx *fiber.Ctx, a *tickets.Agent, r *refused, form *hookForm, secret string) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	actor := tickets.AgentActor(a)
	sub, err := h.hooks.Subscription(ctx.UserContext(), actor, id)
	if err != nil {
		return err
	}
	d := hookData{adminPage: newAdminPage("webhooks"), Hook: sub, Groups: eventGroups(), Secret: secret, States: deliveryStates}
	status := r.set(&d.adminPage)
	if form != nil {
		d.Form = *form
	} else {
		d.Form = hookForm{Name: sub.Name, URL: sub.URL, Events: map[string]bool{}}
		for _, e := range sub.Events {
			d.Form.Events[e] = true
		}
	}
	if secret != "" {
		ctx.Set(fiber.HeaderCacheControl, "no-store")
	}
	f := webhooks.DeliveryFilter{SubscriptionID: id, Limit: deliveriesPage}
	if v := ctx.Query("state"); v != "" {
		for _, s := range deliveryStates {
			if v == s {
				f.State, d.State = v, v
			}
		}
		if f.State == "" {
			return badInput(ctx, a, "admin.hook.bad_state")
		}
	}
	if v := ctx.Query("cursor"); v != "" {
		if f.BeforeID, err = strconv.ParseInt(v, 10, 64); err != nil || f.BeforeID < 1 {
			return badInput(ctx, a, "admin.hook.bad_cursor")
		}
	}
	if d.Deliveries, err = h.hooks.Deliveries(ctx.UserContext(), actor, f); err != nil {
		return err
	}
	if len(d.Deliveries) == deliveriesPage {
		d.Older = d.Deliveries[len(d.Deliveries)-1].ID
	}
	v := h.adminView(ctx, a, "admin.webhooks", d)
	v.Title = sub.Name + " · " + v.T("nav.admin")
	return h.kit.RenderStatus(ctx, status, "admin_webhook", v)
}

func hookPath(id int64) string { return webhooks.PagePath(id) }

// updateWebhook serves POST /admin/webhooks/:id (name, url, event...).
func (h *Handler) updateWebhook(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	form, in := readHookForm(ctx)
	if _, err := h.hooks.Update(ctx.UserContext(), tickets.AgentActor(a), id, in); err != nil {
		if r, ok := hookRefusal(ctx, a, "edit", err); ok {
			return h.showWebhook(ctx, a, r, &form, "")
		}
		return err
	}
	return ui.Redirect(ctx, hookPath(id), ui.T(ui.Lang(ctx, a), "admin.hook.saved"))
}

// webhookAction serves the subscription's buttons, each a POST that redirects back with
// what it did: pause, resume, ping and delete.
func (h *Handler) webhookAction(action string) ui.Handler {
	return func(ctx *fiber.Ctx, a *tickets.Agent) error {
		id, err := pathID(ctx, a, "id")
		if err != nil {
			return err
		}
		actor, c := tickets.AgentActor(a), ctx.UserContext()
		back := hookPath(id)
		switch action {
		case "pause":
			err = h.hooks.Pause(c, actor, id)
		case "resume":
			err = h.hooks.Resume(c, actor, id)
		case "ping":
			var d *webhooks.Delivery
			if d, err = h.hooks.Ping(c, actor, id); err == nil {
				back = deliveryPath(d.ID)
			}
		case "delete":
			err = h.hooks.Delete(c, actor, id)
			back = "/admin/webhooks"
		}
		if err != nil {
			return err
		}
		return ui.Redirect(ctx, back, ui.T(ui.Lang(ctx, a), "admin.hook.done."+action))
	}
}

// rotateWebhookSecret serves POST /admin/webhooks/:id/rotate: the subscription's page
// answers with the new secret, shown this once.
func (h *Handler) rotateWebhookSecret(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	secret, err := h.hooks.RotateSecret(ctx.UserContext(), tickets.AgentActor(a), id)
	if err != nil {
		return err
	}
	return h.showWebhook(ctx, a, nil, nil, secret)
}

func deliveryPath(id int64) string { return fmt.Sprintf("/admin/webhook-deliveries/%d", id) }

type deliveryData struct {
	adminPage
	Hook     *webhooks.Subscription // nil when it was deleted
	Delivery *webhooks.Delivery
	Attempts []*webhooks.Attempt
}

// adminWebhookDelivery serves GET /admin/webhook-deliveries/:id: the delivery, each
// attempt with the receiver's answer, and the JSON sent.
func (h *Handler) adminWebhookDelivery(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	actor := tickets.AgentActor(a)
	d := deliveryData{adminPage: newAdminPage("webhooks")}
	if d.Delivery, d.Attempts, err = h.hooks.Delivery(ctx.UserContext(), actor, id); err != nil {
		return err
	}
	if d.Hook, err = h.hooks.Subscription(ctx.UserContext(), actor, d.Delivery.SubscriptionID); err != nil {
		if status, _ := ui.Status(err); status != fiber.StatusNotFound {
			return err
		}
		d.Hook = nil
	}
	return h.kit.Render(ctx, "admin_webhook_delivery", h.adminView(ctx, a, "admin.hook.delivery", d))
}

// redeliverWebhook serves POST /admin/webhook-deliveries/:id/redeliver: the event goes
// again as a new delivery, whose page the browser is sent to.
func (h *Handler) redeliverWebhook(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	d, err := h.hooks.Redeliver(ctx.UserContext(), tickets.AgentActor(a), id)
	if err != nil {
		return err
	}
	return ui.Redirect(ctx, deliveryPath(d.ID), ui.T(ui.Lang(ctx, a), "admin.hook.done.redeliver"))
}
