package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/console"
	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/app/web"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/delivery"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// screenWidths are a phone, half a 1920 monitor beside a softphone, and a laptop; the
// busiest pages are also seen on the smallest phone and a 2560 monitor.
var (
	screenWidths  = []int64{390, 960, 1440}
	extremeWidths = []int64{360, 2560}
	extremePages  = map[string]bool{"login": true, "queue-all": true, "ticket": true, "call": true, "complaint": true}
)

// screen is one page of the walk.
type screen struct {
	name  string // the screenshot's first word
	path  string // "{lang}" becomes zh or en
	ready string // shown once the page has rendered
	who   *tickets.Agent
}

// TestBrowserEveryScreen walks every main page at a phone's, half a monitor's and a
// laptop's width in both languages, keeping a screenshot of each (page-lang-width.png).
// No page scrolls sideways; below 1000 px the menu folds behind a button that opens it
// with presence, language and sign-out; the queue's references never wrap, and on a
// phone each ticket is a card whose reference, customer, status and SLA clock are on
// screen; log-a-call's submit button can be reached.
func TestBrowserEveryScreen(t *testing.T) {
	ctx := newBrowser(t)
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	bg := context.Background()
	care := aftercare.New(d.Service, aftercare.Config{Surveys: true, PublicBaseURL: "https://desk.example.com"})
	d.Service.SetAftercare(care) // resolutions send a survey link and schedule the follow-up calls
	base := serveScreens(t, d, care)

	// Representative data: tickets in each view, a long subject, a resolved ticket with
	// its follow-up calls and survey, a complaint.
	first := d.SMS("+8613800138000", "你好，我的车险理赔进度怎么样了？报案号 A123，已经等了一个星期还没有人联系我，请尽快回复")
	for i, text := range []string{"发票什么时候寄出", "I want to change the address on my policy", "理赔员态度很差，我要投诉"} {
		d.SMS(fmt.Sprintf("+86138001380%02d", i+1), text)
	}
	if _, err := d.Service.Assign(bg, tickets.AgentActor(d.Super), first.Ref(), tickets.Assignment{AssigneeID: &d.Super.ID}); err != nil {
		t.Fatal(err)
	}
	res, err := d.Service.Intake(bg, tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail,
		Address: "kim@example.com", Subject: "Claim documents", Body: "I sent the documents; what next?"})
	if err != nil {
		t.Fatal(err)
	}
	done := res.Ticket.Ref()
	if _, err := d.Service.SetStatus(bg, tickets.AgentActor(d.Super), done, tickets.StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	token := surveyLink(t, d.Service, done)
	cp := d.FileComplaint("王先生", "+8613900139000", "理赔款迟迟未到账，客服多次答复不一致，要求书面说明。", consoletest.Local(2026, 11, 24, 15, 0))

	if _, _, err := d.Access.CreateKey(bg, tickets.AgentActor(d.Admin), "crm-sync", []string{"tickets:read", "tickets:write"}); err != nil {
		t.Fatal(err)
	}
	pages := []screen{
		{"queue-mine", "/queue?view=mine", "#queue-table", d.Super},
		{"queue-team", "/queue?view=team", "#queue-table", d.Super},
		{"queue-unassigned", "/queue?view=unassigned", "#queue-table", d.Super},
		{"queue-all", "/queue?view=all", "#queue-rows tr[data-ref]", d.Super},
		{"ticket", "/tickets/" + first.Ref(), "#timeline", d.Super},
		{"call", "/calls/new", "#call-form", d.Super},
		{"customer", "/customers/" + consoletest.ID(first.CustomerID), "#customer-tickets tr[data-href]", d.Super},
		{"followups", "/followups", "#followups", d.Super},
		{"complaints", "/complaints", "#complaints", d.Super},
		{"complaint", "/complaints/" + cp.Ref(), "#complaint", d.Super},
		{"dashboard", "/dashboard", ".dash", d.Super},
		{"notices", "/notices", "#notices-page", d.Super},
		{"canned", "/canned-replies", ".page", d.Super},
		{"password", "/account/password", ".account-form", d.Super},
		{"admin-agents", "/admin/agents", ".admin", d.Admin},
		{"admin-teams", "/admin/teams", ".admin", d.Admin},
		{"admin-routing", "/admin/routing", ".admin", d.Admin},
		{"admin-sla", "/admin/sla", ".admin", d.Admin},
		{"admin-calendar", "/admin/calendar", ".admin", d.Admin},
		{"admin-templates", "/admin/templates", ".admin", d.Admin},
		{"admin-stages", "/admin/stages", ".admin", d.Admin},
		{"admin-channels", "/admin/channels", ".admin", d.Admin},
		{"admin-keys", "/admin/keys", ".admin", d.Admin},
		{"admin-agent", "/admin/agents/" + consoletest.ID(d.Agent.ID), ".admin", d.Admin},
	}
	public := []screen{
		{"login", "/login?lang={lang}", ".login-card", nil},
		{"status", "/status?lang={lang}&ref=" + first.Ref() + "&check=8000", "#ticket", nil},
		{"survey", "/survey/" + token + "?lang={lang}", "form", nil},
	}

	langs := []string{"zh", "en"}
	for _, p := range public {
		for _, lang := range langs {
			for _, w := range widthsOf(p) {
				look(t, ctx, base, p, lang, w)
			}
		}
	}
	signedIn := (*tickets.Agent)(nil)
	for _, p := range pages {
		if signedIn != p.who {
			if signedIn != nil {
				run(t, ctx, 5*time.Second, "sign out", chromedp.EmulateViewport(1440, 900))
				submit(t, ctx, "sign out", `form[action="/logout"] button`)
			}
			run(t, ctx, 5*time.Second, "wide window", chromedp.EmulateViewport(1440, 900))
			signInBrowser(t, ctx, base, p.who)
			signedIn = p.who
		}
		for _, lang := range langs {
			locale := map[string]string{"zh": "zh-CN", "en": "en"}[lang]
			if _, err := d.Service.UpdateAgent(bg, tickets.Actor{Kind: "system"}, p.who.ID, tickets.AgentUpdate{Locale: &locale}); err != nil {
				t.Fatal(err)
			}
			for _, w := range widthsOf(p) {
				look(t, ctx, base, p, lang, w)
			}
		}
	}
}

