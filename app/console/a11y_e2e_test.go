package console_test

import (
	"context"
	_ "embed"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/app/web"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
	"github.com/hotlinedesk/hotline/tickets/webhooks"
)

// axeSource is axe-core, vendored (testdata/axe/README.md says which version and whence).
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// colorScheme makes the page's prefers-color-scheme the given one ("light" or "dark").
func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		return chromedp.Void{}, err
	}
}

// axeViolation is one rule axe-core found broken, with the elements that break it.
type axeViolation struct {
	ID, Impact, Help string
	Nodes            []struct {
		Target []string
		Why    string
	}
}

// checkA11y runs axe-core over the page in the browser against WCAG 2.1 A and AA and
// returns the serious and critical violations, one readable line per element.
func checkA11y(t *testing.T, ctx context.Context) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axeSource+";true")); err != nil {
		t.Fatalf("load axe-core: %v", err)
	}
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, {
			runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes: ["violations"]})
		.then((r) => r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => ({
			id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.map((n) => ({target: n.target.map(String), why: n.failureSummary.replace(/\s+/g, " ")}))})))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run axe-core: %v", err)
	}
	var out []string
	for _, v := range vs {
		for _, n := range v.Nodes {
			out = append(out, fmt.Sprintf("%s (%s): %s\n      at %s: %s", v.ID, v.Impact, v.Help, strings.Join(n.Target, " "), n.Why))
		}
	}
	return out
}

// servePublic serves the customers' public pages (the status lookup) of the desk, as app
// wires them, on a loopback port.
func servePublic(t *testing.T, l *live, care *aftercare.Service) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	web.NewStatusPage(l.Service, l.Access, func(c *fiber.Ctx) string { return c.IP() }, tickettest.Logger()).Register(app)
	web.NewSurveyPage(care, tickettest.Logger()).Register(app)
	go app.Listener(ln)                                        //nolint:errcheck // ends with the test
	t.Cleanup(func() { app.ShutdownWithTimeout(time.Second) }) //nolint:errcheck // the test is over
	return "http://" + ln.Addr().String()
}

