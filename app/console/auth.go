package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
)

const (
	sessionCookie = "hotline_session"
	loginCSRF     = "hotline_login" // double-submit token of the login form
	agentKey      = "console.agent"
	tokenKey      = "console.token"
	csrfField     = "_csrf"
	csrfHeader    = "X-CSRF-Token"
)

// authenticate admits requests with a valid session cookie. Pages without one go to the
// sign-in form; forms must also carry the session's CSRF token, and may not come from
// another site.
func (c *Console) authenticate(isForm bool) fiber.Handler {
	return func(ctx *fiber.Ctx) error {
		tok := ctx.Cookies(sessionCookie)
		var a *tickets.Agent
		if tok != "" {
			var err error
			if a, err = c.cfg.Access.Authenticate(ctx.UserContext(), tok); err != nil {
				if status, _ := ui.Status(err); status >= 500 {
					return c.wrap(func(*fiber.Ctx, *tickets.Agent) error { return err })(ctx)
				}
				a = nil
			}
		}
		if a == nil {
			c.clearCookie(ctx, sessionCookie)
			if isForm || ctx.Path() == "/live" {
				return c.kit.ErrorPage(ctx, nil, fiber.StatusUnauthorized, ui.T(ui.Lang(ctx, nil), "error.signed_out"))
			}
			return ctx.Redirect("/login?next="+url.QueryEscape(ctx.OriginalURL()), fiber.StatusSeeOther)
		}
		ctx.Locals(agentKey, a)
		ctx.Locals(tokenKey, tok)
		if must, err := c.enrolmentRequired(ctx, a); err != nil {
			return c.wrap(func(*fiber.Ctx, *tickets.Agent) error { return err })(ctx)
		} else if must {
			return ctx.Redirect("/account/2fa", fiber.StatusSeeOther)
		}
		form := csrfToken(tok)
		ui.SetCSRF(ctx, form)
		ui.SetSession(ctx, tok)
		if isForm {
			// A reply's files wait at their door until the session is known (api.Doors).
			release, err := api.ReadAdmitted(ctx)
			if err != nil {
				return err
			}
			defer release()
			if err := checkForm(ctx, form); err != nil {
				return c.kit.ErrorPage(ctx, a, fiber.StatusForbidden, ui.T(ui.Lang(ctx, a), "error.csrf"))
			}
		} else if ctx.Path() != "/live" && ctx.Path() != "/notices/unread" && ctx.Query("partial") == "" {
			// Every page's menu shows the unread notices; the live feed keeps it current.
			n, err := c.svc.UnreadNotices(ctx.UserContext(), a.ID)
			if err != nil {
				return c.wrap(func(*fiber.Ctx, *tickets.Agent) error { return err })(ctx)
			}
			ui.SetUnread(ctx, n)
		}
		return ctx.Next()
	}
}

// checkForm refuses a form posted from another site or without the expected token.
func checkForm(ctx *fiber.Ctx, want string) error {
	if site := ctx.Get("Sec-Fetch-Site"); site == "cross-site" {
		return fiber.ErrForbidden
	}
	got := ctx.FormValue(csrfField)
	if got == "" {
		got = ctx.Get(csrfHeader)
	}
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return fiber.ErrForbidden
	}
	return nil
}

// csrfToken is derived from the session token, which only the browser holding the
// HttpOnly cookie has, so every process of a cluster checks it without shared state.
func csrfToken(session string) string {
	sum := sha256.Sum256([]byte("hotline console csrf\x00" + session))
	return base64.RawURLEncoding.EncodeToString(sum[:18])
}

func agentOf(ctx *fiber.Ctx) *tickets.Agent {
	a, _ := ctx.Locals(agentKey).(*tickets.Agent)
	return a
}

func (c *Console) setCookie(ctx *fiber.Ctx, name, value string, maxAge time.Duration) {
	ctx.Cookie(&fiber.Cookie{
		Name: name, Value: value, Path: "/", HTTPOnly: true, Secure: c.cfg.SecureCookies, SameSite: fiber.CookieSameSiteLaxMode,
		MaxAge: int(maxAge / time.Second),
	})
}

func (c *Console) clearCookie(ctx *fiber.Ctx, name string) {
	if ctx.Cookies(name) != "" {
		ctx.Cookie(&fiber.Cookie{Name: name, Value: "", Path: "/", HTTPOnly: true, Secure: c.cfg.SecureCookies,
			SameSite: fiber.CookieSameSiteLaxMode, MaxAge: -1, Expires: time.Unix(1, 0)})
	}
}

