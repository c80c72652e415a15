package api

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
)

func (s *server) listAgents(c *fiber.Ctx) error {
	var team *int64
	if v := c.Query("team"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "team must be a team id")
		}
		team = &id
	}
	as, err := s.svc.Agents(c.UserContext(), team)
	if err != nil {
		return err
	}
	out := listJSON[agentJSON]{Items: make([]agentJSON, 0, len(as))}
	for _, a := range as {
		out.Items = append(out.Items, viewAgent(a))
	}
	return c.JSON(out)
}

func (s *server) getAgent(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	a, err := s.svc.Agent(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(viewAgent(a))
}

func (s *server) createAgent(c *fiber.Ctx) error {
	var in struct {
		Email    string `json:"email"`
		Name     string `json:"name"`
		Role     string `json:"role"`
		TeamID   *int64 `json:"team_id"`
		Capacity int    `json:"capacity"`
		Password string `json:"password"`
		Locale   string `json:"locale"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	a, err := s.svc.CreateAgent(c.UserContext(), actorOf(c), tickets.NewAgent{
		Email: in.Email, Name: in.Name, Role: tickets.Role(in.Role), TeamID: in.TeamID,
		Capacity: in.Capacity, Password: in.Password, Locale: in.Locale,
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(viewAgent(a))
}

func (s *server) updateAgent(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		Name     *string `json:"name"`
		Role     *string `json:"role"`
		TeamID   *int64  `json:"team_id"`
		NoTeam   bool    `json:"no_team"`
		Capacity *int    `json:"capacity"`
		Password *string `json:"password"`
		Locale   *string `json:"locale"`
		Active   *bool   `json:"active"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	u := tickets.AgentUpdate{Name: in.Name, TeamID: in.TeamID, ClearTeam: in.NoTeam, Capacity: in.Capacity, Password: in.Password, Locale: in.Locale, Active: in.Active}
	if in.Role != nil {
		r := tickets.Role(*in.Role)
		u.Role = &r
	}
	a, err := s.svc.UpdateAgent(c.UserContext(), actorOf(c), id, u)
	if err != nil {
		return err
	}
	return c.JSON(viewAgent(a))
}

// deactivateAgent keeps the agent's history but ends their access.
func (s *server) deactivateAgent(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	inactive := false
	a, err := s.svc.UpdateAgent(c.UserContext(), actorOf(c), id, tickets.AgentUpdate{Active: &inactive})
	if err != nil {
		return err
	}
	return c.JSON(viewAgent(a))
}

func (s *server) listTeams(c *fiber.Ctx) error {
	ts, err := s.svc.Teams(c.UserContext())
	if err != nil {
		return err
	}
	out := listJSON[teamJSON]{Items: make([]teamJSON, 0, len(ts))}
	for _, t := range ts {
		out.Items = append(out.Items, teamJSON{ID: t.ID, Name: t.Name})
	}
	return c.JSON(out)
}

func (s *server) getTeam(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	t, err := s.svc.Team(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(teamJSON{ID: t.ID, Name: t.Name})
}

type teamInput struct {
	Name string `json:"name"`
}

func (s *server) createTeam(c *fiber.Ctx) error {
	var in teamInput
	if err := decode(c, &in); err != nil {
		return err
	}
	t, err := s.svc.CreateTeam(c.UserContext(), actorOf(c), in.Name)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(teamJSON{ID: t.ID, Name: t.Name})
}

func (s *server) renameTeam(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in teamInput
	if err := decode(c, &in); err != nil {
		return err
	}
	t, err := s.svc.RenameTeam(c.UserContext(), actorOf(c), id, in.Name)
	if err != nil {
		return err
	}
	return c.JSON(teamJSON{ID: t.ID, Name: t.Name})
}

func (s *server) deleteTeam(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteTeam(c.UserContext(), actorOf(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
