package console_test

import (
	"net/url"
	"regexp"
	"testing"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

var nextInPage = regexp.MustCompile(`name="next" value="([^"]*)"`)

// Complaint officers land on the complaints board; everyone else on their queue; a page
// asked for before signing in still wins.
func TestLandingAfterSignIn(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	for _, c := range []struct {
		name string
		who  *tickets.Agent
		next string
		want string
	}{
		{"officer", d.Office, "", "/complaints"},
		{"officer from the home page", d.Office, "/", "/complaints"},
		{"officer with an unsafe next", d.Office, "//evil.example/", "/complaints"},
		{"officer who asked for a ticket", d.Office, "/tickets/HL-000001", "/tickets/HL-000001"},
		{"agent", d.Agent, "", "/queue"},
		{"supervisor", d.Super, "/", "/queue"},
		{"admin", d.Admin, "", "/queue"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := d.Browser()
			path := "/login"
			if c.next != "" {
				path += "?next=" + url.QueryEscape(c.next)
			}
			page := b.Get(path)
			form := url.Values{"email": {c.who.Email}, "password": {consoletest.Password}}
			if m := nextInPage.FindStringSubmatch(page.Body); m != nil {
				form.Set("next", m[1]) // as the sign-in form carries it
			}
			r := b.Post("/login", form)
			consoletest.WantStatus(t, r, 303)
			if r.Location != c.want {
				t.Fatalf("signed in to %q, want %q", r.Location, c.want)
			}
			// Signed in, the home page and the sign-in page send them to the same place.
			if r := b.Get("/"); r.Location != map[bool]string{true: "/complaints", false: "/queue"}[c.who.Role == tickets.RoleComplaintOfficer] {
				t.Errorf("/ sends %s to %q", c.who.Role, r.Location)
			}
			if r := b.Get(path); r.Location != c.want {
				t.Errorf("signed in, %s sends them to %q, want %q", path, r.Location, c.want)
			}
		})
	}
	// Signed out, the home page asks to sign in first.
	if r := d.Browser().Get("/"); r.Status != 303 || r.Location != "/login?next=%2F" {
		t.Errorf("signed out, / answers %d %q", r.Status, r.Location)
	}
}
