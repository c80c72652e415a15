package console_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestBrowserFloorLive: a supervisor watches the live floor; a customer's text arrives and
// the floor's figures change without a reload. Screenshots at 1440 and 390 px, in both
// languages.
func TestBrowserFloorLive(t *testing.T) {
	ctx := context.Background()
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	admin := tickets.AgentActor(d.Admin)
	if _, err := d.Service.SaveRoutingRule(ctx, admin, &tickets.RoutingRule{Name: "claims", Keywords: "理赔", TeamID: d.Team.ID, SetCategory: "理赔"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Service.SetOnline(ctx, tickets.AgentActor(d.Agent), true); err != nil {
		t.Fatal(err)
	}
	d.SMS("+8613800000001", "理赔进度怎么样了")
	d.FileComplaint("王女士", "+8613800000002", "理赔款迟迟未到", consoletest.Local(2026, 11, 12, 10, 0))
	// Both tickets' first responses (the text's, and the complaint's own ticket, which Li Na
	// logged and holds) are due in 30 minutes; the complaint is due today, Thursday.
	d.Clock.Advance(23*time.Hour + 30*time.Minute)
	l := serveDesk(t, d)

	b := newBrowser(t)
	signInBrowser(t, b, l.url, d.Super)
	run(t, b, 5*time.Second, "open the floor",
		chromedp.Navigate(l.url+"/dashboard/floor?team=all"),
		chromedp.WaitVisible(css(`#floor`)),
	)
	for id, want := range map[string]string{"tile-waiting": "2", "tile-breaching": "2", "tile-complaints": "1"} {
		if got := read(t, b, id, chromedp.Text(css(`#`+id+` .floor-n`))); got != want {
			t.Errorf("%s shows %q, want %q", id, got, want)
		}
	}
	if got := read(t, b, "Li Na's load", chromedp.Text(css(`#floor-agents tr.is-online .load-n`))); got != "2 / 10" {
		t.Errorf("Li Na's load %q, want 2 / 10", got)
	}

	l.textIn(t, "+8613800000003", "我要报理赔")
	run(t, b, 5*time.Second, "the new text counted without a reload",
		chromedp.WaitVisible(css(`#tile-waiting.fresh .floor-n[data-n="3"]`)),
		chromedp.WaitVisible(css(`#floor-agents tr.is-online .load-n`)),
	)
	if got := read(t, b, "Li Na's load", chromedp.Text(css(`#floor-agents tr.is-online .load-n`))); got != "3 / 10" {
		t.Errorf("after the text, Li Na's load %q, want 3 / 10", got)
	}

	for i, c := range []struct {
		lang  string
		width int64
	}{{"zh", 1440}, {"zh", 390}, {"en", 1440}, {"en", 390}} {
		if i == 2 {
			run(t, b, 5*time.Second, "switch to English",
				chromedp.EmulateViewport(1440, 900),
				chromedp.Click(css(`#lang-switch`)),
				chromedp.WaitVisible(css(`html[lang=en] #floor`)),
			)
		}
		run(t, b, 5*time.Second, fmt.Sprintf("%s at %d", c.lang, c.width),
			chromedp.EmulateViewport(c.width, 900),
			chromedp.Navigate(l.url+"/dashboard/floor?team=all"),
			chromedp.WaitVisible(css(`#floor-complaints`)),
		)
		shoot(t, b, fmt.Sprintf("floor-%s-%d", c.lang, c.width))
	}
	if got := read(t, b, "the English heading", chromedp.Text(css(`#floor h1`))); got != "Live floor" {
		t.Errorf("English heading %q", got)
	}
}
