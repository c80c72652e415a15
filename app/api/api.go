// Package api is Hotline's JSON API under /api/v1, served by Fiber: thin handlers that
// decode a request, call tickets.Service as the signed-in agent, and encode the answer.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/canned"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/delivery"
	"github.com/hotlinedesk/hotline/tickets/privacy"
	"github.com/hotlinedesk/hotline/tickets/quality"
	"github.com/hotlinedesk/hotline/tickets/reports"
	"github.com/hotlinedesk/hotline/tickets/stages"
	"github.com/hotlinedesk/hotline/tickets/webhooks"
)

// Config is what the API needs from the wiring.
type Config struct {
	Service *tickets.Service
	// Reports computes the reports (GET /reports/csat); nil means reports.New(Service).
	Reports *reports.Reader
	// Aftercare lists and completes the follow-up calls (GET /followups, POST
	// /followups/:id/complete); nil means aftercare.New(Service) with the zero Config (the
	// routes need none of its settings).
	Aftercare *aftercare.Service
	// Complaints logs, lists and changes complaints (/complaints/...); nil means
	// complaints.New(Service).
	Complaints *complaints.Service
	// Canned reads and changes the canned replies (/canned-replies/...); nil means
	// canned.New(Service).
	Canned *canned.Service
	// Quality keeps the quality reviews' rubrics, samples, reviews and answers
	// (/quality/...); nil means quality.New(Service).
	Quality *quality.Service
	Log     *slog.Logger
	// Access signs agents in and out and checks their tokens; nil means
	// access.New(Service) with the zero Config.
	Access *access.Service
	// Ready reports whether the database and the broker answer, for /readyz.
	Ready func(ctx context.Context) error
	// MetricsToken (HOTLINE_METRICS_TOKEN), sent as a bearer token, shows /readyz's details
	// (see ready.go); empty: only loopback clients see them.
	MetricsToken string
	// TrustedProxies are load balancers (addresses or CIDRs) whose X-Forwarded-For names
	// the client.
	TrustedProxies []string
	// Webhooks are the providers' callback handlers and the public pages, mounted beside
	// the API.
	Webhooks []interface{ Register(*fiber.App) }
	// Observe is told of every request once it is answered: its method, the pattern of the
	// route that served it (bounded, unlike the path), its status and how long it took.
	Observe func(method, route string, status int, took time.Duration)
	// Metrics serves GET /metrics (Prometheus text format); nil: no such route.
	Metrics http.Handler
	// EmailMaxBytes is the largest message the email webhook takes (SMTP_MAX_BYTES, as the
	// SMTP listener); 0 means DefaultEmailMaxBytes. Every other door's limit is in Doors.
	EmailMaxBytes int64
	// Privacy reveals customers' values in full to the roles allowed to (POST
	// /customers/:id/reveal), answers customers' requests (copy, erasure), keeps legal holds
	// and the retention policy; nil means privacy.New(Service) with the zero Config.
	Privacy *privacy.Service
	// Recordings fetches call recordings from Twilio for GET /attachments/:id; nil: no
	// Twilio account is configured and recordings cannot be played.
	Recordings Recordings
	// Outbound administers the outbound webhooks (/webhooks, /webhook-deliveries); nil
	// means webhooks.New(Service) with the zero Config.
	Outbound *webhooks.Service
	// DeskID names the desk's database (random, not secret); /healthz sends it as
	// DeskHeader, so a tool (simulate) can tell whether it reads the same database.
	DeskID string
}

// DeskHeader is the header of /healthz's answer that carries Config.DeskID.
const DeskHeader = "X-Hotline-Desk"

type server struct {
	svc        *tickets.Service
	reports    *reports.Reader
	care       *aftercare.Service
	complaints *complaints.Service
	canned     *canned.Service
	quality    *quality.Service
	deadlines  *deadlines.Service // the SLA policies and the calendar
	doors      *access.Service
	delivery   *delivery.Service // the notices' wordings
	stages     *stages.Service   // the progress stages and documents awaited
	privacy    *privacy.Service  // reveals, customers' requests, holds, retention
	hooks      *webhooks.Service // the outbound webhooks' subscriptions and deliveries
	log        *slog.Logger
	observe    func(method, route string, status int, took time.Duration)
	limits     *limits
	// clientIP names the client whose failed sign-ins count (see ClientAddr).
	clientIP   func(*fiber.Ctx) string
	recordings Recordings
}

