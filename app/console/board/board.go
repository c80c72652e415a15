// Package board is the console's complaints section: the complaints board (/complaints)
// and each complaint's page (/complaints/:ref), where complaint officers (and supervisors
// and admins) move, assign, decide and extend complaints. Any agent may read them, as the
// service allows; the forms are for those the service lets act. (It is not named
// complaints, which is the chapter it shows, tickets/complaints.)
package board

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
)

// Handler serves the complaints' pages and forms.
type Handler struct {
	kit        *ui.Kit
	svc        *tickets.Service // agents' names, the desk's calendar
	complaints *complaints.Service
}

// New is the complaints section over the complaints chapter.
func New(kit *ui.Kit, svc *tickets.Service, cps *complaints.Service) *Handler {
	return &Handler{kit: kit, svc: svc, complaints: cps}
}

// Register mounts the complaints' routes.
func (h *Handler) Register(r ui.Router) {
	r.Get("/complaints", h.complaintBoard)
	r.Get("/complaints/export.csv", h.exportRegister) // before /complaints/:ref
	r.Get("/complaints/:ref", h.complaintPage)
	r.Post("/complaints/:ref/status", h.complaintStatus)
	r.Post("/complaints/:ref/assign", h.complaintAssign)
	r.Post("/complaints/:ref/decision", h.complaintDecision)
	r.Post("/complaints/:ref/extend", h.complaintExtend)
}

// boardData is the complaints board: three columns, and how many are late or nearly so.
type boardData struct {
	View    string // "all" or "mine"
	Views   []string
	Board   *complaints.Board
	Columns []boardColumn
	Open    int
	Days    int   // how far back the decided column reaches
	After   int64 // the newest event when the board was read; its live feed starts there
}

type boardColumn struct {
	Key   string // received, investigating, decided
	Cards []cardView
}

// cardView is a complaint with its time left and outcome in the page's language.
type cardView struct {
	*complaints.Card
	Left      string // "3 working days left", "overdue by 2 working days", ...
	LeftState string // ok, warn or breach: the countdown's colour
	Outcome   string // the decision's outcome, named
}

func cardOf(lang string, k *complaints.Card) cardView {
	v := cardView{Card: k, Outcome: outcomeLabel(lang, k.Complaint.Outcome)}
	v.Left, v.LeftState = daysLeft(lang, k)
	return v
}

func cardsOf(lang string, ks []*complaints.Card) []cardView {
	out := make([]cardView, len(ks))
	for i, k := range ks {
		out[i] = cardOf(lang, k)
	}
	return out
}

var boardViews = []string{"all", "mine"}

// boardDecidedDays is how far back the board shows decided complaints.
const boardDecidedDays = 30

// complaintBoard serves GET /complaints?view=all|mine.
func (h *Handler) complaintBoard(ctx *fiber.Ctx, a *tickets.Agent) error {
	d := boardData{View: ctx.Query("view", "all"), Views: boardViews, Days: boardDecidedDays}
	f := complaints.BoardFilter{DecidedDays: boardDecidedDays}
	switch d.View {
	case "all":
	case "mine":
		f.OfficerID = &a.ID
	default:
		return fiber.NewError(fiber.StatusBadRequest, ui.T(ui.Lang(ctx, a), "complaints.err.view"))
	}
	// Read before the board, so that whatever commits after it is news to the live feed.
	var err error
	if d.After, err = h.svc.LastEventID(ctx.UserContext()); err != nil {
		return err
	}
	b, err := h.complaints.Board(ctx.UserContext(), f)
	if err != nil {
		return err
	}
	d.Board, d.Open = b, len(b.Received)+len(b.Investigating)
	lang := ui.Lang(ctx, a)
	d.Columns = []boardColumn{{"received", cardsOf(lang, b.Received)}, {"investigating", cardsOf(lang, b.Investigating)},
		{"decided", cardsOf(lang, b.Decided)}}
	v := h.kit.View(ctx, a, "complaints", d)
	v.Title = v.T("complaints.title")
	return h.kit.Render(ctx, "complaints", v)
}

