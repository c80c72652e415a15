package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets/access"
)

// keyView is an API key as admins see it: never its secret.
type keyView struct {
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	Scopes     string  `json:"scopes"`
	CreatedAt  string  `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"`
	Revoked    bool    `json:"revoked"`
}

func viewKey(k *access.APIKey) keyView {
	v := keyView{ID: k.ID, Name: k.Name, Scopes: k.Scopes, CreatedAt: k.CreatedAt.UTC().Format(time.RFC3339), Revoked: k.RevokedAt != nil}
	if k.LastUsedAt != nil {
		t := k.LastUsedAt.UTC().Format(time.RFC3339)
		v.LastUsedAt = &t
	}
	return v
}

// listKeys serves GET /api-keys, for admins.
func (s *server) listKeys(c *fiber.Ctx) error {
	ks, err := s.doors.Keys(c.UserContext(), actorOf(c))
	if err != nil {
		return err
	}
	out := make([]keyView, len(ks))
	for i, k := range ks {
		out[i] = viewKey(k)
	}
	return c.JSON(fiber.Map{"items": out})
}

// createKey serves POST /api-keys: the key is in this answer and never again.
func (s *server) createKey(c *fiber.Ctx) error {
	var in struct {
		Name   string   `json:"name"`
		Scopes []string `json:"scopes"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	key, k, err := s.doors.CreateKey(c.UserContext(), actorOf(c), in.Name, in.Scopes)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"key": key, "api_key": viewKey(k)})
}

// revokeKey serves DELETE /api-keys/:id.
func (s *server) revokeKey(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.doors.RevokeKey(c.UserContext(), actorOf(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
