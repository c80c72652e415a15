package desk

import (
	"errors"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/canned"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/privacy"
	"github.com/hotlinedesk/hotline/tickets/stages"
)

// ticketData is the ticket page: the timeline, the customer panel and what can be done.
type ticketData struct {
	T          *tickets.TicketDetail
	Timeline   []timelineItem
	Others     []*tickets.Ticket       // the customer's other tickets
	Complaints []*complaints.Complaint // the customer's complaints, newest first
	Surveys    []*aftercare.Survey     // the surveys the customer answered, newest first
	Reply      *tickets.ReplyOptions
	Teams      []*tickets.Team
	Agents     []*tickets.Agent
	Statuses   []tickets.Status // the status now (preselected), then where it may move
	Prios      []tickets.Priority
	After      int64
	MayTake    bool            // "Take it" is offered: the agent may take it and it is not theirs
	CanResolve bool            // "Resolve" is offered
	From       string          // the queue the ticket was opened from (view=…&status=…), "" if none
	Back       string          // that queue's URL
	Canned     []canned.Filled // the composer's canned replies, filled for this ticket
	Progress   *stages.Progress
	NextStage  int64           // the stage preselected in the stage control: the one after the current
	Reveal     map[string]bool // the fields the agent may reveal here ("show" buttons)
}

// timelineItem is a message or an audit event, in the order they happened.
type timelineItem struct {
	At      time.Time
	Message *tickets.Message
	Event   *tickets.Event
	Line    ui.Line        // an event as the story tells it
	Group   []timelineItem // consecutive system events folded into one line, under a disclosure
}

// messageEvents are audit events the timeline already shows as messages.
var messageEvents = map[string]bool{"message.received": true, "reply.queued": true, "message.sent": true, "note.added": true}

// ticket serves GET /tickets/:ref; partial=timeline answers the timeline alone, for live
// refreshes that must not disturb a reply being typed.
func (h *Handler) ticket(ctx *fiber.Ctx, a *tickets.Agent) error {
	d, err := h.ticketData(ctx, a, ctx.Params("ref"))
	if err != nil {
		return err
	}
	v := h.kit.View(ctx, a, "queue", d)
	v.Title = d.T.Ref() + " " + privacy.MaskText(d.T.Subject)
	if ctx.Query("partial") == "timeline" {
		return h.kit.Render(ctx, "ticket_timeline", v)
	}
	if d.Canned, err = h.canned.ForTicket(ctx.UserContext(), tickets.AgentActor(a), d.T.Ticket); err != nil {
		return err
	}
	return h.kit.Render(ctx, "ticket", v)
}

func (h *Handler) ticketData(ctx *fiber.Ctx, a *tickets.Agent, ref string) (*ticketData, error) {
	cx := ctx.UserContext()
	t, err := h.svc.Ticket(cx, strings.ToUpper(strings.TrimSpace(ref)))
	if err != nil {
		return nil, err
	}
	d := &ticketData{T: t, Prios: []tickets.Priority{tickets.PriorityLow, tickets.PriorityNormal, tickets.PriorityHigh, tickets.PriorityUrgent},
		From: fromQueue(ctx.Query("from")), Back: "/queue"}
	if d.From != "" {
		d.Back += "?" + d.From
	}
	if d.MayTake, err = h.svc.MayTake(cx, tickets.AgentActor(a), t.Ticket); err != nil {
		return nil, err
	}
	for _, m := range t.Messages {
		d.Timeline = append(d.Timeline, timelineItem{At: m.CreatedAt, Message: m})
	}
	if d.Teams, err = h.svc.Teams(cx); err != nil {
		return nil, err
	}
	if d.Agents, err = h.svc.Agents(cx, nil); err != nil {
		return nil, err
	}
	names := ui.Names{Agents: map[int64]string{}, Teams: map[int64]string{}, Customer: ui.CustomerLabel(t.Customer)}
	for _, ag := range d.Agents {
		names.Agents[ag.ID] = ag.Name
	}
	for _, tm := range d.Teams {
		names.Teams[tm.ID] = tm.Name
	}
	d.Timeline = h.story(ui.Lang(ctx, a), t, names)
	d.CanResolve = t.Status.CanBecome(tickets.StatusResolved)
	// The status it has comes first and is preselected, so a stray Save changes nothing.
	d.Statuses = append(d.Statuses, t.Status)
	for _, st := range []tickets.Status{tickets.StatusOpen, tickets.StatusPending, tickets.StatusResolved, tickets.StatusClosed} {
		if t.Status.CanBecome(st) {
			d.Statuses = append(d.Statuses, st)
		}
	}
	cust, err := h.svc.Customer(cx, t.CustomerID)
	if err != nil {
		return nil, err
	}
	for _, o := range cust.Tickets {
		if o.ID != t.ID {
			d.Others = append(d.Others, o)
		}
	}
	if d.Complaints, err = h.complaints.OfCustomer(cx, t.CustomerID); err != nil {
		return nil, err
	}
	if d.Surveys, err = h.care.CustomerSurveys(cx, t.CustomerID); err != nil {
		return nil, err
	}
	if d.Reply, err = h.svc.ReplyOptions(cx, t.Ticket); err != nil {
		return nil, err
	}
	if d.After, err = h.svc.LastEventID(cx); err != nil {
		return nil, err
	}
	if d.Progress, err = h.stages.Of(cx, t.Ticket); err != nil {
		return nil, err
	}
	for i, st := range d.Progress.Steps {
		if st.State == "current" && i+1 < len(d.Progress.Steps) {
			d.NextStage = d.Progress.Steps[i+1].Stage.ID
		}
	}
	if d.Progress.Current == nil && len(d.Progress.Steps) > 0 {
		d.NextStage = d.Progress.Steps[0].Stage.ID
	}
	if d.Reveal, err = h.privacy.Revealable(cx, tickets.AgentActor(a), t.CustomerID, t.ID); err != nil {
		return nil, err
	}
	return d, nil
}

