// Package ui is the kit the console's sections draw their pages with: the templates (one
// embedded directory, the shared layout and partials beside every page), the words of every
// page in Chinese and English, the template helpers, and the few things every handler does:
// render a page or an error page, translate, say what the next page should show (a flash),
// and send the browser back where a refused form came from.
//
// The sections (desk, followups, board, dashboard, admin) import ui; the console's shell
// imports ui and the sections, to mount them. That is the only direction: ui imports
// neither, so it cannot live in the shell package, which must import the sections.
//
// The templates and the words are kept here, in one place each, rather than with the
// sections: every page is drawn in the shared layout (whose menu names every section), the
// ticket timeline shows the complaints' events, and html/template parses a page together
// with the partials it uses. A section renders a page by its name.
package ui

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/web"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Handler is a page or a form behind the session check: it is given the signed-in agent.
// What it returns goes back to the browser as the shell renders errors: a refused form
// returns to the page it came from with the reason shown, a page that cannot be shown is
// an error page with the fitting status.
type Handler func(ctx *fiber.Ctx, a *tickets.Agent) error

// Router mounts a section's pages (Get) and forms (Post) behind the session check; forms
// must also carry the session's CSRF token. The shell implements it.
type Router interface {
	Get(path string, h Handler)
	Post(path string, h Handler)
}

// Kit draws the console's pages. One is made per console and shared by its sections.
type Kit struct {
	clock tickets.Clock
	loc   *time.Location
	pages map[string]*template.Template
}

// New parses the templates; a template error is a programming error and panics at start.
// Times are shown in loc, the desk's calendar zone; deadlines are shown against clock.
func New(loc *time.Location, clock tickets.Clock) *Kit {
	return &Kit{clock: clock, loc: loc, pages: parsePages(loc)}
}

func parsePages(loc *time.Location) map[string]*template.Template {
	base := template.Must(template.New("").Funcs(funcs(loc)).ParseFS(templateFiles, "templates/_*.html"))
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if strings.HasPrefix(name, "_") {
			continue
		}
		pages[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFiles, n))
	}
	return pages
}

// Now is the time the pages show deadlines against.
func (k *Kit) Now() time.Time { return k.clock.Now() }

// View is what every page template receives.
type View struct {
	Lang  string // "zh" or "en"
	Agent *tickets.Agent
	CSRF  string
	Title string
	Nav   string // which menu entry is current
	Flash *Flash
	Now   time.Time
	Data  any
	// Unread is how many of the agent's notices are unread, shown on the menu.
	Unread int
}

// T translates a message key into the page's language, formatting args into it.
func (v View) T(key string, args ...any) string { return T(v.Lang, key, args...) }

// TOr translates key, or shows fallback where the catalogue has no wording for it (an
// audit event kind added later, say).
func (v View) TOr(key, fallback string) string { return TOrKey(v.Lang, key, fallback) }

// After says when after resolution a follow-up call falls: "same day", "7 days".
func (v View) After(f *aftercare.FollowUp) string {
	days := int(f.Offset() / (24 * time.Hour))
	if days == 0 {
		return v.T("followups.same_day")
	}
	return v.T("followups.days", days)
}

// Can reports whether the signed-in agent has one of the roles.
func (v View) Can(roles ...string) bool {
	if v.Agent == nil {
		return false
	}
	for _, r := range roles {
		if string(v.Agent.Role) == r {
			return true
		}
	}
	return false
}

// View is a page's view for agent a (nil before signing in), with nav the current menu
// entry and data the page's own.
func (k *Kit) View(ctx *fiber.Ctx, a *tickets.Agent, nav string, data any) View {
	v := View{Lang: Lang(ctx, a), Agent: a, Nav: nav, Data: data, Now: k.clock.Now(), Flash: takeFlash(ctx)}
	v.CSRF, _ = ctx.Locals(csrfKey).(string) // none before signing in
	v.Unread, _ = ctx.Locals(unreadKey).(int)
	return v
}

// Render answers with page drawn from v.
func (k *Kit) Render(ctx *fiber.Ctx, page string, v View) error {
	return k.RenderStatus(ctx, fiber.StatusOK, page, v)
}

// RenderStatus answers with page drawn from v, and status.
func (k *Kit) RenderStatus(ctx *fiber.Ctx, status int, page string, v View) error {
	t, ok := k.pages[page]
	if !ok {
		return fmt.Errorf("no page template %q", page)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, page+".html", v); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	// The same policy and headers as every HTML page; same-origin referrers let a refused
	// form return to the page it came from (BackTo).
	web.SetPageHeaders(ctx)
	ctx.Type("html", "utf-8")
	return ctx.Status(status).SendString(b.String())
}

// ErrorPage answers with the error page: status, and reason (a generic one when empty).
func (k *Kit) ErrorPage(ctx *fiber.Ctx, a *tickets.Agent, status int, reason string) error {
	v := k.View(ctx, a, "", nil)
	if reason == "" {
		reason = v.T("error.internal")
	}
	v.Title = fmt.Sprintf("%d", status)
	v.Data = struct {
		Status int
		Reason string
	}{status, reason}
	return k.RenderStatus(ctx, status, "error", v)
}

// Status is the status and reason an error is shown with, as the JSON API answers it.
func Status(err error) (int, string) { return api.ErrorStatus(err) }

// BackTo is where a refused form returns: the page it was posted from when that page is
// ours, or the queue.
func BackTo(ctx *fiber.Ctx) string {
	if u, err := url.Parse(ctx.Get(fiber.HeaderReferer)); err == nil && u.Path != "" &&
		(u.Host == "" || u.Host == ctx.Hostname()) && strings.HasPrefix(u.Path, "/") && !strings.HasPrefix(u.Path, "//") {
		if u.RawQuery != "" {
			return u.Path + "?" + u.RawQuery
		}
		return u.Path
	}
	return "/queue"
}

// Redirect sends the browser on after a form, with a message for the next page.
func Redirect(ctx *fiber.Ctx, to, message string) error {
	if message != "" {
		SetFlash(ctx, message, false)
	}
	return ctx.Redirect(to, fiber.StatusSeeOther)
}
