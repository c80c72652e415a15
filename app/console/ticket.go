package console

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/api"
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
func (c *Console) ticket(ctx *fiber.Ctx, a *tickets.Agent) error {
	d, err := c.ticketData(ctx, ctx.Params("ref"))
	if err != nil {
		return err
	}
	v := c.view(ctx, a, "queue", d)
	v.Title = d.T.Ref() + " " + d.T.Subject
	if ctx.Query("partial") == "timeline" {
		return c.render(ctx, "ticket_timeline", v)
	}
	return c.render(ctx, "ticket", v)
}

func (c *Console) ticketData(ctx *fiber.Ctx, ref string) (*ticketData, error) {
	cx := ctxOf(ctx)
	t, err := c.svc.Ticket(cx, strings.ToUpper(strings.TrimSpace(ref)))
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
	cust, err := c.svc.Customer(cx, t.CustomerID)
	if err != nil {
		return nil, err
	}
	for _, o := range cust.Tickets {
		if o.ID != t.ID {
			d.Others = append(d.Others, o)
		}
	}
	if d.Complaints, err = c.complaints.OfCustomer(cx, t.CustomerID); err != nil {
		return nil, err
	}
	if d.Surveys, err = c.care.CustomerSurveys(cx, t.CustomerID); err != nil {
		return nil, err
	}
	if d.Reply, err = c.svc.ReplyOptions(cx, t.Ticket); err != nil {
		return nil, err
	}
	if d.Teams, err = c.svc.Teams(cx); err != nil {
		return nil, err
	}
	if d.Agents, err = c.svc.Agents(cx, nil); err != nil {
		return nil, err
	}
	if d.After, err = c.svc.LastEventID(cx); err != nil {
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

func (c *Console) reply(ctx *fiber.Ctx, a *tickets.Agent) error {
	ref := ctx.Params("ref")
	if _, err := c.svc.ReplyOn(ctxOf(ctx), tickets.AgentActor(a), ref, tickets.Channel(ctx.FormValue("channel")), ctx.FormValue("body")); err != nil {
		return err
	}
	return redirect(ctx, ticketURL(ref), translate(langOf(ctx, a), "ticket.replied"))
}

func (c *Console) note(ctx *fiber.Ctx, a *tickets.Agent) error {
	ref := ctx.Params("ref")
	if _, err := c.svc.AddNote(ctxOf(ctx), tickets.AgentActor(a), ref, ctx.FormValue("body")); err != nil {
		return err
	}
	return redirect(ctx, ticketURL(ref), translate(langOf(ctx, a), "ticket.noted"))
}

// assign takes the ticket (assignee=me) or, for supervisors, gives it to a team or agent.
func (c *Console) assign(ctx *fiber.Ctx, a *tickets.Agent) error {
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
	if _, err := c.svc.Assign(ctxOf(ctx), tickets.AgentActor(a), ref, in); err != nil {
		return err
	}
	return redirect(ctx, ticketURL(ref), translate(langOf(ctx, a), "ticket.updated"))
}

func (c *Console) status(ctx *fiber.Ctx, a *tickets.Agent) error {
	ref := ctx.Params("ref")
	if _, err := c.svc.SetStatus(ctxOf(ctx), tickets.AgentActor(a), ref, tickets.Status(ctx.FormValue("status")), ctx.FormValue("reason")); err != nil {
		return err
	}
	return redirect(ctx, ticketURL(ref), translate(langOf(ctx, a), "ticket.updated"))
}

func (c *Console) priority(ctx *fiber.Ctx, a *tickets.Agent) error {
	ref := ctx.Params("ref")
	if _, err := c.svc.SetPriority(ctxOf(ctx), tickets.AgentActor(a), ref, tickets.Priority(ctx.FormValue("priority")), ctx.FormValue("reason")); err != nil {
		return err
	}
	return redirect(ctx, ticketURL(ref), translate(langOf(ctx, a), "ticket.updated"))
}

// escalate opens a complaint on the ticket, with its 10-working-day decision deadline.
func (c *Console) escalate(ctx *fiber.Ctx, a *tickets.Agent) error {
	ref := ctx.Params("ref")
	cp, err := c.complaints.Open(ctxOf(ctx), tickets.AgentActor(a), complaints.NewComplaint{
		TicketRef: ref, Source: tickets.SourceAPI, Summary: ctx.FormValue("summary"),
	})
	if err != nil {
		return err
	}
	return redirect(ctx, ticketURL(ref), translate(langOf(ctx, a), "ticket.escalated", cp.Ref()))
}

// attachment serves GET /attachments/:id: a file a customer sent, which Hotline keeps, or
// a call recording Hotline fetches from Twilio and streams on.
func (c *Console) attachment(ctx *fiber.Ctx, _ *tickets.Agent) error {
	id, err := strconv.ParseInt(ctx.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return fiber.NewError(fiber.StatusNotFound, "no such attachment")
	}
	return api.ServeAttachment(ctx, c.svc, c.cfg.Recordings, c.log, id)
}

func ticketURL(ref string) string { return "/tickets/" + strings.ToUpper(strings.TrimSpace(ref)) }

// callForm is what the call form holds.
type callForm struct {
	Name, Phone, Email, Subject, Body, Category, Priority string
	WalkIn                                                bool
}

// callForm serves GET /calls/new: a ticket for a caller in a few keystrokes.
func (c *Console) newCall(ctx *fiber.Ctx, a *tickets.Agent) error {
	v := c.view(ctx, a, "call", callForm{Priority: string(tickets.PriorityNormal)})
	v.Title = v.T("call.title")
	return c.render(ctx, "call", v)
}

func (c *Console) logCall(ctx *fiber.Ctx, a *tickets.Agent) error {
	ch := tickets.ChannelPhone
	if ctx.FormValue("walk_in") == "on" {
		ch = tickets.ChannelWalkIn
	}
	t, err := c.svc.CreateTicket(ctxOf(ctx), tickets.AgentActor(a), tickets.NewTicket{
		Channel: ch, Name: ctx.FormValue("name"), Phone: ctx.FormValue("phone"), Email: ctx.FormValue("email"),
		Subject: ctx.FormValue("subject"), Body: ctx.FormValue("body"), Category: ctx.FormValue("category"),
		Priority: tickets.Priority(ctx.FormValue("priority")),
	})
	if status, reason := statusOf(err); err != nil && status < 500 && status != fiber.StatusForbidden {
		// Keep what was typed: the caller may still be on the line.
		v := c.view(ctx, a, "call", callForm{Name: ctx.FormValue("name"), Phone: ctx.FormValue("phone"), Email: ctx.FormValue("email"),
			Subject: ctx.FormValue("subject"), Body: ctx.FormValue("body"), Category: ctx.FormValue("category"),
			Priority: ctx.FormValue("priority"), WalkIn: ch == tickets.ChannelWalkIn})
		v.Title, v.Flash = v.T("call.title"), &flash{Text: reason, Error: true}
		return c.renderStatus(ctx, status, "call", v)
	} else if err != nil {
		return err
	}
	return redirect(ctx, ticketURL(t.Ref()), translate(langOf(ctx, a), "call.created", t.Ref()))
}