// New builds the HTTP application with its routes.
func New(cfg Config) *fiber.App {
	app, s := newApp(&cfg)
	s.clientIP = ClientAddr(cfg.TrustedProxies)

	v1 := app.Group("/api/v1")
	// Failed sign-ins are limited by the service, in the database (auth.go).
	v1.Post("/auth/login", s.login)
	// This API's description (docs/openapi.yaml), public.
	v1.Get("/openapi.json", openAPI(s.log))

	// The token is checked before the body is read: AdmitBody reads it within the API's limit.
	authed := scoped{v1.Group("", s.authenticate, AdmitBody)}
	authed.Post("/auth/logout", s.logout)
	authed.Get("/me", s.me)
	authed.Post("/me/password", s.changePassword)

	authed.Get("/tickets", s.listTickets)
	authed.Get("/tickets.csv", s.exportTickets)
	authed.Post("/tickets", s.createTicket)
	authed.Get("/tickets/:ref", s.getTicket)
	authed.Post("/tickets/:ref/replies", s.reply)
	authed.Post("/tickets/:ref/notes", s.addNote)
	authed.Post("/tickets/:ref/assign", s.assign)
	authed.Post("/tickets/:ref/status", s.setStatus)
	authed.Post("/tickets/:ref/priority", s.setPriority)
	authed.Post("/tickets/:ref/category", s.setCategory)
	authed.Get("/tickets/:ref/progress", s.getProgress)
	authed.Post("/tickets/:ref/stage", s.moveStage)
	authed.Post("/tickets/:ref/documents", s.requestDocuments)
	authed.Post("/tickets/:ref/documents/:id", s.tickDocument)
	authed.Get("/stages", s.listStages)
	authed.Put("/stages/:category", s.saveStages)
	authed.Get("/attachments/:id", s.attachment)
	authed.Get("/customers", s.searchCustomers)
	authed.Get("/customers/:id", s.getCustomer)
	authed.Patch("/customers/:id", s.updateCustomer)
	authed.Get("/customers/:id/export", s.exportCustomer)
	authed.Post("/customers/:id/erase", s.eraseCustomer)
	authed.Get("/customers/:id/privacy", s.customerPrivacy)
	authed.Post("/legal-holds", s.placeHold)
	authed.Post("/legal-holds/:id/release", s.releaseHold)
	authed.Get("/retention-policy", s.retentionPolicy)
	authed.Put("/retention-policy", s.setRetentionPolicy)
	authed.Post("/customers/:id/reveal", s.revealCustomer)

	authed.Get("/agents", s.listAgents)
	authed.Post("/agents", s.createAgent)
	authed.Get("/agents/:id", s.getAgent)
	authed.Patch("/agents/:id", s.updateAgent)
	authed.Delete("/agents/:id", s.deactivateAgent)
	authed.Post("/agents/:id/unlock", s.unlockAgent)
	authed.Post("/agents/:id/2fa/reset", s.resetTwoFactor)
	authed.Get("/teams", s.listTeams)
	authed.Post("/teams", s.createTeam)
	authed.Get("/teams/:id", s.getTeam)
	authed.Patch("/teams/:id", s.renameTeam)
	authed.Delete("/teams/:id", s.deleteTeam)

	authed.Post("/me/presence", s.setPresence)
	authed.Get("/notices", s.listNotices)
	authed.Post("/notices/read", s.readNotices)

	authed.Get("/sla-policies", s.listPolicies)
	authed.Post("/sla-policies", s.savePolicy)
	authed.Put("/sla-policies/:id", s.savePolicy)
	authed.Delete("/sla-policies/:id", s.deletePolicy)
	authed.Get("/routing-rules", s.listRules)
	authed.Post("/routing-rules", s.saveRule)
	authed.Put("/routing-rules/:id", s.saveRule)
	authed.Delete("/routing-rules/:id", s.deleteRule)
	authed.Get("/calendar/deadline", s.calendarDeadline)
	authed.Get("/calendar/days", s.listDays)
	authed.Put("/calendar/days/:day", s.setDay)

	authed.Get("/complaints", s.listComplaints)
	authed.Get("/complaints.csv", s.exportComplaints)
	authed.Post("/complaints", s.createComplaint)
	authed.Get("/complaints/:ref", s.getComplaint)
	authed.Post("/complaints/:ref/status", s.complaintStatus)
	authed.Post("/complaints/:ref/assign", s.complaintAssign)
	authed.Post("/complaints/:ref/decision", s.complaintDecision)
	authed.Post("/complaints/:ref/extend", s.complaintExtend)

	authed.Get("/followups", s.listFollowUps)
	authed.Post("/followups/:id/complete", s.completeFollowUp)
	authed.Get("/reports/csat", s.csatReport)
	authed.Get("/reports/floor", s.floorReport)
	authed.Get("/reports/kpi.csv", s.exportKPI)
	authed.Get("/reports/scorecard", s.scorecard)
	authed.Get("/reports/scorecard/tickets", s.scorecardTickets)
	authed.Get("/reports/targets", s.targets)
	authed.Put("/reports/targets", s.setTargets)
	authed.Get("/reports/frequent-issues", s.frequentIssuesReport)
	authed.Get("/reports/frequent-issues.csv", s.exportFrequentIssues)

	authed.Get("/canned-replies", s.listCanned)
	authed.Post("/canned-replies", s.createCanned)
	authed.Put("/canned-replies/:id", s.updateCanned)
	authed.Delete("/canned-replies/:id", s.deleteCanned)
	authed.Get("/tickets/:ref/canned-replies/:id", s.fillCanned)

	authed.Get("/quality/rubrics", s.listRubrics)
	authed.Post("/quality/rubrics", s.createRubric)
	authed.Put("/quality/rubrics/:id", s.updateRubric)
	authed.Delete("/quality/rubrics/:id", s.retireRubric)
	authed.Get("/quality/sample", s.drawSample)
	authed.Get("/quality/reviews", s.listReviews)
	authed.Post("/quality/reviews", s.submitReview)
	authed.Get("/quality/reviews/:id", s.getReview)
	authed.Post("/quality/reviews/:id/answer", s.answerReview)
	authed.Get("/quality/calibration/:ref", s.calibrate)

	authed.Get("/templates", s.listTemplates)
	authed.Put("/templates/:key/:locale", s.setTemplate)

	authed.Get("/api-keys", s.listKeys)
	authed.Post("/api-keys", s.createKey)
	authed.Delete("/api-keys/:id", s.revokeKey)

	authed.Get("/webhooks", s.listWebhooks)
	authed.Post("/webhooks", s.createWebhook)
	authed.Get("/webhooks/:id", s.getWebhook)
	authed.Patch("/webhooks/:id", s.updateWebhook)
	authed.Delete("/webhooks/:id", s.deleteWebhook)
	authed.Post("/webhooks/:id/rotate-secret", s.rotateWebhookSecret)
	authed.Post("/webhooks/:id/pause", s.pauseWebhook)
	authed.Post("/webhooks/:id/resume", s.resumeWebhook)
	authed.Post("/webhooks/:id/ping", s.pingWebhook)
	authed.Get("/webhooks/:id/deliveries", s.listWebhookDeliveries)
	authed.Get("/webhook-deliveries/:id", s.getWebhookDelivery)
	authed.Post("/webhook-deliveries/:id/redeliver", s.redeliverWebhookDelivery)

	for _, w := range cfg.Webhooks {
		w.Register(app)
	}
	app.Use(func(c *fiber.Ctx) error {
		c.Locals(unmatchedKey, true)
		return fiber.NewError(fiber.StatusNotFound, fmt.Sprintf("no route for %s %s", c.Method(), c.Path()))
	})
	return app
}

