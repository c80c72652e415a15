// Package consoletest is the desk the console's tests run against, in the shell and in
// every section: a console over a fresh database with one team and an agent of every role,
// mounted as app mounts it, and a browser that keeps cookies and the form token between
// requests. The sections' tests drive the whole console through HTTP, as people do.
package consoletest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/console"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// T0 is when every test's clock starts: a Wednesday morning in Shanghai.
var T0 = time.Date(2026, 11, 25, 1, 30, 0, 0, time.UTC)

// Password is every test agent's password.
const Password = "correct-horse-battery"

// Desk is a console over a fresh database, with one team and an agent of every role.
type Desk struct {
	t         *testing.T
	Service   *tickets.Service
	Aftercare *aftercare.Service // plugged into Service, as app does: resolutions schedule calls
	Access    *access.Service    // the doors the console signs in through
	Clock     *tickettest.Clock
	App       *fiber.App
	Team      *tickets.Team
	Other     *tickets.Team
	Agent     *tickets.Agent // li@, an agent in team
	Agent2    *tickets.Agent // zhang@, an agent in team
	Super     *tickets.Agent // chen@, the team's supervisor
	Office    *tickets.Agent // wang@, a complaint officer
	Admin     *tickets.Agent // admin@
}

// NewDesk is a desk over db; opts change the console's configuration.
func NewDesk(t *testing.T, db *bun.DB, opts ...func(*console.Config)) *Desk {
	t.Helper()
	ctx := context.Background()
	clock := tickettest.NewClock(T0)
	svc := tickettest.Service(db, clock)
	svc.SetComplaints(complaints.New(svc)) // as app wires it
	if err := deadlines.New(svc).SeedHolidays(ctx); err != nil {
		t.Fatal(err)
	}
	d := &Desk{t: t, Service: svc, Aftercare: aftercare.New(svc, aftercare.Config{}), Access: access.New(svc, access.Config{}), Clock: clock}
	svc.SetAftercare(d.Aftercare)
	system := tickets.Actor{Kind: "system"}
	var err error
	if d.Team, err = svc.CreateTeam(ctx, system, "理赔服务 Claims"); err != nil {
		t.Fatal(err)
	}
	if d.Other, err = svc.CreateTeam(ctx, system, "Motor"); err != nil {
		t.Fatal(err)
	}
	mk := func(email, name string, role tickets.Role, team *int64) *tickets.Agent {
		a, err := svc.CreateAgent(ctx, system, tickets.NewAgent{Email: email, Name: name, Role: role, TeamID: team, Password: Password})
		if err != nil {
			t.Fatalf("create %s: %v", email, err)
		}
		return a
	}
	d.Agent = mk("li@desk.test", "李娜 Li Na", tickets.RoleAgent, &d.Team.ID)
	d.Agent2 = mk("zhang@desk.test", "张伟 Zhang Wei", tickets.RoleAgent, &d.Team.ID)
	d.Super = mk("chen@desk.test", "陈静 Chen Jing", tickets.RoleSupervisor, &d.Team.ID)
	d.Office = mk("wang@desk.test", "王芳 Wang Fang", tickets.RoleComplaintOfficer, nil)
	d.Admin = mk("admin@desk.test", "Admin", tickets.RoleAdmin, nil)
	cfg := console.Config{Service: svc, Aftercare: d.Aftercare, Access: d.Access, Clock: clock, LiveEvery: 20 * time.Millisecond, StreamFor: 600 * time.Millisecond}
	for _, o := range opts {
		o(&cfg)
	}
	c := console.New(cfg)
	t.Cleanup(c.Close)
	d.App = api.New(api.Config{Service: svc, Access: d.Access, Webhooks: []interface{ Register(*fiber.App) }{c}})
	return d
}

// SMS brings in a text from a customer, as the Twilio webhook would.
func (d *Desk) SMS(from, body string) *tickets.Ticket {
	d.t.Helper()
	res, err := d.Service.Intake(context.Background(), tickets.Inbound{
		Channel: tickets.ChannelSMS, ProviderMessageID: NextSid(), From: tickets.IdentityPhone, Address: from, Body: body,
	})
	if err != nil {
		d.t.Fatalf("intake: %v", err)
	}
	return res.Ticket
}

var messageSeq atomic.Int64

// NextSid is a fresh Twilio-style message id.
func NextSid() string { return fmt.Sprintf("SM%032d", messageSeq.Add(1)) }

// Browser keeps one person's cookies across requests, like a browser would.
type Browser struct {
	t       *testing.T
	app     *fiber.App
	Cookies map[string]string
	CSRF    string // the session's form token, read from the last page
	page    string // the last page opened, which forms are posted from
}

// Browser is a new browser, signed out.
func (d *Desk) Browser() *Browser {
	return &Browser{t: d.t, app: d.App, Cookies: map[string]string{}}
}

// SignIn signs a new browser in as a.
func (d *Desk) SignIn(a *tickets.Agent) *Browser {
	d.t.Helper()
	b := d.Browser()
	if res := b.Login(a.Email, Password); res.Status != fiber.StatusSeeOther {
		d.t.Fatalf("sign in as %s: %d %s", a.Email, res.Status, res.Body)
	}
	b.Get("/queue") // picks up the form token
	return b
}

