package api

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/privacy"
)

type policyJSON struct {
	ID                   int64  `json:"id"`
	Position             int    `json:"position"`
	Name                 string `json:"name"`
	Channel              string `json:"channel"`
	Priority             string `json:"priority"`
	Category             string `json:"category"`
	FirstResponseSeconds int64  `json:"first_response_seconds"`
	ResolutionSeconds    int64  `json:"resolution_seconds"`
	WorkingTime          bool   `json:"working_time"`
	FirstResponseBreach  string `json:"first_response_breach"`
	ResolutionBreach     string `json:"resolution_breach"`
}

func viewPolicy(p *tickets.Policy) policyJSON {
	return policyJSON{ID: p.ID, Position: p.Position, Name: p.Name, Channel: string(p.Channel), Priority: string(p.Priority), Category: p.Category,
		FirstResponseSeconds: p.FirstResponseSeconds, ResolutionSeconds: p.ResolutionSeconds, WorkingTime: p.WorkingTime,
		FirstResponseBreach: string(p.FirstResponseBreach), ResolutionBreach: string(p.ResolutionBreach)}
}

func (s *server) listPolicies(c *fiber.Ctx) error {
	ps, err := s.deadlines.Policies(c.UserContext())
	if err != nil {
		return err
	}
	out := listJSON[policyJSON]{Items: make([]policyJSON, 0, len(ps))}
	for _, p := range ps {
		out.Items = append(out.Items, viewPolicy(p))
	}
	return c.JSON(out)
}

// savePolicy serves POST (create) and PUT /{id} (replace).
func (s *server) savePolicy(c *fiber.Ctx) error {
	var in policyJSON
	if err := decode(c, &in); err != nil {
		return err
	}
	p := &tickets.Policy{Position: in.Position, Name: in.Name, Channel: tickets.Channel(in.Channel), Priority: tickets.Priority(in.Priority), Category: in.Category,
		FirstResponseSeconds: in.FirstResponseSeconds, ResolutionSeconds: in.ResolutionSeconds, WorkingTime: in.WorkingTime,
		FirstResponseBreach: tickets.BreachAction(in.FirstResponseBreach), ResolutionBreach: tickets.BreachAction(in.ResolutionBreach)}
	status := fiber.StatusCreated
	if c.Params("id") != "" {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		p.ID, status = id, fiber.StatusOK
	}
	saved, err := s.deadlines.SavePolicy(c.UserContext(), actorOf(c), p)
	if err != nil {
		return err
	}
	return c.Status(status).JSON(viewPolicy(saved))
}