// NewOps builds the HTTP application of a process that serves no API (a worker): only
// /healthz, /readyz and /metrics, so that it can be health-checked and scraped.
func NewOps(cfg Config) *fiber.App {
	app, _ := newApp(&cfg)
	app.Use(func(c *fiber.Ctx) error {
		c.Locals(unmatchedKey, true)
		return fiber.NewError(fiber.StatusNotFound, fmt.Sprintf("no route for %s %s: this process is a worker, it serves no API", c.Method(), c.Path()))
	})
	return app
}

// newApp builds the application with its middleware and the operational routes, filling
// in cfg's defaults.
func newApp(cfg *Config) (*fiber.App, *server) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Reports == nil && cfg.Service != nil {
		cfg.Reports = reports.New(cfg.Service)
	}
	if cfg.Aftercare == nil && cfg.Service != nil {
		cfg.Aftercare = aftercare.New(cfg.Service, aftercare.Config{})
	}
	if cfg.Complaints == nil && cfg.Service != nil {
		cfg.Complaints = complaints.New(cfg.Service)
	}
	if cfg.Canned == nil && cfg.Service != nil {
		cfg.Canned = canned.New(cfg.Service)
	}
	if cfg.Quality == nil && cfg.Service != nil {
		cfg.Quality = quality.New(cfg.Service)
	}
	if cfg.Privacy == nil && cfg.Service != nil {
		cfg.Privacy = privacy.New(cfg.Service, privacy.Config{Log: cfg.Log})
	}
	if cfg.Access == nil && cfg.Service != nil {
		cfg.Access = access.New(cfg.Service, access.Config{})
	}
	if cfg.Outbound == nil && cfg.Service != nil {
		cfg.Outbound = webhooks.New(cfg.Service, webhooks.Config{})
	}
	s := &server{svc: cfg.Service, reports: cfg.Reports, care: cfg.Aftercare, complaints: cfg.Complaints, canned: cfg.Canned, quality: cfg.Quality, privacy: cfg.Privacy, doors: cfg.Access, hooks: cfg.Outbound, log: cfg.Log, observe: cfg.Observe, recordings: cfg.Recordings,
		limits: newLimits(Doors(cfg.EmailMaxBytes), largeBodySlots, largeBodyWait)}
	s.deadlines = deadlines.New(cfg.Service)
	if cfg.Service != nil {
		s.delivery = delivery.New(cfg.Service)
		s.stages = stages.New(cfg.Service)
	}
	fc := fiber.Config{
		AppName:      "Hotline",
		ErrorHandler: s.handleError,
		// Bodies are streamed: handlers run once the headers are in, and the limits
		// middleware reads each body only as far as its door allows (limits.go). The largest
		// door (the email webhook) is the hard ceiling.
		StreamRequestBody: true,
		BodyLimit:         int(s.limits.ceiling),
		// Otherwise fasthttp would read a whole multipart body before any handler runs.
		DisablePreParseMultipartForm: true,
		ReadTimeout:                  30 * time.Second,
		WriteTimeout:                 30 * time.Second,
		IdleTimeout:                  2 * time.Minute,
		DisableStartupMessage:        true,
		Immutable:                    true, // values from c.Params and c.Query outlive the request safely
	}
	app := fiber.New(fc)
	// A client that asks before sending its body (Expect: 100-continue) is not invited to
	// send one its door would refuse.
	app.Server().ContinueHandler = s.limits.mayContinue
	app.Use(recover.New(), requestid.New(), s.logRequests, s.limits.handler)

	app.Get("/healthz", func(c *fiber.Ctx) error {
		if cfg.DeskID != "" {
			c.Set(DeskHeader, cfg.DeskID)
		}
		return c.JSON(fiber.Map{"status": "ok"})
	})
	app.Get("/readyz", readyz(cfg.Ready, cfg.MetricsToken, s.log))
	if cfg.Metrics != nil {
		app.Get("/metrics", adaptor.HTTPHandler(cfg.Metrics))
	}
	return app, s
}

