package desk

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/complaints"
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
	Statuses   []tickets.Status // where the status may move from here
	Prios      []tickets.Priority
	After      int64
}

// timelineItem is a message or an audit event, in the order they happened.
type timelineItem struct {
	At      time.Time
	Message *tickets.Message
	Event   *tickets.Event
	Detail  string // an event's particulars: from → to, the reason
}

// messageEvents are audit events the timeline already shows as messages.
var messageEvents = map[string]bool{"message.received": true, "reply.queued": true, "note.added": true}

// ticket serves GET /tickets/:ref; partial=timeline answers the timeline alone, for live
// refreshes that must not disturb a reply being typed.
func (h *Handler) ticket(ctx *fiber.Ctx, a *tickets.Agent) error {
	d, err := h.ticketData(ctx, ctx.Params("ref"))
	if err != nil {
		return err
	}
	v := h.kit.View(ctx, a, "queue", d)
	v.Title = d.T.Ref() + " " + d.T.Subject
	if ctx.Query("partial") == "timeline" {
		return h.kit.Render(ctx, "ticket_timeline", v)
	}
	return h.kit.Render(ctx, "ticket", v)
}

func (h *Handler) ticketData(ctx *fiber.Ctx, ref string) (*ticketData, error) {
	cx := ctx.UserContext()
	t, err := h.svc.Ticket(cx, strings.ToUpper(strings.TrimSpace(ref)))
	if err != nil {
		return nil, err
	}
	d := &ticketData{T: t, Prios: []tickets.Priority{tickets.PriorityLow, tickets.PriorityNormal, tickets.PriorityHigh, tickets.PriorityUrgent}}
	for _, m := range t.Messages {
		d.Timeline = append(d.Timeline, timelineItem{At: m.CreatedAt, Message: m})
	}
	for _, e := range t.Events {
		if !messageEvents[e.Kind] {
			d.Timeline = append(d.Timeline, timelineItem{At: e.CreatedAt, Event: e, Detail: eventDetail(e)})
		}
	}
	sort.SliceStable(d.Timeline, func(i, j int) bool { return d.Timeline[i].At.Before(d.Timeline[j].At) })
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
	if d.Teams, err = h.svc.Teams(cx); err != nil {
		return nil, err
	}
	if d.Agents, err = h.svc.Agents(cx, nil); err != nil {
		return nil, err
	}
	if d.After, err = h.svc.LastEventID(cx); err != nil {
		return nil, err
	}
	return d, nil
}

// eventDetail shows an event's particulars in a line: "open → resolved · reason".
func eventDetail(e *tickets.Event) string {
	var data map[string]any
	if json.Unmarshal([]byte(e.Data), &data) != nil {
		return ""
	}
	var parts []string
	from, to := data["from"], data["to"]
	if from != nil || to != nil {
		parts = append(parts, fmt.Sprintf("%v → %v", orDash(from), orDash(to)))
	}
	for _, k := range []string{"assignee", "team", "complaint", "kind", "score", "reason", "channel"} {
		if v, ok := data[k]; ok && v != nil && v != "" {
			parts = append(parts, fmt.Sprintf("%s: %v", k, v))
		}
	}
	return strings.Join(parts, " · ")
}

func orDash(v any) any {
	if v == nil || v == "" {
		return "—"
	}
	return v
}

func (h *Handler) reply(ctx *fiber.Ctx, a *tickets.Agent) error {
	ref := ctx.Params("ref")
	var files []tickets.ReplyFile
	if api.IsMultipart(ctx) {
		var err error
		if files, err = api.FormFiles(ctx); err != nil {
			return err
		}
	}
	if _, err := h.svc.ReplyWithFiles(ctx.UserContext(), tickets.AgentActor(a), ref, tickets.Channel(ctx.FormValue("channel")), ctx.FormValue("body"), files); err != nil {
		return err
	}
	return ui.Redirect(ctx, ticketURL(ref), ui.T(ui.Lang(ctx, a), "ticket.replied"))
}

func (h *Handler) note(ctx *fiber.Ctx, a *tickets.Agent) error {
	ref := ctx.Params("ref")
	if _, err := h.svc.AddNote(ctx.UserContext(), tickets.AgentActor(a), ref, ctx.FormValue("body")); err != nil {
		return err
	}
	return ui.Redirect(ctx, ticketURL(ref), ui.T(ui.Lang(ctx, a), "ticket.noted"))
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
	return ui.Redirect(ctx, ticketURL(ref), ui.T(ui.Lang(ctx, a), "ticket.updated"))
}

func (h *Handler) status(ctx *fiber.Ctx, a *tickets.Agent) error {
	ref := ctx.Params("ref")
	if _, err := h.svc.SetStatus(ctx.UserContext(), tickets.AgentActor(a), ref, tickets.Status(ctx.FormValue("status")), ctx.FormValue("reason")); err != nil {
		return err
	}
	return ui.Redirect(ctx, ticketURL(ref), ui.T(ui.Lang(ctx, a), "ticket.updated"))
}

func (h *Handler) priority(ctx *fiber.Ctx, a *tickets.Agent) error {
	ref := ctx.Params("ref")
	if _, err := h.svc.SetPriority(ctx.UserContext(), tickets.AgentActor(a), ref, tickets.Priority(ctx.FormValue("priority")), ctx.FormValue("reason")); err != nil {
		return err
	}
	return ui.Redirect(ctx, ticketURL(ref), ui.T(ui.Lang(ctx, a), "ticket.updated"))
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

// callForm is what the call form holds.
type callForm struct {
	Name, Phone, Email, Subject, Body, Category, Priority string
	WalkIn                                                bool
}

// callForm serves GET /calls/new: a ticket for a caller in a few keystrokes.
func (h *Handler) newCall(ctx *fiber.Ctx, a *tickets.Agent) error {
	v := h.kit.View(ctx, a, "call", callForm{Priority: string(tickets.PriorityNormal)})
	v.Title = v.T("call.title")
	return h.kit.Render(ctx, "call", v)
}

func (h *Handler) logCall(ctx *fiber.Ctx, a *tickets.Agent) error {
	ch := tickets.ChannelPhone
	if ctx.FormValue("walk_in") == "on" {
		ch = tickets.ChannelWalkIn
	}
	t, err := h.svc.CreateTicket(ctx.UserContext(), tickets.AgentActor(a), tickets.NewTicket{
		Channel: ch, Name: ctx.FormValue("name"), Phone: ctx.FormValue("phone"), Email: ctx.FormValue("email"),
		Subject: ctx.FormValue("subject"), Body: ctx.FormValue("body"), Category: ctx.FormValue("category"),
		Priority: tickets.Priority(ctx.FormValue("priority")),
	})
	if status, reason := ui.Status(err); err != nil && status < 500 && status != fiber.StatusForbidden {
		// Keep what was typed: the caller may still be on the line.
		v := h.kit.View(ctx, a, "call", callForm{Name: ctx.FormValue("name"), Phone: ctx.FormValue("phone"), Email: ctx.FormValue("email"),
			Subject: ctx.FormValue("subject"), Body: ctx.FormValue("body"), Category: ctx.FormValue("category"),
			Priority: ctx.FormValue("priority"), WalkIn: ch == tickets.ChannelWalkIn})
		v.Title, v.Flash = v.T("call.title"), &ui.Flash{Text: reason, Error: true}
		return h.kit.RenderStatus(ctx, status, "call", v)
	} else if err != nil {
		return err
	}
	return ui.Redirect(ctx, ticketURL(t.Ref()), ui.T(ui.Lang(ctx, a), "call.created", t.Ref()))
}
