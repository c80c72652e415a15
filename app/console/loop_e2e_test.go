package console_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// meter counts what an agent does in the browser: page loads (top-level navigations) and
// actions (a key pressed, a click, a choice in a list, a text typed).
type meter struct {
	t       *testing.T
	ctx     context.Context
	loads   atomic.Int64
	actions int
}

func newMeter(t *testing.T, ctx context.Context) *meter {
	m := &meter{t: t, ctx: ctx}
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*page.EventFrameNavigated); ok && e.Frame.ParentID == "" {
			m.loads.Add(1)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// act is one action of the agent's; wait is what shows it took effect.
func (m *meter) act(what string, a chromedp.Action[chromedp.Void], wait ...chromedp.Action[chromedp.Void]) {
	m.t.Helper()
	m.actions++
	run(m.t, m.ctx, 10*time.Second, what, append([]chromedp.Action[chromedp.Void]{a}, wait...)...)
}

// load is an action that opens another page.
func (m *meter) load(what string, a chromedp.Action[chromedp.Void], wait ...chromedp.Action[chromedp.Void]) {
	m.t.Helper()
	m.actions++
	read(m.t, m.ctx, what, chromedp.WaitEvent(page.LoadEventFired, nil, a))
	run(m.t, m.ctx, 10*time.Second, what, wait...)
}

// TestBrowserAgentLoop plays an agent's everyday loop, keys and page loads counted from the
// unassigned queue: open the first ticket, take it, reply, resolve, reach the queue's next
// ticket.
//
// Before (measured on main, 2026-12-03, with the controls it had): j, Enter (load), click
// Take it (load), r, type, Ctrl+Enter (load), choose Resolved, click Save (load), click
// "← Queues" (load: it went to "my queue", not the one the agent came from), click the
// Unassigned tab (load), j, Enter (load): 7 page loads and 12 actions to the next ticket
// (5 loads and 9 actions to be back on a queue).
//
// Now: j, Enter (load), t (load), r, type, Ctrl+Shift+Enter (send and resolve: load, on
// the next ticket): 3 page loads and 6 actions.
func TestBrowserAgentLoop(t *testing.T) {
	ctx := newBrowser(t)
	l := serveDesk(t, consoletest.NewDesk(t, tickettest.SQLite(t)))
	first := l.SMS("+8613800138001", "车险理赔进度怎么样了？")
	next := l.SMS("+8613800138002", "发票什么时候寄出")
	signInBrowser(t, ctx, l.url, l.Agent)
	run(t, ctx, 5*time.Second, "open the unassigned queue",
		chromedp.Navigate(l.url+"/queue?view=unassigned"), chromedp.WaitVisible(css(`#queue-rows tr[data-ref]`)))

	m := newMeter(t, ctx)
	m.act("select the first ticket", chromedp.KeyEvent("j"))
	m.load("open it", chromedp.KeyEvent("\r"), chromedp.WaitVisible(css(`#take`)))
	m.load("take it", chromedp.KeyEvent("t"), chromedp.WaitVisible(css(`#reply-body`)))
	if d := l.detail(t, first.Ref()); d.AssigneeID == nil || *d.AssigneeID != l.Agent.ID {
		t.Fatalf("t did not take %s: assignee %v", first.Ref(), d.AssigneeID)
	}
	l.ownChangeQuiet(t, ctx)
	m.act("start a reply", chromedp.KeyEvent("r"))
	// DevTools types the r into the box it focused; a real keyboard does not.
	read(t, ctx, "empty the reply box", chromedp.Evaluate[string](`document.getElementById("reply-body").value = ""`))
	reply := "您好，您的理赔已审核通过，款项三个工作日内到账。"
	m.act("write the reply", chromedp.SendKeys(css(`#reply-body`), reply))
	m.load("send and resolve", chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierCtrl, chromedp.ModifierShift)),
		chromedp.WaitVisible(css(`#ticket[data-ref="`+next.Ref()+`"]`)))

	if loads, actions := m.loads.Load(), m.actions; loads != 3 || actions != 6 {
		t.Errorf("the loop took %d page loads and %d actions, want 3 and 6 (7 and 12 before)", loads, actions)
	} else {
		t.Logf("the loop: %d page loads, %d actions (7 and 12 before)", loads, actions)
	}
	d := l.detail(t, first.Ref())
	if last := d.Messages[len(d.Messages)-1]; d.Status != "resolved" || last.Body != reply {
		t.Errorf("%s is %s with last message %q, want resolved with the reply", first.Ref(), d.Status, last.Body)
	}
	flash := read(t, ctx, "the notice", chromedp.Text(css(`.flash`)))
	if !strings.Contains(flash, first.Ref()) || !strings.Contains(flash, next.Ref()) {
		t.Errorf("the notice says %q, want what was resolved and what is next", flash)
	}
	if back := read(t, ctx, "back link", chromedp.AttributeValue(css(`#back`), "href")); back.Value != "/queue?view=unassigned" {
		t.Errorf("the back link goes to %q, want the unassigned queue", back.Value)
	}
	shoot(t, ctx, "loop-next-zh")

	// A colleague's change still raises the banner.
	if _, err := l.Service.AddNote(context.Background(), tickets.AgentActor(l.Super), next.Ref(), "客户是老客户"); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, 5*time.Second, "see the banner for a colleague's note", chromedp.WaitVisible(css(`#changed`)))

	// The pages in both languages, at desktop and phone widths, with the shortcuts.
	for _, lang := range []string{"zh", "en"} {
		if lang == "en" {
			submit(t, ctx, "switch to English", `#lang-switch`)
		}
		run(t, ctx, 5*time.Second, "show the shortcuts", chromedp.KeyEvent("?"), chromedp.WaitVisible(css(`#shortcuts`)))
		shoot(t, ctx, "shortcuts-"+lang)
		run(t, ctx, 5*time.Second, "hide the shortcuts", chromedp.KeyEvent("?"), chromedp.WaitNotVisible(css(`#shortcuts`)))
		shoot(t, ctx, "ticket-composer-"+lang)
		run(t, ctx, 5*time.Second, "phone width", chromedp.EmulateViewport(390, 844), chromedp.Reload(), chromedp.WaitVisible(css(`#reply-body`)))
		shoot(t, ctx, "ticket-composer-phone-"+lang)
		run(t, ctx, 5*time.Second, "desktop width", chromedp.EmulateViewport(1440, 900), chromedp.Reload(), chromedp.WaitVisible(css(`#reply-body`)))
	}
}

// ownChangeQuiet checks that the agent's own change (just made) raised no banner: once
// the page has read the feed past it, the banner is still hidden.
func (l *live) ownChangeQuiet(t *testing.T, ctx context.Context) {
	t.Helper()
	last, err := l.Service.LastEventID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	read(t, ctx, "the page reads the feed past the agent's own change",
		chromedp.Poll[bool](fmt.Sprintf(`Number(document.getElementById("ticket").dataset.seen || 0) >= %d`, last)))
	if shown := read(t, ctx, "banner", chromedp.Evaluate[bool](`!document.getElementById("changed").hidden`)); shown {
		t.Error("the 'this ticket changed' banner fired for the agent's own action")
	}
}

func (l *live) detail(t *testing.T, ref string) *tickets.TicketDetail {
	t.Helper()
	d, err := l.Service.Ticket(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