// story is the ticket's messages and events in the order they happened, each event worded
// in lang; the follow-up calls one resolution scheduled read as one line, and a run of
// system events folds into one line that opens to show them.
func (h *Handler) story(lang string, t *tickets.TicketDetail, names ui.Names) []timelineItem {
	var items []timelineItem
	for _, m := range t.Messages {
		items = append(items, timelineItem{At: m.CreatedAt, Message: m})
	}
	for _, e := range t.Events {
		if !messageEvents[e.Kind] {
			items = append(items, timelineItem{At: e.CreatedAt, Event: e})
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].At.Before(items[j].At) })
	var out []timelineItem
	for i := 0; i < len(items); i++ {
		it := items[i]
		if it.Event == nil {
			out = append(out, it)
			continue
		}
		if it.Event.Kind == "followup.scheduled" {
			evs := []*tickets.Event{it.Event}
			for i+1 < len(items) && items[i+1].Event != nil && items[i+1].Event.Kind == "followup.scheduled" {
				i++
				evs = append(evs, items[i].Event)
			}
			it.Line = h.kit.FollowUpsLine(lang, evs, names)
		} else {
			it.Line = h.kit.EventLine(lang, it.Event, names)
		}
		out = append(out, it)
	}
	// Fold runs of two or more system events under the first one's time.
	var folded []timelineItem
	for i := 0; i < len(out); {
		j := i
		for j < len(out) && out[j].Event != nil && out[j].Event.ActorKind == "system" {
			j++
		}
		if j-i >= 2 {
			folded = append(folded, timelineItem{At: out[i].At, Group: out[i:j],
				Line: ui.Line{Actor: ui.T(lang, "ticket.system"), Text: ui.T(lang, "story.group", j-i)}})
			i = j
			continue
		}
		if j == i {
			j++
		}
		folded = append(folded, out[i:j]...)
		i = j
	}
	return folded
}

// reply sends the composer's text; then=resolved or pending ("Send and resolve") also
// moves the ticket there, in the same transaction, and goes on to the queue's next ticket.
func (h *Handler) reply(ctx *fiber.Ctx, a *tickets.Agent) error {
	ref := ctx.Params("ref")
	then := tickets.Status(ctx.FormValue("then"))
	var files []tickets.ReplyFile
	if api.IsMultipart(ctx) {
		var err error
		if files, err = api.FormFiles(ctx); err != nil {
			return err
		}
	}
	if _, err := h.svc.ReplyWith(ctx.UserContext(), tickets.AgentActor(a), ref, tickets.ReplyInput{
		Via: tickets.Channel(ctx.FormValue("channel")), Body: ctx.FormValue("body"), Files: files, Then: then}); err != nil {
		return err
	}
	return h.changed(ctx, a, ref, then, ui.T(ui.Lang(ctx, a), "ticket.replied"))
}

func (h *Handler) note(ctx *fiber.Ctx, a *tickets.Agent) error {
	ref := ctx.Params("ref")
	if _, err := h.svc.AddNote(ctx.UserContext(), tickets.AgentActor(a), ref, ctx.FormValue("body")); err != nil {
		return err
	}
	return h.changed(ctx, a, ref, "", ui.T(ui.Lang(ctx, a), "ticket.noted"))
}

