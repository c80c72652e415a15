package console_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// acceptDialogs answers yes to every confirm() the pages ask from now on, as a person who
// means it would, and returns what they asked so far.
func acceptDialogs(t *testing.T, ctx context.Context) func() []string {
	t.Helper()
	var mu sync.Mutex
	var asked []string
	lctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	opening := chromedp.Events(lctx, page.JavascriptDialogOpening)
	go func() {
		for e, err := range opening {
			if err != nil {
				return
			}
			mu.Lock()
			asked = append(asked, e.Message)
			mu.Unlock()
			// Answered from another goroutine than the one reading the events.
			go chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error { //nolint:errcheck // the click waiting on it fails the test instead
				_, err := cdp.Call(ctx, tg, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
				return err
			}))
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(asked)
	}
}

// signInWithCodeBrowser signs a in with their password, then the code of their secret.
func signInWithCodeBrowser(t *testing.T, ctx context.Context, l *live, a *tickets.Agent, secret string) {
	t.Helper()
	l.Clock.Advance(30 * time.Second) // a step no earlier sign-in used
	run(t, ctx, 10*time.Second, "sign in as "+a.Email+" with a code",
		chromedp.Navigate(l.url+"/login"),
		chromedp.WaitVisible(css(`input[name=email]`)),
		chromedp.SendKeys(css(`input[name=email]`), a.Email),
		chromedp.SendKeys(css(`input[name=password]`), consoletest.Password),
		chromedp.Click(css(`button[type=submit]`)),
		chromedp.WaitVisible(css(`#login-code input[name=code]`)),
		chromedp.SendKeys(css(`#login-code input[name=code]`), codeAt(t, secret, l.Clock.Now())),
		chromedp.Click(css(`#login-code button[type=submit]`)),
		chromedp.WaitVisible(css(`nav.side`)),
	)
}