// complaintData is the complaint page.
type complaintData struct {
	C         *complaints.Detail
	Card      cardView
	Events    []complaintEvent
	Moves     []complaintMove
	Outcomes  []outcomeOption
	Mine      bool
	CanAct    bool   // the signed-in agent may change it
	ExtendMin string // the first date an extension may name, for the date picker
	Form      complaintForm
	// Messages are the ticket's conversation with the customer (no internal notes): what
	// the complaint is about, in their words and ours.
	Messages []*tickets.Message
	Agents   map[int64]string // who wrote our messages
}

// confirmData is the decision's confirmation page: what the customer will read.
type confirmData struct {
	C            *complaints.Detail
	Form         complaintForm
	OutcomeLabel string
	CustomerText string // the decision as the customer's notice words it, in their language
}

// complaintEvent is a line of the complaint's history, ready to show.
type complaintEvent struct {
	At     time.Time
	Kind   string
	Who    string
	Detail string
}

// complaintMove is a status the complaint may be moved to, and its button's label.
type complaintMove struct {
	To    tickets.ComplaintStatus
	Label string
}

// outcomeOption is an outcome the decision form offers.
type outcomeOption struct{ Value, Label string }

// complaintForm is what was typed into a refused form, so nobody types a decision twice.
type complaintForm struct {
	Decision, Outcome, Until, Reason, StatusReason string
}

// complaintPage serves GET /complaints/:ref.
func (h *Handler) complaintPage(ctx *fiber.Ctx, a *tickets.Agent) error {
	return h.showComplaint(ctx, a, fiber.StatusOK, complaintForm{}, nil)
}

// showComplaint draws the complaint page; with a refusal it keeps what was typed and shows
// the reason, answering with the refusal's status.
func (h *Handler) showComplaint(ctx *fiber.Ctx, a *tickets.Agent, status int, form complaintForm, refusal *ui.Flash) error {
	cx, lang := ctx.UserContext(), ui.Lang(ctx, a)
	cd, err := h.complaints.Detail(cx, complaintRef(ctx))
	if err != nil {
		return err
	}
	agents, err := h.svc.Agents(cx, nil)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, ag := range agents {
		names[ag.ID] = ag.Name
	}
	d := &complaintData{C: cd, Card: cardOf(lang, cd.Card), CanAct: complaints.CanHandle(a), Form: form,
		Mine: cd.OfficerID != nil && *cd.OfficerID == a.ID, Agents: names}
	if cd.Ticket != nil {
		td, err := h.svc.Ticket(cx, cd.Ticket.Ref())
		if err != nil {
			return err
		}
		for _, m := range td.Messages {
			if m.Direction != tickets.DirectionNote {
				d.Messages = append(d.Messages, m)
			}
		}
	}
	for _, o := range complaints.Outcomes {
		d.Outcomes = append(d.Outcomes, outcomeOption{o, outcomeLabel(lang, o)})
	}
	loc := h.svc.Calendar().Location()
	d.ExtendMin = cd.DueAt.In(loc).AddDate(0, 0, 1).Format(time.DateOnly)
	for _, m := range cd.Moves {
		key := "complaints.to." + string(m)
		if m == tickets.ComplaintInvestigating && cd.Status == tickets.ComplaintDecided {
			key = "complaints.to.reopen"
		}
		d.Moves = append(d.Moves, complaintMove{To: m, Label: ui.T(lang, key)})
	}
	for _, e := range cd.Events {
		d.Events = append(d.Events, complaintEvent{At: e.CreatedAt, Kind: e.Kind, Who: eventActor(lang, e, names),
			Detail: complaintEventDetail(lang, loc, e, names)})
	}
	v := h.kit.View(ctx, a, "complaints", d)
	v.Title = cd.Ref() + " " + cd.Summary
	if refusal != nil {
		v.Flash = refusal
	}
	return h.kit.RenderStatus(ctx, status, "complaint", v)
}

