package api

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets/access"
)

// peopleOnly marks routes about the signed-in person (their session, password, presence,
// notices): no API key may use them, whatever its scopes.
const peopleOnly access.Scope = ""

// routeScopes is the scope an API key needs for each authenticated /api/v1 route, keyed by
// method and path as registered. Every authenticated route must have a row: registering
// one without panics, so no route is left open to every key.
var routeScopes = map[string]access.Scope{
	"POST /auth/logout":  peopleOnly,
	"GET /me":            peopleOnly,
	"POST /me/password":  peopleOnly,
	"POST /me/presence":  peopleOnly,
	"GET /notices":       peopleOnly,
	"POST /notices/read": peopleOnly,

	"GET /tickets":                         access.ScopeTicketsRead,
	"GET /tickets/:ref":                    access.ScopeTicketsRead,
	"GET /attachments/:id":                 access.ScopeTicketsRead,
	"GET /customers":                       access.ScopeTicketsRead,
	"GET /customers/:id":                   access.ScopeTicketsRead,
	"GET /agents":                          access.ScopeTicketsRead,
	"GET /agents/:id":                      access.ScopeTicketsRead,
	"GET /teams":                           access.ScopeTicketsRead,
	"GET /teams/:id":                       access.ScopeTicketsRead,
	"GET /calendar/deadline":               access.ScopeTicketsRead,
	"GET /calendar/days":                   access.ScopeTicketsRead,
	"GET /canned-replies":                  access.ScopeTicketsRead,
	"GET /tickets/:ref/canned-replies/:id": access.ScopeTicketsRead,
	"GET /followups":                       access.ScopeTicketsRead,
	"POST /tickets":                        access.ScopeTicketsWrite,
	"POST /tickets/:ref/replies":           access.ScopeTicketsWrite,
	"POST /tickets/:ref/notes":             access.ScopeTicketsWrite,
	"POST /tickets/:ref/assign":            access.ScopeTicketsWrite,
	"POST /tickets/:ref/status":            access.ScopeTicketsWrite,
	"POST /tickets/:ref/priority":          access.ScopeTicketsWrite,
	"POST /tickets/:ref/category":          access.ScopeTicketsWrite,
	"PATCH /customers/:id":                 access.ScopeTicketsWrite,
	"POST /followups/:id/complete":         access.ScopeTicketsWrite,
	"GET /complaints":                      access.ScopeComplaints,
	"GET /complaints.csv":                  access.ScopeComplaints,
	"POST /complaints":                     access.ScopeComplaints,
	"GET /complaints/:ref":                 access.ScopeComplaints,
	"POST /complaints/:ref/status":         access.ScopeComplaints,
	"POST /complaints/:ref/assign":         access.ScopeComplaints,
	"POST /complaints/:ref/decision":       access.ScopeComplaints,
	"POST /complaints/:ref/extend":         access.ScopeComplaints,
	"GET /tickets.csv":                     access.ScopeReports,
	"GET /reports/csat":                    access.ScopeReports,
	"GET /reports/floor":                   access.ScopeReports,
	"GET /reports/kpi.csv":                 access.ScopeReports,
	"POST /agents":                         access.ScopeAdmin,
	"PATCH /agents/:id":                    access.ScopeAdmin,
	"DELETE /agents/:id":                   access.ScopeAdmin,
	"POST /agents/:id/unlock":              access.ScopeAdmin,
	"POST /agents/:id/2fa/reset":           access.ScopeAdmin,
	"POST /teams":                          access.ScopeAdmin,
	"PATCH /teams/:id":                     access.ScopeAdmin,
	"DELETE /teams/:id":                    access.ScopeAdmin,
	"GET /sla-policies":                    access.ScopeAdmin,
	"POST /sla-policies":                   access.ScopeAdmin,
	"PUT /sla-policies/:id":                access.ScopeAdmin,
	"DELETE /sla-policies/:id":             access.ScopeAdmin,
	"GET /routing-rules":                   access.ScopeAdmin,
	"POST /routing-rules":                  access.ScopeAdmin,
	"PUT /routing-rules/:id":               access.ScopeAdmin,
	"DELETE /routing-rules/:id":            access.ScopeAdmin,
	"PUT /calendar/days/:day":              access.ScopeAdmin,
	"POST /canned-replies":                 access.ScopeAdmin,
	"PUT /canned-replies/:id":              access.ScopeAdmin,
	"DELETE /canned-replies/:id":           access.ScopeAdmin,
	"GET /templates":                       access.ScopeAdmin,
	// Progress stages: reading and moving tickets; the lists are the admins'.
	"GET /tickets/:ref/progress":       access.ScopeTicketsRead,
	"GET /stages":                      access.ScopeTicketsRead,
	"POST /tickets/:ref/stage":         access.ScopeTicketsWrite,
	"POST /tickets/:ref/documents":     access.ScopeTicketsWrite,
	"POST /tickets/:ref/documents/:id": access.ScopeTicketsWrite,
	"PUT /stages/:category":            access.ScopeAdmin,
	// A customer's values in full, their copy, erasure, holds and the retention policy
	// hand out or remove personal information: only an admin key.
	"POST /customers/:id/reveal":    access.ScopeAdmin,
	"GET /customers/:id/export":     access.ScopeAdmin,
	"POST /customers/:id/erase":     access.ScopeAdmin,
	"GET /customers/:id/privacy":    access.ScopeAdmin,
	"POST /legal-holds":             peopleOnly, // a person's legal decision (tickets/privacy)
	"POST /legal-holds/:id/release": peopleOnly,
	"GET /retention-policy":         access.ScopeAdmin,
	"PUT /retention-policy":         access.ScopeAdmin,
	// Scorecards and frequent issues are reports; the targets are the admins'.
	"GET /reports/scorecard":           access.ScopeReports,
	"GET /reports/scorecard/tickets":   access.ScopeReports,
	"GET /reports/targets":             access.ScopeReports,
	"GET /reports/frequent-issues":     access.ScopeReports,
	"GET /reports/frequent-issues.csv": access.ScopeReports,
	"PUT /reports/targets":             access.ScopeAdmin,
	// Quality reviews are read as reports; a review and its answer are a person's judgement.
	"GET /quality/rubrics":             access.ScopeReports,
	"GET /quality/sample":              access.ScopeReports,
	"GET /quality/reviews":             access.ScopeReports,
	"GET /quality/reviews/:id":         access.ScopeReports,
	"GET /quality/calibration/:ref":    access.ScopeReports,
	"POST /quality/rubrics":            access.ScopeAdmin,
	"PUT /quality/rubrics/:id":         access.ScopeAdmin,
	"DELETE /quality/rubrics/:id":      access.ScopeAdmin,
	"POST /quality/reviews":            peopleOnly,
	"POST /quality/reviews/:id/answer": peopleOnly,

	"PUT /templates/:key/:locale": access.ScopeAdmin,
	"GET /api-keys":               access.ScopeAdmin,
	"POST /api-keys":              access.ScopeAdmin,
	"DELETE /api-keys/:id":        access.ScopeAdmin,
	// Outbound webhooks: what Hotline tells other systems, and their secrets, are the admins'.
	"GET /webhooks":                          access.ScopeAdmin,
	"POST /webhooks":                         access.ScopeAdmin,
	"GET /webhooks/:id":                      access.ScopeAdmin,
	"PATCH /webhooks/:id":                    access.ScopeAdmin,
	"DELETE /webhooks/:id":                   access.ScopeAdmin,
	"POST /webhooks/:id/rotate-secret":       access.ScopeAdmin,
	"POST /webhooks/:id/pause":               access.ScopeAdmin,
	"POST /webhooks/:id/resume":              access.ScopeAdmin,
	"POST /webhooks/:id/ping":                access.ScopeAdmin,
	"GET /webhooks/:id/deliveries":           access.ScopeAdmin,
	"GET /webhook-deliveries/:id":            access.ScopeAdmin,
	"POST /webhook-deliveries/:id/redeliver": access.ScopeAdmin,
}

