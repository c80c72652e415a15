package admin

import (
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
)

// noticeOrder is the order notices are listed in: as a ticket's life goes. Notices the
// service adds later follow.
var noticeOrder = []string{tickets.TemplateAcknowledged, tickets.TemplateStageChanged,
	tickets.TemplateDocumentsRequested, tickets.TemplateResolved, tickets.TemplateComplaintReceived, tickets.TemplateComplaintExtended, tickets.TemplateComplaintDecided}

// noticePlaceholders are the variables that mean something in each notice.
var noticePlaceholders = map[string][]string{
	tickets.TemplateAcknowledged:       {"Ref", "Due"},
	tickets.TemplateResolved:           {"Ref"},
	tickets.TemplateStageChanged:       {"Ref", "Stage", "Items"},
	tickets.TemplateDocumentsRequested: {"Ref", "Items"},
	tickets.TemplateComplaintReceived:  {"Complaint", "Ref", "Due"},
	tickets.TemplateComplaintDecided:   {"Complaint", "Ref", "Decision"},
	tickets.TemplateComplaintExtended:  {"Complaint", "Ref", "Due", "Reason"},
}

var allPlaceholders = []string{"Ref", "Complaint", "Due", "Decision", "Reason", "Stage", "Items"}

// noticeVersion is one language's wording of a notice.
type noticeVersion struct {
	Locale  string
	Body    string // as saved, or as typed when refused
	Custom  bool   // an admin's wording, not the built-in one
	Preview string // the saved wording rendered with sample data
	Length  int    // the preview's length in characters
	Error   string // why the typed wording was refused
}

type notice struct {
	Key          string
	Placeholders []string
	Versions     []noticeVersion // zh, en
}

type templatesData struct {
	adminPage
	Notices []notice
	All     []string
}

// adminTemplates serves GET /admin/templates: every customer notice in Chinese and
// English, with what it may refer to and how it reads.
func (h *Handler) adminTemplates(ctx *fiber.Ctx, a *tickets.Agent) error {
	return h.showTemplates(ctx, a, nil, "", "", "")
}

// sampleNotice is what a notice's preview is rendered with, in its language: the due
// time as the service words it (a date and time for an acknowledgement, a date for a
// complaint's answer).
func (h *Handler) sampleNotice(key, locale string) tickets.TemplateData {
	cal := h.svc.Calendar()
	now := h.kit.Now()
	due := cal.AddWorkingDays(now, 10).In(cal.Location()).Format(time.DateOnly)
	if key == tickets.TemplateAcknowledged {
		due = now.Add(24 * time.Hour).In(cal.Location()).Format("2006-01-02 15:04")
	}
	d := tickets.TemplateData{Ref: "HL-000123", Complaint: "CP-000042", Due: due,
		Decision: "同意按保单第 5 条赔付 8,000 元，款项将于 3 个工作日内到账。", Reason: "需要等待医院出具的诊断证明。",
		Stage: "正在调查", Items: "医院诊断证明、发票原件"}
	if locale == "en" {
		d.Decision = "We will pay ¥8,000 under clause 5 of your policy; the money arrives within 3 working days."
		d.Reason = "we are waiting for the hospital's report."
		d.Stage, d.Items = "Under investigation", "the hospital's diagnosis, the original invoice"
	}
	return d
}

func (h *Handler) showTemplates(ctx *fiber.Ctx, a *tickets.Agent, r *refused, key, locale, typed string) error {
	d := templatesData{adminPage: newAdminPage("templates"), All: allPlaceholders}
	status := r.set(&d.adminPage)
	views, err := h.delivery.Templates(ctx.UserContext())
	if err != nil {
		return err
	}
	byKey := map[string]*notice{}
	var keys []string
	matched := false // the refused wording is shown at its notice; else above them all
	for _, k := range noticeOrder {
		byKey[k] = &notice{Key: k, Placeholders: noticePlaceholders[k]}
		keys = append(keys, k)
	}
	for _, tv := range views {
		n, ok := byKey[tv.Key]
		if !ok {
			n = &notice{Key: tv.Key, Placeholders: allPlaceholders}
			byKey[tv.Key] = n
			keys = append(keys, tv.Key)
		}
		nv := noticeVersion{Locale: tv.Locale, Body: tv.Body, Custom: tv.Custom}
		if preview, err := h.svc.Notice(ctx.UserContext(), tv.Key, tv.Locale, h.sampleNotice(tv.Key, tv.Locale)); err == nil {
			nv.Preview = preview // a saved wording always renders: it was tried before it was saved
		}
		nv.Length = utf8.RuneCountInString(nv.Preview)
		if r != nil && tv.Key == key && tv.Locale == locale {
			nv.Body, nv.Error = typed, r.reason
			matched = true
		}
		n.Versions = append(n.Versions, nv)
	}
	if !matched {
		d.Refused = ""
	}
	for _, k := range keys {
		n := byKey[k]
		if len(n.Versions) == 0 {
			continue // a notice the service no longer has
		}
		if n.Versions[0].Locale != "zh" && len(n.Versions) == 2 {
			n.Versions[0], n.Versions[1] = n.Versions[1], n.Versions[0]
		}
		d.Notices = append(d.Notices, *n)
	}
	return h.kit.RenderStatus(ctx, status, "admin_templates", h.adminView(ctx, a, "admin.templates", d))
}

// saveTemplate serves POST /admin/templates/:key/:locale (body); restore=1, or an empty
// body, brings back the built-in wording.
func (h *Handler) saveTemplate(ctx *fiber.Ctx, a *tickets.Agent) error {
	key, locale := ctx.Params("key"), ctx.Params("locale")
	body := strings.ReplaceAll(ctx.FormValue("body"), "\r\n", "\n")
	if ctx.FormValue("restore") == "1" {
		body = ""
	}
	if err := h.delivery.SetTemplate(ctx.UserContext(), tickets.AgentActor(a), key, locale, body); err != nil {
		if r, ok := refusal("template", err); ok && !errors.Is(err, tickets.ErrNotFound) {
			return h.showTemplates(ctx, a, r, key, locale, body)
		}
		return err
	}
	lang := ui.Lang(ctx, a)
	msg := ui.T(lang, "admin.tpl.saved", ui.T(lang, "admin.tpl."+key), strings.ToUpper(locale))
	if strings.TrimSpace(body) == "" {
		msg = ui.T(lang, "admin.tpl.restored", ui.T(lang, "admin.tpl."+key), strings.ToUpper(locale))
	}
	return ui.Redirect(ctx, "/admin/templates#tpl-"+key, msg)
}
