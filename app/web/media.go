package web

import (
	"errors"
	"log/slog"
	"mime"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
)

// MediaLinks serves the files of agents' replies at their signed, expiring links
// (/media/{id}/{expires}/{signature}), for a provider that fetches a file to send it
// (Twilio's MMS). The signature is the only credential; a wrong or expired one is not found.
type MediaLinks struct {
	svc *tickets.Service
	log *slog.Logger
}

// NewMediaLinks builds the route.
func NewMediaLinks(svc *tickets.Service, log *slog.Logger) *MediaLinks {
	if log == nil {
		log = slog.Default()
	}
	return &MediaLinks{svc: svc, log: log}
}

// Register mounts GET (and HEAD) /media/:id/:expires/:signature.
func (m *MediaLinks) Register(app *fiber.App) {
	app.Get("/media/:id/:expires/:signature", m.serve)
}

// mediaTypes are the types served as themselves; anything else is a download.
var mediaTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true}

func (m *MediaLinks) serve(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("X-Robots-Tag", "noindex")
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return c.Status(fiber.StatusNotFound).JSON(fiber.Map{"error": "no such file, or its link has expired"})
	}
	a, content, err := m.svc.MediaByLink(c.UserContext(), id, c.Params("expires"), c.Params("signature"))
	if errors.Is(err, tickets.ErrNotFound) {
		return c.Status(fiber.StatusNotFound).JSON(fiber.Map{"error": tickets.Reason(err)})
	}
	if err != nil {
		m.log.Error("serve a media link", "attachment", id, "err", err)
		return c.Status(fiber.StatusInternalServerError).JSON(fiber.Map{"error": "could not read the file; try again"})
	}
	ct, disposition := strings.ToLower(a.ContentType), "inline"
	if !mediaTypes[ct] {
		ct, disposition = "application/octet-stream", "attachment"
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType(disposition, map[string]string{"filename": a.Filename}))
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	return c.Send(content)
}
