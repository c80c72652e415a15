package desk

import (
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
)

// queueData is one queue page: which view, its filters, and a page of tickets nearest
// deadline first.
type queueData struct {
	View     string // "mine", "team", "unassigned" or "all"
	Status   string
	Channel  string
	Priority string
	Query    string
	Items    []*tickets.Ticket
	// Matches are the customers a search finds, each linked to their page: the caller
	// may have no ticket in this view yet.
	Matches []*tickets.Customer
	Next    string // the next page's URL, empty on the last page
	From    string // the queue as a query (view=team&status=…): a ticket opened from it carries it, to come back to its next ticket
	After   int64  // the newest event when the page was drawn; the live feed starts there
	Team    int64  // the agent's team, for deciding which live changes concern the view
	Views   []string
	// Stages are the current stages' deadlines of the tickets shown, by ticket id: a second
	// chip beside the SLA countdown.
	Stages   map[int64]*stageChip
	Channels []tickets.Channel
	Statuses []tickets.Status
	Prios    []tickets.Priority
}

var queueViews = []string{"mine", "team", "unassigned", "all"}

// queue serves GET /queue?view=mine|team|unassigned|all&status=&channel=&priority=&q=
// &cursor=. With partial=1 it answers only the table rows, for live refreshes.
func (h *Handler) queue(ctx *fiber.Ctx, a *tickets.Agent) error {
	d := queueData{
		View: ctx.Query("view", "mine"), Status: ctx.Query("status"), Channel: ctx.Query("channel"),
		Priority: ctx.Query("priority"), Query: strings.TrimSpace(ctx.Query("q")),
		Views:    queueViews,
		Channels: []tickets.Channel{tickets.ChannelPhone, tickets.ChannelSMS, tickets.ChannelWeChat, tickets.ChannelEmail, tickets.ChannelWalkIn},
		Statuses: []tickets.Status{tickets.StatusNew, tickets.StatusOpen, tickets.StatusPending, tickets.StatusResolved, tickets.StatusClosed},
		Prios:    []tickets.Priority{tickets.PriorityUrgent, tickets.PriorityHigh, tickets.PriorityNormal, tickets.PriorityLow},
	}
	if a.TeamID != nil {
		d.Team = *a.TeamID
	}
	f, err := queueFilter(ctx, a, ctx.Query)
	if err != nil {
		return err
	}
	f.Cursor = ctx.Query("cursor")
	page, err := h.svc.ListTickets(ctx.UserContext(), f)
	if err != nil {
		return err
	}
	d.Items = page.Items
	if d.Stages, err = h.stageChips(ctx, a, page.Items); err != nil {
		return err
	}
	d.From = queueQuery(ctx.Query)
	if d.Query != "" && ctx.Query("cursor") == "" && ctx.Query("partial") != "1" {
		if _, isRef := tickets.ParseRef(d.Query); !isRef {
			found, err := h.svc.SearchCustomers(ctx.UserContext(), tickets.CustomerFilter{Query: d.Query, Limit: 10})
			if err != nil {
				return err
			}
			d.Matches = found.Items
		}
	}
	if page.NextCursor != "" {
		q, _ := url.ParseQuery(d.From)
		q.Set("cursor", page.NextCursor)
		d.Next = "/queue?" + q.Encode()
	}
	if d.After, err = h.svc.LastEventID(ctx.UserContext()); err != nil {
		return err
	}
	v := h.kit.View(ctx, a, "queue", d)
	v.Title = v.T("queue." + d.View)
	if ctx.Query("partial") == "1" {
		return h.kit.Render(ctx, "queue_rows", v)
	}
	return h.kit.Render(ctx, "queue", v)
}

// queueKeys are the query parameters that say which queue is shown.
var queueKeys = []string{"view", "status", "channel", "priority", "q"}

// queueFilter is the queue that query (view, status, channel, priority, q) names, for a.
func queueFilter(ctx *fiber.Ctx, a *tickets.Agent, query func(key string, def ...string) string) (tickets.TicketFilter, error) {
	status, q := query("status"), strings.TrimSpace(query("q"))
	f := tickets.TicketFilter{Channel: tickets.Channel(query("channel")), Priority: tickets.Priority(query("priority")), Query: q, Limit: 50}
	if status != "" {
		f.Statuses = []tickets.Status{tickets.Status(status)}
	} else if q == "" {
		f.Statuses = []tickets.Status{tickets.StatusNew, tickets.StatusOpen, tickets.StatusPending}
	}
	switch query("view", "mine") {
	case "mine":
		f.AssigneeID = &a.ID
	case "team":
		if a.TeamID == nil {
			return f, fiber.NewError(fiber.StatusBadRequest, ui.T(ui.Lang(ctx, a), "queue.no_team"))
		}
		f.TeamID = a.TeamID
	case "unassigned":
		f.Unassigned = true
	case "all":
	default:
		return f, fiber.NewError(fiber.StatusBadRequest, "view must be mine, team, unassigned or all")
	}
	return f, nil
}

// queueQuery is the query naming a queue, from its parameters: what a ticket opened
// from the queue carries in its links (from=…) and forms.
func queueQuery(query func(key string, def ...string) string) string {
	q := url.Values{}
	for _, k := range queueKeys {
		if v := query(k); v != "" {
			q.Set(k, v)
		}
	}
	if q.Get("view") == "" {
		q.Set("view", "mine")
	}
	return q.Encode()
}

// stageChip is a ticket's current stage's deadline as the queue shows it: green until a
// working day before, amber then, red once missed.
type stageChip struct {
	Name      string
	Due, Warn time.Time
	State     string // "ok", "warn", "breach"
}

// stageChips are the stage deadlines of the active tickets shown, in the agent's language.
func (h *Handler) stageChips(ctx *fiber.Ctx, a *tickets.Agent, ts []*tickets.Ticket) (map[int64]*stageChip, error) {
	var ids []int64
	for _, t := range ts {
		if t.Status.Active() {
			ids = append(ids, t.ID)
		}
	}
	dues, err := h.stages.Due(ctx.UserContext(), ids)
	if err != nil || len(dues) == 0 {
		return nil, err
	}
	now := h.svc.Now()
	en := ui.Lang(ctx, a) == "en"
	out := make(map[int64]*stageChip, len(dues))
	for id, d := range dues {
		c := &stageChip{Name: d.NameZh, Due: d.Due, Warn: d.Warn, State: "ok"}
		if en {
			c.Name = d.NameEn
		}
		switch {
		case d.Breached || !now.Before(d.Due):
			c.State = "breach"
		case !now.Before(d.Warn):
			c.State = "warn"
		}
		out[id] = c
	}
	return out, nil
}
