package ui

import (
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

const (
	// LangCookie keeps the language chosen before signing in; the shell sets it, Lang reads it.
	LangCookie  = "hotline_lang"
	flashCookie = "hotline_flash"
	csrfKey     = "console.csrf"
	unreadKey   = "console.unread"
	sessionKey  = "console.session"
)

// SetUnread gives the request's pages the agent's unread notices, the number on the menu
// (the shell counts them before a page's handler runs).
func SetUnread(ctx *fiber.Ctx, n int) { ctx.Locals(unreadKey, n) }

// SetCSRF gives the request's pages the session's form token (the shell's session check
// does, before any section's handler runs); every form of the page carries it.
func SetCSRF(ctx *fiber.Ctx, token string) { ctx.Locals(csrfKey, token) }

// SetSession gives the request's handlers the session token it came with (the shell's
// session check does), for a change that must spare the asker's own session.
func SetSession(ctx *fiber.Ctx, token string) { ctx.Locals(sessionKey, token) }

// Session is the request's session token, "" before signing in. It is a secret: never
// shown or logged.
func Session(ctx *fiber.Ctx) string {
	tok, _ := ctx.Locals(sessionKey).(string)
	return tok
}

// Flash is a one-time message for the next page, kept in a short-lived cookie.
type Flash struct {
	Text  string
	Error bool
}

// SetFlash leaves a message for the next page the browser opens.
func SetFlash(ctx *fiber.Ctx, text string, isErr bool) {
	v := "ok:" + text
	if isErr {
		v = "error:" + text
	}
	ctx.Cookie(&fiber.Cookie{Name: flashCookie, Value: url.QueryEscape(v), Path: "/", HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode, MaxAge: 60})
}

func takeFlash(ctx *fiber.Ctx) *Flash {
	raw := ctx.Cookies(flashCookie)
	if raw == "" || ctx.Method() != fiber.MethodGet {
		return nil
	}
	ctx.Cookie(&fiber.Cookie{Name: flashCookie, Value: "", Path: "/", HTTPOnly: true, MaxAge: -1, Expires: time.Unix(1, 0)})
	v, err := url.QueryUnescape(raw)
	if err != nil {
		return nil
	}
	kind, text, _ := strings.Cut(v, ":")
	if text == "" {
		return nil
	}
	return &Flash{Text: text, Error: kind == "error"}
}
