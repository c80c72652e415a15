package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/stages"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestBrowserProgressStages: the ticket page's progress card and the customer's status
// page, at a phone's, half a monitor's and a laptop's width in both languages, fit the
// screen (screenshots stage-ticket-* and stage-status-*); on the ticket page the s key
// picks the stage control, with the next stage chosen, and Enter moves the claim on.
func TestBrowserProgressStages(t *testing.T) {
	ctx := newBrowser(t)
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	bg := context.Background()
	care := aftercare.New(d.Service, aftercare.Config{})
	base := serveScreens(t, d, care)

	tk := d.SMS("+8613800138000", "车险理赔：报案号 A123，材料已经寄出，想知道进度")
	super := tickets.AgentActor(d.Super)
	if _, err := d.Service.Assign(bg, super, tk.Ref(), tickets.Assignment{AssigneeID: &d.Super.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Service.SetCategory(bg, super, tk.Ref(), "claims", ""); err != nil {
		t.Fatal(err)
	}
	st := stages.New(d.Service)
	sts, err := st.Stages(bg, "claims")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sts[:2] {
		if _, err := st.Move(bg, super, tk.Ref(), s.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.RequestDocuments(bg, super, tk.Ref(), []string{"医院诊断证明（原件）", "医疗费用发票", "被保险人身份证复印件"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Service.SetStatus(bg, super, tk.Ref(), tickets.StatusOpen, ""); err != nil {
		t.Fatal(err)
	}

	for _, lang := range []string{"zh", "en"} {
		for _, w := range screenWidths {
			look(t, ctx, base, screen{name: "stage-status", path: "/status?lang={lang}&ref=" + tk.Ref() + "&check=8000", ready: "ol.stages"}, lang, w)
		}
	}
	signInBrowser(t, ctx, base, d.Super)
	for _, lang := range []string{"zh", "en"} {
		locale := map[string]string{"zh": "zh-CN", "en": "en"}[lang]
		if _, err := d.Service.UpdateAgent(bg, tickets.Actor{Kind: "system"}, d.Super.ID, tickets.AgentUpdate{Locale: &locale}); err != nil {
			t.Fatal(err)
		}
		for _, w := range screenWidths {
			look(t, ctx, base, screen{name: "stage-ticket", path: "/tickets/" + tk.Ref(), ready: "#progress", who: d.Super}, lang, w)
			js := `(() => { const c = document.querySelector("#stage-move"); c.scrollIntoView({block: "center"}); return onScreen(c); })()`
			if got := read(t, ctx, "stage button", chromedp.Evaluate[string](js)); got != "" {
				t.Errorf("%s %d: the stage button is %s", lang, w, got)
			}
		}
	}

	// s picks the stage control with the next stage chosen; Enter moves the claim on.
	run(t, ctx, 10*time.Second, "open the ticket",
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(base+"/tickets/"+tk.Ref()),
		chromedp.WaitVisible(css("#progress")),
	)
	run(t, ctx, 5*time.Second, "press s", chromedp.KeyEvent("s"))
	focused := read(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement.id + "=" + document.activeElement.value`))
	if focused != fmt.Sprintf("stage-select=%d", sts[2].ID) {
		t.Fatalf("after s the focus is on %q, want the stage select on stage %d", focused, sts[2].ID)
	}
	read(t, ctx, "press Enter", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.KeyEvent(kb.Enter)))
	run(t, ctx, 5*time.Second, "the moved ticket", chromedp.WaitVisible(css(`#stages li.current`)))
	current := read(t, ctx, "current stage", chromedp.Evaluate[string](`document.querySelector("#stages li.current .name").textContent`))
	if !strings.Contains(current, sts[2].NameEn) {
		t.Errorf("after Enter the current stage is %q, want %q", current, sts[2].NameEn)
	}
	shoot(t, ctx, "stage-ticket-moved-en-1440")
}
