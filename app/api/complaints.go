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

type complaintJSON struct {
	ID              int64         `json:"id"`
	Ref             string        `json:"ref"`
	TicketRef       string        `json:"ticket_ref"`
	Status          string        `json:"status"`
	Source          string        `json:"source"`
	Summary         string        `json:"summary"`
	ReceivedAt      time.Time     `json:"received_at"`
	DueAt           time.Time     `json:"due_at"`
	ExtendedUntil   *time.Time    `json:"extended_until"`
	ExtensionReason string        `json:"extension_reason"`
	DeadlineAt      time.Time     `json:"deadline_at"`
	Overdue         bool          `json:"overdue"`
	Officer         *agentRefJSON `json:"officer"`
	Decision        string        `json:"decision"`
	Outcome         string        `json:"outcome"`
	DecidedAt       *time.Time    `json:"decided_at"`
	BreachedAt      *time.Time    `json:"breached_at"`
	CreatedAt       time.Time     `json:"created_at"`
}

func viewComplaint(c *complaints.Complaint, now time.Time) complaintJSON {
	v := complaintJSON{ID: c.ID, Ref: c.Ref(), TicketRef: tickets.FormatRef(c.TicketID), Status: string(c.Status), Source: string(c.Source),
		Summary: privacy.MaskText(c.Summary), ReceivedAt: c.ReceivedAt.UTC(), DueAt: c.DueAt.UTC(), ExtendedUntil: utc(c.ExtendedUntil),
		ExtensionReason: c.ExtensionReason, DeadlineAt: c.DeadlineAt.UTC(), Overdue: c.Overdue(now), Decision: c.Decision,
		Outcome: c.Outcome, DecidedAt: utc(c.DecidedAt), BreachedAt: utc(c.BreachedAt), CreatedAt: c.CreatedAt.UTC()}
	if c.Officer != nil {
		v.Officer = &agentRefJSON{ID: c.Officer.ID, Name: c.Officer.Name, Email: c.Officer.Email}
	}
	return v
}

// listComplaints serves GET /complaints?status=received,investigating&officer=me|7
// &overdue=true&due_before=<RFC3339>
func (s *server) listComplaints(c *fiber.Ctx) error {
	var f complaints.Filter
	for _, st := range strings.Split(c.Query("status"), ",") {
		if st = strings.TrimSpace(st); st != "" {
			f.Statuses = append(f.Statuses, tickets.ComplaintStatus(st))
		}
	}
	switch v := c.Query("officer"); v {
	case "":
	case "me":
		f.OfficerID = &agentOf(c).ID
	default:
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, `officer must be an agent id or "me"`)
		}
		f.OfficerID = &id
	}
	if v := c.Query("overdue"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "overdue must be true or false")
		}
		f.Overdue = b
	}
	var err error
	if f.DueBefore, err = timeParam(c, "due_before"); err != nil {
		return err
	}
	cs, err := s.complaints.Complaints(c.UserContext(), f)
	if err != nil {
		return err
	}
	now := time.Now()
	out := listJSON[complaintJSON]{Items: make([]complaintJSON, 0, len(cs))}
	for _, cp := range cs {
		out.Items = append(out.Items, viewComplaint(cp, now))
	}
	return c.JSON(out)
}

func (s *server) getComplaint(c *fiber.Ctx) error {
	cp, err := s.complaints.Complaint(c.UserContext(), c.Params("ref"))
	if err != nil {
		return err
	}
	return c.JSON(viewComplaint(cp, time.Now()))
}

func (s *server) createComplaint(c *fiber.Ctx) error {
	var in struct {
		TicketRef  string `json:"ticket_ref"`
		Source     string `json:"source"`
		Summary    string `json:"summary"`
		ReceivedAt string `json:"received_at"`
		Customer   struct {
			Name  string `json:"name"`
			Phone string `json:"phone"`
			Email string `json:"email"`
		} `json:"customer"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	nc := complaints.NewComplaint{TicketRef: in.TicketRef, Source: tickets.ComplaintSource(in.Source), Summary: in.Summary,
		Customer: tickets.NewTicket{Name: in.Customer.Name, Phone: in.Customer.Phone, Email: in.Customer.Email}}
	if in.ReceivedAt != "" {
		t, err := time.Parse(time.RFC3339, in.ReceivedAt)
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "received_at must be an RFC 3339 time")
		}
		nc.ReceivedAt = t
	}
	cp, err := s.complaints.Open(c.UserContext(), actorOf(c), nc)
	if err != nil {
		return err
	}
	c.Location("/api/v1/complaints/" + cp.Ref())
	return c.Status(fiber.StatusCreated).JSON(viewComplaint(cp, time.Now()))
}

func (s *server) complaintStatus(c *fiber.Ctx) error {
	var in struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	cp, err := s.complaints.SetStatus(c.UserContext(), actorOf(c), c.Params("ref"), tickets.ComplaintStatus(in.Status), in.Reason)
	if err != nil {
		return err
	}
	return c.JSON(viewComplaint(cp, time.Now()))
}

func (s *server) complaintAssign(c *fiber.Ctx) error {
	var in struct {
		OfficerID int64 `json:"officer_id"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	cp, err := s.complaints.Assign(c.UserContext(), actorOf(c), c.Params("ref"), in.OfficerID)
	if err != nil {
		return err
	}
	return c.JSON(viewComplaint(cp, time.Now()))
}

func (s *server) complaintDecision(c *fiber.Ctx) error {
	var in struct {
		Decision string `json:"decision"`
		Outcome  string `json:"outcome"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	cp, err := s.complaints.Decide(c.UserContext(), actorOf(c), c.Params("ref"), in.Decision, in.Outcome)
	if err != nil {
		return err
	}
	return c.JSON(viewComplaint(cp, time.Now()))
}

func (s *server) complaintExtend(c *fiber.Ctx) error {
	var in struct {
		Until  string `json:"until"`
		Reason string `json:"reason"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	until, err := time.Parse(time.RFC3339, in.Until)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "until must be an RFC 3339 time")
	}
	cp, err := s.complaints.Extend(c.UserContext(), actorOf(c), c.Params("ref"), until, in.Reason)
	if err != nil {
		return err
	}
	return c.JSON(viewComplaint(cp, time.Now()))
}