func (s *server) deletePolicy(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.deadlines.DeletePolicy(c.UserContext(), actorOf(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type ruleJSON struct {
	ID          int64  `json:"id"`
	Position    int    `json:"position"`
	Name        string `json:"name"`
	Channel     string `json:"channel"`
	Keywords    string `json:"keywords"`
	Category    string `json:"category"`
	Priority    string `json:"priority"`
	CustomerTag string `json:"customer_tag"`
	Language    string `json:"language"`
	TeamID      int64  `json:"team_id"`
	SetPriority string `json:"set_priority"`
	SetCategory string `json:"set_category"`
	Active      *bool  `json:"active,omitempty"`
}

func viewRule(r *tickets.RoutingRule) ruleJSON {
	active := r.Active
	return ruleJSON{ID: r.ID, Position: r.Position, Name: r.Name, Channel: string(r.Channel), Keywords: r.Keywords, Category: r.Category,
		Priority: string(r.Priority), CustomerTag: r.CustomerTag, Language: r.Language, TeamID: r.TeamID,
		SetPriority: string(r.SetPriority), SetCategory: r.SetCategory, Active: &active}
}

func (s *server) listRules(c *fiber.Ctx) error {
	rs, err := s.svc.RoutingRules(c.UserContext())
	if err != nil {
		return err
	}
	out := listJSON[ruleJSON]{Items: make([]ruleJSON, 0, len(rs))}
	for _, r := range rs {
		out.Items = append(out.Items, viewRule(r))
	}
	return c.JSON(out)
}

// saveRule serves POST (create) and PUT /{id} (replace).
func (s *server) saveRule(c *fiber.Ctx) error {
	var in ruleJSON
	if err := decode(c, &in); err != nil {
		return err
	}
	r := &tickets.RoutingRule{Position: in.Position, Name: in.Name, Channel: tickets.Channel(in.Channel), Keywords: in.Keywords, Category: in.Category,
		Priority: tickets.Priority(in.Priority), CustomerTag: in.CustomerTag, Language: in.Language, TeamID: in.TeamID,
		SetPriority: tickets.Priority(in.SetPriority), SetCategory: in.SetCategory, Active: in.Active == nil || *in.Active}
	status := fiber.StatusCreated
	if c.Params("id") != "" {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		r.ID, status = id, fiber.StatusOK
	}
	saved, err := s.svc.SaveRoutingRule(c.UserContext(), actorOf(c), r)
	if err != nil {
		return err
	}
	return c.Status(status).JSON(viewRule(saved))
}

func (s *server) deleteRule(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteRoutingRule(c.UserContext(), actorOf(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// calendarDeadline answers GET /calendar/deadline?from=<RFC3339>&working_days=10 with the
// end of the last working day, in the calendar's time zone.
func (s *server) calendarDeadline(c *fiber.Ctx) error {
	from, err := time.Parse(time.RFC3339, c.Query("from"))
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "from must be an RFC 3339 time such as 2026-09-28T10:00:00+08:00")
	}
	n := complaints.WorkingDays
	if v := c.Query("working_days"); v != "" {
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 365 {
			return fiber.NewError(fiber.StatusBadRequest, "working_days must be a number from 1 to 365")
		}
	}
	cal := s.svc.Calendar()
	deadline := cal.AddWorkingDays(from, n).In(cal.Location())
	out := fiber.Map{"deadline": deadline.Format(time.RFC3339)}
	if missing := cal.MissingYears(from, deadline); len(missing) > 0 {
		out["warning"] = "no holiday data for " + joinInts(missing) + ": only weekends were skipped; an admin must add that year's holidays and make-up days"
	}
	return c.JSON(out)
}

func joinInts(xs []int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.Itoa(x)
	}
	return strings.Join(parts, ", ")
}

type dayJSON struct {
	Day    string `json:"day"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Source string `json:"source"`
}

func (s *server) listDays(c *fiber.Ctx) error {
	year := time.Now().In(s.svc.Calendar().Location()).Year()
	if v := c.Query("year"); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil || y < 1900 || y > 2200 {
			return fiber.NewError(fiber.StatusBadRequest, "year must be a year such as 2026")
		}
		year = y
	}
	days, err := s.deadlines.CalendarDays(c.UserContext(), year)
	if err != nil {
		return err
	}
	out := listJSON[dayJSON]{Items: make([]dayJSON, 0, len(days))}
	for _, d := range days {
		out.Items = append(out.Items, dayJSON{Day: d.Day, Kind: string(d.Kind), Name: d.Name, Source: d.Source})
	}
	return c.JSON(out)
}

func (s *server) setDay(c *fiber.Ctx) error {
	var in struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	d, err := s.deadlines.SetCalendarDay(c.UserContext(), actorOf(c), c.Params("day"), tickets.DayKind(in.Kind), in.Name)
	if err != nil {
		return err
	}
	return c.JSON(dayJSON{Day: d.Day, Kind: string(d.Kind), Name: d.Name, Source: d.Source})
}

func (s *server) setPresence(c *fiber.Ctx) error {
	var in struct {
		Online *bool `json:"online"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Online == nil {
		return fiber.NewError(fiber.StatusBadRequest, "say online: true or false")
	}
	a, err := s.svc.SetOnline(c.UserContext(), actorOf(c), *in.Online)
	if err != nil {
		return err
	}
	return c.JSON(viewAgent(a))
}

type noticeJSON struct {
	ID          int64      `json:"id"`
	Kind        string     `json:"kind"`
	Body        string     `json:"body"`
	TicketRef   string     `json:"ticket_ref,omitempty"`
	ComplaintID *int64     `json:"complaint_id,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	ReadAt      *time.Time `json:"read_at"`
}

// noticesJSON is a page of notices with the agent's unread count, the menu's number.
type noticesJSON struct {
	listJSON[noticeJSON]
	Unread int `json:"unread"`
}

// listNotices serves GET /notices?unread=true&limit=50&cursor=<id>: the signed-in agent's
// own notices, newest first; next_cursor reads the next page.
func (s *server) listNotices(c *fiber.Ctx) error {
	f := tickets.NoticeFilter{Unread: c.QueryBool("unread")}
	var err error
	if v := c.Query("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > 500 {
			return fiber.NewError(fiber.StatusBadRequest, "limit is a number from 1 to 500")
		}
	}
	if v := c.Query("cursor"); v != "" {
		if f.Before, err = strconv.ParseInt(v, 10, 64); err != nil || f.Before < 1 {
			return fiber.NewError(fiber.StatusBadRequest, "cursor is the next_cursor of the previous page")
		}
	}
	me := agentOf(c).ID
	ns, err := s.svc.ListNotices(c.UserContext(), me, f)
	if err != nil {
		return err
	}
	out := noticesJSON{listJSON: listJSON[noticeJSON]{Items: make([]noticeJSON, 0, len(ns))}}
	for _, n := range ns {
		v := noticeJSON{ID: n.ID, Kind: n.Kind, Body: privacy.MaskText(n.Body), ComplaintID: n.ComplaintID, CreatedAt: n.CreatedAt.UTC(), ReadAt: utc(n.ReadAt)}
		if n.TicketID != nil {
			v.TicketRef = tickets.FormatRef(*n.TicketID)
		}
		out.Items = append(out.Items, v)
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	if len(ns) == f.Limit {
		out.NextCursor = strconv.FormatInt(ns[len(ns)-1].ID, 10)
	}
	if out.Unread, err = s.svc.UnreadNotices(c.UserContext(), me); err != nil {
		return err
	}
	return c.JSON(out)
}

// readNotices serves POST /notices/read {"up_to": id}: the agent's own notices up to
// that id are read; others' are never touched.
func (s *server) readNotices(c *fiber.Ctx) error {
	var in struct {
		UpTo int64 `json:"up_to"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.UpTo < 1 {
		return fiber.NewError(fiber.StatusBadRequest, "say up_to: the newest notice id read")
	}
	if err := s.svc.MarkNoticesRead(c.UserContext(), agentOf(c).ID, in.UpTo); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
