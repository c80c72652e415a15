// Package console is the web console agents, complaint officers and supervisors work in all
// day: server-rendered html/template pages with a little hand-written JavaScript, embedded
// in the binary, so "go run ./app" serves it with no front-end build.
//
// Every form is a plain POST that redirects back (post/redirect/get); the JavaScript adds
// keyboard navigation, live SLA countdowns and live updates over Server-Sent Events.
package console

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/channelsettings"
	"github.com/hotlinedesk/hotline/app/web"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/reports"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Config is what the console needs from the wiring.
type Config struct {
	Service *tickets.Service
	// Reports computes the supervisor's dashboard; nil means reports.New(Service).
	Reports *reports.Reader
	// Complaints is the complaints board and the complaints' pages and forms, and a
	// customer's complaints beside a ticket; nil means complaints.New(Service).
	Complaints *complaints.Service
	// ChannelSettings reads and saves the channel settings (Admin → Channels); nil means
	// channelsettings.New(Service).
	ChannelSettings *channelsettings.Store
	// Aftercare lists and completes the follow-up calls and reads a customer's survey
	// answers; nil means aftercare.New(Service) with the zero Config (the pages need none
	// of its settings).
	Aftercare *aftercare.Service
	Log       *slog.Logger
	// SecureCookies marks the session cookie Secure; set it when Hotline is served over
	// HTTPS (PUBLIC_BASE_URL starts with https://).
	SecureCookies bool
	// Clock is the time the pages show deadlines against; nil means the wall clock.
	Clock tickets.Clock
	// LiveEvery is how often the live feed reads new events; 0 means 400ms.
	LiveEvery time.Duration
	// StreamFor is how long one live stream stays open before the browser reconnects
	// (resuming from the last event it saw); 0 means 25s, inside the server's write timeout.
	StreamFor time.Duration
	// ClientIP names the client whose failed sign-ins count (the service limits them);
	// nil means the peer address.
	ClientIP func(*fiber.Ctx) string
	// PublicBaseURL is where providers reach Hotline (PUBLIC_BASE_URL): the admin pages
	// show the webhook addresses to paste into each provider's console under it.
	PublicBaseURL string
	// Recordings fetches call recordings from Twilio so agents can play them; nil: no
	// Twilio account is configured.
	Recordings api.Recordings
}

// Console serves the pages.
type Console struct {
	svc        *tickets.Service
	reports    *reports.Reader
	complaints *complaints.Service
	care       *aftercare.Service
	channels   *channelsettings.Store
	log        *slog.Logger
	cfg        Config
	pages      map[string]*template.Template
	live       *hub
}

// New parses the templates; a template error is a programming error and panics at start.
func New(cfg Config) *Console {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = tickets.SystemClock{}
	}
	if cfg.LiveEvery == 0 {
		cfg.LiveEvery = 400 * time.Millisecond
	}
	if cfg.StreamFor == 0 {
		cfg.StreamFor = 25 * time.Second
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = func(ctx *fiber.Ctx) string { return ctx.IP() }
	}
	if cfg.Reports == nil {
		cfg.Reports = reports.New(cfg.Service)
	}
	if cfg.Complaints == nil {
		cfg.Complaints = complaints.New(cfg.Service)
	}
	if cfg.ChannelSettings == nil {
		cfg.ChannelSettings = channelsettings.New(cfg.Service)
	}
	if cfg.Aftercare == nil {
		cfg.Aftercare = aftercare.New(cfg.Service, aftercare.Config{})
	}
	c := &Console{svc: cfg.Service, reports: cfg.Reports, complaints: cfg.Complaints, care: cfg.Aftercare, channels: cfg.ChannelSettings, log: cfg.Log, cfg: cfg}
	c.pages = parsePages(cfg.Service.Calendar().Location())
	c.live = newHub(cfg.Service, cfg.LiveEvery, cfg.Log)
	return c
}

// Close stops the live feed.
func (c *Console) Close() { c.live.close() }

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

// route registers a page or form behind the session check. Every handler is given the
// signed-in agent.
type handler func(c *fiber.Ctx, a *tickets.Agent) error

// Register mounts the console's routes.
func (c *Console) Register(app *fiber.App) {
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err)
	}
	app.Use("/assets", filesystem.New(filesystem.Config{Root: http.FS(static), MaxAge: 3600}))

	app.Get("/", func(ctx *fiber.Ctx) error { return ctx.Redirect("/queue", fiber.StatusSeeOther) })
	app.Get("/login", c.loginPage)
	app.Post("/login", c.login)
	c.post(app, "/logout", c.logout)
	c.post(app, "/settings/language", c.setLanguage)
	c.post(app, "/settings/presence", c.setPresence)

	c.get(app, "/queue", c.queue)
	c.get(app, "/tickets/:ref", c.ticket)
	c.post(app, "/tickets/:ref/reply", c.reply)
	c.post(app, "/tickets/:ref/note", c.note)
	c.post(app, "/tickets/:ref/assign", c.assign)
	c.post(app, "/tickets/:ref/status", c.status)
	c.post(app, "/tickets/:ref/priority", c.priority)
	c.post(app, "/tickets/:ref/escalate", c.escalate)
	c.get(app, "/attachments/:id", c.attachment)
	c.get(app, "/calls/new", c.newCall)
	c.post(app, "/calls", c.logCall)
	c.get(app, "/live", c.stream)

	c.registerFollowUps(app)
	c.registerComplaints(app)
	c.registerDashboard(app)
	c.registerAdmin(app)
}

