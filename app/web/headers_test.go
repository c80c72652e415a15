package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/console"
	"github.com/hotlinedesk/hotline/app/web"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// Every HTML page, public or the console's, whatever its status, carries the one strict
// policy and the same protective headers; and no page needs what the policy blocks (inline
// script or style), while everything it links to is served.
func TestEveryPageCarriesTheSamePolicy(t *testing.T) {
	ctx := context.Background()
	clock := tickettest.NewClock(time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC))
	svc := tickettest.Service(tickettest.SQLite(t), clock)
	care := aftercare.New(svc, aftercare.Config{Surveys: true, PublicBaseURL: "https://desk.example.com"})
	svc.SetAftercare(care)
	log := tickettest.Logger()
	desk := console.New(console.Config{Service: svc, Log: log, Clock: clock})
	t.Cleanup(desk.Close)
	app := api.New(api.Config{Service: svc, Log: log, Webhooks: []interface{ Register(*fiber.App) }{
		web.NewStatusPage(svc, access.New(svc, access.Config{}), func(c *fiber.Ctx) string { return c.IP() }, log), web.NewSurveyPage(care, log), desk}})

	const password = "long enough password"
	admin, err := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "a@example.com", Role: tickets.RoleAdmin, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	fresh, answered, stale := surveyToken(t, svc, admin, "kim@example.com"), surveyToken(t, svc, admin, "lee@example.com"), surveyToken(t, svc, admin, "old@example.com")

	cookies := map[string]string{}
	send := func(method, path string, form url.Values) *http.Response {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req := httptest.NewRequest(method, path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for k, v := range cookies {
			req.AddCookie(&http.Cookie{Name: k, Value: v})
		}
		r, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range r.Cookies() {
			cookies[c.Name] = c.Value
		}
		return r
	}
	csrf := func(r *http.Response) string {
		b, _ := io.ReadAll(r.Body)
		m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(b)
		if m == nil {
			t.Fatal("the login page has no form token")
		}
		return string(m[1])
	}
	send("POST", "/survey/"+answered, url.Values{"score": {"5"}})
	for range 5 { // wrong checks lock a reference: its lookups answer 429
		access.New(svc, access.Config{}).PublicStatus(ctx, "HL-000002", "0000") //nolint:errcheck // only the lock matters
	}

	type page struct {
		name, method, path string
		form               url.Values
		status             int
		referrer           string
	}
	public := []page{
		{"status form", "GET", "/status", nil, 200, "no-referrer"},
		{"status lookup, no match", "GET", "/status?ref=HL-000001&check=0000", nil, 404, "no-referrer"},
		{"status lookup, found", "GET", "/status?ref=HL-000001&check=kim@example.com", nil, 200, "no-referrer"},
		{"status lookups over the limit", "GET", "/status?ref=HL-000002&check=1111", nil, 429, "no-referrer"},
		{"survey form", "GET", "/survey/" + fresh, nil, 200, "no-referrer"},
		{"survey answered", "GET", "/survey/" + answered, nil, 200, "no-referrer"},
		{"survey, bad score", "POST", "/survey/" + fresh, url.Values{"score": {"9"}}, 400, "no-referrer"},
		{"survey, unknown token", "GET", "/survey/not-a-token", nil, 404, "no-referrer"},
		{"survey, unknown token posted", "POST", "/survey/not-a-token", url.Values{"score": {"3"}}, 404, "no-referrer"},
	}
	signedOut := []page{
		{"console sign-in", "GET", "/login", nil, 200, "same-origin"},
		{"console sign-in, wrong password", "POST", "/login", url.Values{"email": {"a@example.com"}, "password": {"wrong password!"}}, 401, "same-origin"},
	}
	signedIn := []page{
		{"console queue", "GET", "/queue", nil, 200, "same-origin"},
		{"console dashboard", "GET", "/dashboard", nil, 200, "same-origin"},
		{"console, no such ticket", "GET", "/tickets/HL-999999", nil, 404, "same-origin"},
		{"console, form without its token", "POST", "/settings/language", url.Values{"lang": {"en"}}, 403, "same-origin"},
	}
	check := func(p page) {
		t.Helper()
		if p.form != nil && p.method == "POST" && strings.HasPrefix(p.path, "/login") {
			cookies = map[string]string{}
			p.form.Set("_csrf", csrf(send("GET", "/login", nil)))
		}
		r := send(p.method, p.path, p.form)
		b, _ := io.ReadAll(r.Body)
		if r.StatusCode != p.status {
			t.Errorf("%s: status %d, want %d", p.name, r.StatusCode, p.status)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("%s: Content-Type %q, want an HTML page", p.name, ct)
		}
		for h, want := range map[string]string{
			"Content-Security-Policy": web.ContentSecurityPolicy,
			"X-Frame-Options":         "DENY",
			"X-Content-Type-Options":  "nosniff",
			"Cache-Control":           "no-store",
			"Referrer-Policy":         p.referrer,
		} {
			if got := r.Header.Values(h); len(got) != 1 || got[0] != want {
				t.Errorf("%s: %s %q, want %q", p.name, h, got, want)
			}
		}
		checkRenders(t, app, p.name, string(b))
	}

	for _, p := range public {
		check(p)
	}
	clock.Advance(8 * 24 * time.Hour) // past the surveys' seven days
	for _, p := range []page{
		{"survey, expired", "GET", "/survey/" + stale, nil, 404, "no-referrer"},
		{"survey, expired, posted", "POST", "/survey/" + stale, url.Values{"score": {"4"}}, 404, "no-referrer"},
	} {
		check(p)
	}
	for _, p := range signedOut {
		check(p)
	}
	cookies = map[string]string{}
	tok := csrf(send("GET", "/login", nil))
	if r := send("POST", "/login", url.Values{"email": {"a@example.com"}, "password": {password}, "_csrf": {tok}}); r.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("sign in: %d", r.StatusCode)
	}
	for _, p := range signedIn {
		check(p)
	}
}