// scoped registers authenticated routes, each behind the scope routeScopes gives it.
type scoped struct{ r fiber.Router }

func (g scoped) add(method, path string, h fiber.Handler) {
	scope, ok := routeScopes[method+" "+path]
	if !ok {
		panic(fmt.Sprintf("api: no scope for %s %s in routeScopes", method, path))
	}
	g.r.Add(method, path, needScope(scope), h)
}

func (g scoped) Get(path string, h fiber.Handler)    { g.add(fiber.MethodGet, path, h) }
func (g scoped) Post(path string, h fiber.Handler)   { g.add(fiber.MethodPost, path, h) }
func (g scoped) Put(path string, h fiber.Handler)    { g.add(fiber.MethodPut, path, h) }
func (g scoped) Patch(path string, h fiber.Handler)  { g.add(fiber.MethodPatch, path, h) }
func (g scoped) Delete(path string, h fiber.Handler) { g.add(fiber.MethodDelete, path, h) }

// needScope lets people through (their role is checked by the service) and an API key only
// when it was granted scope.
func needScope(scope access.Scope) fiber.Handler {
	return func(c *fiber.Ctx) error {
		k := keyOf(c)
		if k == nil {
			return c.Next()
		}
		if scope == peopleOnly {
			return fiber.NewError(fiber.StatusForbidden, "this route is for people signed in, not API keys")
		}
		if !k.Has(scope) {
			return fiber.NewError(fiber.StatusForbidden, fmt.Sprintf("this API key lacks the %s scope", scope))
		}
		return c.Next()
	}
}

// RouteScope is the scope an API key needs for the authenticated route method path (as
// registered, under /api/v1), "" for routes only people may use; ok is false for a route
// with no row.
func RouteScope(method, path string) (scope string, ok bool) {
	s, ok := routeScopes[method+" "+path]
	return string(s), ok
}
