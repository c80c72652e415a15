package api

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/exports"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/privacy"
)

// The customer's rights and the retention policy (tickets/privacy): a copy for an access
// request, erasure, legal holds, who read what, and the policy with its runs.

// exportCustomer serves GET /customers/:id/export?format=json|html[&lang=en] to
// supervisors and admins, recorded as "customer.exported".
func (s *server) exportCustomer(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	format := c.Query("format", "json")
	cp, err := s.privacy.Export(c.UserContext(), actorOf(c), id, format)
	if err != nil {
		return err
	}
	if format == "html" {
		en := c.Query("lang") == "en"
		return exports.StreamCopy(c, s.log, exports.CopyName(id, "html"), "text/html; charset=utf-8", func(ctx context.Context, w io.Writer) error {
			return exports.CopyHTML(ctx, w, cp, en, s.svc.Calendar().Location())
		})
	}
	return exports.StreamCopy(c, s.log, exports.CopyName(id, "json"), "application/json", func(ctx context.Context, w io.Writer) error {
		return exports.CopyJSON(ctx, w, cp)
	})
}

// eraseCustomer serves POST /customers/:id/erase {"reason"}: supervisors and admins; 409
// with the reason while a legal hold or open work stops it.
func (s *server) eraseCustomer(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	e, err := s.privacy.Erase(c.UserContext(), actorOf(c), id, in.Reason)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"customer_id": e.CustomerID, "already_erased": e.Already, "erased_at": e.At,
		"messages": e.Messages, "attachments": e.Attachments, "identities": e.Identities})
}

type trailJSON struct {
	ID    int64  `json:"id"`
	At    string `json:"at"`
	Kind  string `json:"kind"`
	Actor string `json:"actor"`
	Data  any    `json:"data"`
}

// customerPrivacy serves GET /customers/:id/privacy: the legal holds and the trail of who
// read or changed what of theirs, newest first.
func (s *server) customerPrivacy(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.svc.Customer(c.UserContext(), id); err != nil {
		return err
	}
	hs, err := s.privacy.Holds(c.UserContext(), id)
	if err != nil {
		return err
	}
	evs, err := s.privacy.Trail(c.UserContext(), id)
	if err != nil {
		return err
	}
	trail := make([]trailJSON, 0, len(evs))
	for _, ev := range evs {
		data := json.RawMessage(ev.Data)
		if !json.Valid(data) {
			data = json.RawMessage("{}")
		}
		trail = append(trail, trailJSON{ID: ev.ID, At: ev.CreatedAt.UTC().Format(time.RFC3339), Kind: ev.Kind, Actor: ev.Actor, Data: data})
	}
	return c.JSON(fiber.Map{"legal_holds": hs, "trail": trail})
}

// placeHold serves POST /legal-holds {"customer_id" | "complaint_id", "reason"}.
func (s *server) placeHold(c *fiber.Ctx) error {
	var in struct {
		CustomerID  int64  `json:"customer_id"`
		ComplaintID int64  `json:"complaint_id"`
		Reason      string `json:"reason"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	entity, id := privacy.OnCustomer, in.CustomerID
	switch {
	case in.CustomerID > 0 && in.ComplaintID > 0, in.CustomerID <= 0 && in.ComplaintID <= 0:
		return fiber.NewError(fiber.StatusBadRequest, "name one customer_id or one complaint_id")
	case in.ComplaintID > 0:
		entity, id = privacy.OnComplaint, in.ComplaintID
	}
	h, err := s.privacy.PlaceHold(c.UserContext(), actorOf(c), entity, id, in.Reason)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(h)
}

// releaseHold serves POST /legal-holds/:id/release {"reason"}.
func (s *server) releaseHold(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	h, err := s.privacy.ReleaseHold(c.UserContext(), actorOf(c), id, in.Reason)
	if err != nil {
		return err
	}
	return c.JSON(h)
}

func mustAdmin(c *fiber.Ctx) error {
	if agentOf(c).Role != tickets.RoleAdmin {
		return fiber.NewError(fiber.StatusForbidden, "only admins see and set how long data is kept")
	}
	return nil
}

// retentionPolicy serves GET /retention-policy (admins): the policy in force and the
// latest runs.
func (s *server) retentionPolicy(c *fiber.Ctx) error {
	if err := mustAdmin(c); err != nil {
		return err
	}
	p, err := s.privacy.Policy(c.UserContext())
	if err != nil {
		return err
	}
	runs, err := s.privacy.Runs(c.UserContext(), 30)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"policy": p, "runs": runs})
}

// setRetentionPolicy serves PUT /retention-policy {"messages", "attachments",
// "recordings", "customers"}: days after a ticket ended, 0 keeps.
func (s *server) setRetentionPolicy(c *fiber.Ctx) error {
	var p privacy.Policy
	if err := decode(c, &p); err != nil {
		return err
	}
	if err := s.privacy.SetPolicy(c.UserContext(), actorOf(c), p); err != nil {
		return err
	}
	return s.retentionPolicy(c)
}
