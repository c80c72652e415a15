package console_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"

	"github.com/chromedp/chromedp"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestBrowserChangeOwnPassword: an agent opens the password page from the menu, in Chinese
// and in English, at a desktop's and a phone's width; a wrong current password is refused
// on the page; the change is confirmed, and the agent's other session has ended.
func TestBrowserChangeOwnPassword(t *testing.T) {
	ctx := newBrowser(t)
	l := serveDesk(t, consoletest.NewDesk(t, tickettest.SQLite(t)))
	elsewhere, _, err := l.Access.Login(context.Background(), l.Agent.Email, consoletest.Password) // another device
	if err != nil {
		t.Fatal(err)
	}
	run(t, ctx, 5*time.Second, "desktop width", chromedp.EmulateViewport(1440, 900))
	signInBrowser(t, ctx, l.url, l.Agent)
	run(t, ctx, 10*time.Second, "open the page from the menu",
		chromedp.Navigate(l.url+"/queue"),
		chromedp.Click(css(`#nav-account`)),
		chromedp.WaitVisible(css(`form#change-password`)),
	)
	for _, lang := range []string{"zh", "en"} {
		if lang == "en" { // the language switch is in the menu's foot, shown on wide screens
			run(t, ctx, 5*time.Second, "desktop width", chromedp.EmulateViewport(1440, 900))
			submit(t, ctx, "switch to English", `#lang-switch`)
		}
		title := map[string]string{"zh": "修改密码", "en": "Change your password"}[lang]
		for _, w := range []int64{1440, 390} {
			run(t, ctx, 10*time.Second, fmt.Sprintf("the page (%s, %d)", lang, w),
				chromedp.EmulateViewport(w, 900),
				chromedp.Navigate(l.url+"/account/password"),
				chromedp.WaitVisible(css(`form#change-password`)),
			)
			if h := read(t, ctx, "the title", chromedp.Text(css(`h1`))); h != title {
				t.Errorf("%s page title %q, want %q", lang, h, title)
			}
			shoot(t, ctx, fmt.Sprintf("account-password-%s-%d", lang, w))
		}
	}
	run(t, ctx, 10*time.Second, "a wrong current password",
		chromedp.SendKeys(css(`input[name=current]`), "not my password"),
		chromedp.SendKeys(css(`input[name=password]`), "a brand new passphrase"),
		chromedp.SendKeys(css(`input[name=confirm]`), "a brand new passphrase"),
		chromedp.Click(css(`#change-password button[type=submit]`)),
		chromedp.WaitVisible(css(`#change-password [role=alert]`)),
	)
	if text := read(t, ctx, "the refusal", chromedp.Text(css(`#change-password [role=alert]`))); text != "The current password is wrong." {
		t.Errorf("wrong current password says %q", text)
	}
	shoot(t, ctx, "account-password-wrong-en-390")

	run(t, ctx, 5*time.Second, "desktop width", chromedp.EmulateViewport(1440, 900))
	submit(t, ctx, "back to Chinese", `#lang-switch`)
	run(t, ctx, 10*time.Second, "the change",
		chromedp.Navigate(l.url+"/account/password"),
		chromedp.WaitVisible(css(`form#change-password`)),
		chromedp.SendKeys(css(`input[name=current]`), consoletest.Password),
		chromedp.SendKeys(css(`input[name=password]`), "a brand new passphrase"),
		chromedp.SendKeys(css(`input[name=confirm]`), "a brand new passphrase"),
		chromedp.Click(css(`#change-password button[type=submit]`)),
		chromedp.WaitVisible(css(`.flash`)),
	)
	if text := read(t, ctx, "the confirmation", chromedp.Text(css(`.flash`))); !strings.Contains(text, "密码已修改") {
		t.Errorf("after the change the page says %q", text)
	}
	shoot(t, ctx, "account-password-changed-zh-1440")
	if _, err := l.Access.Authenticate(context.Background(), elsewhere); !errors.Is(err, tickets.ErrUnauthorized) {
		t.Errorf("the agent's other session still works: %v", err)
	}
	run(t, ctx, 10*time.Second, "this browser stays signed in",
		chromedp.Navigate(l.url+"/queue"),
		chromedp.WaitVisible(css(`nav.side`)),
	)
}