// changed sends the agent on after a change to ref: to the next ticket of the queue they
// came from (the form's from) when the ticket left their hands (status now resolved,
// pending or closed), else back to the ticket, in that queue still.
func (h *Handler) changed(ctx *fiber.Ctx, a *tickets.Agent, ref string, status tickets.Status, done string) error {
	lang := ui.Lang(ctx, a)
	from := fromQueue(ctx.FormValue("from"))
	if from == "" || (status != tickets.StatusResolved && status != tickets.StatusPending && status != tickets.StatusClosed) {
		return ui.Redirect(ctx, ticketIn(ref, from), done)
	}
	done = ui.T(lang, "ticket.moved", strings.ToUpper(ref), ui.T(lang, "status."+string(status)))
	q, _ := url.ParseQuery(from)
	// A search finds a caller, and every ticket of theirs however old: once they are
	// answered, the agent goes on with the queue the search was made in.
	if q.Has("q") {
		q.Del("q")
		from = q.Encode()
	}
	f, err := queueFilter(ctx, a, func(k string, def ...string) string {
		if v := q.Get(k); v != "" || len(def) == 0 {
			return v
		}
		return def[0]
	})
	var page *tickets.TicketPage
	if err == nil {
		page, err = h.svc.ListTickets(ctx.UserContext(), f)
	}
	if err != nil {
		// The change is made; only the way on is lost: stay on the ticket.
		h.log.Warn("find the queue's next ticket", "ticket", ref, "err", err)
		return ui.Redirect(ctx, ticketIn(ref, from), done)
	}
	for _, t := range page.Items {
		if t.Ref() != strings.ToUpper(strings.TrimSpace(ref)) {
			return ui.Redirect(ctx, ticketIn(t.Ref(), from), done+" "+ui.T(lang, "ticket.next", t.Ref()))
		}
	}
	return ui.Redirect(ctx, "/queue?"+from, done+" "+ui.T(lang, "ticket.queue_done"))
}

// fromQueue is a queue's query as a ticket's link carries it, keeping only what names a
// queue.
func fromQueue(raw string) string {
	q, err := url.ParseQuery(raw)
	if raw == "" || err != nil || len(raw) > 1024 {
		return ""
	}
	return queueQuery(func(k string, _ ...string) string { return q.Get(k) })
}

// ticketIn is a ticket's page opened from a queue (from, "" for none).
func ticketIn(ref, from string) string {
	if from == "" {
		return ticketURL(ref)
	}
	return ticketURL(ref) + "?from=" + url.QueryEscape(from)
}

// assign takes the ticket (assignee=me) or, for supervisors, gives it to a team or agent.
func (h *Handler) assign(ctx *fiber.Ctx, a *tickets.Agent) error {
	ref := ctx.Params("ref")
	var in tickets.Assignment
	switch v := ctx.FormValue("assignee"); v {
	case "":
	case "me":
		in.AssigneeID = &a.ID
	default:
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "assignee must be an agent")
		}
		in.AssigneeID = &id
	}
	if v := ctx.FormValue("team"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "team must be a team")
		}
		in.TeamID = &id
	}
	in.Reason = ctx.FormValue("reason")
	if _, err := h.svc.Assign(ctx.UserContext(), tickets.AgentActor(a), ref, in); err != nil {
		return err
	}
	return h.changed(ctx, a, ref, "", ui.T(ui.Lang(ctx, a), "ticket.updated"))
}

func (h *Handler) status(ctx *fiber.Ctx, a *tickets.Agent) error {
	ref := ctx.Params("ref")
	t, err := h.svc.SetStatus(ctx.UserContext(), tickets.AgentActor(a), ref, tickets.Status(ctx.FormValue("status")), ctx.FormValue("reason"))
	if err != nil {
		return err
	}
	return h.changed(ctx, a, ref, t.Status, ui.T(ui.Lang(ctx, a), "ticket.updated"))
}

func (h *Handler) priority(ctx *fiber.Ctx, a *tickets.Agent) error {
	ref := ctx.Params("ref")
	if _, err := h.svc.SetPriority(ctx.UserContext(), tickets.AgentActor(a), ref, tickets.Priority(ctx.FormValue("priority")), ctx.FormValue("reason")); err != nil {
		return err
	}
	return h.changed(ctx, a, ref, "", ui.T(ui.Lang(ctx, a), "ticket.updated"))
}