// refuse answers a complaint form the service or the console turned down. A form that
// cannot be right as typed (4xx) shows the page again with the reason and what was typed;
// a refusal by role, an unknown complaint and server errors go the usual way.
func (h *Handler) refuse(ctx *fiber.Ctx, a *tickets.Agent, err error, form complaintForm) error {
	status, reason := ui.Status(err)
	if status >= 500 || status == fiber.StatusForbidden || status == fiber.StatusUnauthorized {
		return err
	}
	if err := h.showComplaint(ctx, a, status, form, &ui.Flash{Text: reason, Error: true}); err != nil {
		if s, r := ui.Status(err); s == fiber.StatusNotFound {
			return h.kit.ErrorPage(ctx, a, s, r) // the complaint itself is unknown: nowhere to go back to
		}
		return err
	}
	return nil
}

// mayAct refuses agents the service would refuse, before anything they typed is checked.
func mayAct(ctx *fiber.Ctx, a *tickets.Agent) error {
	if !complaints.CanHandle(a) {
		return fiber.NewError(fiber.StatusForbidden, ui.T(ui.Lang(ctx, a), "complaints.read_only"))
	}
	return nil
}

func complaintRef(ctx *fiber.Ctx) string {
	return strings.ToUpper(strings.TrimSpace(ctx.Params("ref")))
}

func complaintURL(ref string) string { return "/complaints/" + ref }

// complaintStatus serves POST /complaints/:ref/status: status, reason.
func (h *Handler) complaintStatus(ctx *fiber.Ctx, a *tickets.Agent) error {
	if err := mayAct(ctx, a); err != nil {
		return err
	}
	ref, lang := complaintRef(ctx), ui.Lang(ctx, a)
	form := complaintForm{StatusReason: ctx.FormValue("reason")}
	to := tickets.ComplaintStatus(strings.TrimSpace(ctx.FormValue("status")))
	if to == "" {
		return h.refuse(ctx, a, fiber.NewError(fiber.StatusBadRequest, ui.T(lang, "complaints.err.status")), form)
	}
	cp, err := h.complaints.SetStatus(ctx.UserContext(), tickets.AgentActor(a), ref, to, form.StatusReason)
	if err != nil {
		return h.refuse(ctx, a, err, form)
	}
	return ui.Redirect(ctx, complaintURL(cp.Ref()), ui.T(lang, "complaints.done.status", ui.T(lang, "complaints.st."+string(cp.Status))))
}

// complaintAssign serves POST /complaints/:ref/assign: officer (an agent id, or "me").
func (h *Handler) complaintAssign(ctx *fiber.Ctx, a *tickets.Agent) error {
	if err := mayAct(ctx, a); err != nil {
		return err
	}
	ref, lang := complaintRef(ctx), ui.Lang(ctx, a)
	var id int64
	switch v := strings.TrimSpace(ctx.FormValue("officer")); v {
	case "me":
		id = a.ID
	default:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return h.refuse(ctx, a, fiber.NewError(fiber.StatusBadRequest, ui.T(lang, "complaints.err.officer")), complaintForm{})
		}
		id = n
	}
	cp, err := h.complaints.Assign(ctx.UserContext(), tickets.AgentActor(a), ref, id)
	if err != nil {
		return h.refuse(ctx, a, err, complaintForm{})
	}
	name := ""
	if cp.Officer != nil {
		name = cp.Officer.Name
	}
	return ui.Redirect(ctx, complaintURL(cp.Ref()), ui.T(lang, "complaints.done.assigned", name))
}