func widthsOf(p screen) []int64 {
	if extremePages[p.name] {
		return append(append([]int64{}, screenWidths...), extremeWidths...)
	}
	return screenWidths
}

// mainButton is the button a page is for, which must be reachable at every width.
var mainButton = map[string]string{
	"call":      "#call-form button[type=submit]",
	"ticket":    "#send",
	"complaint": "#decide",
	"login":     "button[type=submit]",
	"survey":    "form button",
	"password":  ".account-form button",
	// quality reviews
	"quality-review": "#review-form button.primary",
	"quality-mine":   "#review-list .q-review",
}

// look opens one page at one width, keeps its screenshot and checks it fits.
func look(t *testing.T, ctx context.Context, base string, p screen, lang string, width int64) {
	t.Helper()
	name := fmt.Sprintf("%s-%s-%d", p.name, lang, width)
	run(t, ctx, 10*time.Second, "open "+name,
		chromedp.EmulateViewport(width, 900),
		chromedp.Navigate(base+strings.ReplaceAll(p.path, "{lang}", lang)),
		chromedp.WaitVisible(css(p.ready)),
	)
	if got := read(t, ctx, "language of "+name, chromedp.Evaluate[string](`document.documentElement.lang`)); !strings.HasPrefix(got, lang) {
		t.Errorf("%s: page language %q, want %s", name, got, lang)
	}
	shoot(t, ctx, name)
	if wide := read(t, ctx, "overflow of "+name, chromedp.Evaluate[string](overflowJS)); wide != "" {
		t.Errorf("%s scrolls sideways: %s", name, wide)
	}
	if p.who != nil {
		checkMenu(t, ctx, name, width)
		if got := read(t, ctx, "page width of "+name, chromedp.Evaluate[float64](`document.querySelector(".page").getBoundingClientRect().width`)); got > 1440 {
			t.Errorf("%s: the page is %.0f px wide; lines that long are hard to read, want at most 1440", name, got)
		}
	}
	switch {
	case strings.HasPrefix(p.name, "queue-"):
		checkQueue(t, ctx, name, width)
	case p.name == "customer" && width <= 760:
		checkCards(t, ctx, name, "#customer-tickets tr[data-href]", ".c-ref a", ".c-subj", ".c-status .badge", ".c-when")
	case mainButton[p.name] != "":
		js, _ := json.Marshal(mainButton[p.name])
		if got := read(t, ctx, "main button of "+name, chromedp.Evaluate[string](
			`(() => { const b = document.querySelector(`+string(js)+`); b && b.scrollIntoView({block: "center"}); return onScreen(b); })()`)); got != "" {
			t.Errorf("%s: %s is %s", name, mainButton[p.name], got)
		}
	}
}

