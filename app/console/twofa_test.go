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

// enrol turns a's second factor on, as their account page would, and returns the secret.
func enrol(t *testing.T, d *consoletest.Desk, a *tickets.Agent) string {
	t.Helper()
	ctx := context.Background()
	e, err := d.Access.BeginTOTP(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Access.ConfirmTOTP(ctx, a, codeAt(t, e.Secret, d.Clock.Now())); err != nil {
		t.Fatal(err)
	}
	return e.Secret
}

// An admin requires two-step sign-in from Admin → Sign-in: at once, an agent's session
// without it ends and her next sign-in goes to enrol, as does every page of the admin's
// own (who has none either); agents cannot change it; turned off, it no longer applies.
func TestTwoFactorRequiredFromAdminPage(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		zwSecret := enrol(t, d, d.Agent2)
		li := d.SignIn(d.Agent)
		admin := d.SignIn(d.Admin)
		page := admin.Get("/admin/signin")
		consoletest.WantStatus(t, page, 200)
		consoletest.WantContains(t, page, "未要求", "1 / 5 名在职坐席已开启两步验证", `name="require_2fa" value="on"`, "未配置")
		consoletest.WantStatus(t, li.Post("/admin/signin", url.Values{"require_2fa": {"on"}}), 403)
		consoletest.WantStatus(t, admin.Post("/admin/signin", url.Values{"require_2fa": {"maybe"}}), 303)
		consoletest.WantContains(t, admin.Get("/admin/signin"), "请选择开启或关闭", "未要求")

		res := admin.Post("/admin/signin", url.Values{"require_2fa": {"on"}})
		if res.Status != 303 || res.Location != "/admin/signin" {
			t.Fatalf("saving: %d to %q", res.Status, res.Location)
		}
		// The admin's own session stays, and is sent to enrol.
		if r := admin.Get("/admin/signin"); r.Status != 303 || r.Location != "/account/2fa" {
			t.Errorf("the admin without a second factor: %d to %q", r.Status, r.Location)
		}
		if r := li.Get("/queue"); r.Status != 303 || !strings.HasPrefix(r.Location, "/login") {
			t.Errorf("Li Na's session without a second factor: %d to %q", r.Status, r.Location)
		}
		b := d.Browser()
		if r := b.Login(d.Agent.Email, consoletest.Password); r.Status != 303 || r.Location != "/account/2fa" {
			t.Errorf("Li Na signing in: %d to %q", r.Status, r.Location)
		}
		consoletest.WantContains(t, b.Get("/account/2fa"), "管理员要求所有人开启两步验证")
		// Zhang Wei, who has one, works on.
		zw := d.Browser()
		zw.Login(d.Agent2.Email, consoletest.Password)
		d.Clock.Advance(30 * time.Second)
		if r := zw.Post("/login/2fa", url.Values{"code": {codeAt(t, zwSecret, d.Clock.Now())}}); r.Status != 303 || r.Location == "/account/2fa" {
			t.Errorf("Zhang Wei's code: %d to %q", r.Status, r.Location)
		}
		consoletest.WantStatus(t, zw.Get("/queue"), 200)

		// The admin enrols, and turns it off again.
		page = admin.Get("/account/2fa")
		m := secretInPage.FindStringSubmatch(page.Body)
		consoletest.WantStatus(t, admin.Post("/account/2fa", url.Values{"code": {codeAt(t, m[1], d.Clock.Now())}}), 200)
		page = admin.Get("/admin/signin")
		consoletest.WantContains(t, page, "已要求所有人开启", `name="require_2fa" value="off"`)
		consoletest.WantStatus(t, admin.Post("/admin/signin", url.Values{"require_2fa": {"off"}}), 303)
		consoletest.WantStatus(t, b.Get("/queue"), 200)
	})
}

// With the configuration requiring it, the admin page says so and cannot turn it off.
func TestTwoFactorFixedByConfigurationPage(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db, doorsWith(access.Config{RequireTOTP: true}))
		admin := signInWithCode(t, d, d.Admin, enrol(t, d, d.Admin))
		page := admin.Get("/admin/signin")
		consoletest.WantStatus(t, page, 200)
		consoletest.WantContains(t, page, "已要求所有人开启", "已由服务器配置固定开启", "HOTLINE_REQUIRE_2FA=on")
		consoletest.WantLacks(t, page, `name="require_2fa"`)
		res := admin.Post("/admin/signin", url.Values{"require_2fa": {"off"}})
		consoletest.WantStatus(t, res, 409)
		consoletest.WantContains(t, res, "服务器配置要求两步验证")
	})
}

// signInWithCode signs a in with their password and a code of secret, in a new browser.
func signInWithCode(t *testing.T, d *consoletest.Desk, a *tickets.Agent, secret string) *consoletest.Browser {
	t.Helper()
	d.Clock.Advance(30 * time.Second) // a step of its own: enrolling used this one
	b := d.Browser()
	consoletest.WantContains(t, b.Login(a.Email, consoletest.Password), `action="/login/2fa"`)
	if r := b.Post("/login/2fa", url.Values{"code": {codeAt(t, secret, d.Clock.Now())}}); r.Status != 303 {
		t.Fatalf("%s's code: %d", a.Email, r.Status)
	}
	b.Get("/queue")
	return b
}

// An admin resets the second factor of an agent who lost their phone, from her page: her
// sessions end, the page says so, and her next sign-in needs only her password. The
// admin's own page offers no reset, and the form refuses it; an agent cannot reset anyone.
func TestTwoFactorResetFromAgentPage(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		li := signInWithCode(t, d, d.Agent, enrol(t, d, d.Agent))
		admin := signInWithCode(t, d, d.Admin, enrol(t, d, d.Admin))
		path := "/admin/agents/" + consoletest.ID(d.Agent.ID)
		page := admin.Get(path)
		consoletest.WantContains(t, page, "已开启两步验证", `action="`+path+`/2fa/reset"`, "重置两步验证", `data-confirm="确定重置其两步验证吗`)
		consoletest.WantStatus(t, d.SignIn(d.Agent2).Post(path+"/2fa/reset", nil), 403)

		res := admin.Post(path+"/2fa/reset", nil)
		if res.Status != 303 || res.Location != path {
			t.Fatalf("reset: %d to %q", res.Status, res.Location)
		}
		page = admin.Get(path)
		consoletest.WantContains(t, page, "已重置 李娜 Li Na 的两步验证", "未开启两步验证")
		consoletest.WantLacks(t, page, "/2fa/reset")
		if r := li.Get("/queue"); r.Status != 303 || !strings.HasPrefix(r.Location, "/login") {
			t.Errorf("her session after the reset: %d to %q", r.Status, r.Location)
		}
		if r := d.Browser().Login(d.Agent.Email, consoletest.Password); r.Status != 303 || r.Location == "/account/2fa" {
			t.Errorf("her sign-in after the reset: %d to %q", r.Status, r.Location)
		}
		// Reset again (another admin got there first): the page says there is none.
		res = admin.Post(path+"/2fa/reset", nil)
		consoletest.WantStatus(t, res, 409)
		consoletest.WantContains(t, res, "没有开启两步验证，无需重置")

		own := "/admin/agents/" + consoletest.ID(d.Admin.ID)
		page = admin.Get(own)
		consoletest.WantContains(t, page, "不能在此重置自己的两步验证")
		consoletest.WantLacks(t, page, "/2fa/reset")
		consoletest.WantStatus(t, admin.Post(own+"/2fa/reset", nil), 403)
	})
}
