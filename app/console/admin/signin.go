package admin

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
)

// Sign-in (/admin/signin): whether every agent must sign in with a second factor, and how
// many have one; beside it, what the configuration says of single sign-on and passwords.
// An agent's second factor is reset from their page (/admin/agents/:id/2fa/reset).

type signInData struct {
	adminPage
	Rule             access.TOTPRule
	Enrolled, Active int    // active agents with a second factor, and all active agents
	SSO              string // the single sign-on provider's name; "" for none
	PasswordsOff     bool
	BreakGlass       string // the admin who may still use a password while they are off
}

// adminSignIn serves GET /admin/signin.
func (h *Handler) adminSignIn(ctx *fiber.Ctx, a *tickets.Agent) error {
	return h.showSignIn(ctx, a, nil)
}

func (h *Handler) showSignIn(ctx *fiber.Ctx, a *tickets.Agent, r *refused) error {
	d := signInData{adminPage: newAdminPage("signin"), SSO: h.doors.SSOName(), PasswordsOff: h.doors.PasswordsOff(), BreakGlass: h.doors.BreakGlass()}
	status := r.set(&d.adminPage)
	var err error
	if d.Rule, err = h.doors.TOTPRule(ctx.UserContext()); err != nil {
		return err
	}
	if d.Enrolled, d.Active, err = h.doors.TOTPCounts(ctx.UserContext()); err != nil {
		return err
	}
	return h.kit.RenderStatus(ctx, status, "admin_signin", h.adminView(ctx, a, "admin.signin", d))
}

// saveSignIn serves POST /admin/signin (require_2fa=on|off). Turned on, the sessions of
// everyone without a second factor end but this one, which the shell sends to enrol when
// the admin has none either.
func (h *Handler) saveSignIn(ctx *fiber.Ctx, a *tickets.Agent) error {
	v := ctx.FormValue("require_2fa")
	if v != "on" && v != "off" {
		return badInput(ctx, a, "admin.signin.bad_choice")
	}
	ended, err := h.doors.SetTOTPRequired(ctx.UserContext(), tickets.AgentActor(a), v == "on", ui.Session(ctx))
	if err != nil {
		if r, ok := refusal("totp", err); ok {
			_, r.reason = ui.StatusIn(ui.Lang(ctx, a), err)
			return h.showSignIn(ctx, a, r)
		}
		return err
	}
	lang := ui.Lang(ctx, a)
	msg := ui.T(lang, "admin.signin.off_saved")
	if v == "on" {
		msg = ui.T(lang, "admin.signin.on_saved", ended)
	}
	return ui.Redirect(ctx, "/admin/signin", msg)
}

// resetTwoFactor serves POST /admin/agents/:id/2fa/reset: an agent who lost their phone
// and their recovery codes loses their second factor and every session, and enrols again
// at their next sign-in while one is required.
func (h *Handler) resetTwoFactor(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	ag, err := h.doors.ResetTOTP(ctx.UserContext(), tickets.AgentActor(a), id)
	if err != nil {
		if r, ok := refusal("totp", err); ok {
			_, r.reason = ui.StatusIn(ui.Lang(ctx, a), err)
			return h.showAgent(ctx, a, r, nil)
		}
		return err
	}
	return ui.Redirect(ctx, fmt.Sprintf("/admin/agents/%d", id), ui.T(ui.Lang(ctx, a), "admin.agent.totp_reset", ag.Name))
}
