package api

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
)

const (
	agentKey  = "agent"
	apiKeyKey = "apikey"
)

// authenticate admits requests with a valid bearer token and remembers the agent, or with
// a valid API key (hlk_...) and remembers the key, whose scopes needScope checks.
func (s *server) authenticate(c *fiber.Ctx) error {
	token, ok := bearer(c)
	if !ok {
		return fiber.NewError(fiber.StatusUnauthorized, "sign in first: send Authorization: Bearer <token>")
	}
	if access.IsKey(token) {
		k, err := s.doors.AuthenticateKey(c.UserContext(), token)
		if err != nil {
			return err
		}
		c.Locals(apiKeyKey, k)
		c.Locals(agentKey, k.Actor().Agent)
		return c.Next()
	}
	a, err := s.doors.Authenticate(c.UserContext(), token)
	if err != nil {
		return err
	}
	c.Locals(agentKey, a)
	return c.Next()
}

func bearer(c *fiber.Ctx) (string, bool) {
	h := c.Get(fiber.HeaderAuthorization)
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

func agentOf(c *fiber.Ctx) *tickets.Agent {
	a, _ := c.Locals(agentKey).(*tickets.Agent)
	return a
}

// keyOf is the API key the request came with, or nil for a person's session.
func keyOf(c *fiber.Ctx) *access.APIKey {
	k, _ := c.Locals(apiKeyKey).(*access.APIKey)
	return k
}

// actorOf is who makes the request's changes: the agent, or the API key.
func actorOf(c *fiber.Ctx) tickets.Actor {
	if k := keyOf(c); k != nil {
		return k.Actor()
	}
	return tickets.AgentActor(agentOf(c))
}

func (s *server) login(c *fiber.Ctx) error {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Email == "" || in.Password == "" {
		return fiber.NewError(fiber.StatusBadRequest, "email and password are required")
	}
	token, a, err := s.doors.LoginFrom(c.UserContext(), s.clientIP(c), in.Email, in.Password)
	if err != nil {
		setRetryAfter(c, err)
		return err
	}
	return c.JSON(fiber.Map{"token": token, "agent": viewAgent(a)})
}

func (s *server) logout(c *fiber.Ctx) error {
	token, _ := bearer(c)
	if err := s.doors.Logout(c.UserContext(), token); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) me(c *fiber.Ctx) error { return c.JSON(viewAgent(agentOf(c))) }

// changePassword serves POST /me/password: the signed-in agent changes their own password,
// giving the current one (a wrong one counts as a failed sign-in: 403, then 429). Every
// other session of theirs ends; this token stays.
func (s *server) changePassword(c *fiber.Ctx) error {
	var in struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Current == "" || in.New == "" {
		return fiber.NewError(fiber.StatusBadRequest, "current_password and new_password are required")
	}
	token, _ := bearer(c)
	if err := s.doors.ChangePassword(c.UserContext(), s.clientIP(c), agentOf(c), token, in.Current, in.New); err != nil {
		setRetryAfter(c, err)
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// setRetryAfter tells a client refused for too many failed attempts when to try again.
func setRetryAfter(c *fiber.Ctx, err error) {
	var l *tickets.Limited
	if errors.As(err, &l) {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(l.Retry.Seconds()))))
	}
}

// unlockAgent serves POST /agents/:id/unlock: an admin lifts an agent's sign-in lock.
func (s *server) unlockAgent(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	a, err := s.doors.UnlockAgent(c.UserContext(), actorOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(viewAgent(a))
}

// resetTwoFactor serves POST /agents/:id/2fa/reset: an admin removes an agent's second
// factor and recovery codes (a lost phone), ending their sessions. Not their own (403).
func (s *server) resetTwoFactor(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	a, err := s.doors.ResetTOTP(c.UserContext(), actorOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(viewAgent(a))
}
