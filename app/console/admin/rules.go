package admin

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
)

var (
	ruleChannels  = []tickets.Channel{tickets.ChannelPhone, tickets.ChannelSMS, tickets.ChannelWeChat, tickets.ChannelEmail, tickets.ChannelWalkIn}
	rulePrios     = []tickets.Priority{tickets.PriorityUrgent, tickets.PriorityHigh, tickets.PriorityNormal, tickets.PriorityLow}
	breachActions = []tickets.BreachAction{tickets.BreachWarn, tickets.BreachEscalate, tickets.BreachComplaint}
)

type routingData struct {
	adminPage
	Rules     []*tickets.RoutingRule
	TeamNames map[int64]string
}

// adminRouting serves GET /admin/routing: the rules in the order they are tried.
func (h *Handler) adminRouting(ctx *fiber.Ctx, a *tickets.Agent) error {
	return h.showRouting(ctx, a, nil)
}

func (h *Handler) showRouting(ctx *fiber.Ctx, a *tickets.Agent, r *refused) error {
	d := routingData{adminPage: newAdminPage("routing")}
	status := r.set(&d.adminPage)
	var err error
	if d.Rules, err = h.svc.RoutingRules(ctx.UserContext()); err != nil {
		return err
	}
	if _, d.TeamNames, err = h.teamNames(ctx); err != nil {
		return err
	}
	return h.kit.RenderStatus(ctx, status, "admin_routing", h.adminView(ctx, a, "admin.routing", d))
}

type ruleData struct {
	adminPage
	Rule     *tickets.RoutingRule
	New      bool
	Teams    []*tickets.Team
	Channels []tickets.Channel
	Prios    []tickets.Priority
}

// adminRule serves GET /admin/routing/:id, and /admin/routing/new for a new rule.
func (h *Handler) adminRule(ctx *fiber.Ctx, a *tickets.Agent) error {
	rules, err := h.svc.RoutingRules(ctx.UserContext())
	if err != nil {
		return err
	}
	if ctx.Params("id") == "new" {
		pos := 10
		if n := len(rules); n > 0 {
			pos = rules[n-1].Position + 10
		}
		return h.showRule(ctx, a, nil, &tickets.RoutingRule{Position: pos, Active: true})
	}
	r, err := findRule(ctx, a, rules)
	if err != nil {
		return err
	}
	return h.showRule(ctx, a, nil, r)
}

func findRule(ctx *fiber.Ctx, a *tickets.Agent, rules []*tickets.RoutingRule) (*tickets.RoutingRule, error) {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return nil, err
	}
	for _, r := range rules {
		if r.ID == id {
			return r, nil
		}
	}
	return nil, fiber.NewError(fiber.StatusNotFound, ui.T(ui.Lang(ctx, a), "admin.not_found"))
}

func (h *Handler) showRule(ctx *fiber.Ctx, a *tickets.Agent, rf *refused, r *tickets.RoutingRule) error {
	d := ruleData{adminPage: newAdminPage("routing"), Rule: r, New: r.ID == 0, Channels: ruleChannels, Prios: rulePrios}
	status := rf.set(&d.adminPage)
	var err error
	if d.Teams, _, err = h.teamNames(ctx); err != nil {
		return err
	}
	v := h.adminView(ctx, a, "admin.routing", d)
	return h.kit.RenderStatus(ctx, status, "admin_rule", v)
}

