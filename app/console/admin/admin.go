// Package admin is the console's admin section (/admin): agents, teams, routing rules,
// SLA policies, the working-day calendar, the progress stages, customer notice templates,
// channel settings, the retention policy, how agents sign in (the second factor required,
// an agent's reset), other systems' API keys and the outbound webhooks.
// Every page and form is for admins only; the service checks the role again. A form the
// service refuses for a reason a person can act on is shown again on its page, with the
// reason, what was typed (never a secret) and the 4xx status; anything else goes back to
// the shell, which answers it as it answers every section's errors.
package admin

import (
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/channelsettings"
	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/delivery"
	"github.com/hotlinedesk/hotline/tickets/privacy"
	"github.com/hotlinedesk/hotline/tickets/stages"
	"github.com/hotlinedesk/hotline/tickets/webhooks"
)

// Handler serves the admin section's pages and forms.
type Handler struct {
	kit           *ui.Kit
	svc           *tickets.Service
	deadlines     *deadlines.Service // SLA policies and the calendar
	doors         *access.Service    // sign-in locks
	delivery      *delivery.Service  // the notices' wordings
	channels      *channelsettings.Store
	privacy       *privacy.Service  // the retention policy and its runs
	stages        *stages.Service   // the progress stages of each category
	hooks         *webhooks.Service // the outbound webhooks' subscriptions and deliveries
	publicBaseURL string            // where providers reach Hotline (PUBLIC_BASE_URL); "" when not set
}

// New is the admin section over the service, the channel settings and the outbound
// webhooks; publicBaseURL is
// where the channels page says providers reach Hotline.
func New(kit *ui.Kit, svc *tickets.Service, doors *access.Service, channels *channelsettings.Store, priv *privacy.Service, hooks *webhooks.Service, publicBaseURL string) *Handler {
	return &Handler{kit: kit, svc: svc, deadlines: deadlines.New(svc), doors: doors, delivery: delivery.New(svc), stages: stages.New(svc), channels: channels, privacy: priv, hooks: hooks, publicBaseURL: publicBaseURL}
}

// Register mounts the admin section's routes, every one behind adminOnly.
func (h *Handler) Register(r ui.Router) {
	get := func(path string, page ui.Handler) { r.Get(path, adminOnly(page)) }
	post := func(path string, form ui.Handler) { r.Post(path, adminOnly(form)) }

	get("/admin", func(ctx *fiber.Ctx, _ *tickets.Agent) error {
		return ctx.Redirect("/admin/agents", fiber.StatusSeeOther)
	})

	get("/admin/agents", h.adminAgents)
	post("/admin/agents", h.createAgent)
	get("/admin/agents/:id", h.adminAgent)
	post("/admin/agents/:id", h.updateAgent)
	post("/admin/agents/:id/password", h.resetPassword)
	post("/admin/agents/:id/active", h.setAgentActive)
	post("/admin/agents/:id/unlock", h.unlockAgent)
	post("/admin/agents/:id/sessions/:sid/end", h.endAgentSession)
	post("/admin/agents/:id/2fa/reset", h.resetTwoFactor)

	get("/admin/teams", h.adminTeams)
	post("/admin/teams", h.createTeam)
	post("/admin/teams/:id", h.renameTeam)
	post("/admin/teams/:id/delete", h.deleteTeam)

	get("/admin/routing", h.adminRouting)
	get("/admin/routing/:id", h.adminRule)
	post("/admin/routing", h.saveRule)
	post("/admin/routing/:id", h.saveRule)
	post("/admin/routing/:id/delete", h.deleteRule)

	get("/admin/sla", h.adminSLA)
	get("/admin/sla/:id", h.adminPolicy)
	post("/admin/sla", h.savePolicy)
	post("/admin/sla/:id", h.savePolicy)
	post("/admin/sla/:id/delete", h.deletePolicy)

	get("/admin/calendar", h.adminCalendar)
	post("/admin/calendar", h.setCalendarDay)

	get("/admin/stages", h.adminStages)
	post("/admin/stages", h.saveStages)

	get("/admin/templates", h.adminTemplates)
	post("/admin/templates/:key/:locale", h.saveTemplate)

	get("/admin/channels", h.adminChannels)
	post("/admin/channels/:channel", h.saveChannel)

	get("/admin/retention", h.adminRetention)
	post("/admin/retention", h.saveRetention)
	get("/admin/signin", h.adminSignIn)
	post("/admin/signin", h.saveSignIn)
	get("/admin/keys", h.adminKeys)
	post("/admin/keys", h.createKey)
	post("/admin/keys/:id/revoke", h.revokeKey)

	get("/admin/webhooks", h.adminWebhooks)
	post("/admin/webhooks", h.createWebhook)
	get("/admin/webhooks/:id", h.adminWebhook)
	post("/admin/webhooks/:id", h.updateWebhook)
	post("/admin/webhooks/:id/rotate", h.rotateWebhookSecret)
	for _, action := range []string{"pause", "resume", "ping", "delete"} {
		post("/admin/webhooks/:id/"+action, h.webhookAction(action))
	}
	get("/admin/webhook-deliveries/:id", h.adminWebhookDelivery)
	post("/admin/webhook-deliveries/:id/redeliver", h.redeliverWebhook)
}

