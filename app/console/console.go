// Package console is the web console agents, complaint officers and supervisors work in all
// day: server-rendered html/template pages with a little hand-written JavaScript, embedded
// in the binary, so "go run ./app" serves it with no front-end build.
//
// Every form is a plain POST that redirects back (post/redirect/get); the JavaScript adds
// keyboard navigation, live SLA countdowns and live updates over Server-Sent Events.
//
// This package is the shell: the configuration, signing in and out, the session and CSRF
// checks every page and form passes, the language and presence settings, the static files,
// the live feed, and how a failed page or form is answered. The pages themselves are in
// one package per section, as the menu has them, each with a handler holding only what it
// reads: desk (queues, the ticket page, logging a call), followups (follow-up calls),
// customers (the customer page), board (complaints), notices (the agent's own notices),
// dashboard (the supervisor's dashboard), admin, replies (canned replies) and quality (quality
// reviews: samples, reviews, the agent's answers, calibration, rubrics). They draw
// their pages with the kit in ui (templates, words, rendering), which the shell uses too;
// the shell imports the sections to mount them, so the sections never import the shell.
package console

import (
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/channelsettings"
	"github.com/hotlinedesk/hotline/app/console/admin"
	"github.com/hotlinedesk/hotline/app/console/board"
	"github.com/hotlinedesk/hotline/app/console/customers"
	"github.com/hotlinedesk/hotline/app/console/dashboard"
	"github.com/hotlinedesk/hotline/app/console/desk"
	"github.com/hotlinedesk/hotline/app/console/followups"
	"github.com/hotlinedesk/hotline/app/console/notices"
	consolequality "github.com/hotlinedesk/hotline/app/console/quality"
	"github.com/hotlinedesk/hotline/app/console/replies"
	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/canned"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/outbox"
	"github.com/hotlinedesk/hotline/tickets/privacy"
	"github.com/hotlinedesk/hotline/tickets/quality"
	"github.com/hotlinedesk/hotline/tickets/reports"
	"github.com/hotlinedesk/hotline/tickets/webhooks"
)

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
	// Access signs agents in and out, checks their sessions and lifts sign-in locks; nil
	// means access.New(Service) with the zero Config.
	Access *access.Service
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
	// Outbox writes the staff notices the audit trail implies (a ticket given to an agent)
	// as soon as the live feed sees one; nil means outbox.New(Service).
	Outbox *outbox.Service
	// CallCategories are what an agent files a logged call under (HOTLINE_CALL_CATEGORIES);
	// nil means desk.DefaultCategories.
	CallCategories []string
	// Privacy reveals customers' masked values to the roles allowed to, each reveal
	// recorded (HOTLINE_REVEAL), answers customers' requests (copy, erasure), keeps legal
	// holds and the retention policy; nil means privacy.New(Service) with the zero Config.
	Privacy *privacy.Service
	// Outbound administers the outbound webhooks (Admin → Webhooks); nil means
	// webhooks.New(Service) with the zero Config.
	Outbound *webhooks.Service
}

// Console serves the pages: it signs agents in and mounts the sections behind its checks.
type Console struct {
	svc  *tickets.Service
	log  *slog.Logger
	cfg  Config
	kit  *ui.Kit
	live *hub

	desk      *desk.Handler
	followUps *followups.Handler
	customers *customers.Handler
	board     *board.Handler
	dashboard *dashboard.Handler
	admin     *admin.Handler
	notices   *notices.Handler
	replies   *replies.Handler
	quality   *consolequality.Handler
}

