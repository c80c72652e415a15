package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotlinedesk/hotline/tickets"
)

// TestBrowserScorecard: the team's scorecard and the frequent issues, as a supervisor sees
// them at a phone's, half a screen's and a desktop's width, in Chinese and English
// (screenshots scorecard-<lang>-<width>.png, issues-<lang>-<width>.png).
func TestBrowserScorecard(t *testing.T) {
	d, _, _ := scorecardDesk(t)
	l := serveDesk(t, d)
	b := newBrowser(t)
	signInBrowser(t, b, l.url, d.Super)
	team := fmt.Sprintf("/dashboard/scorecard?who=team:%d&from=2026-11-25&to=2026-11-26", d.Team.ID)
	for _, lang := range []string{"zh", "en"} {
		locale := map[string]string{"zh": "zh-CN", "en": "en"}[lang]
		if _, err := d.Service.UpdateAgent(context.Background(), tickets.Actor{Kind: "system"}, d.Super.ID, tickets.AgentUpdate{Locale: &locale}); err != nil {
			t.Fatal(err)
		}
		for _, width := range []int64{390, 960, 1440} {
			run(t, b, 5*time.Second, fmt.Sprintf("the scorecard, %s at %d", lang, width),
				chromedp.EmulateViewport(width, 900),
				chromedp.Navigate(l.url+team),
				chromedp.WaitVisible(css(`#score-agents`)),
			)
			shoot(t, b, fmt.Sprintf("scorecard-%s-%d", lang, width))
			run(t, b, 5*time.Second, fmt.Sprintf("frequent issues, %s at %d", lang, width),
				chromedp.Navigate(l.url+"/dashboard/issues?team=all&weeks=4"),
				chromedp.WaitVisible(css(`#issues-keywords`)),
			)
			shoot(t, b, fmt.Sprintf("issues-%s-%d", lang, width))
		}
	}
	want := map[string]string{"#fig-first .verdict": "✗ Target not met", "#fig-reviews .verdict": "✓ Target met"}
	run(t, b, 5*time.Second, "back to the scorecard", chromedp.Navigate(l.url+team), chromedp.WaitVisible(css(`#score-agents`)))
	for sel, w := range want {
		if got := read(t, b, sel, chromedp.Text(css(sel))); got != w {
			t.Errorf("%s says %q, want %q", sel, got, w)
		}
	}
	// The figure's link opens the tickets behind it.
	run(t, b, 5*time.Second, "open the missed first responses",
		chromedp.Click(css(`#fig-first .score-links a:nth-child(2)`)),
		chromedp.WaitVisible(css(`#figure-tickets`)),
	)
	if got := read(t, b, "the list's rows", chromedp.Text(css(`#figure-tickets tbody`))); !strings.Contains(got, "HL-") {
		t.Errorf("the missed first responses list %q", got)
	}
	shoot(t, b, "scorecard-tickets-en-1440")

	// Li Na sees her own, from her menu; an admin sees the targets' form.
	for _, c := range []struct {
		who   *tickets.Agent
		name  string
		width int64
	}{{d.Agent, "scorecard-agent-zh-390", 390}, {d.Admin, "scorecard-admin-zh-1440", 1440}} {
		b := newBrowser(t)
		signInBrowser(t, b, l.url, c.who)
		run(t, b, 5*time.Second, c.name,
			chromedp.EmulateViewport(c.width, 900),
			chromedp.Navigate(l.url+"/dashboard/scorecard?from=2026-11-25&to=2026-11-26"),
			chromedp.WaitVisible(css(`#fig-reviews`)),
		)
		shoot(t, b, c.name)
	}
}
