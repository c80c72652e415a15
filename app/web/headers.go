package web

import (
	"embed"

	"github.com/gofiber/fiber/v2"
)

// ContentSecurityPolicy is the policy of every HTML page Hotline serves, the console's and
// the public ones alike: scripts, styles and everything else only from Hotline's own files
// (no inline script or style, so injected markup cannot run or restyle the page), never in
// a frame, and forms that post only back to Hotline.
const ContentSecurityPolicy = "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// SetPageHeaders gives an HTML response the headers every page carries: the policy above,
// no framing (for browsers older than frame-ancestors), no content sniffing, no caching
// (pages show people's own data), and addresses told to no other site.
func SetPageHeaders(c *fiber.Ctx) {
	c.Set(fiber.HeaderContentSecurityPolicy, ContentSecurityPolicy)
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
}

// setPublicPageHeaders is SetPageHeaders for the customers' pages, whose addresses carry
// their credential (the survey token, the status page's reference and check): not even
// Hotline's own links and proxies' logs are handed it as a Referer.
func setPublicPageHeaders(c *fiber.Ctx) {
	SetPageHeaders(c)
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
}

//go:embed static/page.css
var staticFiles embed.FS

// stylesheetPath is where the public pages' styles are served: a file, since the policy
// refuses inline styles.
const stylesheetPath = "/public/page.css"

// registerStylesheet mounts the public pages' stylesheet, once however many pages ask.
func registerStylesheet(app *fiber.App) {
	for _, r := range app.GetRoutes(true) {
		if r.Path == stylesheetPath {
			return
		}
	}
	css, err := staticFiles.ReadFile("static/page.css")
	if err != nil {
		panic(err) // embedded at build time
	}
	app.Get(stylesheetPath, func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "text/css; charset=utf-8")
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
		return c.Send(css)
	})
}