// checkMenu: at a laptop's width the sidebar shows presence, language and sign-out; below
// 1000 px they fold behind the menu button, which opens and closes them.
func checkMenu(t *testing.T, ctx context.Context, name string, width int64) {
	t.Helper()
	controls := `["#side-nav form.presence button", "#lang-switch", "form[action='/logout'] button", "#nav-notices"]`
	check := func(what, js string) {
		t.Helper()
		if got := read(t, ctx, what+" on "+name, chromedp.Evaluate[string](js)); got != "" {
			t.Errorf("%s: %s: %s", name, what, got)
		}
	}
	if width > 1000 {
		check("the sidebar's controls", `allOnScreen(`+controls+`) + (onScreen(document.getElementById("menu-btn")) === "hidden" ? "" : " the menu button shows")`)
		return
	}
	check("the menu button", `window.scrollTo(0, 0), onScreen(document.getElementById("menu-btn"))`)
	check("the folded menu", `Array.from(document.querySelectorAll(`+controls+`.join(","))).some((e) => e.getBoundingClientRect().height > 0) ? "its links show before it is opened" : ""`)
	run(t, ctx, 5*time.Second, "open the menu on "+name, chromedp.Click(css(`#menu-btn`)))
	check("the open menu", `allOnScreen(`+controls+`)`)
	if wide := read(t, ctx, "overflow of the open menu on "+name, chromedp.Evaluate[string](overflowJS)); wide != "" {
		t.Errorf("%s: the open menu scrolls sideways: %s", name, wide)
	}
	if strings.HasPrefix(name, "queue-all-") {
		shoot(t, ctx, strings.Replace(name, "queue-all", "menu", 1))
	}
	run(t, ctx, 5*time.Second, "close the menu on "+name, chromedp.Click(css(`#menu-btn`)))
	check("the closed menu", `document.getElementById("lang-switch").getBoundingClientRect().height > 0 ? "still open after a second press" : ""`)
}