// saveRule serves POST /admin/routing (a new rule) and POST /admin/routing/:id.
func (h *Handler) saveRule(ctx *fiber.Ctx, a *tickets.Agent) error {
	rules, err := h.svc.RoutingRules(ctx.UserContext())
	if err != nil {
		return err
	}
	r := &tickets.RoutingRule{Active: true, Position: 10}
	if n := len(rules); n > 0 {
		r.Position = rules[n-1].Position + 10 // a new rule is tried last unless told otherwise
	}
	if ctx.Params("id") != "" {
		found, err := findRule(ctx, a, rules)
		if err != nil {
			return err
		}
		saved := *found
		r = &saved
		r.Active = ctx.FormValue("active") == "on"
	}
	r.Name = strings.TrimSpace(ctx.FormValue("name"))
	r.Channel = tickets.Channel(ctx.FormValue("channel"))
	r.Keywords = strings.Join(splitKeywords(ctx.FormValue("keywords")), ", ")
	r.Category = strings.TrimSpace(ctx.FormValue("category"))
	r.Priority = tickets.Priority(ctx.FormValue("priority"))
	r.CustomerTag = strings.TrimSpace(ctx.FormValue("customer_tag"))
	r.Language = ctx.FormValue("language")
	r.SetPriority = tickets.Priority(ctx.FormValue("set_priority"))
	r.SetCategory = strings.TrimSpace(ctx.FormValue("set_category"))
	retry := func(err error) error {
		if rf, ok := refusal("rule", err); ok {
			return h.showRule(ctx, a, rf, r)
		}
		return err
	}
	if r.Position, err = optionalInt(ctx, a, "position", r.Position); err != nil {
		return retry(err)
	}
	team, err := optionalTeam(ctx, a, "team")
	if err != nil {
		return retry(err)
	}
	if team == nil {
		return retry(badInput(ctx, a, "admin.rule.need_team"))
	}
	r.TeamID = *team
	if r.Language != "" && r.Language != "zh" && r.Language != "en" {
		return retry(badInput(ctx, a, "admin.rule.bad_language"))
	}
	if _, err := h.svc.SaveRoutingRule(ctx.UserContext(), tickets.AgentActor(a), r); err != nil {
		return retry(err)
	}
	return ui.Redirect(ctx, "/admin/routing", ui.T(ui.Lang(ctx, a), "admin.rule.saved", r.Name))
}

// splitKeywords reads keywords separated by commas (either width) or new lines.
func splitKeywords(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == '\n' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// deleteRule serves POST /admin/routing/:id/delete.
func (h *Handler) deleteRule(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteRoutingRule(ctx.UserContext(), tickets.AgentActor(a), id); err != nil {
		if r, ok := refusal("delete", err); ok {
			return h.showRouting(ctx, a, r)
		}
		return err
	}
	return ui.Redirect(ctx, "/admin/routing", ui.T(ui.Lang(ctx, a), "admin.rule.deleted"))
}

type slaData struct {
	adminPage
	Policies []policyForm
}

// adminSLA serves GET /admin/sla: the policies in the order they are tried.
func (h *Handler) adminSLA(ctx *fiber.Ctx, a *tickets.Agent) error {
	return h.showSLA(ctx, a, nil)
}

func (h *Handler) showSLA(ctx *fiber.Ctx, a *tickets.Agent, r *refused) error {
	d := slaData{adminPage: newAdminPage("sla")}
	status := r.set(&d.adminPage)
	ps, err := h.deadlines.Policies(ctx.UserContext())
	if err != nil {
		return err
	}
	for _, p := range ps {
		d.Policies = append(d.Policies, policyForm{Policy: p, First: seconds(p.FirstResponseSeconds), Resolution: seconds(p.ResolutionSeconds)})
	}
	return h.kit.RenderStatus(ctx, status, "admin_sla", h.adminView(ctx, a, "admin.sla", d))
}

// policyForm is a policy as its form holds it: durations as typed.
type policyForm struct {
	*tickets.Policy
	First, Resolution string
}

type policyData struct {
	adminPage
	P        policyForm
	New      bool
	Channels []tickets.Channel
	Prios    []tickets.Priority
	Actions  []tickets.BreachAction
}

// adminPolicy serves GET /admin/sla/:id, and /admin/sla/new for a new policy.
func (h *Handler) adminPolicy(ctx *fiber.Ctx, a *tickets.Agent) error {
	ps, err := h.deadlines.Policies(ctx.UserContext())
	if err != nil {
		return err
	}
	if ctx.Params("id") == "new" {
		pos := 10
		if n := len(ps); n > 0 {
			pos = ps[n-1].Position + 10
		}
		p := &tickets.Policy{Position: pos, FirstResponseSeconds: 24 * 3600, ResolutionSeconds: 48 * 3600,
			FirstResponseBreach: tickets.BreachEscalate, ResolutionBreach: tickets.BreachComplaint}
		return h.showPolicy(ctx, a, nil, policyForm{Policy: p, First: "24h", Resolution: "48h"})
	}
	p, err := findPolicy(ctx, a, ps)
	if err != nil {
		return err
	}
	return h.showPolicy(ctx, a, nil, policyForm{Policy: p, First: seconds(p.FirstResponseSeconds), Resolution: seconds(p.ResolutionSeconds)})
}

func findPolicy(ctx *fiber.Ctx, a *tickets.Agent, ps []*tickets.Policy) (*tickets.Policy, error) {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.ID == id {
			return p, nil
		}
	}
	return nil, fiber.NewError(fiber.StatusNotFound, ui.T(ui.Lang(ctx, a), "admin.not_found"))
}

