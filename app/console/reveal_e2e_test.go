package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestBrowserRevealMasked: the ticket page shows the caller's number, and the ID card and
// number they wrote, masked; the team's supervisor clicks "show" beside the number and
// beside the message and sees each in full, in place, each look recorded. In Chinese and
// English at phone, half-screen and desktop widths.
func TestBrowserRevealMasked(t *testing.T) {
	ctx := newBrowser(t)
	db := tickettest.SQLite(t)
	l := serveDesk(t, consoletest.NewDesk(t, db))
	const body = "身份证310101199001011234，请回电13800138000，理赔款还没到账"
	tk := l.SMS("+8613800138000", body)
	if _, err := l.Service.Assign(context.Background(), tickets.AgentActor(l.Admin), tk.Ref(),
		tickets.Assignment{TeamID: &l.Team.ID, AssigneeID: &l.Agent.ID}); err != nil {
		t.Fatal(err)
	}
	signInBrowser(t, ctx, l.url, l.Super)

	for i, c := range []struct {
		lang  string
		width int
		show  string
	}{
		{"zh", 390, "显示"}, {"zh", 960, "显示"}, {"zh", 1440, "显示"},
		{"en", 1440, "Show"}, {"en", 960, "Show"}, {"en", 390, "Show"}, // the language switch is in the desktop menu
	} {
		name := fmt.Sprintf("%s-%d", c.lang, c.width)
		run(t, ctx, 5*time.Second, "width "+name, chromedp.EmulateViewport(int64(c.width), 900))
		if i == 3 {
			run(t, ctx, 5*time.Second, "switch to English",
				chromedp.Click(css(`#lang-switch`)),
				chromedp.WaitVisible(css(`html[lang=en] nav.side`)),
			)
		}
		run(t, ctx, 5*time.Second, "open the ticket", chromedp.Navigate(l.url+"/tickets/"+tk.Ref()), chromedp.WaitVisible(css(`#timeline`)))
		masked := read(t, ctx, "the page", chromedp.Text(css(`main`)))
		for _, w := range []string{"+86 138****8000", "身份证3101**********1234，请回电138****8000"} {
			if !strings.Contains(masked, w) {
				t.Errorf("%s: the page lacks the masked %q", name, w)
			}
		}
		for _, full := range []string{"8613800138000", "310101199001011234", "13800138000"} {
			if strings.Contains(masked, full) {
				t.Errorf("%s: the page shows %q in full before any click", name, full)
			}
		}
		if got := read(t, ctx, "a show button", chromedp.Text(css(`form.reveal button`))); got != c.show {
			t.Errorf("%s: the button says %q, want %q", name, got, c.show)
		}
		shoot(t, ctx, "privacy-masked-"+name)

		before := tickettest.CountEvents(t, db, "pii.revealed")
		run(t, ctx, 5*time.Second, "show the number",
			chromedp.ScrollIntoView(css(`form.reveal[data-target^="ident-"] button`)),
			chromedp.Click(css(`form.reveal[data-target^="ident-"] button`)),
			chromedp.WaitVisible(css(`.idents .pii.revealed`)))
		run(t, ctx, 5*time.Second, "show the message",
			chromedp.ScrollIntoView(css(`form.reveal[data-target^="body-"] button`)),
			chromedp.Click(css(`form.reveal[data-target^="body-"] button`)),
			chromedp.WaitVisible(css(`.msg-body.revealed`)))
		if got := read(t, ctx, "the number", chromedp.Text(css(`.idents .pii.revealed`))); got != "+8613800138000" {
			t.Errorf("%s: revealed number %q", name, got)
		}
		if got := read(t, ctx, "the message", chromedp.Text(css(`.msg-body.revealed`))); got != body {
			t.Errorf("%s: revealed message %q", name, got)
		}
		if n := tickettest.CountEvents(t, db, "pii.revealed") - before; n != 2 {
			t.Errorf("%s: %d reveals recorded for two clicks", name, n)
		}
		read(t, ctx, "back to the top", chromedp.Evaluate[bool](`window.scrollTo(0, 0), true`))
		shoot(t, ctx, "privacy-revealed-"+name)
	}
}
