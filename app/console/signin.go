package console

import (
	"encoding/base64"
	"errors"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
)

// The sign-in's further steps: the second factor's code after the password
// (/login/2fa), single sign-on's round trip to the provider (/login/sso and its callback),
// and the agent's own second factor and sessions (/account/2fa, /account/sessions).

const (
	pendingCookie = "hotline_2fa" // a pending sign-in awaiting its code
	ssoCookie     = "hotline_sso" // the state of a sign-on round trip this browser began
)

func (c *Console) device(ctx *fiber.Ctx) access.Device {
	return access.Device{Client: c.cfg.ClientIP(ctx), UserAgent: ctx.Get(fiber.HeaderUserAgent)}
}

// signedIn sets the session cookie, keeps the language chosen at the sign-in page and
// sends the agent on: to enrol a second factor first when admins require one.
func (c *Console) signedIn(ctx *fiber.Ctx, tok string, a *tickets.Agent, next string, mustEnrol bool) error {
	c.clearCookie(ctx, loginCSRF)
	c.clearCookie(ctx, pendingCookie)
	c.setCookie(ctx, sessionCookie, tok, 0) // a browser session; the token itself expires server-side
	if l := ctx.Cookies(ui.LangCookie); l != "" && l != ui.Lang(ctx, a) {
		if loc := localeOf(l); loc != "" {
			if _, err := c.svc.UpdateAgent(ctx.UserContext(), tickets.AgentActor(a), a.ID, tickets.AgentUpdate{Locale: &loc}); err != nil {
				c.log.Warn("could not keep the chosen language", "err", err)
			}
		}
	}
	if mustEnrol {
		return ctx.Redirect("/account/2fa", fiber.StatusSeeOther)
	}
	return ctx.Redirect(landing(a, next), fiber.StatusSeeOther)
}

// loginRefusal words a refused sign-in step for the sign-in pages.
func loginRefusal(ctx *fiber.Ctx, err error) (int, string) {
	status, reason := ui.Status(err)
	lang := ui.Lang(ctx, nil)
	var limited *tickets.Limited
	switch {
	case errors.As(err, &limited):
		ctx.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(limited.Retry.Seconds()))))
		key := "login.too_many"
		if limited.Scope == access.LimitLoginAccount {
			key = "login.locked"
		}
		return status, ui.T(lang, key, waitWords(lang, limited.Retry))
	case errors.Is(err, access.ErrPasswordsOff):
		return status, ui.T(lang, "login.passwords_off")
	case errors.Is(err, access.ErrSSOState):
		return status, ui.T(lang, "login.sso_state")
	}
	return status, reason
}

type codeData struct {
	Next  string
	Error string
}

func (c *Console) showCode(ctx *fiber.Ctx, status int, d codeData) error {
	token := randomToken()
	c.setCookie(ctx, loginCSRF, token, time.Hour)
	v := c.kit.View(ctx, nil, "", d)
	v.CSRF = token
	v.Title = v.T("login.code_title")
	return c.kit.RenderStatus(ctx, status, "login_2fa", v)
}

// loginCode serves POST /login/2fa: the code from the agent's app, or a recovery code,
// finishes the sign-in their password began.
func (c *Console) loginCode(ctx *fiber.Ctx) error {
	d := codeData{Next: safeNext(ctx.FormValue("next"))}
	if err := checkForm(ctx, ctx.Cookies(loginCSRF)); err != nil {
		d.Error = ui.T(ui.Lang(ctx, nil), "error.csrf")
		return c.showCode(ctx, fiber.StatusForbidden, d)
	}
	code := ctx.FormValue("code")
	if len(code) > 40 {
		code = ""
	}
	tok, a, err := c.cfg.Access.VerifySecondFactor(ctx.UserContext(), c.device(ctx), ctx.Cookies(pendingCookie), code)
	if err != nil {
		status, reason := loginRefusal(ctx, err)
		if status >= 500 {
			return c.wrap(func(*fiber.Ctx, *tickets.Agent) error { return err })(ctx)
		}
		if status == fiber.StatusUnauthorized {
			reason = ui.T(ui.Lang(ctx, nil), "login.code_wrong")
		}
		d.Error = reason
		return c.showCode(ctx, status, d)
	}
	return c.signedIn(ctx, tok, a, d.Next, false)
}

// ssoStart serves GET /login/sso: off to the provider, the state kept in this browser.
func (c *Console) ssoStart(ctx *fiber.Ctx) error {
	url, state, err := c.cfg.Access.BeginSSO(ctx.UserContext(), safeNext(ctx.Query("next")))
	if err != nil {
		status, reason := loginRefusal(ctx, err)
		if status >= 500 {
			c.log.Error("single sign-on could not start", "err", err)
			status, reason = fiber.StatusBadGateway, ui.T(ui.Lang(ctx, nil), "login.sso_down")
		}
		return c.showLogin(ctx, status, loginData{Error: reason})
	}
	c.setCookie(ctx, ssoCookie, state, 10*time.Minute)
	return ctx.Redirect(url, fiber.StatusSeeOther)
}