// escalate opens a complaint on the ticket, with its 10-working-day decision deadline.
func (h *Handler) escalate(ctx *fiber.Ctx, a *tickets.Agent) error {
	ref := ctx.Params("ref")
	cp, err := h.complaints.Open(ctx.UserContext(), tickets.AgentActor(a), complaints.NewComplaint{
		TicketRef: ref, Source: tickets.SourceAPI, Summary: ctx.FormValue("summary"),
	})
	if err != nil {
		return err
	}
	return ui.Redirect(ctx, ticketURL(ref), ui.T(ui.Lang(ctx, a), "ticket.escalated", cp.Ref()))
}

// moveStage puts the ticket at the chosen progress stage; the customer is told.
func (h *Handler) moveStage(ctx *fiber.Ctx, a *tickets.Agent) error {
	ref := ctx.Params("ref")
	id, err := strconv.ParseInt(ctx.FormValue("stage"), 10, 64)
	if err != nil || id <= 0 {
		return fiber.NewError(fiber.StatusBadRequest, ui.T(ui.Lang(ctx, a), "stages.pick"))
	}
	if _, err := h.stages.Move(ctx.UserContext(), tickets.AgentActor(a), ref, id); err != nil {
		return err
	}
	name := ""
	if p, err := h.svc.Ticket(ctx.UserContext(), ref); err == nil {
		if pr, err := h.stages.Of(ctx.UserContext(), p.Ticket); err == nil && pr.Current != nil {
			name = pr.Current.Name(ui.Lang(ctx, a) == "en")
		}
	}
	return ui.Redirect(ctx, ticketIn(ref, fromQueue(ctx.FormValue("from"))), ui.T(ui.Lang(ctx, a), "stages.moved", name))
}

// requestDocuments lists what the customer still has to send (one a line); the ticket
// waits on them and they are sent the list.
func (h *Handler) requestDocuments(ctx *fiber.Ctx, a *tickets.Agent) error {
	ref := ctx.Params("ref")
	items, err := stages.ParseItems(ctx.FormValue("items"))
	if err != nil {
		return err
	}
	if _, err := h.stages.RequestDocuments(ctx.UserContext(), tickets.AgentActor(a), ref, items); err != nil {
		return err
	}
	return h.changed(ctx, a, ref, tickets.StatusPending, ui.T(ui.Lang(ctx, a), "docs.asked", len(items)))
}

// tickDocument marks a document received (received=1) or missing again.
func (h *Handler) tickDocument(ctx *fiber.Ctx, a *tickets.Agent) error {
	ref := ctx.Params("ref")
	id, err := strconv.ParseInt(ctx.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return fiber.NewError(fiber.StatusNotFound, "no such document")
	}
	if _, err := h.stages.TickDocument(ctx.UserContext(), tickets.AgentActor(a), ref, id, ctx.FormValue("received") == "1"); err != nil {
		return err
	}
	return ui.Redirect(ctx, ticketIn(ref, fromQueue(ctx.FormValue("from"))), ui.T(ui.Lang(ctx, a), "docs.ticked"))
}

// attachment serves GET /attachments/:id: a file a customer sent, which Hotline keeps, or
// a call recording Hotline fetches from Twilio and streams on.
func (h *Handler) attachment(ctx *fiber.Ctx, _ *tickets.Agent) error {
	id, err := strconv.ParseInt(ctx.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return fiber.NewError(fiber.StatusNotFound, "no such attachment")
	}
	return api.ServeAttachment(ctx, h.svc, h.recordings, h.log, id)
}

func ticketURL(ref string) string { return "/tickets/" + strings.ToUpper(strings.TrimSpace(ref)) }

// callForm is what the call form holds, and, when the caller's number belongs to a
// customer with open tickets, those tickets, offered to add the call to.
type callForm struct {
	Name, Phone, Email, Subject, Body, Category, Priority string
	WalkIn                                                bool
	Categories                                            []string
	Caller                                                *tickets.Customer
	Open                                                  []*tickets.Ticket
}

func (h *Handler) formOf(ctx *fiber.Ctx) callForm {
	return callForm{Name: ctx.FormValue("name"), Phone: ctx.FormValue("phone"), Email: ctx.FormValue("email"),
		Subject: ctx.FormValue("subject"), Body: ctx.FormValue("body"), Category: ctx.FormValue("category"),
		Priority: ctx.FormValue("priority"), WalkIn: ctx.FormValue("walk_in") == "on", Categories: h.categories}
}