// New parses the templates and makes the sections' handlers; a template error is a
// programming error and panics at start.
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
	if cfg.Outbox == nil {
		cfg.Outbox = outbox.New(cfg.Service)
	}
	if cfg.Access == nil {
		cfg.Access = access.New(cfg.Service, access.Config{})
	}
	if cfg.Privacy == nil {
		cfg.Privacy = privacy.New(cfg.Service, privacy.Config{Log: cfg.Log})
	}
	if cfg.Outbound == nil {
		cfg.Outbound = webhooks.New(cfg.Service, webhooks.Config{})
	}
	kit := ui.New(cfg.Service.Calendar().Location(), cfg.Clock)
	c := &Console{svc: cfg.Service, log: cfg.Log, cfg: cfg, kit: kit,
		live:      newHub(cfg.Service, cfg.LiveEvery, cfg.Log, cfg.Outbox.CollectAnnouncements),
		desk:      desk.New(kit, cfg.Service, cfg.Complaints, cfg.Aftercare, cfg.Recordings, cfg.Log),
		followUps: followups.New(kit, cfg.Aftercare),
		customers: customers.New(kit, cfg.Service, cfg.Complaints, cfg.Aftercare, cfg.Privacy),
		board:     board.New(kit, cfg.Service, cfg.Complaints),
		dashboard: dashboard.New(kit, cfg.Service, cfg.Reports),
		admin:     admin.New(kit, cfg.Service, cfg.Access, cfg.ChannelSettings, cfg.Privacy, cfg.Outbound, cfg.PublicBaseURL),
		notices:   notices.New(kit, cfg.Service),
		replies:   replies.New(kit, cfg.Service, canned.New(cfg.Service)),
		quality:   consolequality.New(kit, cfg.Service, quality.New(cfg.Service)),
	}
	c.desk.SetCategories(cfg.CallCategories)
	c.desk.SetPrivacy(cfg.Privacy)
	return c
}

// Close stops the live feed.
func (c *Console) Close() { c.live.close() }

// Register mounts the console's routes.
func (c *Console) Register(app *fiber.App) {
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err)
	}
	app.Use("/assets", filesystem.New(filesystem.Config{Root: http.FS(static), MaxAge: 3600}))

	app.Get("/login", c.loginPage)
	app.Post("/login", c.login)
	app.Post("/login/2fa", c.loginCode)
	app.Get("/login/sso", c.ssoStart)
	app.Get("/login/sso/callback", c.ssoCallback)
	r := routes{c: c, app: app}
	r.Get("/", func(ctx *fiber.Ctx, a *tickets.Agent) error { return ctx.Redirect(home(a), fiber.StatusSeeOther) })
	r.Post("/logout", c.logout)
	r.Post("/settings/language", c.setLanguage)
	r.Post("/settings/presence", c.setPresence)
	r.Get("/account/password", c.passwordPage)
	r.Post("/account/password", c.changePassword)
	r.Get("/account/2fa", c.twoFactorPage)
	r.Post("/account/2fa", c.confirmTwoFactor)
	r.Get("/account/sessions", c.sessionsPage)
	r.Post("/account/sessions/:id/end", c.endSession)

	c.desk.Register(r)
	r.Get("/live", c.stream)
	c.followUps.Register(r)
	c.customers.Register(r)
	c.board.Register(r)
	c.dashboard.Register(r)
	c.admin.Register(r)
	c.notices.Register(r)
	c.replies.Register(r)
	c.quality.Register(r)
}

// routes mounts the sections' pages and forms behind the session check (ui.Router).
type routes struct {
	c   *Console
	app *fiber.App
}

func (r routes) Get(path string, h ui.Handler) {
	r.app.Get(path, r.c.authenticate(false), r.c.wrap(h))
}

func (r routes) Post(path string, h ui.Handler) {
	r.app.Post(path, r.c.authenticate(true), r.c.wrap(h))
}

// wrap hands the signed-in agent to h and renders what goes wrong as a page: a refused
// form goes back where it came from with the reason shown, a page that cannot be shown is
// an error page with the fitting status.
func (c *Console) wrap(h ui.Handler) fiber.Handler {
	return func(ctx *fiber.Ctx) error {
		a := agentOf(ctx)
		err := h(ctx, a)
		if err == nil {
			return nil
		}
		status, reason := ui.StatusIn(ui.Lang(ctx, a), err)
		if status >= 500 {
			c.log.Error("console request failed", "method", ctx.Method(), "path", ctx.Path(), "err", err)
			reason = ""
		}
		if ctx.Method() == fiber.MethodPost && status < 500 && status != fiber.StatusForbidden {
			ui.SetFlash(ctx, reason, true)
			return ctx.Redirect(ui.BackTo(ctx), fiber.StatusSeeOther)
		}
		return c.kit.ErrorPage(ctx, a, status, reason)
	}
}
