package console_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/console"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// t0 is when every test's clock starts: a Wednesday morning in Shanghai.
var t0 = time.Date(2026, 11, 25, 1, 30, 0, 0, time.UTC)

const password = "correct-horse-battery"

// desk is a console over a fresh database, with one team and an agent of every role.
type desk struct {
	t      *testing.T
	svc    *tickets.Service
	care   *aftercare.Service // plugged into svc, as app does: resolutions schedule calls
	clock  *tickettest.Clock
	app    *fiber.App
	team   *tickets.Team
	other  *tickets.Team
	agent  *tickets.Agent // li@, an agent in team
	agent2 *tickets.Agent // zhang@, an agent in team
	super  *tickets.Agent // chen@, the team's supervisor
	office *tickets.Agent // wang@, a complaint officer
	admin  *tickets.Agent // admin@
}

func newDesk(t *testing.T, db *bun.DB, opts ...func(*console.Config)) *desk {
	t.Helper()
	ctx := context.Background()
	clock := tickettest.NewClock(t0)
	svc := tickettest.Service(db, clock)
	svc.SetComplaints(complaints.New(svc)) // as app wires it
	if err := svc.SeedHolidays(ctx); err != nil {
		t.Fatal(err)
	}
	d := &desk{t: t, svc: svc, care: aftercare.New(svc, aftercare.Config{}), clock: clock}
	svc.SetAftercare(d.care)
	system := tickets.Actor{Kind: "system"}
	var err error
	if d.team, err = svc.CreateTeam(ctx, system, "理赔服务 Claims"); err != nil {
		t.Fatal(err)
	}
	if d.other, err = svc.CreateTeam(ctx, system, "Motor"); err != nil {
		t.Fatal(err)
	}
	mk := func(email, name string, role tickets.Role, team *int64) *tickets.Agent {
		a, err := svc.CreateAgent(ctx, system, tickets.NewAgent{Email: email, Name: name, Role: role, TeamID: team, Password: password})
		if err != nil {
			t.Fatalf("create %s: %v", email, err)
		}
		return a
	}
	d.agent = mk("li@desk.test", "李娜 Li Na", tickets.RoleAgent, &d.team.ID)
	d.agent2 = mk("zhang@desk.test", "张伟 Zhang Wei", tickets.RoleAgent, &d.team.ID)
	d.super = mk("chen@desk.test", "陈静 Chen Jing", tickets.RoleSupervisor, &d.team.ID)
	d.office = mk("wang@desk.test", "王芳 Wang Fang", tickets.RoleComplaintOfficer, nil)
	d.admin = mk("admin@desk.test", "Admin", tickets.RoleAdmin, nil)
	cfg := console.Config{Service: svc, Aftercare: d.care, Clock: clock, LiveEvery: 20 * time.Millisecond, StreamFor: 600 * time.Millisecond}
	for _, o := range opts {
		o(&cfg)
	}
	c := console.New(cfg)
	t.Cleanup(c.Close)
	d.app = api.New(api.Config{Service: svc, Webhooks: []interface{ Register(*fiber.App) }{c}})
	return d
}

// sms brings in a text from a customer, as the Twilio webhook would.
func (d *desk) sms(from, body string) *tickets.Ticket {
	d.t.Helper()
	res, err := d.svc.Intake(context.Background(), tickets.Inbound{
		Channel: tickets.ChannelSMS, ProviderMessageID: nextSid(), From: tickets.IdentityPhone, Address: from, Body: body,
	})
	if err != nil {
		d.t.Fatalf("intake: %v", err)
	}
	return res.Ticket
}

var messageSeq atomic.Int64

// nextSid is a fresh Twilio-style message id.
func nextSid() string { return fmt.Sprintf("SM%032d", messageSeq.Add(1)) }

// browser keeps one person's cookies across requests, like a browser would.
type browser struct {
	t       *testing.T
	app     *fiber.App
	cookies map[string]string
	csrf    string // the session's form token, read from the last page
	page    string // the last page opened, which forms are posted from
}

func (d *desk) browser() *browser {
	return &browser{t: d.t, app: d.app, cookies: map[string]string{}}
}

// signIn signs a browser in as a.
func (d *desk) signIn(a *tickets.Agent) *browser {
	d.t.Helper()
	b := d.browser()
	if res := b.login(a.Email, password); res.status != fiber.StatusSeeOther {
		d.t.Fatalf("sign in as %s: %d %s", a.Email, res.status, res.body)
	}
	b.get("/queue") // picks up the form token
	return b
}

type response struct {
	status   int
	location string
	header   http.Header
	body     string
}

var csrfInPage = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	res, err := b.app.Test(req, -1)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	out := response{status: res.StatusCode, location: res.Header.Get("Location"), header: res.Header, body: string(raw)}
	if m := csrfInPage.FindStringSubmatch(out.body); m != nil {
		b.csrf = m[1]
	}
	return out
}

func (b *browser) get(path string) response {
	b.t.Helper()
	b.page = path
	return b.do(httptest.NewRequest(http.MethodGet, path, nil))
}

// post submits a form with the session's CSRF token, as the page's form would.
func (b *browser) post(path string, form url.Values) response {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("_csrf") == "" && b.csrf != "" {
		form.Set("_csrf", b.csrf)
	}
	return b.postRaw(path, form)
}

// postRaw submits a form exactly as given.
func (b *browser) postRaw(path string, form url.Values) response {
	b.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if b.page != "" {
		req.Header.Set("Referer", "http://example.com"+b.page)
	}
	return b.do(req)
}

func (b *browser) login(email, pw string) response {
	b.t.Helper()
	b.get("/login")
	return b.post("/login", url.Values{"email": {email}, "password": {pw}})
}

func wantStatus(t *testing.T, r response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; location %q; body:\n%s", r.status, want, r.location, clip(r.body))
	}
}

func wantContains(t *testing.T, r response, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(r.body, p) {
			t.Errorf("page lacks %q:\n%s", p, clip(r.body))
		}
	}
}

func wantLacks(t *testing.T, r response, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(r.body, p) {
			t.Errorf("page has %q but should not", p)
		}
	}
}

func clip(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}