// TestBrowserAccessibility runs axe-core over the main pages, in both languages and in the
// light and the dark theme, and fails on any serious or critical WCAG 2.1 AA violation. It
// keeps pictures of the queue and the ticket page at desk and phone widths.
func TestBrowserAccessibility(t *testing.T) {
	ctx := newBrowser(t)
	l := serveDesk(t, consoletest.NewDesk(t, tickettest.SQLite(t)))
	care := aftercare.New(l.Service, aftercare.Config{Surveys: true, PublicBaseURL: "https://desk.example.com"})
	l.Service.SetAftercare(care) // a resolution sends the survey link checked below
	for i, text := range []string{"车险理赔进度怎么样了？", "I want to change my address"} {
		l.textIn(t, fmt.Sprintf("+86138001380%02d", i), text)
	}
	tk, err := l.Service.Ticket(context.Background(), "HL-000001")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Service.Reply(context.Background(), tickets.AgentActor(l.Agent), tk.Ref(), "您好，已收到，正在处理。"); err != nil {
		t.Fatal(err)
	}
	c := l.FileComplaint("赵磊", "+8613900139001", "理赔员态度差，三天没有回电。", l.Clock.Now())
	res, err := l.Service.Intake(context.Background(), tickets.Inbound{Channel: tickets.ChannelEmail, ProviderMessageID: consoletest.NextSid(),
		From: tickets.IdentityEmail, Address: "kim@example.com", Subject: "Claim documents", Body: "I sent the documents; what next?"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Service.SetStatus(context.Background(), tickets.AgentActor(l.Super), res.Ticket.Ref(), tickets.StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	token := surveyLink(t, l.Service, res.Ticket.Ref()) // emailed as a link
	public := servePublic(t, l, care)
	hooks := webhooks.New(l.Service, webhooks.Config{})
	hook, _, err := hooks.Create(context.Background(), tickets.AgentActor(l.Admin), webhooks.SubscriptionInput{Name: "CRM",
		URL: "https://crm.example.com/in", Events: []string{"ticket.created"}})
	if err != nil {
		t.Fatal(err)
	}
	ping, err := hooks.Ping(context.Background(), tickets.AgentActor(l.Admin), hook.ID)
	if err != nil {
		t.Fatal(err)
	}

	type pg struct {
		who   *tickets.Agent
		path  string
		ready string
		shot  string // a picture at 1440 and 390 px, by this name
	}
	pages := []pg{
		{nil, "/login", `.login-card`, ""},
		{nil, public + "/status", `form`, ""},
		{nil, public + "/status?ref=HL-000001&check=8000", `body`, ""},
		{nil, public + "/survey/" + token, `form`, ""},
		{l.Agent, "/queue?view=all", `#queue-rows tr[data-ref]`, "queue"},
		{l.Agent, "/tickets/HL-000001", `#reply-body`, "ticket"},
		{l.Agent, "/calls/new", `#call-form`, ""},
		{l.Agent, fmt.Sprintf("/customers/%d", tk.CustomerID), `.page`, ""},
		{l.Agent, "/followups", `.page`, ""},
		{l.Agent, "/notices", `.page`, ""},
		{l.Super, "/complaints", `.page`, ""},
		{l.Super, "/complaints/" + c.Ref(), `.page`, ""},
		{l.Super, "/dashboard", `svg`, ""},
		{l.Super, "/dashboard/scorecard", `#score-agents`, ""},
		{l.Super, "/dashboard/scorecard/tickets?figure=handled", `#figure-tickets`, ""},
		{l.Super, "/dashboard/issues", `#issues-keywords`, ""},
		{l.Super, "/canned-replies", `.page`, ""},
		{l.Super, fmt.Sprintf("/customers/%d", tk.CustomerID), `#customer-privacy`, ""},
		{l.Super, fmt.Sprintf("/customers/%d/erase", tk.CustomerID), `#erase-form`, ""},
		{l.Admin, "/admin/agents", `table`, ""},
		{l.Admin, "/admin/teams", `.page`, ""},
		{l.Admin, "/admin/routing", `.page`, ""},
		{l.Admin, "/admin/sla", `.page`, ""},
		{l.Admin, "/admin/calendar", `.page`, ""},
		{l.Admin, "/admin/templates", `textarea`, ""},
		{l.Admin, "/admin/stages", `textarea`, ""},
		{l.Admin, "/admin/channels", `form`, ""},
		{l.Admin, "/admin/retention", `#retention-form`, ""},
		{l.Admin, "/dashboard/scorecard", `#score-targets`, ""},
		{l.Admin, "/admin/keys", `form`, ""},
		{l.Admin, "/admin/signin", `#totp-form`, ""},
		{l.Admin, "/admin/webhooks", `#new-hook-form`, ""},
		{l.Admin, fmt.Sprintf("/admin/webhooks/%d", hook.ID), `#edit-hook`, ""},
		{l.Admin, fmt.Sprintf("/admin/webhook-deliveries/%d", ping.ID), `#sent-body`, ""},
	}
	for _, lang := range []string{"zh", "en"} {
		for _, scheme := range []string{"light", "dark"} {
			run(t, ctx, 5*time.Second, "emulate "+scheme, colorScheme(scheme))
			signedIn := ""
			for _, p := range pages {
				who := ""
				if p.who != nil {
					who = p.who.Email
				}
				if signedIn != who {
					if signedIn != "" {
						submit(t, ctx, "sign out", `form[action="/logout"] button`)
					}
					if p.who != nil {
						run(t, ctx, 5*time.Second, "choose "+lang, chromedp.Navigate(l.url+"/login?lang="+lang), chromedp.WaitVisible(css(`.login-card`)))
						signInBrowser(t, ctx, l.url, p.who)
						if got := read(t, ctx, "page language", chromedp.Evaluate[string](`document.documentElement.lang`)); !strings.HasPrefix(got, lang) {
							submit(t, ctx, "switch language", `#lang-switch`)
						}
					}
					signedIn = who
				}
				path := p.path
				if p.who == nil {
					path += map[bool]string{false: "?", true: "&"}[strings.Contains(path, "?")] + "lang=" + lang
				}
				if !strings.HasPrefix(path, "http") {
					path = l.url + path
				}
				run(t, ctx, 10*time.Second, "open "+path, chromedp.Navigate(path), chromedp.WaitVisible(css(p.ready)))
				if got := read(t, ctx, "page language", chromedp.Evaluate[string](`document.documentElement.lang`)); !strings.HasPrefix(got, lang) {
					t.Fatalf("%s is in %q, want %s", path, got, lang)
				}
				for _, v := range checkA11y(t, ctx) {
					t.Errorf("%s [%s, %s]: %s", path, lang, scheme, v)
				}
				if p.shot != "" {
					name := fmt.Sprintf("a11y-%s-%s-%s", p.shot, lang, scheme)
					shoot(t, ctx, name+"-1440")
					run(t, ctx, 5*time.Second, "phone width", chromedp.EmulateViewport(390, 844))
					shoot(t, ctx, name+"-390")
					run(t, ctx, 5*time.Second, "desk width", chromedp.EmulateViewport(1440, 900))
				}
			}
			if signedIn != "" {
				submit(t, ctx, "sign out", `form[action="/logout"] button`)
			}
		}
	}
}

// TestBrowserPresenceSwitch: presence is a labelled switch whose state is written beside it
// in the agent's language; pressing it from the keyboard changes the stored presence.
func TestBrowserPresenceSwitch(t *testing.T) {
	ctx := newBrowser(t)
	l := serveDesk(t, consoletest.NewDesk(t, tickettest.SQLite(t)))
	type state struct {
		Role, Checked, Name, State string
	}
	const probe = `(() => { const b = document.getElementById("presence");
		return {role: b.getAttribute("role"), checked: b.getAttribute("aria-checked"),
			name: b.querySelector(".switch-label").textContent.trim(), state: document.getElementById(b.getAttribute("aria-describedby")).textContent.trim()}; })()`
	tests := []struct {
		lang   string
		before state
		after  state
	}{
		{"zh", state{"switch", "false", "接单", "离开"}, state{"switch", "true", "接单", "在线接单"}},
		{"en", state{"switch", "false", "Taking work", "Away"}, state{"switch", "true", "Taking work", "Online"}},
	}
	for _, tc := range tests {
		t.Run(tc.lang, func(t *testing.T) {
			if _, err := l.Service.SetOnline(context.Background(), tickets.AgentActor(l.Agent), false); err != nil {
				t.Fatal(err)
			}
			run(t, ctx, 5*time.Second, "choose "+tc.lang, chromedp.Navigate(l.url+"/login?lang="+tc.lang), chromedp.WaitVisible(css(`.login-card`)))
			signInBrowser(t, ctx, l.url, l.Agent)
			if got := read(t, ctx, "page language", chromedp.Evaluate[string](`document.documentElement.lang`)); !strings.HasPrefix(got, tc.lang) {
				submit(t, ctx, "switch language", `#lang-switch`)
			}
			if got := read(t, ctx, "switch", chromedp.Evaluate[state](probe)); got != tc.before {
				t.Errorf("away, the switch reads %+v, want %+v", got, tc.before)
			}
			// Reached with Tab like any control, and pressed with Enter.
			run(t, ctx, 5*time.Second, "focus the switch", chromedp.Focus(css(`#presence`)))
			read(t, ctx, "press it", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.KeyEvent("\r")))
			if got := read(t, ctx, "switch", chromedp.Evaluate[state](probe)); got != tc.after {
				t.Errorf("online, the switch reads %+v, want %+v", got, tc.after)
			}
			a, err := l.Service.Agent(context.Background(), l.Agent.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !a.Online {
				t.Error("pressing the switch left the agent away")
			}
			submit(t, ctx, "sign out", `form[action="/logout"] button`)
		})
	}
}

// TestBrowserShortcutsHelp: ? opens the shortcuts as a dialog that takes the focus, so a
// screen reader announces it; Esc closes it and gives the focus back.
func TestBrowserShortcutsHelp(t *testing.T) {
	ctx := newBrowser(t)
	l := serveDesk(t, consoletest.NewDesk(t, tickettest.SQLite(t)))
	signInBrowser(t, ctx, l.url, l.Agent)
	run(t, ctx, 5*time.Second, "open the queue", chromedp.Navigate(l.url+"/queue"), chromedp.WaitVisible(css(`#queue`)),
		chromedp.Focus(css(`#search`)), chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`))
	run(t, ctx, 5*time.Second, "press ?", chromedp.KeyEvent("?"), chromedp.WaitVisible(css(`#shortcuts`)))
	focus := read(t, ctx, "focus", chromedp.Evaluate[string](`(() => { const d = document.activeElement.closest("[role=dialog]");
		return d ? d.getAttribute("aria-modal") + " " + document.getElementById(d.getAttribute("aria-labelledby")).textContent : "outside"; })()`))
	if focus != "true 快捷键" {
		t.Errorf("after ? the focus is %q, want inside the modal dialog titled 快捷键", focus)
	}
	run(t, ctx, 5*time.Second, "press Esc", chromedp.KeyEvent("\x1b"), chromedp.WaitNotVisible(css(`#shortcuts`)))
}
