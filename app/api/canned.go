package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets/canned"
)

type cannedJSON struct {
	ID        int64     `json:"id"`
	TeamID    *int64    `json:"team_id"` // null: global
	Title     string    `json:"title"`
	BodyZH    string    `json:"body_zh"`
	BodyEN    string    `json:"body_en"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func viewCanned(r *canned.Reply) cannedJSON {
	return cannedJSON{ID: r.ID, TeamID: r.TeamID, Title: r.Title, BodyZH: r.BodyZH, BodyEN: r.BodyEN,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// listCanned serves GET /canned-replies?q=<title words>: the global replies and the
// agent's team's (an admin's: all), by title.
func (s *server) listCanned(c *fiber.Ctx) error {
	rs, err := s.canned.List(c.UserContext(), actorOf(c), c.Query("q"))
	if err != nil {
		return err
	}
	out := listJSON[cannedJSON]{Items: make([]cannedJSON, 0, len(rs))}
	for _, r := range rs {
		out.Items = append(out.Items, viewCanned(r))
	}
	return c.JSON(out)
}

// cannedInput reads {team_id, title, body_zh, body_en}; team_id null or absent is global.
func cannedInput(c *fiber.Ctx) (canned.Input, error) {
	var in struct {
		TeamID *int64 `json:"team_id"`
		Title  string `json:"title"`
		BodyZH string `json:"body_zh"`
		BodyEN string `json:"body_en"`
	}
	if err := decode(c, &in); err != nil {
		return canned.Input{}, err
	}
	return canned.Input{TeamID: in.TeamID, Title: in.Title, BodyZH: in.BodyZH, BodyEN: in.BodyEN}, nil
}

// createCanned serves POST /canned-replies (supervisors: their team's; admins: any).
func (s *server) createCanned(c *fiber.Ctx) error {
	in, err := cannedInput(c)
	if err != nil {
		return err
	}
	r, err := s.canned.Create(c.UserContext(), actorOf(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(viewCanned(r))
}

// updateCanned serves PUT /canned-replies/{id}: the whole reply, replaced.
func (s *server) updateCanned(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	in, err := cannedInput(c)
	if err != nil {
		return err
	}
	r, err := s.canned.Update(c.UserContext(), actorOf(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(viewCanned(r))
}

// deleteCanned serves DELETE /canned-replies/{id}.
func (s *server) deleteCanned(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.canned.Delete(c.UserContext(), actorOf(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// fillCanned serves GET /tickets/{ref}/canned-replies/{id}: the reply in the customer's
// language with its variables filled from the ticket, as the agent would send it.
func (s *server) fillCanned(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	f, err := s.canned.Fill(c.UserContext(), actorOf(c), c.Params("ref"), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"id": f.ID, "title": f.Title, "locale": f.Locale, "body": f.Body})
}
