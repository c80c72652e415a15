package api

import (
	"github.com/gofiber/fiber/v2"
)

type templateJSON struct {
	Key    string `json:"key"`
	Locale string `json:"locale"`
	Body   string `json:"body"`
	Custom bool   `json:"custom"`
}

// listTemplates shows every customer notice's wording in Chinese and English.
func (s *server) listTemplates(c *fiber.Ctx) error {
	ts, err := s.delivery.Templates(c.UserContext())
	if err != nil {
		return err
	}
	out := listJSON[templateJSON]{Items: make([]templateJSON, 0, len(ts))}
	for _, t := range ts {
		out.Items = append(out.Items, templateJSON{Key: t.Key, Locale: t.Locale, Body: t.Body, Custom: t.Custom})
	}
	return c.JSON(out)
}

// setTemplate serves PUT /templates/{key}/{locale} {body}; an empty body restores the
// default wording.
func (s *server) setTemplate(c *fiber.Ctx) error {
	var in struct {
		Body string `json:"body"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if err := s.delivery.SetTemplate(c.UserContext(), actorOf(c), c.Params("key"), c.Params("locale"), in.Body); err != nil {
		return err
	}
	return s.listTemplates(c)
}
