package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/privacy"
)

// revealCustomer serves POST /customers/:id/reveal {"field": "phone"|"email"|"wechat"|
// "message", "ticket": "HL-000123", "message_id": 7, "identity_id": 3}: one value in
// full, to a role allowed to see it (privacy.Service.Reveal), recorded as pii.revealed
// before it is answered; 403 and nothing recorded otherwise.
func (s *server) revealCustomer(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		Field      string `json:"field"`
		Ticket     string `json:"ticket"`
		MessageID  int64  `json:"message_id"`
		IdentityID int64  `json:"identity_id"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	req := privacy.Request{CustomerID: id, Field: in.Field, MessageID: in.MessageID, IdentityID: in.IdentityID}
	if ref := strings.TrimSpace(in.Ticket); ref != "" {
		tid, ok := tickets.ParseRef(strings.ToUpper(ref))
		if !ok {
			return tickets.Invalidf("ticket %q is not a ticket reference", ref)
		}
		req.TicketID = tid
	}
	v, err := s.privacy.Reveal(c.UserContext(), actorOf(c), req)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(v)
}