// statusOf maps the domain's kinds of failure to HTTP statuses.
var statusOf = []struct {
	kind   error
	status int
}{
	{tickets.ErrNotFound, fiber.StatusNotFound},
	{tickets.ErrInvalid, fiber.StatusBadRequest},
	{tickets.ErrConflict, fiber.StatusConflict},
	{tickets.ErrForbidden, fiber.StatusForbidden},
	{tickets.ErrUnauthorized, fiber.StatusUnauthorized},
	{tickets.ErrTooMany, fiber.StatusTooManyRequests},
}

// ErrorStatus is the HTTP status an error answers with and the reason shown to the user:
// a *fiber.Error's own, the domain's kind of failure and its reason, or 500 with no reason
// for anything unexpected (whose details belong in the log only).
func ErrorStatus(err error) (int, string) {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return fe.Code, fe.Message
	}
	if reason := tickets.Reason(err); reason != "" {
		for _, k := range statusOf {
			if errors.Is(err, k.kind) {
				return k.status, reason
			}
		}
	}
	return fiber.StatusInternalServerError, ""
}

func (s *server) handleError(c *fiber.Ctx, err error) error {
	status, msg := ErrorStatus(err)
	if msg == "" {
		msg = "internal error"
	}
	if status >= 500 {
		s.log.Error("request failed", "request_id", requestID(c), "method", c.Method(), "path", c.Path(), "err", err)
	}
	return c.Status(status).JSON(fiber.Map{"error": msg})
}

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals("requestid").(string)
	return id
}

