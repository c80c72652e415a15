package console_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/console"
	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

var secretInPage = regexp.MustCompile(`id="totp-secret">([A-Z2-7 ]+)<`)

func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(strings.ReplaceAll(secret, " ", ""), at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// doorsWith is a desk option giving the console doors of cfg.
func doorsWith(cfg access.Config) func(*console.Config) {
	return func(c *console.Config) { c.Access = access.New(c.Service, cfg) }
}

// An agent enrols from the account page (QR code and secret), confirms with a code, is
// shown ten recovery codes once, and from then on signs in with password then code.
func TestTwoFactorEnrolAndSignIn(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		b := d.SignIn(d.Agent)
		page := b.Get("/account/2fa")
		consoletest.WantStatus(t, page, 200)
		consoletest.WantContains(t, page, `src="data:image/png;base64,`, "两步验证", `autocomplete="one-time-code"`)
		m := secretInPage.FindStringSubmatch(page.Body)
		if m == nil {
			t.Fatal("no secret shown as text")
		}
		consoletest.WantStatus(t, b.Post("/account/2fa", url.Values{"code": {"000000"}}), 400)
		done := b.Post("/account/2fa", url.Values{"code": {codeAt(t, m[1], d.Clock.Now())}})
		consoletest.WantStatus(t, done, 200)
		codes := regexp.MustCompile(`<code>([a-z2-7]{5}-[a-z2-7]{5})</code>`).FindAllStringSubmatch(done.Body, -1)
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes shown", len(codes))
		}
		consoletest.WantLacks(t, b.Get("/account/2fa"), codes[0][1], "data:image/png")

		// Password, then the code page: no session until the code.
		d.Clock.Advance(30 * time.Second)
		nb := d.Browser()
		res := nb.Login(d.Agent.Email, consoletest.Password)
		consoletest.WantStatus(t, res, 200)
		consoletest.WantContains(t, res, `action="/login/2fa"`)
		if nb.Cookies["hotline_session"] != "" {
			t.Fatal("a session before the second factor")
		}
		consoletest.WantStatus(t, nb.Post("/login/2fa", url.Values{"code": {"123456"}}), 401)
		code := codeAt(t, m[1], d.Clock.Now())
		res = nb.Post("/login/2fa", url.Values{"code": {code}})
		if res.Status != 303 || nb.Cookies["hotline_session"] == "" {
			t.Fatalf("right code: %d %s", res.Status, res.Location)
		}
		// The same code again, from another browser: refused (replay).
		rb := d.Browser()
		rb.Login(d.Agent.Email, consoletest.Password)
		consoletest.WantStatus(t, rb.Post("/login/2fa", url.Values{"code": {code}}), 401)
		// A recovery code instead.
		res = rb.Post("/login/2fa", url.Values{"code": {codes[4][1]}})
		if res.Status != 303 || rb.Cookies["hotline_session"] == "" {
			t.Fatalf("recovery code: %d", res.Status)
		}
		// No pending sign-in at all: refused.
		consoletest.WantStatus(t, d.Browser().Post("/login/2fa", url.Values{"code": {code}}), 403)
	})
}

// With a second factor required, an agent without one is sent to enrol before any page.
func TestTwoFactorRequiredByAdmin(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db, doorsWith(access.Config{RequireTOTP: true}))
		b := d.Browser()
		res := b.Login(d.Agent.Email, consoletest.Password)
		if res.Status != 303 || res.Location != "/account/2fa" {
			t.Fatalf("sign-in: %d to %q", res.Status, res.Location)
		}
		if r := b.Get("/queue"); r.Status != 303 || r.Location != "/account/2fa" {
			t.Errorf("queue before enrolling: %d to %q", r.Status, r.Location)
		}
		page := b.Get("/account/2fa")
		consoletest.WantContains(t, page, "管理员要求所有人开启两步验证")
		m := secretInPage.FindStringSubmatch(page.Body)
		consoletest.WantStatus(t, b.Post("/account/2fa", url.Values{"code": {codeAt(t, m[1], d.Clock.Now())}}), 200)
		consoletest.WantStatus(t, b.Get("/queue"), 200)
	})
}

// Sessions: an agent lists and ends their own; another's are not theirs to end; an admin
// ends anyone's from the people page.
func TestSessionsPages(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		desk := d.SignIn(d.Agent)
		phone := d.SignIn(d.Agent)
		page := desk.Get("/account/sessions")
		consoletest.WantStatus(t, page, 200)
		consoletest.WantContains(t, page, "当前设备", "0.0.*.*", "退出该设备")
		ids := regexp.MustCompile(`/account/sessions/(\d+)/end`).FindAllStringSubmatch(page.Body, -1)
		if len(ids) != 2 {
			t.Fatalf("%d sessions listed", len(ids))
		}
		list, _ := d.Access.Sessions(context.Background(), tickets.AgentActor(d.Agent), d.Agent.ID, phone.Cookies["hotline_session"])
		var phoneID string
		for _, s := range list {
			if s.Current {
				phoneID = consoletest.ID(s.ID)
			}
		}
		// Zhang Wei cannot end Li Na's session, by either door.
		zhang := d.SignIn(d.Agent2)
		consoletest.WantStatus(t, zhang.Post("/account/sessions/"+phoneID+"/end", nil), 403)
		consoletest.WantStatus(t, zhang.Post("/admin/agents/"+consoletest.ID(d.Agent.ID)+"/sessions/"+phoneID+"/end", nil), 403)
		consoletest.WantStatus(t, phone.Get("/queue"), 200)
		// Li Na ends her phone's session from her desk.
		desk.Get("/account/sessions")
		consoletest.WantStatus(t, desk.Post("/account/sessions/"+phoneID+"/end", nil), 303)
		if r := phone.Get("/queue"); r.Status != 303 || !strings.HasPrefix(r.Location, "/login") {
			t.Errorf("ended session still opens the queue: %d", r.Status)
		}
		// The admin sees her remaining session and ends it.
		admin := d.SignIn(d.Admin)
		ap := admin.Get("/admin/agents/" + consoletest.ID(d.Agent.ID))
		consoletest.WantContains(t, ap, "登录设备", "未开启两步验证")
		m := regexp.MustCompile(`/admin/agents/\d+/sessions/(\d+)/end`).FindStringSubmatch(ap.Body)
		if m == nil {
			t.Fatal("admin page lists no session")
		}
		consoletest.WantStatus(t, admin.Post("/admin/agents/"+consoletest.ID(d.Agent.ID)+"/sessions/"+m[1]+"/end", nil), 303)
		if r := desk.Get("/queue"); r.Status != 303 {
			t.Errorf("session the admin ended still opens the queue: %d", r.Status)
		}
	})
}

// With passwords off, the form refuses a normal agent and lets the break-glass admin in.
func TestPasswordsOffConsole(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db, doorsWith(access.Config{PasswordsOff: true, BreakGlass: "admin@desk.test"}))
		res := d.Browser().Login(d.Agent.Email, consoletest.Password)
		consoletest.WantStatus(t, res, 403)
		consoletest.WantContains(t, res, "密码登录已关闭")
		if res := d.Browser().Login(d.Admin.Email, consoletest.Password); res.Status != 303 {
			t.Errorf("break-glass admin: %d", res.Status)
		}
	})
}