var (
	scriptTag  = regexp.MustCompile(`(?is)<script\b[^>]*>`)
	inlineAttr = regexp.MustCompile(`(?is)<[a-z][^>]*\s(style|on[a-z]+)\s*=`)
	linked     = regexp.MustCompile(`(?is)<(?:link\b[^>]*\brel="stylesheet"[^>]*\bhref|script\b[^>]*\bsrc)="([^"]+)"`)
)

// checkRenders fails when a page relies on something the policy blocks: an inline script,
// style block, style attribute or event handler, or a linked file that is not served.
func checkRenders(t *testing.T, app *fiber.App, name, body string) {
	t.Helper()
	for _, tag := range scriptTag.FindAllString(body, -1) {
		if !strings.Contains(tag, " src=") {
			t.Errorf("%s: inline script %q, which the policy blocks", name, tag)
		}
	}
	if strings.Contains(strings.ToLower(body), "<style") {
		t.Errorf("%s: an inline <style> block, which the policy blocks", name)
	}
	if m := inlineAttr.FindString(body); m != "" {
		t.Errorf("%s: inline attribute in %q, which the policy blocks", name, m)
	}
	if strings.Contains(body, "javascript:") {
		t.Errorf("%s: a javascript: address, which the policy blocks", name)
	}
	found := linked.FindAllStringSubmatch(body, -1)
	if len(found) == 0 {
		t.Errorf("%s: links no stylesheet: the page would show unstyled", name)
	}
	for _, m := range found {
		u := m[1]
		if !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") {
			t.Errorf("%s: links %s, not one of Hotline's own files", name, u)
			continue
		}
		r, err := app.Test(httptest.NewRequest("GET", u, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		ct := r.Header.Get("Content-Type")
		if r.StatusCode != 200 || !(strings.HasPrefix(ct, "text/css") || strings.Contains(ct, "javascript")) {
			t.Errorf("%s: %s answers %d %q", name, u, r.StatusCode, ct)
		}
	}
}
