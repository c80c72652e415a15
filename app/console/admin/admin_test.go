package admin_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"

	"github.com/hotlinedesk/hotline/app/channelsettings"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// admEvents counts audit events: a refused form must not add any.
func admEvents(t *testing.T, d *consoletest.Desk) int {
	t.Helper()
	n, err := d.Service.DB().NewSelect().Table("events").Where("kind NOT IN ('agent.login')").Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// admPages are every admin page, with something each must show.
func admPages(d *consoletest.Desk) map[string]string {
	return map[string]string{
		"/admin/agents": "li@desk.test",
		"/admin/agents/" + consoletest.ID(d.Agent.ID): "li@desk.test",
		"/admin/teams":       "Motor",
		"/admin/routing":     `href="/admin/routing/new"`,
		"/admin/routing/new": `action="/admin/routing"`,
		"/admin/sla":         `href="/admin/sla/new"`,
		"/admin/sla/new":     `action="/admin/sla"`,
		"/admin/calendar":    "2026-10-01",
		"/admin/templates":   "HL-000123",
		"/admin/channels":    "TWILIO_AUTH_TOKEN",
		"/admin/retention":   `id="retention-form"`,
		"/admin/keys":        `action="/admin/keys"`,
		"/admin/calendar?year=2025&day=2025-10-08": `value="2025-10-08"`,
	}
}

type admForm struct {
	path string
	form url.Values
}

// admForms are every admin form, with input the service accepts from an admin, in an
// order that works when posted one after the other.
func admForms(d *consoletest.Desk) []admForm {
	team := consoletest.ID(d.Team.ID)
	other := consoletest.ID(d.Other.ID)
	agent := consoletest.ID(d.Agent.ID)
	return []admForm{
		{"/admin/retention", url.Values{"messages": {"365"}, "attachments": {"180"}, "recordings": {"90"}, "customers": {"1095"}}},
		{"/admin/agents", url.Values{"name": {"New One"}, "email": {"new@desk.test"}, "role": {"agent"}, "team": {team}, "capacity": {"5"}, "password": {"long enough pw"}}},
		{"/admin/agents/" + agent, url.Values{"name": {"Renamed"}, "role": {"supervisor"}, "team": {team}, "capacity": {"3"}}},
		{"/admin/agents/" + agent + "/password", url.Values{"password": {"another long pw"}, "confirm": {"another long pw"}}},
		{"/admin/agents/" + agent + "/active", url.Values{"active": {"false"}}},
		{"/admin/teams", url.Values{"name": {"Health"}}},
		{"/admin/teams/" + other, url.Values{"name": {"Motor claims"}}},
		{"/admin/teams/" + other + "/delete", url.Values{}},
		{"/admin/routing", url.Values{"name": {"Claims"}, "keywords": {"理赔"}, "team": {team}}},
		{"/admin/sla", url.Values{"name": {"Urgent"}, "first_response": {"1h"}, "resolution": {"4h"}, "first_breach": {"warn"}, "resolution_breach": {"warn"}}},
		{"/admin/calendar", url.Values{"day": {"2026-12-31"}, "kind": {"holiday"}, "name": {"Year end"}}},
		{"/admin/templates/ticket.resolved/en", url.Values{"body": {"Done: {{.Ref}}"}}},
		{"/admin/channels/twilio", url.Values{"twilio.auth_token": {"0123456789abcdef0123456789abcdef"}}},
	}
}

// Admin pages answer admins; everyone else is refused every page and every form, and a
// refused form changes nothing.
func TestAdminIsForAdminsOnly(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	admin := d.SignIn(d.Admin)
	r := admin.Get("/admin")
	consoletest.WantStatus(t, r, 303)
	if r.Location != "/admin/agents" {
		t.Errorf("/admin goes to %q", r.Location)
	}
	for path, want := range admPages(d) {
		r := admin.Get(path)
		consoletest.WantStatus(t, r, 200)
		consoletest.WantContains(t, r, want, `<nav class="tabs admin-tabs"`, `href="/admin/channels"`)
	}

	for _, who := range []*tickets.Agent{d.Agent, d.Super, d.Office} {
		b := d.SignIn(who)
		for path := range admPages(d) {
			if r := b.Get(path); r.Status != 403 {
				t.Errorf("%s opened %s: %d", who.Email, path, r.Status)
			}
		}
		if r := b.Get("/admin"); r.Status != 403 {
			t.Errorf("%s opened /admin: %d", who.Email, r.Status)
		}
		before := admEvents(t, d)
		for _, f := range admForms(d) {
			if r := b.Post(f.path, f.form); r.Status != 403 {
				t.Errorf("%s posted %s: %d", who.Email, f.path, r.Status)
			}
		}
		if n := admEvents(t, d); n != before {
			t.Errorf("%s's refused forms recorded %d events", who.Email, n-before)
		}
		consoletest.WantLacks(t, b.Get("/queue"), `href="/admin"`)
	}
	consoletest.WantContains(t, admin.Get("/queue"), `href="/admin"`)
}

// A form without the session's CSRF token is refused and changes nothing.
func TestAdminFormsNeedTheCSRFToken(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	b := d.SignIn(d.Admin)
	before := admEvents(t, d)
	for _, f := range admForms(d) {
		if r := b.PostRaw(f.path, f.form); r.Status != 403 {
			t.Errorf("%s without a token: %d", f.path, r.Status)
		}
		forged := url.Values{"_csrf": {"forged"}}
		for k, v := range f.form {
			forged[k] = v
		}
		if r := b.PostRaw(f.path, forged); r.Status != 403 {
			t.Errorf("%s with a forged token: %d", f.path, r.Status)
		}
	}
	if n := admEvents(t, d); n != before {
		t.Errorf("forged forms recorded %d events", n-before)
	}
	if values, _ := channelsettings.New(d.Service).Values(context.Background()); len(values) != 0 {
		t.Errorf("a forged form saved %v", values)
	}
	// With the token, every one of them goes through.
	for _, f := range admForms(d) {
		r := b.Post(f.path, f.form)
		if r.Status != 303 || !strings.HasPrefix(r.Location, "/admin") {
			t.Errorf("%s with the token: %d → %s\n%s", f.path, r.Status, r.Location, consoletest.Clip(r.Body))
		}
	}
	if n := admEvents(t, d); n < before+len(admForms(d)) {
		t.Errorf("%d events for %d accepted forms", n-before, len(admForms(d)))
	}
}

// admUntranslated finds a message key shown as itself: a wording missing from adminText.
var admUntranslated = regexp.MustCompile(`(?:^|[^/\w@.-])admin\.[a-z][\w.]*`)

// Every admin page reads in Chinese and in English: no message key shows as itself.
func TestAdminPagesAreTranslated(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	ctx := context.Background()
	adm := tickets.AgentActor(d.Admin)
	rule, err := d.Service.SaveRoutingRule(ctx, adm, &tickets.RoutingRule{Name: "r", Channel: tickets.ChannelEmail, Keywords: "k", CustomerTag: "vip",
		Language: "en", Category: "c", Priority: tickets.PriorityHigh, TeamID: d.Team.ID, SetPriority: tickets.PriorityUrgent, SetCategory: "s"})
	if err != nil {
		t.Fatal(err)
	}
	policy, err := deadlines.New(d.Service).SavePolicy(ctx, adm, &tickets.Policy{Name: "p", Channel: tickets.ChannelSMS, Priority: tickets.PriorityLow, Category: "c",
		FirstResponseSeconds: 60, ResolutionSeconds: 3600, WorkingTime: true, FirstResponseBreach: tickets.BreachWarn})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := channelsettings.New(d.Service).Save(ctx, adm, map[string]string{channelsettings.SlackBotToken: "xoxb-1", channelsettings.EmailFrom: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	pages := admPages(d)
	pages["/admin/routing/"+consoletest.ID(rule.ID)] = `value="r"`
	pages["/admin/sla/"+consoletest.ID(policy.ID)] = `value="p"`
	pages["/admin/calendar?year=2028"] = `id="no-data"`
	b := d.SignIn(d.Admin)
	for _, lang := range []string{"zh", "en"} {
		b.Post("/settings/language", url.Values{"lang": {lang}})
		for path := range pages {
			r := b.Get(path)
			consoletest.WantStatus(t, r, 200)
			if m := admUntranslated.FindAllString(r.Body, -1); len(m) > 0 {
				t.Errorf("%s in %s shows untranslated keys %q", path, lang, m)
			}
		}
		// Refusals too.
		for _, f := range []admForm{
			{"/admin/agents", url.Values{"capacity": {"x"}}},
			{"/admin/sla", url.Values{"name": {"x"}, "first_response": {"x"}}},
			{"/admin/routing", url.Values{"name": {"x"}}},
			{"/admin/calendar", url.Values{"day": {"x"}}},
		} {
			r := b.Post(f.path, f.form)
			if m := admUntranslated.FindAllString(r.Body, -1); r.Status != 400 || len(m) > 0 {
				t.Errorf("refused %s in %s: %d, untranslated %q", f.path, lang, r.Status, m)
			}
		}
	}
	consoletest.WantContains(t, b.Get("/admin/channels"), "Paste into the provider", "Set here on 2026-11-25 by admin@desk.test")
}