func (h *Handler) showPolicy(ctx *fiber.Ctx, a *tickets.Agent, rf *refused, p policyForm) error {
	d := policyData{adminPage: newAdminPage("sla"), P: p, New: p.ID == 0, Channels: ruleChannels, Prios: rulePrios, Actions: breachActions}
	status := rf.set(&d.adminPage)
	return h.kit.RenderStatus(ctx, status, "admin_policy", h.adminView(ctx, a, "admin.sla", d))
}

// savePolicy serves POST /admin/sla (a new policy) and POST /admin/sla/:id.
func (h *Handler) savePolicy(ctx *fiber.Ctx, a *tickets.Agent) error {
	ps, err := h.deadlines.Policies(ctx.UserContext())
	if err != nil {
		return err
	}
	p := &tickets.Policy{Position: 10}
	if n := len(ps); n > 0 {
		p.Position = ps[n-1].Position + 10 // a new policy is tried last unless told otherwise
	}
	if ctx.Params("id") != "" {
		found, err := findPolicy(ctx, a, ps)
		if err != nil {
			return err
		}
		saved := *found
		p = &saved
	}
	f := policyForm{Policy: p, First: strings.TrimSpace(ctx.FormValue("first_response")), Resolution: strings.TrimSpace(ctx.FormValue("resolution"))}
	p.Name = strings.TrimSpace(ctx.FormValue("name"))
	p.Channel = tickets.Channel(ctx.FormValue("channel"))
	p.Priority = tickets.Priority(ctx.FormValue("priority"))
	p.Category = strings.TrimSpace(ctx.FormValue("category"))
	p.WorkingTime = ctx.FormValue("clock") == "working"
	p.FirstResponseBreach = tickets.BreachAction(ctx.FormValue("first_breach"))
	p.ResolutionBreach = tickets.BreachAction(ctx.FormValue("resolution_breach"))
	retry := func(err error) error {
		if rf, ok := refusal("policy", err); ok {
			return h.showPolicy(ctx, a, rf, f)
		}
		return err
	}
	if p.Position, err = optionalInt(ctx, a, "position", p.Position); err != nil {
		return retry(err)
	}
	first, err := parseSpan(f.First)
	if err != nil {
		return retry(badInput(ctx, a, "admin.sla.bad_duration", ui.T(ui.Lang(ctx, a), "admin.sla.first"), f.First))
	}
	res, err := parseSpan(f.Resolution)
	if err != nil {
		return retry(badInput(ctx, a, "admin.sla.bad_duration", ui.T(ui.Lang(ctx, a), "admin.sla.resolution"), f.Resolution))
	}
	p.FirstResponseSeconds, p.ResolutionSeconds = int64(first/time.Second), int64(res/time.Second)
	if _, err := h.deadlines.SavePolicy(ctx.UserContext(), tickets.AgentActor(a), p); err != nil {
		return retry(err)
	}
	return ui.Redirect(ctx, "/admin/sla", ui.T(ui.Lang(ctx, a), "admin.sla.saved", p.Name))
}

// deletePolicy serves POST /admin/sla/:id/delete.
func (h *Handler) deletePolicy(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	if err := h.deadlines.DeletePolicy(ctx.UserContext(), tickets.AgentActor(a), id); err != nil {
		if r, ok := refusal("delete", err); ok {
			return h.showSLA(ctx, a, r)
		}
		return err
	}
	return ui.Redirect(ctx, "/admin/sla", ui.T(ui.Lang(ctx, a), "admin.sla.deleted"))
}

// parseSpan reads a duration as an admin types it: "24h", "90m", "1h30m", or whole days
// "3d" (of 24 hours). It must be a positive whole number of seconds, at most a year.
func parseSpan(s string) (time.Duration, error) {
	s = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("not a number of days: %q", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, err
		}
	}
	if d <= 0 || d > 366*24*time.Hour || d%time.Second != 0 {
		return 0, fmt.Errorf("out of range: %s", d)
	}
	return d, nil
}

// seconds shows a duration the way parseSpan reads it: "48h", "90m", "1h30m".
func seconds(n int64) string {
	d := time.Duration(n) * time.Second
	h, m, s := d/time.Hour, d%time.Hour/time.Minute, d%time.Minute/time.Second
	var b strings.Builder
	if h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if s > 0 || b.Len() == 0 {
		fmt.Fprintf(&b, "%ds", s)
	}
	return b.String()
}