// ssoCallback serves GET /login/sso/callback, where the provider sends the browser back.
func (c *Console) ssoCallback(ctx *fiber.Ctx) error {
	browser := ctx.Cookies(ssoCookie)
	c.clearCookie(ctx, ssoCookie)
	lang := ui.Lang(ctx, nil)
	if e := ctx.Query("error"); e != "" {
		return c.showLogin(ctx, fiber.StatusUnauthorized, loginData{Error: ui.T(lang, "login.sso_refused")})
	}
	tok, a, next, err := c.cfg.Access.FinishSSO(ctx.UserContext(), c.device(ctx), browser, ctx.Query("state"), ctx.Query("code"))
	if err != nil {
		status, reason := loginRefusal(ctx, err)
		if status >= 500 {
			c.log.Error("single sign-on could not finish", "err", err)
			status, reason = fiber.StatusBadGateway, ui.T(lang, "login.sso_down")
		}
		if status == fiber.StatusForbidden && !errors.Is(err, access.ErrSSOState) {
			reason = ui.T(lang, "login.sso_unknown")
		}
		if status == fiber.StatusUnauthorized {
			reason = ui.T(lang, "login.sso_refused")
		}
		return c.showLogin(ctx, status, loginData{Error: reason})
	}
	return c.signedIn(ctx, tok, a, next, false)
}

// enrolmentRequired sends an agent without a second factor to enrol one, when admins
// require it (by configuration, or from Admin → Sign-in, read on every page so that it
// takes effect at once), before any other page.
func (c *Console) enrolmentRequired(ctx *fiber.Ctx, a *tickets.Agent) (bool, error) {
	switch p := ctx.Path(); {
	case strings.HasPrefix(p, "/account/2fa"), p == "/logout", p == "/settings/language", p == "/live", p == "/notices/unread":
		return false, nil
	}
	return c.cfg.Access.MustEnrol(ctx.UserContext(), a.ID)
}

type twoFactorData struct {
	On       bool
	Required bool
	Secret   string       // the secret as text, grouped for typing
	QR       template.URL // PNG data URI of the otpauth URL, made here
	Codes    []string
	Error    string
}

// twoFactorPage serves GET /account/2fa: on, or the QR code and secret to enrol.
func (c *Console) twoFactorPage(ctx *fiber.Ctx, a *tickets.Agent) error {
	return c.showTwoFactor(ctx, a, fiber.StatusOK, twoFactorData{})
}

func (c *Console) showTwoFactor(ctx *fiber.Ctx, a *tickets.Agent, status int, d twoFactorData) error {
	required, err := c.cfg.Access.TOTPRequired(ctx.UserContext())
	if err != nil {
		return err
	}
	d.Required = required
	if d.Codes == nil {
		on, err := c.cfg.Access.TOTPOn(ctx.UserContext(), a.ID)
		if err != nil {
			return err
		}
		d.On = on
		if !on {
			e, err := c.cfg.Access.BeginTOTP(ctx.UserContext(), a)
			if err != nil {
				return err
			}
			png, err := qrcode.Encode(e.URL, qrcode.Medium, 240)
			if err != nil {
				return err
			}
			d.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)) //nolint:gosec // our own PNG
			d.Secret = groupSecret(e.Secret)
		}
	}
	v := c.kit.View(ctx, a, "account", d)
	v.Title = v.T("twofa.title")
	return c.kit.RenderStatus(ctx, status, "account_2fa", v)
}

// confirmTwoFactor serves POST /account/2fa: a code from the app turns it on, and the
// recovery codes are shown, this once.
func (c *Console) confirmTwoFactor(ctx *fiber.Ctx, a *tickets.Agent) error {
	codes, err := c.cfg.Access.ConfirmTOTP(ctx.UserContext(), a, ctx.FormValue("code"))
	if err != nil {
		status, _ := ui.Status(err)
		switch status {
		case fiber.StatusBadRequest:
			return c.showTwoFactor(ctx, a, status, twoFactorData{Error: ui.T(ui.Lang(ctx, a), "twofa.wrong")})
		case fiber.StatusConflict:
			return ui.Redirect(ctx, "/account/2fa", ui.T(ui.Lang(ctx, a), "twofa.already"))
		}
		return err
	}
	ctx.Set(fiber.HeaderCacheControl, "no-store")
	return c.showTwoFactor(ctx, a, fiber.StatusOK, twoFactorData{On: true, Codes: codes})
}

// groupSecret writes a base32 secret in groups of four, as authenticator apps accept it.
func groupSecret(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

type sessionsData struct {
	Sessions []access.Session
}

// sessionsPage serves GET /account/sessions: the agent's own sessions.
func (c *Console) sessionsPage(ctx *fiber.Ctx, a *tickets.Agent) error {
	tok, _ := ctx.Locals(tokenKey).(string)
	list, err := c.cfg.Access.Sessions(ctx.UserContext(), tickets.AgentActor(a), a.ID, tok)
	if err != nil {
		return err
	}
	v := c.kit.View(ctx, a, "account", sessionsData{Sessions: list})
	v.Title = v.T("sessions.title")
	return c.kit.Render(ctx, "account_sessions", v)
}

// endSession serves POST /account/sessions/:id/end. Ending this browser's own session
// signs it out.
func (c *Console) endSession(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := strconv.ParseInt(ctx.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return fiber.NewError(fiber.StatusBadRequest, "no such session")
	}
	tok, _ := ctx.Locals(tokenKey).(string)
	list, err := c.cfg.Access.Sessions(ctx.UserContext(), tickets.AgentActor(a), a.ID, tok)
	if err != nil {
		return err
	}
	if _, err := c.cfg.Access.EndSession(ctx.UserContext(), tickets.AgentActor(a), id); err != nil {
		return err
	}
	for _, s := range list {
		if s.ID == id && s.Current {
			c.clearCookie(ctx, sessionCookie)
			return ctx.Redirect("/login", fiber.StatusSeeOther)
		}
	}
	return ui.Redirect(ctx, "/account/sessions", ui.T(ui.Lang(ctx, a), "sessions.ended"))
}
