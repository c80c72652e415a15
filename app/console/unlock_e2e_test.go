package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"

	"github.com/chromedp/chromedp"

	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestBrowserLockedAccount: an agent whose password was guessed at from many addresses is
// locked; signing in with the right password says so, in the language of the page; the
// admin sees the lock on the agents page, at a phone's, half a screen's and a desktop's
// width, and lifts it with one click, after which the agent signs in.
func TestBrowserLockedAccount(t *testing.T) {
	ctx := newBrowser(t)
	l := serveDesk(t, consoletest.NewDesk(t, tickettest.SQLite(t)))
	for i := range 5 {
		if _, _, err := l.Access.LoginFrom(context.Background(), fmt.Sprintf("198.51.100.%d", i+1), l.Agent.Email, "a wrong guess"); err == nil {
			t.Fatal("a wrong password signed in")
		}
	}
	for _, tc := range []struct{ lang, says string }{
		{"en", "it is locked"},
		{"zh", "已暂时锁定"},
	} {
		run(t, ctx, 10*time.Second, "sign in while locked ("+tc.lang+")",
			chromedp.EmulateViewport(390, 844),
			chromedp.Navigate(l.url+"/login?lang="+tc.lang),
			chromedp.WaitVisible(css(`input[name=email]`)),
			chromedp.SendKeys(css(`input[name=email]`), l.Agent.Email),
			chromedp.SendKeys(css(`input[name=password]`), consoletest.Password),
			chromedp.Click(css(`button[type=submit]`)),
			chromedp.WaitVisible(css(`.login-card [role=alert]`)),
		)
		if text := read(t, ctx, "the refusal", chromedp.Text(css(`.login-card`))); !strings.Contains(text, tc.says) {
			t.Errorf("sign-in page (%s) while locked says %q, want %q", tc.lang, text, tc.says)
		}
		shoot(t, ctx, "login-locked-"+tc.lang+"-390")
	}

	run(t, ctx, 5*time.Second, "desktop width", chromedp.EmulateViewport(1440, 900))
	signInBrowser(t, ctx, l.url, l.Admin)
	for _, w := range []int64{390, 1000, 1440} {
		run(t, ctx, 5*time.Second, "the agents page",
			chromedp.EmulateViewport(w, 900),
			chromedp.Navigate(l.url+"/admin/agents"),
			chromedp.WaitVisible(css(`form.unlock-agent button`)),
		)
		shoot(t, ctx, fmt.Sprintf("admin-agents-locked-%d", w))
	}
	submit(t, ctx, "unlock", `form.unlock-agent button`)
	run(t, ctx, 5*time.Second, "the lock is gone", chromedp.WaitNotPresent(css(`form.unlock-agent`)))
	if _, _, err := l.Access.LoginFrom(context.Background(), "198.51.100.9", l.Agent.Email, consoletest.Password); err != nil {
		t.Errorf("after the unlock, the agent cannot sign in: %v", err)
	}
}