// complaintDecision serves POST /complaints/:ref/decision: decision, outcome. The
// customer is told the decision at once, so it is recorded only with confirmed=1, posted
// from the confirmation page that shows the text they will receive; edit=1 goes back to
// the complaint's page with the text kept.
func (h *Handler) complaintDecision(ctx *fiber.Ctx, a *tickets.Agent) error {
	if err := mayAct(ctx, a); err != nil {
		return err
	}
	ref, lang := complaintRef(ctx), ui.Lang(ctx, a)
	form := complaintForm{Decision: ctx.FormValue("decision"), Outcome: strings.TrimSpace(ctx.FormValue("outcome"))}
	switch {
	case strings.TrimSpace(form.Decision) == "":
		return h.refuse(ctx, a, fiber.NewError(fiber.StatusBadRequest, ui.T(lang, "complaints.err.decision")), form)
	case !complaints.ValidOutcome(form.Outcome):
		return h.refuse(ctx, a, fiber.NewError(fiber.StatusBadRequest, ui.T(lang, "complaints.err.outcome")), form)
	case ctx.FormValue("edit") == "1":
		return h.showComplaint(ctx, a, fiber.StatusOK, form, nil)
	case ctx.FormValue("confirmed") != "1":
		return h.confirmDecision(ctx, a, form)
	}
	cp, err := h.complaints.Decide(ctx.UserContext(), tickets.AgentActor(a), ref, form.Decision, form.Outcome)
	if err != nil {
		return h.refuse(ctx, a, err, form)
	}
	return ui.Redirect(ctx, complaintURL(cp.Ref()), ui.T(lang, "complaints.done.decided"))
}

// confirmDecision shows the decision as the customer will receive it, with the buttons
// that send it or go back to change it.
func (h *Handler) confirmDecision(ctx *fiber.Ctx, a *tickets.Agent, form complaintForm) error {
	cx, lang := ctx.UserContext(), ui.Lang(ctx, a)
	cd, err := h.complaints.Detail(cx, complaintRef(ctx))
	if err != nil {
		return h.refuse(ctx, a, err, form)
	}
	if !cd.Open() {
		return h.refuse(ctx, a, fiber.NewError(fiber.StatusConflict, ui.T(lang, "complaints.err.not_open")), complaintForm{})
	}
	locale := ""
	if cd.Ticket != nil && cd.Ticket.Customer != nil {
		locale = cd.Ticket.Customer.Locale
	}
	text, err := h.svc.Notice(cx, tickets.TemplateComplaintDecided, locale, tickets.TemplateData{Complaint: cd.Ref(), Decision: form.Decision})
	if err != nil {
		return fmt.Errorf("word the decision for the customer: %w", err)
	}
	v := h.kit.View(ctx, a, "complaints", confirmData{C: cd, Form: form, OutcomeLabel: outcomeLabel(lang, form.Outcome), CustomerText: text})
	v.Title = v.T("complaints.confirm_title", cd.Ref())
	return h.kit.Render(ctx, "complaint_confirm", v)
}

// complaintExtend serves POST /complaints/:ref/extend: until (a date, YYYY-MM-DD, meaning
// the end of that working day in the desk's calendar zone), reason.
func (h *Handler) complaintExtend(ctx *fiber.Ctx, a *tickets.Agent) error {
	if err := mayAct(ctx, a); err != nil {
		return err
	}
	ref, lang := complaintRef(ctx), ui.Lang(ctx, a)
	form := complaintForm{Until: strings.TrimSpace(ctx.FormValue("until")), Reason: ctx.FormValue("reason")}
	if form.Until == "" {
		return h.refuse(ctx, a, fiber.NewError(fiber.StatusBadRequest, ui.T(lang, "complaints.err.date")), form)
	}
	until, err := h.svc.Calendar().EndOfWorkingDay(form.Until)
	if err != nil {
		return h.refuse(ctx, a, err, form)
	}
	cp, err := h.complaints.Extend(ctx.UserContext(), tickets.AgentActor(a), ref, until, form.Reason)
	if err != nil {
		return h.refuse(ctx, a, err, form)
	}
	return ui.Redirect(ctx, complaintURL(cp.Ref()), ui.T(lang, "complaints.done.extended", until.In(h.svc.Calendar().Location()).Format(time.DateOnly)))
}

// eventActor names who made a change.
func eventActor(lang string, e *tickets.Event, names map[int64]string) string {
	switch e.ActorKind {
	case "agent":
		if e.ActorID != nil && names[*e.ActorID] != "" {
			return names[*e.ActorID]
		}
		return e.Actor
	case "customer":
		return ui.T(lang, "ticket.from_customer")
	}
	return ui.T(lang, "ticket.system")
}