func (c *Console) get(app *fiber.App, path string, h handler) {
	app.Get(path, c.authenticate(false), c.wrap(h))
}

func (c *Console) post(app *fiber.App, path string, h handler) {
	app.Post(path, c.authenticate(true), c.wrap(h))
}

// wrap hands the signed-in agent to h and renders what goes wrong as a page: a refused
// form goes back where it came from with the reason shown, a page that cannot be shown is
// an error page with the fitting status.
func (c *Console) wrap(h handler) fiber.Handler {
	return func(ctx *fiber.Ctx) error {
		a := agentOf(ctx)
		err := h(ctx, a)
		if err == nil {
			return nil
		}
		status, reason := statusOf(err)
		if status >= 500 {
			c.log.Error("console request failed", "method", ctx.Method(), "path", ctx.Path(), "err", err)
			reason = ""
		}
		if ctx.Method() == fiber.MethodPost && status < 500 && status != fiber.StatusForbidden {
			setFlash(ctx, reason, true)
			return ctx.Redirect(backTo(ctx), fiber.StatusSeeOther)
		}
		return c.errorPage(ctx, a, status, reason)
	}
}

// statusOf is the status and reason an error is shown with, as the JSON API answers it.
func statusOf(err error) (int, string) { return api.ErrorStatus(err) }

// backTo is where a refused form returns: the page it was posted from when that page is
// ours, or the queue.
func backTo(ctx *fiber.Ctx) string {
	if u, err := url.Parse(ctx.Get(fiber.HeaderReferer)); err == nil && u.Path != "" &&
		(u.Host == "" || u.Host == ctx.Hostname()) && strings.HasPrefix(u.Path, "/") && !strings.HasPrefix(u.Path, "//") {
		if u.RawQuery != "" {
			return u.Path + "?" + u.RawQuery
		}
		return u.Path
	}
	return "/queue"
}

func (c *Console) errorPage(ctx *fiber.Ctx, a *tickets.Agent, status int, reason string) error {
	v := c.view(ctx, a, "", nil)
	if reason == "" {
		reason = v.T("error.internal")
	}
	v.Title = fmt.Sprintf("%d", status)
	v.Data = struct {
		Status int
		Reason string
	}{status, reason}
	return c.renderStatus(ctx, status, "error", v)
}

// view is what every page template receives.
type view struct {
	Lang  string // "zh" or "en"
	Agent *tickets.Agent
	CSRF  string
	Title string
	Nav   string // which menu entry is current
	Flash *flash
	Now   time.Time
	Data  any
}

// T translates a message key into the page's language, formatting args into it.
func (v view) T(key string, args ...any) string { return translate(v.Lang, key, args...) }

// TOr translates key, or shows fallback where the catalogue has no wording for it (an
// audit event kind added later, say).
func (v view) TOr(key, fallback string) string {
	if s := translate(v.Lang, key); s != key {
		return s
	}
	return fallback
}

// After says when after resolution a follow-up call falls.
func (v view) After(f *aftercare.FollowUp) string { return afterLabel(v, f) }

// Can reports whether the signed-in agent has one of the roles.
func (v view) Can(roles ...string) bool {
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

func (c *Console) view(ctx *fiber.Ctx, a *tickets.Agent, nav string, data any) view {
	v := view{Lang: langOf(ctx, a), Agent: a, Nav: nav, Data: data, Now: c.cfg.Clock.Now(), Flash: takeFlash(ctx)}
	if tok, _ := ctx.Locals(tokenKey).(string); tok != "" {
		v.CSRF = csrfToken(tok)
	}
	return v
}

func (c *Console) render(ctx *fiber.Ctx, page string, v view) error {
	return c.renderStatus(ctx, fiber.StatusOK, page, v)
}

func (c *Console) renderStatus(ctx *fiber.Ctx, status int, page string, v view) error {
	t, ok := c.pages[page]
	if !ok {
		return fmt.Errorf("no page template %q", page)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, page+".html", v); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	// The same policy and headers as every HTML page; same-origin referrers let a refused
	// form return to the page it came from (backTo).
	web.SetPageHeaders(ctx)
	ctx.Type("html", "utf-8")
	return ctx.Status(status).SendString(b.String())
}

// redirect sends the browser on after a form, with a message for the next page.
func redirect(ctx *fiber.Ctx, to, message string) error {
	if message != "" {
		setFlash(ctx, message, false)
	}
	return ctx.Redirect(to, fiber.StatusSeeOther)
}

// ctxOf is the request's context, for calls into the service.
func ctxOf(ctx *fiber.Ctx) context.Context { return ctx.UserContext() }