func randomToken() string {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

type loginData struct {
	Email string
	Next  string
	Error string
	// SSO names the single sign-on provider ("" for none); PasswordsOff folds the password
	// form away, for the break-glass admin only.
	SSO          string
	PasswordsOff bool
}

func (c *Console) loginPage(ctx *fiber.Ctx) error {
	if l := ctx.Query("lang"); l == "zh" || l == "en" {
		// Kept for the sign-in itself and saved on the agent once they are in.
		c.setCookie(ctx, ui.LangCookie, l, 365*24*time.Hour)
	}
	if tok := ctx.Cookies(sessionCookie); tok != "" {
		if a, err := c.cfg.Access.Authenticate(ctx.UserContext(), tok); err == nil {
			return ctx.Redirect(landing(a, ctx.Query("next")), fiber.StatusSeeOther)
		}
	}
	return c.showLogin(ctx, fiber.StatusOK, loginData{Next: safeNext(ctx.Query("next"))})
}

func (c *Console) showLogin(ctx *fiber.Ctx, status int, d loginData) error {
	token := randomToken()
	c.setCookie(ctx, loginCSRF, token, time.Hour)
	d.SSO, d.PasswordsOff = c.cfg.Access.SSOName(), c.cfg.Access.PasswordsOff()
	v := c.kit.View(ctx, nil, "", d)
	v.CSRF = token
	v.Title = v.T("login.title")
	return c.kit.RenderStatus(ctx, status, "login", v)
}

func (c *Console) login(ctx *fiber.Ctx) error {
	d := loginData{Email: strings.TrimSpace(ctx.FormValue("email")), Next: safeNext(ctx.FormValue("next"))}
	if err := checkForm(ctx, ctx.Cookies(loginCSRF)); err != nil {
		d.Error = ui.T(ui.Lang(ctx, nil), "error.csrf")
		return c.showLogin(ctx, fiber.StatusForbidden, d)
	}
	// The same budget of failures as the API's sign-in: the service keeps it.
	out, err := c.cfg.Access.SignIn(ctx.UserContext(), c.device(ctx), d.Email, ctx.FormValue("password"))
	if err != nil {
		status, reason := loginRefusal(ctx, err)
		if status >= 500 {
			return c.wrap(func(*fiber.Ctx, *tickets.Agent) error { return err })(ctx)
		}
		if status == fiber.StatusUnauthorized {
			reason = ui.T(ui.Lang(ctx, nil), "login.wrong")
		}
		d.Error = reason
		return c.showLogin(ctx, status, d)
	}
	if out.Pending != "" {
		// The password was right; the code from the agent's app comes next.
		c.setCookie(ctx, pendingCookie, out.Pending, 5*time.Minute)
		return c.showCode(ctx, fiber.StatusOK, codeData{Next: d.Next})
	}
	return c.signedIn(ctx, out.Token, out.Agent, d.Next, out.MustEnrol)
}

// landing is where a signed-in agent goes: next when it is a safe path on this site, else
// their home page.
func landing(a *tickets.Agent, next string) string {
	if n := safeNext(next); n != "" {
		return n
	}
	return home(a)
}

// home is the page an agent starts from: complaint officers work from the complaints
// board, everyone else from their queue.
func home(a *tickets.Agent) string {
	if a.Role == tickets.RoleComplaintOfficer {
		return "/complaints"
	}
	return "/queue"
}

// safeNext keeps a post-login destination on this site; "" when there is none to keep.
func safeNext(next string) string {
	// Browsers drop tabs and line breaks inside a URL and read "\" as "/", so "/\t/evil"
	// would leave the site: allow a plain path on this site only.
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(next, "/") ||
		strings.HasPrefix(next, "//") || strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) ||
		strings.HasPrefix(next, "/login") || strings.HasPrefix(next, "/live") || next == "/" {
		return ""
	}
	return next
}

func (c *Console) logout(ctx *fiber.Ctx, _ *tickets.Agent) error {
	tok, _ := ctx.Locals(tokenKey).(string)
	if err := c.cfg.Access.Logout(ctx.UserContext(), tok); err != nil {
		return err
	}
	c.clearCookie(ctx, sessionCookie)
	return ctx.Redirect("/login", fiber.StatusSeeOther)
}

// setLanguage switches the console's language and remembers it on the agent.
func (c *Console) setLanguage(ctx *fiber.Ctx, a *tickets.Agent) error {
	loc := localeOf(ctx.FormValue("lang"))
	if loc == "" {
		return fiber.NewError(fiber.StatusBadRequest, "lang must be zh or en")
	}
	if _, err := c.svc.UpdateAgent(ctx.UserContext(), tickets.AgentActor(a), a.ID, tickets.AgentUpdate{Locale: &loc}); err != nil {
		return err
	}
	c.setCookie(ctx, ui.LangCookie, ui.ShortLang(loc), 365*24*time.Hour) // the sign-in page follows it too
	return ctx.Redirect(ui.BackTo(ctx), fiber.StatusSeeOther)
}

// setPresence puts the agent online (taking new work) or away.
func (c *Console) setPresence(ctx *fiber.Ctx, a *tickets.Agent) error {
	online := ctx.FormValue("online") == "true"
	if _, err := c.svc.SetOnline(ctx.UserContext(), tickets.AgentActor(a), online); err != nil {
		return err
	}
	return ctx.Redirect(ui.BackTo(ctx), fiber.StatusSeeOther)
}

// localeOf turns a language choice into the locale stored on the agent.
func localeOf(lang string) string {
	switch lang {
	case "zh":
		return "zh-CN"
	case "en":
		return "en"
	}
	return ""
}

// waitWords says how long to wait, rounded up to whole minutes once it is a minute or more.
func waitWords(lang string, d time.Duration) string {
	if d < time.Minute {
		n := int(math.Ceil(d.Seconds()))
		if lang == "en" {
			return fmt.Sprintf("%d seconds", n)
		}
		return fmt.Sprintf("%d 秒", n)
	}
	n := int(math.Ceil(d.Minutes()))
	switch {
	case lang != "en":
		return fmt.Sprintf("%d 分钟", n)
	case n == 1:
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", n)
}