// checkQueue: every reference is on one line, and on a phone each card shows reference,
// customer, status and the SLA clock on screen.
func checkQueue(t *testing.T, ctx context.Context, name string, width int64) {
	t.Helper()
	got := read(t, ctx, "references on "+name, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("#queue-rows .c-ref a"))
		.filter((a) => a.getClientRects().length !== 1).map((a) => a.textContent + " wraps").join("; ")`))
	if got != "" {
		t.Errorf("%s: %s", name, got)
	}
	if width > 760 {
		return
	}
	checkCards(t, ctx, name, "#queue-rows tr[data-ref]", ".c-ref a", ".c-cust a", ".c-status .badge", ".c-due .sla")
}

// checkCards fails unless each of rows shows every one of parts within the window's width.
func checkCards(t *testing.T, ctx context.Context, name, rows string, parts ...string) {
	t.Helper()
	r, _ := json.Marshal(rows)
	ps, _ := json.Marshal(parts)
	got := read(t, ctx, "cards on "+name, chromedp.Evaluate[string](`(() => {
		const rows = document.querySelectorAll(`+string(r)+`);
		if (!rows.length) return ""; // an empty queue has no cards; the pages that must have some wait for them
		const problems = [];
		rows.forEach((tr, i) => { for (const c of `+string(ps)+`) {
			const e = tr.querySelector(c), r = e && e.getBoundingClientRect();
			if (!r || r.width === 0) problems.push("row " + (i + 1) + " " + c + " hidden");
			else if (r.left < 0 || r.right > document.documentElement.clientWidth) problems.push("row " + (i + 1) + " " + c + " off-screen");
		} });
		return problems.join("; ");
	})()`))
	if got != "" {
		t.Errorf("%s: %s", name, got)
	}
}

// overflowJS answers "" when the page fits its window's width, or else how wide it is and
// the elements reaching past the edge (with helpers the other checks use).
const overflowJS = `
window.onScreen = (e) => {
  if (!e) return "missing";
  const r = e.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return "hidden";
  if (r.left < 0 || r.right > document.documentElement.clientWidth || r.top < 0 || r.bottom > innerHeight) return "off-screen";
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  if (!hit || !(e === hit || e.contains(hit) || hit.contains(e))) return "covered by " + (hit ? hit.tagName.toLowerCase() + "." + hit.className : "nothing");
  return "";
};
window.allOnScreen = (sels) => sels.map((s) => { const why = onScreen(document.querySelector(s)); return why && s + " " + why; }).filter(Boolean).join("; ");
(() => {
  const doc = document.scrollingElement, w = document.documentElement.clientWidth;
  if (doc.scrollWidth <= w) return "";
  const past = Array.from(document.body.querySelectorAll("*")).filter((e) => e.getBoundingClientRect().right > w + 1)
    .slice(0, 5).map((e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && e.className.baseVal === undefined ? "." + e.className.trim().replace(/\s+/g, ".") : ""));
  return doc.scrollWidth + "px wide in a " + w + "px window; past the edge: " + past.join(", ");
})()`

// serveScreens serves the console with the public status and survey pages, for a browser.
func serveScreens(t *testing.T, d *consoletest.Desk, care *aftercare.Service) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := tickettest.Logger()
	c := console.New(console.Config{Service: d.Service, Aftercare: d.Aftercare, Access: d.Access, Clock: d.Clock, LiveEvery: 50 * time.Millisecond, StreamFor: 5 * time.Second})
	app := api.New(api.Config{Service: d.Service, Access: d.Access, Log: log, Webhooks: []interface{ Register(*fiber.App) }{
		c, web.NewStatusPage(d.Service, d.Access, func(*fiber.Ctx) string { return "127.0.0.1" }, log), web.NewSurveyPage(care, log),
	}})
	go app.Listener(ln) //nolint:errcheck // ends with the test
	t.Cleanup(func() {
		c.Close()
		app.ShutdownWithTimeout(time.Second) //nolint:errcheck // the test is over
	})
	return "http://" + ln.Addr().String()
}

// surveyLink is the token of the survey link the resolved ticket ref sent its customer.
func surveyLink(t *testing.T, svc *tickets.Service, ref string) string {
	t.Helper()
	bg := context.Background()
	detail, err := svc.Ticket(bg, ref)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range detail.Messages {
		if m.Direction != tickets.DirectionOutbound {
			continue
		}
		sent, err := delivery.New(svc).Delivery(bg, m.ID)
		if err != nil || sent == nil {
			continue
		}
		if _, tok, ok := strings.Cut(sent.Body, "https://desk.example.com/survey/"); ok {
			return strings.Fields(tok)[0]
		}
	}
	t.Fatal("no survey link was sent")
	return ""
}