// TestBrowserTwoFactorAdmin: an admin sees Admin → Sign-in and an enrolled agent's page
// at a phone's, half a screen's and a desktop's width in both languages; requires two-step
// sign-in (confirming, in Chinese), after which an agent without it is sent to enrol at
// sign-in; resets the second factor of an agent who lost their phone (confirming, in
// English), whose session ends; and stops requiring it.
func TestBrowserTwoFactorAdmin(t *testing.T) {
	ctx := newBrowser(t)
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	l := serveDesk(t, d)
	bg := context.Background()
	adminSecret := enrol(t, d, d.Admin)
	liSecret := enrol(t, d, d.Agent)
	asked := acceptDialogs(t, ctx)
	setLang := func(a *tickets.Agent, lang string) {
		t.Helper()
		loc := map[string]string{"zh": "zh-CN", "en": "en"}[lang]
		if _, err := d.Service.UpdateAgent(bg, tickets.Actor{Kind: "system"}, a.ID, tickets.AgentUpdate{Locale: &loc}); err != nil {
			t.Fatal(err)
		}
	}
	liPage := l.url + "/admin/agents/" + consoletest.ID(d.Agent.ID)

	run(t, ctx, 5*time.Second, "desktop width", chromedp.EmulateViewport(1440, 900))
	signInWithCodeBrowser(t, ctx, l, d.Admin, adminSecret)
	for _, lang := range []string{"zh", "en"} {
		setLang(d.Admin, lang)
		for _, w := range screenWidths {
			run(t, ctx, 10*time.Second, "the sign-in page",
				chromedp.EmulateViewport(w, 900),
				chromedp.Navigate(l.url+"/admin/signin"),
				chromedp.WaitVisible(css(`#totp-form button`)),
			)
			noSideScroll(t, ctx, fmt.Sprintf("admin-signin-%s-%d", lang, w))
			shoot(t, ctx, fmt.Sprintf("admin-signin-%s-%d", lang, w))
			run(t, ctx, 10*time.Second, "Li Na's page",
				chromedp.Navigate(liPage),
				chromedp.WaitVisible(css(`#reset-totp button`)),
			)
			noSideScroll(t, ctx, fmt.Sprintf("admin-agent-2fa-%s-%d", lang, w))
			shoot(t, ctx, fmt.Sprintf("admin-agent-2fa-%s-%d", lang, w))
		}
	}

	// In Chinese: require it.
	setLang(d.Admin, "zh")
	run(t, ctx, 10*time.Second, "the sign-in page", chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(l.url+"/admin/signin"), chromedp.WaitVisible(css(`#totp-form button`)))
	submit(t, ctx, "require two-step sign-in", `#totp-form button`)
	if got := asked(); len(got) != 1 || !strings.Contains(got[0], "确定要求所有人开启两步验证吗") {
		t.Errorf("the question asked before requiring it: %q", got)
	}
	if text := read(t, ctx, "the confirmation", chromedp.Text(css(`.flash`))); !strings.Contains(text, "已要求所有人开启两步验证") {
		t.Errorf("after requiring it the page says %q", text)
	}
	if text := read(t, ctx, "the state", chromedp.Text(css(`#totp-state`))); !strings.Contains(text, "已要求所有人开启") {
		t.Errorf("the state reads %q", text)
	}
	shoot(t, ctx, "admin-signin-required-zh-390")
	if must, err := d.Access.MustEnrol(bg, d.Agent2.ID); err != nil || !must {
		t.Errorf("Zhang Wei need not enrol: %v %v", must, err)
	}

	// Zhang Wei, without a second factor, signs in and is sent to enrol.
	run(t, ctx, 5*time.Second, "desktop width", chromedp.EmulateViewport(1440, 900))
	submit(t, ctx, "sign out", `form[action="/logout"] button`)
	run(t, ctx, 10*time.Second, "Zhang Wei signs in",
		chromedp.Navigate(l.url+"/login"),
		chromedp.WaitVisible(css(`input[name=email]`)),
		chromedp.SendKeys(css(`input[name=email]`), d.Agent2.Email),
		chromedp.SendKeys(css(`input[name=password]`), consoletest.Password),
		chromedp.Click(css(`button[type=submit]`)),
		chromedp.WaitVisible(css(`#totp-secret`)),
	)
	if text := read(t, ctx, "the enrol page", chromedp.Text(css(`.page`))); !strings.Contains(text, "管理员要求所有人开启两步验证") {
		t.Errorf("the enrol page says %q", text)
	}
	shoot(t, ctx, "account-2fa-required-zh-1440")
	run(t, ctx, 10*time.Second, "the queue sends him back",
		chromedp.Navigate(l.url+"/queue"), chromedp.WaitVisible(css(`#totp-secret`)))
	submit(t, ctx, "sign out", `form[action="/logout"] button`)

	// In English: reset Li Na's second factor; her session ends.
	d.Clock.Advance(30 * time.Second)
	pending, err := d.Access.SignIn(bg, access.Device{}, d.Agent.Email, consoletest.Password)
	if err != nil || pending.Pending == "" {
		t.Fatalf("Li Na's password: %+v %v", pending, err)
	}
	liToken, _, err := d.Access.VerifySecondFactor(bg, access.Device{}, pending.Pending, codeAt(t, liSecret, d.Clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	setLang(d.Admin, "en")
	run(t, ctx, 5*time.Second, "desktop width", chromedp.EmulateViewport(1440, 900))
	signInWithCodeBrowser(t, ctx, l, d.Admin, adminSecret)
	run(t, ctx, 10*time.Second, "Li Na's page", chromedp.Navigate(liPage), chromedp.WaitVisible(css(`#reset-totp button`)))
	submit(t, ctx, "reset her two-step sign-in", `#reset-totp button`)
	if got := asked(); len(got) != 2 || !strings.Contains(got[1], "Reset their two-step sign-in?") {
		t.Errorf("the question asked before resetting: %q", got)
	}
	if text := read(t, ctx, "the confirmation", chromedp.Text(css(`.flash`))); !strings.Contains(text, "Reset the two-step sign-in of 李娜 Li Na") {
		t.Errorf("after the reset the page says %q", text)
	}
	run(t, ctx, 5*time.Second, "no reset left to offer", chromedp.WaitNotPresent(css(`#reset-totp`)))
	shoot(t, ctx, "admin-agent-2fa-reset-en-1440")
	if on, err := d.Access.TOTPOn(bg, d.Agent.ID); err != nil || on {
		t.Errorf("Li Na's second factor is still on: %v %v", on, err)
	}
	if _, err := d.Access.Authenticate(bg, liToken); err == nil {
		t.Error("Li Na's session outlived the reset")
	}
	if n := tickettest.CountEvents(t, d.Service.DB(), "agent.totp_reset"); n != 1 {
		t.Errorf("%d agent.totp_reset events, want 1", n)
	}

	// And stop requiring it.
	run(t, ctx, 10*time.Second, "the sign-in page", chromedp.Navigate(l.url+"/admin/signin"), chromedp.WaitVisible(css(`#totp-form button`)))
	submit(t, ctx, "stop requiring it", `#totp-form button`)
	if text := read(t, ctx, "the confirmation", chromedp.Text(css(`.flash`))); !strings.Contains(text, "no longer required") {
		t.Errorf("after turning it off the page says %q", text)
	}
	if r, err := d.Access.TOTPRule(bg); err != nil || r.Required {
		t.Errorf("still required: %+v %v", r, err)
	}
}

// noSideScroll fails when the page scrolls sideways at the width it is shown at.
func noSideScroll(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if wide := read(t, ctx, "overflow of "+name, chromedp.Evaluate[string](overflowJS)); wide != "" {
		t.Errorf("%s scrolls sideways: %s", name, wide)
	}
}
