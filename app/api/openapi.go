package api

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/docs"
)

// openAPI serves GET /api/v1/openapi.json: the API's description, docs/openapi.yaml,
// checked and converted to JSON once, on the first request (an app built only for a test
// does not pay for it). It is public: it describes the doors, it opens none.
func openAPI() fiber.Handler {
	var once sync.Once
	var spec []byte
	var etag string
	var failed error
	return func(c *fiber.Ctx) error {
		once.Do(func() {
			if spec, failed = docs.OpenAPIJSON(c.UserContext()); failed == nil {
				sum := sha256.Sum256(spec)
				etag = `"` + hex.EncodeToString(sum[:12]) + `"`
			}
		})
		if failed != nil {
			return failed // a 500, logged: the embedded document is broken
		}
		// Clients may keep it a few minutes and then ask again with the ETag; a new
		// release's document has another.
		c.Set(fiber.HeaderCacheControl, "public, max-age=300")
		c.Set(fiber.HeaderETag, etag)
		if c.Get(fiber.HeaderIfNoneMatch) == etag {
			return c.SendStatus(fiber.StatusNotModified)
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Send(spec)
	}
}