// complaintEventDetail shows a complaint event's particulars in a line, in the page's
// language: statuses and outcomes translated, officers named, times as dates of the desk.
func complaintEventDetail(lang string, loc *time.Location, e *tickets.Event, names map[int64]string) string {
	var d struct {
		Source  string          `json:"source"`
		DueAt   string          `json:"due_at"`
		From    json.RawMessage `json:"from"`
		To      json.RawMessage `json:"to"`
		Reason  string          `json:"reason"`
		Outcome string          `json:"outcome"`
		OnTime  *bool           `json:"on_time"`
		Via     string          `json:"via"`
	}
	if json.Unmarshal([]byte(e.Data), &d) != nil {
		return ""
	}
	day := func(s string) string {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.In(loc).Format(time.DateOnly)
		}
		return s
	}
	str := func(raw json.RawMessage) string {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	}
	officer := func(raw json.RawMessage) string {
		var id int64
		if json.Unmarshal(raw, &id) == nil && id > 0 {
			if n := names[id]; n != "" {
				return n
			}
			return "#" + strconv.FormatInt(id, 10)
		}
		return "—"
	}
	var parts []string
	switch e.Kind {
	case "complaint.opened":
		parts = append(parts, ui.T(lang, "complaints.d.source", ui.T(lang, "complaints.src."+d.Source)))
		if d.DueAt != "" {
			parts = append(parts, ui.T(lang, "complaints.d.due", day(d.DueAt)))
		}
	case "complaint.status_changed":
		parts = append(parts, ui.T(lang, "complaints.st."+str(d.From))+" → "+ui.T(lang, "complaints.st."+str(d.To)))
	case "complaint.assigned":
		parts = append(parts, officer(d.From)+" → "+officer(d.To))
	case "complaint.decided":
		parts = append(parts, ui.T(lang, "complaints.d.outcome", outcomeLabel(lang, d.Outcome)))
		if d.OnTime != nil {
			parts = append(parts, map[bool]string{true: ui.T(lang, "complaints.on_time"), false: ui.T(lang, "complaints.late")}[*d.OnTime])
		}
	case "complaint.extended":
		parts = append(parts, day(str(d.From))+" → "+day(str(d.To)))
	case "complaint.warning", "complaint.breached":
		parts = append(parts, ui.T(lang, "complaints.d.due", day(d.DueAt)))
	case "notice.acknowledged":
		if d.Via != "" {
			parts = append(parts, strings.ToUpper(d.Via[:1])+d.Via[1:])
		}
	}
	if r := strings.TrimSpace(d.Reason); r != "" {
		parts = append(parts, ui.T(lang, "complaints.d.reason", r))
	}
	return strings.Join(parts, " · ")
}

// outcomeLabel names an outcome in lang; one recorded through the API in other words shows
// as it was written.
func outcomeLabel(lang, outcome string) string {
	if complaints.ValidOutcome(outcome) {
		return ui.T(lang, "complaints.out."+outcome)
	}
	return outcome
}

// daysLeft is how a card says its time left, and the colour it says it in.
func daysLeft(lang string, k *complaints.Card) (string, string) {
	switch {
	case k.Overdue && k.DaysLeft < -1:
		return ui.T(lang, "complaints.overdue_by", -k.DaysLeft), "breach"
	case k.Overdue && k.DaysLeft == -1:
		return ui.T(lang, "complaints.overdue_one"), "breach"
	case k.Overdue:
		return ui.T(lang, "complaints.overdue"), "breach"
	case k.DaysLeft <= 0:
		return ui.T(lang, "complaints.due_today"), "warn"
	case k.DaysLeft == 1:
		return ui.T(lang, "complaints.left_one"), "warn"
	case k.DueSoon:
		return ui.T(lang, "complaints.left", k.DaysLeft), "warn"
	}
	return ui.T(lang, "complaints.left", k.DaysLeft), "ok"
}
