package console

import (
	"errors"
	"math"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
)

// The signed-in agent's own account: changing their password (/account/password), through
// the doors as the API's POST /me/password does.

type passwordData struct {
	Error string // why the last change was refused, in the page's language
}

// passwordPage serves GET /account/password.
func (c *Console) passwordPage(ctx *fiber.Ctx, a *tickets.Agent) error {
	return c.showPassword(ctx, a, fiber.StatusOK, "")
}

func (c *Console) showPassword(ctx *fiber.Ctx, a *tickets.Agent, status int, refusal string) error {
	v := c.kit.View(ctx, a, "account", passwordData{Error: refusal})
	v.Title = v.T("account.title")
	return c.kit.RenderStatus(ctx, status, "account_password", v)
}

// changePassword serves POST /account/password: with the current password and the new one
// twice, the agent's password changes and their other sessions end; this one stays. A
// refusal shows the page again with the reason and its status.
func (c *Console) changePassword(ctx *fiber.Ctx, a *tickets.Agent) error {
	lang := ui.Lang(ctx, a)
	next := ctx.FormValue("password")
	if next != ctx.FormValue("confirm") {
		return c.showPassword(ctx, a, fiber.StatusBadRequest, ui.T(lang, "account.mismatch"))
	}
	tok, _ := ctx.Locals(tokenKey).(string)
	err := c.cfg.Access.ChangePassword(ctx.UserContext(), c.cfg.ClientIP(ctx), a, tok, ctx.FormValue("current"), next)
	if err == nil {
		return ui.Redirect(ctx, "/account/password", ui.T(lang, "account.changed"))
	}
	status, reason := ui.Status(err)
	var limited *tickets.Limited
	switch {
	case status >= 500:
		return err
	case errors.As(err, &limited):
		ctx.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(limited.Retry.Seconds()))))
		reason = ui.T(lang, "login.locked", waitWords(lang, limited.Retry))
	case status == fiber.StatusForbidden:
		reason = ui.T(lang, "account.wrong_current")
	case status == fiber.StatusBadRequest:
		reason = ui.T(lang, "account.weak")
	case status == fiber.StatusConflict:
		reason = ui.T(lang, "account.conflict")
	}
	return c.showPassword(ctx, a, status, reason)
}