// adminOnly refuses everyone but admins, before anything is read or changed.
func adminOnly(next ui.Handler) ui.Handler {
	return func(ctx *fiber.Ctx, a *tickets.Agent) error {
		if a.Role != tickets.RoleAdmin {
			return fiber.NewError(fiber.StatusForbidden, ui.T(ui.Lang(ctx, a), "error.forbidden"))
		}
		return next(ctx, a)
	}
}

// adminTabs are the admin section's pages, in the order of its tab bar.
var adminTabs = []string{"agents", "teams", "routing", "sla", "calendar", "stages", "templates", "channels", "retention", "signin", "keys", "webhooks"}

type adminTab struct {
	Key, URL string
	On       bool
}

// adminPage is what every admin page has: the tab bar, and a refused form's reason.
type adminPage struct {
	Tabs    []adminTab
	Error   string // why the form was refused
	Refused string // which form was refused, e.g. "new", "edit", "password"
}

func newAdminPage(current string) adminPage {
	p := adminPage{}
	for _, k := range adminTabs {
		p.Tabs = append(p.Tabs, adminTab{Key: k, URL: "/admin/" + k, On: k == current})
	}
	return p
}

// refused is a refusal: the form it refused, the reason and the status to answer with.
type refused struct {
	form   string
	status int
	reason string
}

// set puts the refusal on a page.
func (r *refused) set(p *adminPage) int {
	if r == nil {
		return fiber.StatusOK
	}
	p.Refused, p.Error = r.form, r.reason
	return r.status
}

// refusal tells a refusal a person can act on (bad input, a conflict, something gone)
// from a failure that is not theirs to fix, or a forbidden request, which go back to the
// shell.
func refusal(form string, err error) (*refused, bool) {
	status, reason := ui.Status(err)
	if status >= 500 || status == fiber.StatusForbidden || status == fiber.StatusUnauthorized || reason == "" {
		return nil, false
	}
	// The service words its reasons as clauses ("a team needs a name"); shown on their
	// own they start with a capital.
	if r, size := utf8.DecodeRuneInString(reason); unicode.IsLower(r) {
		reason = string(unicode.ToUpper(r)) + reason[size:]
	}
	return &refused{form: form, status: status, reason: reason}, true
}

// badInput is a refusal of the console's own, in the page's language.
func badInput(ctx *fiber.Ctx, a *tickets.Agent, key string, args ...any) error {
	return fiber.NewError(fiber.StatusBadRequest, ui.T(ui.Lang(ctx, a), key, args...))
}

// pathID reads a numeric id from the path; anything else names nothing.
func pathID(ctx *fiber.Ctx, a *tickets.Agent, name string) (int64, error) {
	id, err := strconv.ParseInt(ctx.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, fiber.NewError(fiber.StatusNotFound, ui.T(ui.Lang(ctx, a), "admin.not_found"))
	}
	return id, nil
}

// optionalInt reads a whole number from a form; empty is def.
func optionalInt(ctx *fiber.Ctx, a *tickets.Agent, field string, def int) (int, error) {
	v := ctx.FormValue(field)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badInput(ctx, a, "admin.bad_number", ui.T(ui.Lang(ctx, a), "admin.field."+field))
	}
	return n, nil
}

// optionalTeam reads a team id from a form; empty is no team.
func optionalTeam(ctx *fiber.Ctx, a *tickets.Agent, field string) (*int64, error) {
	v := ctx.FormValue(field)
	if v == "" {
		return nil, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return nil, badInput(ctx, a, "admin.bad_team")
	}
	return &id, nil
}

func (h *Handler) adminView(ctx *fiber.Ctx, a *tickets.Agent, titleKey string, data any) ui.View {
	v := h.kit.View(ctx, a, "admin", data)
	v.Title = v.T(titleKey) + " · " + v.T("nav.admin")
	return v
}
