package desk

import (
	"net/url"
	"strings"

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
	Matches  []*tickets.Customer
	Next     string // the next page's URL, empty on the last page
	After    int64  // the newest event when the page was drawn; the live feed starts there
	Team     int64  // the agent's team, for deciding which live changes concern the view
	Views    []string
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
	f := tickets.TicketFilter{
		Channel: tickets.Channel(d.Channel), Priority: tickets.Priority(d.Priority), Query: d.Query,
		Cursor: ctx.Query("cursor"), Limit: 50,
	}
	if d.Status != "" {
		f.Statuses = []tickets.Status{tickets.Status(d.Status)}
	} else if d.Query == "" {
		f.Statuses = []tickets.Status{tickets.StatusNew, tickets.StatusOpen, tickets.StatusPending}
	}
	switch d.View {
	case "mine":
		f.AssigneeID = &a.ID
	case "team":
		if a.TeamID == nil {
			return fiber.NewError(fiber.StatusBadRequest, ui.T(ui.Lang(ctx, a), "queue.no_team"))
		}
		f.TeamID = a.TeamID
	case "unassigned":
		f.Unassigned = true
	case "all":
	default:
		return fiber.NewError(fiber.StatusBadRequest, "view must be mine, team, unassigned or all")
	}
	page, err := h.svc.ListTickets(ctx.UserContext(), f)
	if err != nil {
		return err
	}
	d.Items = page.Items
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
		q := url.Values{}
		for _, k := range []string{"view", "status", "channel", "priority", "q"} {
			if v := ctx.Query(k); v != "" {
				q.Set(k, v)
			}
		}
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