func (s *server) logRequests(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			return herr
		}
	}
	took, status := time.Since(start), c.Response().StatusCode()
	// Checked first as Debug checks it: its arguments cost allocations even when nothing is logged.
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.Debug("request", "request_id", requestID(c), "method", c.Method(), "path", c.Path(),
			"status", status, "duration", took)
	}
	if s.observe != nil {
		s.observe(c.Method(), routePattern(c), status, took)
	}
	return nil
}

// unmatchedKey marks a request that reached the catch-all 404 handler.
const unmatchedKey = "api.unmatched"

// routePattern is the registered pattern of the route that answered (/api/v1/tickets/:ref),
// so that metrics have one series per route, not per URL. A request that only middleware
// answered is named by that middleware's prefix, and one no route matched is "unmatched".
func routePattern(c *fiber.Ctx) string {
	if c.Locals(unmatchedKey) != nil {
		return "unmatched"
	}
	return c.Route().Path
}

// ClientAddr finds the client's address: the connection's peer, or, when that peer is a
// trusted load balancer, the right-most X-Forwarded-For entry no trusted proxy added. The
// left-most entries are whatever the client wrote, so they are never believed.
func ClientAddr(trusted []string) func(c *fiber.Ctx) string {
	var nets []*net.IPNet
	for _, p := range trusted {
		if !strings.Contains(p, "/") {
			if strings.Contains(p, ":") {
				p += "/128"
			} else {
				p += "/32"
			}
		}
		if _, n, err := net.ParseCIDR(p); err == nil {
			nets = append(nets, n)
		}
	}
	isTrusted := func(ip net.IP) bool {
		for _, n := range nets {
			if n.Contains(ip) {
				return true
			}
		}
		return false
	}
	return func(c *fiber.Ctx) string {
		peer := c.Context().RemoteIP()
		if !isTrusted(peer) {
			return peer.String()
		}
		hops := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			ip := net.ParseIP(strings.TrimSpace(hops[i]))
			if ip == nil {
				break
			}
			if !isTrusted(ip) {
				return ip.String()
			}
		}
		return peer.String()
	}
}

// decode reads a JSON body strictly: unknown fields are reported, so a typo is not silently
// ignored.
func decode(c *fiber.Ctx, v any) error {
	body := Body(c)
	if len(body) == 0 {
		return fiber.NewError(fiber.StatusBadRequest, "request body is empty; send JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(body)) // the decoder copies what it keeps
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "invalid JSON body: "+err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return fiber.NewError(fiber.StatusBadRequest, "invalid JSON body: unexpected data after the object")
	}
	return nil
}

// Body is the request body as c.Body() gives it, without the copy c.Body() makes (the app
// is Immutable) nor its reading of every header as a new string: the body the limits
// admitted (limits.go), valid only until the handler returns, for a caller that copies what
// it keeps. A body with a Content-Encoding (refused by the limits on an app New built) is
// left to c.Body().
func Body(c *fiber.Ctx) []byte {
	if len(c.Request().Header.Peek(fiber.HeaderContentEncoding)) != 0 {
		return c.Body()
	}
	return c.Request().Body()
}

// idParam reads a positive integer path parameter.
func idParam(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, fiber.NewError(fiber.StatusNotFound, fmt.Sprintf("%s %q is not a valid id", name, c.Params(name)))
	}
	return id, nil
}

// assigneeParam reads ?assignee=me|none|<agent id>: whose work a list shows.
func assigneeParam(c *fiber.Ctx) (id *int64, unassigned bool, err error) {
	switch v := c.Query("assignee"); v {
	case "":
		return nil, false, nil
	case "me":
		return &agentOf(c).ID, false, nil
	case "none":
		return nil, true, nil
	default:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, false, fiber.NewError(fiber.StatusBadRequest, `assignee must be an agent id, "me" or "none"`)
		}
		return &n, false, nil
	}
}

// timeParam reads an optional RFC 3339 time from the query; nil when absent.
func timeParam(c *fiber.Ctx, name string) (*time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, fiber.NewError(fiber.StatusBadRequest, name+" must be an RFC 3339 time such as 2026-11-25T09:00:00+08:00")
	}
	return &t, nil
}
