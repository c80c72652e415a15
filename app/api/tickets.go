package api

import (
	"mime"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
)

// listTickets serves the queues: GET /tickets?status=new,open&team=2&assignee=me|none|7
// &channel=sms&priority=high&q=HL-000123&cursor=...&limit=50
func (s *server) listTickets(c *fiber.Ctx) error {
	f, err := queueFilter(c)
	if err != nil {
		return err
	}
	page, err := s.svc.ListTickets(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(listJSON[ticketJSON]{Items: viewTickets(page.Items), NextCursor: page.NextCursor})
}

// queueFilter reads a queue's filters from the query: GET /tickets and its CSV export.
func queueFilter(c *fiber.Ctx) (tickets.TicketFilter, error) {
	f := tickets.TicketFilter{
		Channel:  tickets.Channel(c.Query("channel")),
		Priority: tickets.Priority(c.Query("priority")),
		Query:    c.Query("q"),
		Cursor:   c.Query("cursor"),
	}
	for _, st := range strings.Split(c.Query("status"), ",") {
		if st = strings.TrimSpace(st); st != "" {
			f.Statuses = append(f.Statuses, tickets.Status(st))
		}
	}
	if v := c.Query("team"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return f, fiber.NewError(fiber.StatusBadRequest, "team must be a team id")
		}
		f.TeamID = &id
	}
	var err error
	if f.AssigneeID, f.Unassigned, err = assigneeParam(c); err != nil {
		return f, err
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return f, fiber.NewError(fiber.StatusBadRequest, "limit must be a number from 1 to 200")
		}
		f.Limit = n
	}
	return f, nil
}

func (s *server) getTicket(c *fiber.Ctx) error {
	d, err := s.svc.Ticket(c.UserContext(), c.Params("ref"))
	if err != nil {
		return err
	}
	return c.JSON(viewDetail(d))
}

