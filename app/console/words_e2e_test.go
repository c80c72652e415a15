package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// A busy ticket's timeline reads as a story in a real browser, in both languages: the
// system's runs fold into a line that opens, and each line names whom and when.
func TestBrowserTimelineStory(t *testing.T) {
	ctx := newBrowser(t)
	l := serveDesk(t, consoletest.NewDesk(t, tickettest.SQLite(t)))
	busy, _, _ := busyDesk(t, l.Desk)
	signInBrowser(t, ctx, l.url, l.Admin)
	for _, c := range []struct {
		lang, assigned, folded string
	}{
		{"zh", "将工单分配给 李娜 Li Na", "项自动操作"},
		{"en", "assigned the ticket to 李娜 Li Na", "automatic steps"},
	} {
		t.Run(c.lang, func(t *testing.T) {
			run(t, ctx, 10*time.Second, "open "+busy.Ref(), chromedp.Navigate(l.url+"/tickets/"+busy.Ref()), chromedp.WaitVisible(css(`#timeline`)))
			if read(t, ctx, "the page's language", chromedp.Evaluate[string](`document.body.dataset.lang`)) != c.lang {
				submit(t, ctx, "switch language", `#lang-switch`)
			}
			run(t, ctx, 5*time.Second, "open the folded events",
				chromedp.WaitVisible(css(`#timeline .ev-group summary`)),
				chromedp.Click(css(`#timeline .ev-group summary`)),
				chromedp.WaitVisible(css(`#timeline .ev-group .ev-folded li`)))
			text := read(t, ctx, "timeline text", chromedp.Text(css(`#timeline`)))
			for _, want := range []string{c.assigned, c.folded} {
				if !strings.Contains(text, want) {
					t.Errorf("timeline lacks %q:\n%s", want, text)
				}
			}
			shoot(t, ctx, "timeline-story-"+c.lang)
		})
	}
}
