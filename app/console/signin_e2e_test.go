package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestBrowserSignInPages: the login page with single sign-on and the two-step enrol page,
// at a phone's, a half screen's and a desktop's width, in Chinese and English: the SSO
// button names the provider, the QR code is drawn at full size and the secret fits.
func TestBrowserSignInPages(t *testing.T) {
	ctx := newBrowser(t)
	s := newSSODesk(t, tickettest.SQLite(t), nil)
	button := map[string]string{"zh": "使用 Keycloak 登录", "en": "Sign in with Keycloak"}
	for _, lang := range []string{"zh", "en"} {
		for _, w := range []int64{390, 960, 1440} {
			run(t, ctx, 10*time.Second, fmt.Sprintf("login page (%s, %d)", lang, w),
				chromedp.EmulateViewport(w, 900),
				chromedp.Navigate(s.base+"/login?lang="+lang),
				chromedp.WaitVisible(css(`#sso`)),
			)
			if got := read(t, ctx, "the button", chromedp.Text(css(`#sso`))); strings.TrimSpace(got) != button[lang] {
				t.Errorf("SSO button says %q, want %q", got, button[lang])
			}
			shoot(t, ctx, fmt.Sprintf("login-sso-%s-%d", lang, w))
		}
	}
	signInBrowser(t, ctx, s.base, s.Agent)
	for _, lang := range []string{"zh", "en"} {
		loc := map[string]string{"zh": "zh-CN", "en": "en"}[lang]
		if _, err := s.Service.UpdateAgent(context.Background(), tickets.AgentActor(s.Agent), s.Agent.ID, tickets.AgentUpdate{Locale: &loc}); err != nil {
			t.Fatal(err)
		}
		for _, w := range []int64{390, 960, 1440} {
			run(t, ctx, 10*time.Second, fmt.Sprintf("enrol page (%s, %d)", lang, w),
				chromedp.EmulateViewport(w, 900),
				chromedp.Navigate(s.base+"/account/2fa"),
				chromedp.WaitVisible(css(`form#enrol-2fa img.qr`)),
			)
			width := read(t, ctx, "QR size", chromedp.Evaluate[float64](`document.querySelector("img.qr").getBoundingClientRect().width`))
			if width < 200 {
				t.Errorf("%s %d: QR code drawn %.0f px wide", lang, w, width)
			}
			overflow := read(t, ctx, "overflow", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
			if overflow {
				t.Errorf("%s %d: the page scrolls sideways", lang, w)
			}
			shoot(t, ctx, fmt.Sprintf("account-2fa-%s-%d", lang, w))
		}
	}
}
