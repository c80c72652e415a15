// Package desk is the console's everyday work: the queues (/queue), the ticket page with
// its reply, note, assignment, status, priority, progress stage, documents and escalation
// forms (/tickets/:ref), the
// files a ticket carries (/attachments/:id), and logging a call or a visit (/calls).
package desk

import (
	"log/slog"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/canned"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/privacy"
	"github.com/hotlinedesk/hotline/tickets/stages"
)

// Handler serves the desk's pages and forms.
type Handler struct {
	kit        *ui.Kit
	svc        *tickets.Service
	complaints *complaints.Service // a customer's complaints beside a ticket; escalation
	care       *aftercare.Service  // a customer's survey answers beside a ticket
	recordings api.Recordings      // nil: no Twilio account to fetch call recordings with
	canned     *canned.Service     // the canned replies offered in the composer
	stages     *stages.Service     // a ticket's progress stages and the documents it waits for
	log        *slog.Logger
	categories []string         // what a logged call may be filed under
	privacy    *privacy.Service // which masked values the agent may reveal on a ticket
}

// DefaultCategories are the call categories when none are configured. The console names
// each in the agent's language (category.<name>); configured ones show as written.
var DefaultCategories = []string{"claims", "policy", "payment", "enquiry", "other"}

// SetCategories sets the categories a logged call is filed under (HOTLINE_CALL_CATEGORIES);
// empty means DefaultCategories.
func (h *Handler) SetCategories(cs []string) {
	h.categories = DefaultCategories
	if len(cs) > 0 {
		h.categories = cs
	}
}

// SetPrivacy sets who may reveal what (the "show" buttons of the ticket page); nil
// means the default rules.
func (h *Handler) SetPrivacy(p *privacy.Service) {
	if p == nil {
		p = privacy.New(h.svc, privacy.Config{})
	}
	h.privacy = p
}

// New is the desk over the service and the chapters it shows beside a ticket.
func New(kit *ui.Kit, svc *tickets.Service, cps *complaints.Service, care *aftercare.Service, recordings api.Recordings, log *slog.Logger) *Handler {
	return &Handler{kit: kit, svc: svc, complaints: cps, care: care, recordings: recordings, canned: canned.New(svc), stages: stages.New(svc), log: log, categories: DefaultCategories,
		privacy: privacy.New(svc, privacy.Config{})}
}

// Register mounts the desk's routes.
func (h *Handler) Register(r ui.Router) {
	r.Get("/queue", h.queue)
	r.Get("/queue/export.csv", h.exportQueue)
	r.Get("/tickets/:ref", h.ticket)
	r.Post("/tickets/:ref/reply", h.reply)
	r.Post("/tickets/:ref/note", h.note)
	r.Post("/tickets/:ref/assign", h.assign)
	r.Post("/tickets/:ref/status", h.status)
	r.Post("/tickets/:ref/priority", h.priority)
	r.Post("/tickets/:ref/escalate", h.escalate)
	r.Post("/tickets/:ref/stage", h.moveStage)
	r.Post("/tickets/:ref/documents", h.requestDocuments)
	r.Post("/tickets/:ref/documents/:id", h.tickDocument)
	r.Get("/attachments/:id", h.attachment)
	r.Get("/calls/new", h.newCall)
	r.Post("/calls", h.logCall)
}