// newCall serves GET /calls/new?phone=: a ticket for a caller in a few keystrokes. With a
// number (from the customer page), the caller's open tickets are offered at once.
func (h *Handler) newCall(ctx *fiber.Ctx, a *tickets.Agent) error {
	f := callForm{Priority: string(tickets.PriorityNormal), Phone: strings.TrimSpace(ctx.Query("phone")), Categories: h.categories}
	// From the customer page (customer=<id>): the form needs the number in full, so it is
	// revealed, and recorded, as the "show" button would; one not allowed starts blank.
	if id, err := strconv.ParseInt(ctx.Query("customer"), 10, 64); err == nil && id > 0 && f.Phone == "" {
		v, err := h.privacy.Reveal(ctx.UserContext(), tickets.AgentActor(a), privacy.Request{CustomerID: id, Field: privacy.FieldPhone})
		switch {
		case err == nil:
			f.Phone = v.Value
		case !errors.Is(err, tickets.ErrForbidden) && !errors.Is(err, tickets.ErrNotFound):
			return err
		}
	}
	if f.Phone != "" {
		var err error
		if f.Caller, f.Open, err = h.svc.CallerTickets(ctx.UserContext(), f.Phone); err != nil {
			return err
		}
		if f.Caller != nil {
			f.Name = f.Caller.Name
		}
	}
	v := h.kit.View(ctx, a, "call", f)
	v.Title = v.T("call.title")
	return h.kit.Render(ctx, "call", v)
}

// logCall serves POST /calls. A call from a number whose customer has an open ticket is
// not filed at once: the form comes back offering that ticket (add_to=<ref> adds the
// call to it as a note) or a new one anyway (new_ticket=1), so one caller's matter is not
// split over duplicates.
func (h *Handler) logCall(ctx *fiber.Ctx, a *tickets.Agent) error {
	f := h.formOf(ctx)
	lang := ui.Lang(ctx, a)
	again := func(status int, flash *ui.Flash) error { // keep what was typed: the caller may still be on the line
		v := h.kit.View(ctx, a, "call", f)
		v.Title, v.Flash = v.T("call.title"), flash
		return h.kit.RenderStatus(ctx, status, "call", v)
	}
	if f.Category != "" && !slices.Contains(h.categories, f.Category) {
		return again(fiber.StatusBadRequest, &ui.Flash{Text: ui.T(lang, "call.bad_category"), Error: true})
	}
	if strings.TrimSpace(f.Phone) != "" && ctx.FormValue("new_ticket") != "1" {
		var err error
		if f.Caller, f.Open, err = h.svc.CallerTickets(ctx.UserContext(), f.Phone); err != nil {
			return err
		}
		if ref := ctx.FormValue("add_to"); ref != "" {
			return h.addCall(ctx, a, f, ref)
		}
		if len(f.Open) > 0 {
			return again(fiber.StatusOK, &ui.Flash{Text: ui.T(lang, "call.has_open", len(f.Open))})
		}
	}
	ch := tickets.ChannelPhone
	if f.WalkIn {
		ch = tickets.ChannelWalkIn
	}
	t, err := h.svc.CreateTicket(ctx.UserContext(), tickets.AgentActor(a), tickets.NewTicket{
		Channel: ch, Name: f.Name, Phone: f.Phone, Email: f.Email,
		Subject: f.Subject, Body: f.Body, Category: f.Category, Priority: tickets.Priority(f.Priority),
	})
	if status, reason := ui.Status(err); err != nil && status < 500 && status != fiber.StatusForbidden {
		f.Caller, f.Open = nil, nil
		return again(status, &ui.Flash{Text: reason, Error: true})
	} else if err != nil {
		return err
	}
	return ui.Redirect(ctx, ticketURL(t.Ref()), ui.T(lang, "call.created", t.Ref()))
}

// addCall adds the call to one of the caller's open tickets, as a note with what was said.
func (h *Handler) addCall(ctx *fiber.Ctx, a *tickets.Agent, f callForm, ref string) error {
	ref = strings.ToUpper(strings.TrimSpace(ref))
	if !slices.ContainsFunc(f.Open, func(t *tickets.Ticket) bool { return t.Ref() == ref }) {
		return fiber.NewError(fiber.StatusConflict, ui.T(ui.Lang(ctx, a), "call.not_open", ref))
	}
	lang := ui.Lang(ctx, a)
	note := ui.T(lang, "call.note_head")
	for _, part := range []string{f.Subject, f.Body} {
		if part = strings.TrimSpace(part); part != "" {
			note += "\n" + part
		}
	}
	if _, err := h.svc.AddNote(ctx.UserContext(), tickets.AgentActor(a), ref, note); err != nil {
		return err
	}
	return ui.Redirect(ctx, ticketURL(ref), ui.T(lang, "call.added", ref))
}