func (s *server) createTicket(c *fiber.Ctx) error {
	var in struct {
		Channel  string `json:"channel"`
		Customer struct {
			Name  string `json:"name"`
			Phone string `json:"phone"`
			Email string `json:"email"`
		} `json:"customer"`
		Subject  string `json:"subject"`
		Body     string `json:"body"`
		Category string `json:"category"`
		Priority string `json:"priority"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	// Answered from what the transaction wrote: no second read of the ticket.
	d, err := s.svc.CreateTicketDetail(c.UserContext(), actorOf(c), tickets.NewTicket{
		Channel: tickets.Channel(in.Channel), Name: in.Customer.Name, Phone: in.Customer.Phone, Email: in.Customer.Email,
		Subject: in.Subject, Body: in.Body, Category: in.Category, Priority: tickets.Priority(in.Priority),
	})
	if err != nil {
		return err
	}
	c.Location("/api/v1/tickets/" + d.Ref())
	return c.Status(fiber.StatusCreated).JSON(viewDetail(d))
}

type textInput struct {
	Body string `json:"body"`
}

// reply sends {body} on the customer's last channel, or {body, channel} on another; with
// {status} (e.g. "resolved", "pending") it also moves the ticket there, in the same
// transaction: a status the ticket may not take refuses the reply too.
func (s *server) reply(c *fiber.Ctx) error {
	var in struct {
		Body    string `json:"body"`
		Channel string `json:"channel"`
		Status  string `json:"status"`
	}
	var files []tickets.ReplyFile
	if IsMultipart(c) { // with files (reply_files.go)
		values, fs, err := ReplyForm(c, "body", "channel", "status")
		if err != nil {
			return err
		}
		in.Body, in.Channel, in.Status, files = values["body"], values["channel"], values["status"], fs
	} else if err := decode(c, &in); err != nil {
		return err
	}
	m, err := s.svc.ReplyWith(c.UserContext(), actorOf(c), c.Params("ref"), tickets.ReplyInput{
		Via: tickets.Channel(in.Channel), Body: in.Body, Files: files, Then: tickets.Status(in.Status)})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(viewMessage(m))
}

func (s *server) addNote(c *fiber.Ctx) error {
	var in textInput
	if err := decode(c, &in); err != nil {
		return err
	}
	m, err := s.svc.AddNote(c.UserContext(), actorOf(c), c.Params("ref"), in.Body)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(viewMessage(m))
}

func (s *server) assign(c *fiber.Ctx) error {
	var in struct {
		TeamID     *int64 `json:"team_id"`
		AssigneeID *int64 `json:"assignee_id"`
		Reason     string `json:"reason"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	d, err := s.svc.AssignDetail(c.UserContext(), actorOf(c), c.Params("ref"), tickets.Assignment{TeamID: in.TeamID, AssigneeID: in.AssigneeID, Reason: in.Reason})
	if err != nil {
		return err
	}
	return c.JSON(viewDetail(d))
}

func (s *server) setStatus(c *fiber.Ctx) error {
	var in struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	d, err := s.svc.SetStatusDetail(c.UserContext(), actorOf(c), c.Params("ref"), tickets.Status(in.Status), in.Reason)
	if err != nil {
		return err
	}
	return c.JSON(viewDetail(d))
}

func (s *server) setPriority(c *fiber.Ctx) error {
	var in struct {
		Priority string `json:"priority"`
		Reason   string `json:"reason"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	d, err := s.svc.SetPriorityDetail(c.UserContext(), actorOf(c), c.Params("ref"), tickets.Priority(in.Priority), in.Reason)
	if err != nil {
		return err
	}
	return c.JSON(viewDetail(d))
}

// searchCustomers finds callers: GET /customers?q=8000&cursor=...&limit=20, where q is a
// phone number in any form or its last digits, a name or part of one, an email address
// or a WeChat openid.
func (s *server) searchCustomers(c *fiber.Ctx) error {
	f := tickets.CustomerFilter{Query: c.Query("q"), Cursor: c.Query("cursor")}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fiber.NewError(fiber.StatusBadRequest, "limit must be a number from 1 to 100")
		}
		f.Limit = n
	}
	page, err := s.svc.SearchCustomers(c.UserContext(), f)
	if err != nil {
		return err
	}
	out := listJSON[*customerJSON]{Items: make([]*customerJSON, 0, len(page.Items)), NextCursor: page.NextCursor}
	for _, cu := range page.Items {
		out.Items = append(out.Items, viewCustomer(cu))
	}
	return c.JSON(out)
}

func (s *server) getCustomer(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	d, err := s.svc.Customer(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(viewCustomerDetail(d))
}

func (s *server) setCategory(c *fiber.Ctx) error {
	var in struct {
		Category string `json:"category"`
		Reason   string `json:"reason"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	d, err := s.svc.SetCategoryDetail(c.UserContext(), actorOf(c), c.Params("ref"), in.Category, in.Reason)
	if err != nil {
		return err
	}
	return c.JSON(viewDetail(d))
}

func (s *server) updateCustomer(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		Name   *string `json:"name"`
		Locale *string `json:"locale"`
		Tags   *string `json:"tags"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	d, err := s.svc.UpdateCustomer(c.UserContext(), actorOf(c), id, tickets.CustomerUpdate{Name: in.Name, Locale: in.Locale, Tags: in.Tags})
	if err != nil {
		return err
	}
	return c.JSON(viewCustomerDetail(d))
}

// attachment serves a file a customer sent that Hotline keeps (an email attachment), or a
// call recording it fetches from Twilio (see ServeAttachment).
func (s *server) attachment(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return ServeAttachment(c, s.svc, s.recordings, s.log, id)
}

// inlineTypes are the files a browser may show rather than download; anything else is
// downloaded, so an HTML or SVG file a customer sent never runs as one of Hotline's pages.
var inlineTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true,
	"application/pdf": true, "audio/mpeg": true, "audio/wav": true, "audio/ogg": true, "text/plain": true}

// fileHeaders are the headers every attachment is served with, safely: only harmless types
// inline, no sniffing, and a sandbox in case a browser renders it anyway.
func fileHeaders(c *fiber.Ctx, a *tickets.Attachment) {
	disposition, ct := "attachment", strings.ToLower(a.ContentType)
	if inlineTypes[ct] {
		disposition = "inline"
	} else {
		ct = "application/octet-stream"
	}
	if ct == "text/plain" {
		ct = "text/plain; charset=utf-8"
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType(disposition, map[string]string{"filename": a.Filename}))
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'")
	c.Set(fiber.HeaderCacheControl, "private, max-age=3600")
}