// Response is what a request answered.
type Response struct {
	Status   int
	Location string
	Header   http.Header
	Body     string
}

var csrfInPage = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// Do sends req with the browser's cookies, keeping the cookies it sets and the form token
// of the page it answers.
func (b *Browser) Do(req *http.Request) Response {
	b.t.Helper()
	for k, v := range b.Cookies {
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
			delete(b.Cookies, c.Name)
		} else {
			b.Cookies[c.Name] = c.Value
		}
	}
	out := Response{Status: res.StatusCode, Location: res.Header.Get("Location"), Header: res.Header, Body: string(raw)}
	if m := csrfInPage.FindStringSubmatch(out.Body); m != nil {
		b.CSRF = m[1]
	}
	return out
}

// Get opens a page; forms are posted from it next.
func (b *Browser) Get(path string) Response {
	b.t.Helper()
	b.page = path
	return b.Do(httptest.NewRequest(http.MethodGet, path, nil))
}

// Post submits a form with the session's CSRF token, as the page's form would.
func (b *Browser) Post(path string, form url.Values) Response {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("_csrf") == "" && b.CSRF != "" {
		form.Set("_csrf", b.CSRF)
	}
	return b.PostRaw(path, form)
}

// PostRaw submits a form exactly as given.
func (b *Browser) PostRaw(path string, form url.Values) Response {
	b.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if b.page != "" {
		req.Header.Set("Referer", "http://example.com"+b.page)
	}
	return b.Do(req)
}

// Login fills in the sign-in form.
func (b *Browser) Login(email, pw string) Response {
	b.t.Helper()
	b.Get("/login")
	return b.Post("/login", url.Values{"email": {email}, "password": {pw}})
}

// WantStatus stops the test unless r has the status want.
func WantStatus(t *testing.T, r Response, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d; location %q; body:\n%s", r.Status, want, r.Location, Clip(r.Body))
	}
}

// WantContains fails the test unless r's body has every one of parts.
func WantContains(t *testing.T, r Response, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(r.Body, p) {
			t.Errorf("page lacks %q:\n%s", p, Clip(r.Body))
		}
	}
}

// WantLacks fails the test if r's body has any of parts.
func WantLacks(t *testing.T, r Response, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(r.Body, p) {
			t.Errorf("page has %q but should not", p)
		}
	}
}

// Clip shortens a page for a failure message.
func Clip(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

// Shanghai is the desk's calendar zone.
var Shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// Local is a wall-clock time at the desk.
func Local(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, Shanghai)
}

// Complaints is the desk's complaints, over its service.
func (d *Desk) Complaints() *complaints.Service { return complaints.New(d.Service) }

// FileComplaint logs a complaint from a new customer, received at the given time. The
// desk's one complaint officer gets it.
func (d *Desk) FileComplaint(name, phone, summary string, received time.Time) *complaints.Complaint {
	d.t.Helper()
	c, err := d.Complaints().Open(context.Background(), tickets.AgentActor(d.Agent), complaints.NewComplaint{
		Summary: summary, ReceivedAt: received, Customer: tickets.NewTicket{Name: name, Phone: phone}})
	if err != nil {
		d.t.Fatalf("open complaint: %v", err)
	}
	return c
}

// ComplaintNow reads a complaint back through the service.
func (d *Desk) ComplaintNow(ref string) *complaints.Complaint {
	d.t.Helper()
	c, err := d.Complaints().Complaint(context.Background(), ref)
	if err != nil {
		d.t.Fatalf("read %s: %v", ref, err)
	}
	return c
}

// WantUnchanged fails when a refused form changed the complaint.
func (d *Desk) WantUnchanged(before *complaints.Complaint) {
	d.t.Helper()
	now := d.ComplaintNow(before.Ref())
	if now.Status != before.Status || now.Decision != before.Decision || now.Outcome != before.Outcome ||
		(now.ExtendedUntil == nil) != (before.ExtendedUntil == nil) || !now.DeadlineAt.Equal(before.DeadlineAt) ||
		(now.OfficerID == nil) != (before.OfficerID == nil) || (now.OfficerID != nil && *now.OfficerID != *before.OfficerID) {
		d.t.Errorf("%s changed: %s/%q/%q extended %v officer %v, was %s/%q/%q extended %v officer %v", before.Ref(),
			now.Status, now.Decision, now.Outcome, now.ExtendedUntil, now.OfficerID,
			before.Status, before.Decision, before.Outcome, before.ExtendedUntil, before.OfficerID)
	}
}

// ID is an id as paths and forms write it.
func ID(n int64) string { return strconv.FormatInt(n, 10) }

// APILogin signs in through the JSON API of the same desk, answering its status and reason.
func (d *Desk) APILogin(t *testing.T, email, pw string) (int, string) {
	t.Helper()
	raw, _ := json.Marshal(map[string]string{"email": email, "password": pw})
	req := httptest.NewRequest("POST", "/api/v1/auth/login", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	res, err := d.App.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}
