// Package web serves Hotline's HTML pages: server-rendered html/template, embedded in the
// binary, so a fresh "go run ./app" serves them with no build step.
package web

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/privacy"
)

//go:embed templates/*.html
var files embed.FS

// StatusPage is the public page where a customer checks a ticket with its reference and
// the last four digits of their phone number (or their email address).
type StatusPage struct {
	doors    *access.Service
	tmpl     *template.Template
	clientIP func(*fiber.Ctx) string
	log      *slog.Logger
	company  string
}

// DefaultCompany names the business on the public pages when none is configured.
const DefaultCompany = "Hotline"

// Company names the business the page speaks for (HOTLINE_COMPANY_NAME); empty keeps
// DefaultCompany.
func (p *StatusPage) Company(name string) *StatusPage {
	p.company = companyName(name)
	return p
}

func companyName(name string) string {
	if name = strings.TrimSpace(name); name != "" {
		return name
	}
	return DefaultCompany
}

// NewStatusPage builds the page of svc's tickets, looked up through doors; clientIP names
// the client whose wrong lookups count. The doors limit wrong lookups per client and per
// reference, in the database.
func NewStatusPage(svc *tickets.Service, doors *access.Service, clientIP func(*fiber.Ctx) string, log *slog.Logger) *StatusPage {
	loc := svc.Calendar().Location()
	funcs := template.FuncMap{
		"when": func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04") },
		"day":  func(t time.Time) string { return t.In(loc).Format("2006-01-02") },
		// A lookup is proved by the reference and four digits only: numbers and addresses
		// in what the page shows stay masked, which costs the customer, who knows their
		// own, nothing.
		"mask": privacy.MaskText,
	}
	tmpl := template.Must(template.New("").Funcs(funcs).ParseFS(files, "templates/*.html"))
	return &StatusPage{doors: doors, tmpl: tmpl, clientIP: clientIP, log: log, company: DefaultCompany}
}

// Register mounts GET /status.
func (p *StatusPage) Register(app *fiber.App) {
	registerStylesheet(app)
	app.Get("/status", p.show)
}

type view struct {
	Lang    string // "zh" or "en"
	Company string
	Ref     string
	Error   string // "", "notfound", "limit" (this client), "locked" (this reference)
	Retry   time.Duration
	Ticket  *access.TicketStatus
}

// Wait says how long to wait after a refusal, in the page's language, rounded up.
func (v view) Wait() string {
	if v.Retry < time.Minute {
		n := int(math.Ceil(v.Retry.Seconds()))
		return v.T(fmt.Sprintf("%d 秒", n), fmt.Sprintf("%d seconds", n))
	}
	n := int(math.Ceil(v.Retry.Minutes()))
	if n == 1 {
		return v.T("1 分钟", "1 minute")
	}
	return v.T(fmt.Sprintf("%d 分钟", n), fmt.Sprintf("%d minutes", n))
}

// T picks the page's words in its language.
func (v view) T(zh, en string) string {
	if v.Lang == "en" {
		return en
	}
	return zh
}

// StatusWord is a ticket status in the page's language. The English words are written to
// sit inside a sentence ("resolved"); alone on the badge they start with a capital, so
// they do not read as a raw key.
func (v view) StatusWord(s tickets.Status) string {
	w := s.Words(v.Lang == "en")
	if r, size := utf8.DecodeRuneInString(w); v.Lang == "en" && size > 0 {
		return string(unicode.ToUpper(r)) + w[size:]
	}
	return w
}

// StageName is a progress stage in the page's language.
func (v view) StageName(st access.StageStep) string { return st.Name(v.Lang == "en") }

// ComplaintWord is a complaint status in the page's language.
func (v view) ComplaintWord(s tickets.ComplaintStatus) string {
	w := map[tickets.ComplaintStatus][2]string{
		tickets.ComplaintReceived: {"已受理", "Received"}, tickets.ComplaintInvestigating: {"调查中", "Under investigation"},
		tickets.ComplaintDecided: {"已作出处理决定", "Decided"}, tickets.ComplaintClosed: {"已结案", "Closed"},
	}[s]
	return v.T(w[0], w[1])
}

func lang(c *fiber.Ctx) string {
	if l := c.Query("lang"); l == "en" || l == "zh" {
		return l
	}
	if strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderAcceptLanguage)), "en") {
		return "en"
	}
	return "zh"
}

func (p *StatusPage) show(c *fiber.Ctx) error {
	v := view{Lang: lang(c), Company: p.company, Ref: strings.TrimSpace(c.Query("ref"))}
	if v.Ref == "" {
		return p.render(c, fiber.StatusOK, v)
	}
	st, err := p.doors.PublicStatusFrom(c.UserContext(), p.clientIP(c), v.Ref, c.Query("check"))
	var limited *tickets.Limited
	switch {
	case errors.As(err, &limited):
		v.Error, v.Retry = "limit", limited.Retry
		if limited.Scope == access.LimitStatusReference {
			v.Error = "locked"
		}
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(limited.Retry.Seconds()))))
		return p.render(c, fiber.StatusTooManyRequests, v)
	case errors.Is(err, tickets.ErrNotFound):
		v.Error = "notfound"
		return p.render(c, fiber.StatusNotFound, v)
	case err != nil:
		return err
	}
	v.Ticket = st
	return p.render(c, fiber.StatusOK, v)
}

func (p *StatusPage) render(c *fiber.Ctx, status int, v view) error {
	c.Status(status).Type("html", "utf-8")
	// The page shows a customer's own data: never cache it, never frame it.
	setPublicPageHeaders(c)
	return p.tmpl.ExecuteTemplate(c, "status.html", v)
}
