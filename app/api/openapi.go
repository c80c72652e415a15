package api

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/docs"
)

// openAPI serves GET /api/v1/openapi.json: the API's description, docs/openapi.yaml,
// checked and converted to JSON as the process starts. It is public: it describes the
// doors, it opens none.
func openAPI(log *slog.Logger) fiber.Handler {
	spec, err := docs.OpenAPIJSON()
	if err != nil { // only a broken build gets here; the API itself still serves
		log.Error("the OpenAPI document cannot be served", "err", err)
		return func(*fiber.Ctx) error { return err }
	}
	sum := sha256.Sum256(spec)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	return func(c *fiber.Ctx) error {
		// Clients may keep it a few minutes, then ask again with the ETag; a release that
		// changes the document changes the ETag.
		c.Set(fiber.HeaderCacheControl, "public, max-age=300")
		c.Set(fiber.HeaderETag, etag)
		if c.Get(fiber.HeaderIfNoneMatch) == etag {
			return c.SendStatus(fiber.StatusNotModified)
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Send(spec)
	}
}
