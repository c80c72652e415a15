package console_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/canned"
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

// TestBrowserAgentLoop plays an agent's everyday loop with keys and page loads counted:
// the phone rings; from the unassigned queue the agent finds the caller (/ focuses the
// search, the number typed as they say it, Enter), opens the caller's ticket straight from
// the search's rows (j, Enter: one page load fewer than through the customer page, which
// is played too: a click on the match, a click on the ticket's row), takes it (t), picks a
// canned reply filled for the ticket (r, / in the empty reply box, a word of its title,
// Enter), sends and resolves (Ctrl+Shift+Enter) and lands on the queue's next ticket.
// Typing a text is one action, each key or chord one.
//
// Before (measured on main, 2026-12-03, with the controls it had, and neither the search
// by number nor canned replies): j, Enter (load), click Take it (load), r, type,
// Ctrl+Enter (load), choose Resolved, click Save (load), click "← Queues" (load: it went to
// "my queue", not the one the agent came from), click the Unassigned tab (load), j, Enter
// (load): 7 page loads and 12 actions to the next ticket (5 loads and 9 actions to be back
// on a queue).
//
// Now, the whole loop: /, type the number, Enter (load), j, Enter (load), t (load), r, /,
// type a title word, Enter, Ctrl+Shift+Enter (load, on the next ticket): 4 page loads and
// 11 actions (through the customer page, 5 page loads and 11 actions). Without the search
// and the canned reply (j, Enter, t, r, type, Ctrl+Shift+Enter): 3 page loads and 6
// actions.
func TestBrowserAgentLoop(t *testing.T) {
	for _, c := range []struct {
		name          string
		lang          string
		width, height int64
		search        string // what the agent types into the queue's search; "" opens from the queue
		canned        string // a word of the canned reply's title; "" types the reply
		viaCustomer   bool   // the ticket opened through the caller's page, clicking
		loads, acts   int64
	}{
		{"zh-1440", "zh", 1440, 900, "8000", "到账", false, 4, 11},
		{"en-390", "en", 390, 844, "+86 138 0013 8000", "paid", false, 4, 11},
		{"zh-1440-plain", "zh", 1440, 900, "", "", false, 3, 6},
		{"zh-1440-customer", "zh", 1440, 900, "8000", "到账", true, 5, 11},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := newBrowser(t)
			l := serveDesk(t, consoletest.NewDesk(t, tickettest.SQLite(t)))
			bg := context.Background()
			// The queue: the caller's text is not its first ticket, unless opened from it.
			var caller, next *tickets.Ticket
			if c.search == "" {
				caller = l.SMS("+8613800138000", "车险理赔进度怎么样了？")
				next = l.SMS("+8613800138002", "发票什么时候寄出")
			} else {
				next = l.SMS("+8613800138002", "发票什么时候寄出")
				caller = l.SMS("+8613800138000", "车险理赔进度怎么样了？")
				l.SMS("+8613900139001", "地址变更")
			}
			name, locale := "赵磊", "zh-CN"
			if c.lang == "en" {
				name, locale = "Zhao Lei", "en"
			}
			if _, err := l.Service.UpdateCustomer(bg, tickets.AgentActor(l.Admin), caller.CustomerID, tickets.CustomerUpdate{Name: &name, Locale: &locale}); err != nil {
				t.Fatal(err)
			}
			for _, in := range []canned.Input{
				{Title: "问候 Greeting", BodyZH: "{{customer_name}}您好，我是{{agent_name}}。", BodyEN: "Hello {{customer_name}}, this is {{agent_name}}."},
				{TeamID: &l.Team.ID, Title: "理赔到账 Claim paid", BodyZH: "{{customer_name}}您好，工单{{ticket_ref}}的理赔已审核通过，款项三个工作日内到账。{{agent_name}}",
					BodyEN: "Dear {{customer_name}}, the claim on ticket {{ticket_ref}} is approved; the money arrives within three working days. {{agent_name}}"},
			} {
				if _, err := canned.New(l.Service).Create(bg, tickets.AgentActor(l.Admin), in); err != nil {
					t.Fatal(err)
				}
			}
			reply := map[string]string{"zh-CN": "赵磊您好，工单" + caller.Ref() + "的理赔已审核通过，款项三个工作日内到账。" + l.Agent.Name,
				"en": "Dear Zhao Lei, the claim on ticket " + caller.Ref() + " is approved; the money arrives within three working days. " + l.Agent.Name}[locale]
			if c.canned == "" {
				reply = "您好，您的理赔已审核通过，款项三个工作日内到账。"
			}

			signInBrowser(t, ctx, l.url, l.Agent)
			if c.lang == "en" {
				submit(t, ctx, "switch to English", `#lang-switch`)
			}
			run(t, ctx, 5*time.Second, "open the unassigned queue", chromedp.EmulateViewport(c.width, c.height),
				chromedp.Navigate(l.url+"/queue?view=unassigned"), chromedp.WaitVisible(css(`#queue-rows tr[data-ref]`)))
			step := 0
			snap := func(what string) {
				step++
				shoot(t, ctx, fmt.Sprintf("loop-%s-%d-%s", c.name, step, what))
			}
			snap("queue")

			m := newMeter(t, ctx)
			if c.search != "" {
				m.act("/ goes to the search", press("/", "Slash", 191))
				read(t, ctx, "the search has the focus", chromedp.Poll[bool](`document.activeElement.id === "search"`, chromedp.WithPollingTimeout(2*time.Second)))
				m.act("type the caller's number", chromedp.KeyEvent(c.search))
				snap("search")
				m.load("search", chromedp.KeyEvent("\r"), chromedp.WaitVisible(css(`#customer-matches`)))
				rows := read(t, ctx, "the search's rows", chromedp.Text(css(`#queue-rows`)))
				if !strings.Contains(rows, caller.Ref()) || strings.Contains(rows, next.Ref()) {
					t.Errorf("searching %q lists %q, want %s alone", c.search, rows, caller.Ref())
				}
				if who := read(t, ctx, "the matches", chromedp.Text(css(`#customer-matches`))); !strings.Contains(who, name) {
					t.Errorf("searching %q matches %q, want %s", c.search, who, name)
				}
				snap("found")
			}
			if c.viaCustomer {
				m.load("open the caller's page", chromedp.Click(css(`#customer-matches a`)), chromedp.WaitVisible(css(`#customer-tickets`)))
				snap("customer")
				m.load("open the ticket", chromedp.Click(css(`#customer-tickets tr[data-href] .c-subj`)),
					chromedp.WaitVisible(css(`#ticket[data-ref="`+caller.Ref()+`"] #take`)))
			} else {
				m.act("select the caller's ticket", press("j", "KeyJ", 74))
				m.load("open it", chromedp.KeyEvent("\r"), chromedp.WaitVisible(css(`#ticket[data-ref="`+caller.Ref()+`"] #take`)))
			}
			snap("ticket")
			m.load("take it", press("t", "KeyT", 84), chromedp.WaitVisible(css(`#reply-body`)))
			if d := l.detail(t, caller.Ref()); d.AssigneeID == nil || *d.AssigneeID != l.Agent.ID {
				t.Fatalf("t did not take %s: assignee %v", caller.Ref(), d.AssigneeID)
			}
			l.ownChangeQuiet(t, ctx)
			snap("taken")
			m.act("r: to the reply box", press("r", "KeyR", 82))
			read(t, ctx, "the reply box has the focus", chromedp.Poll[bool](`document.activeElement.id === "reply-body"`, chromedp.WithPollingTimeout(2*time.Second)))
			if c.canned == "" {
				m.act("write the reply", chromedp.KeyEvent(reply))
			} else {
				m.act("/ opens the canned replies", press("/", "Slash", 191), chromedp.WaitVisible(css(`#canned-q`)))
				m.act("a word of the title", chromedp.KeyEvent(c.canned))
				snap("canned")
				m.act("insert it", press("Enter", "Enter", 13))
				if got := read(t, ctx, "the reply box", chromedp.Value(css(`#reply-body`))); got != reply {
					t.Fatalf("the canned reply reads %q, want %q", got, reply)
				}
			}
			snap("reply")
			m.load("send and resolve", press("Enter", "Enter", 13, chromedp.ModifierCtrl, chromedp.ModifierShift),
				chromedp.WaitVisible(css(`#ticket[data-ref="`+next.Ref()+`"]`)))
			snap("next")

			if loads, actions := m.loads.Load(), int64(m.actions); loads != c.loads || actions != c.acts {
				t.Errorf("the loop took %d page loads and %d actions, want %d and %d (7 and 12 before)", loads, actions, c.loads, c.acts)
			} else {
				t.Logf("the loop: %d page loads, %d actions (7 and 12 before)", loads, actions)
			}
			d := l.detail(t, caller.Ref())
			if last := d.Messages[len(d.Messages)-1]; d.Status != tickets.StatusResolved || last.Direction != tickets.DirectionOutbound || last.Body != reply {
				t.Errorf("%s is %s with last message %q, want resolved with the reply %q", caller.Ref(), d.Status, last.Body, reply)
			}
			flash := read(t, ctx, "the notice", chromedp.Text(css(`.flash`)))
			if !strings.Contains(flash, caller.Ref()) || !strings.Contains(flash, next.Ref()) {
				t.Errorf("the notice says %q, want what was resolved and what is next", flash)
			}
			// The search is done with: "← Queues" goes to the queue it was made in.
			if back := read(t, ctx, "back link", chromedp.AttributeValue(css(`#back`), "href")); back.Value != "/queue?view=unassigned" {
				t.Errorf("the back link goes to %q, want the unassigned queue", back.Value)
			}

			// A colleague's change still raises the banner.
			if _, err := l.Service.AddNote(bg, tickets.AgentActor(l.Super), next.Ref(), "客户是老客户"); err != nil {
				t.Fatal(err)
			}
			run(t, ctx, 5*time.Second, "see the banner for a colleague's note", chromedp.WaitVisible(css(`#changed`)))
			run(t, ctx, 5*time.Second, "show the shortcuts", press("?", "Slash", 191, chromedp.ModifierShift), chromedp.WaitVisible(css(`#shortcuts`)))
			keys := read(t, ctx, "the shortcuts", chromedp.Text(css(`#shortcuts`)))
			if want := map[string]string{"zh": "快捷回复", "en": "canned reply"}[c.lang]; !strings.Contains(keys, want) || !strings.Contains(keys, "Alt") {
				t.Errorf("the shortcuts lack the canned replies' keys (%q):\n%s", want, keys)
			}
			snap("shortcuts")
			run(t, ctx, 5*time.Second, "hide the shortcuts", press("?", "Slash", 191, chromedp.ModifierShift), chromedp.WaitNotVisible(css(`#shortcuts`)))
		})
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

// TestBrowserFeedOnEveryPage: every signed-in page listens to the live feed for the menu's
// notice count, the customer page too; the tickets' changes it also receives are taken in
// without a script error.
func TestBrowserFeedOnEveryPage(t *testing.T) {
	ctx := newBrowser(t)
	l := serveDesk(t, consoletest.NewDesk(t, tickettest.SQLite(t)))
	tk := l.SMS("+8613800138000", "车险理赔进度怎么样了？")
	var thrown atomic.Value
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*cdpruntime.EventExceptionThrown); ok {
			d := e.ExceptionDetails
			what := d.Text
			if d.Exception != nil {
				what += " " + d.Exception.Description
			}
			thrown.Store(fmt.Sprintf("%s (%s:%d)", what, d.URL, d.LineNumber+1))
		}
	}); err != nil {
		t.Fatal(err)
	}
	signInBrowser(t, ctx, l.url, l.Agent)
	run(t, ctx, 5*time.Second, "open the customer page", chromedp.Navigate(l.url+"/customers/"+consoletest.ID(tk.CustomerID)),
		chromedp.WaitVisible(css(`#customer`)), chromedp.WaitVisible(css(`#live-state:not(.off)`)))
	// The assignment is a change on the feed, then the agent's notice, in that order.
	if _, err := l.Service.Assign(context.Background(), tickets.AgentActor(l.Super), tk.Ref(), tickets.Assignment{AssigneeID: &l.Agent.ID}); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, 5*time.Second, "the menu counts the notice", chromedp.WaitVisible(css(`#unread-count`)))
	if err := thrown.Load(); err != nil {
		t.Errorf("the customer page's script failed on the feed: %v", err)
	}
}

// TestBrowserTicketKeysStayOnTickets: t and e belong to the ticket page; on a complaint's
// page, whose officer form has a "Take it" button too, a stray t takes nothing.
func TestBrowserTicketKeysStayOnTickets(t *testing.T) {
	ctx := newBrowser(t)
	l := serveDesk(t, consoletest.NewDesk(t, tickettest.SQLite(t)))
	c := l.FileComplaint("周敏", "+8613600000001", "车险理赔款三周未到账", consoletest.T0)
	signInBrowser(t, ctx, l.url, l.Admin)
	run(t, ctx, 5*time.Second, "open the complaint", chromedp.Navigate(l.url+"/complaints/"+c.Ref()), chromedp.WaitVisible(css(`#take`)))
	// A submission the keys would start is recorded and stopped, so none can slip past.
	read(t, ctx, "watch the forms", chromedp.Evaluate[bool](`window.submitted = [];
		document.addEventListener("submit", (e) => { window.submitted.push(e.target.action); e.preventDefault(); }, true); true`))
	for _, k := range []string{"t", "e"} {
		run(t, ctx, 5*time.Second, "press "+k, press(k, "Key"+strings.ToUpper(k), int64(k[0]-'a'+65)))
	}
	if sent := read(t, ctx, "the forms sent", chromedp.Evaluate[[]string](`window.submitted`)); len(sent) != 0 {
		t.Errorf("t and e on a complaint's page sent %q", sent)
	}
	if now := l.ComplaintNow(c.Ref()); now.OfficerID == nil || *now.OfficerID != l.Office.ID {
		t.Errorf("the complaint's officer is now %v, want the officer it had", now.OfficerID)
	}

	// On a ticket's page e resolves it, onto the queue's next ticket.
	tk, next := l.SMS("+8613800138000", "车险理赔进度怎么样了？"), l.SMS("+8613800138001", "发票什么时候寄出")
	run(t, ctx, 5*time.Second, "open the ticket", chromedp.Navigate(l.url+"/tickets/"+tk.Ref()+"?from=view%3Dunassigned"), chromedp.WaitVisible(css(`#resolve`)))
	read(t, ctx, "e resolves", chromedp.WaitEvent(page.LoadEventFired, nil, press("e", "KeyE", 69)))
	run(t, ctx, 5*time.Second, "on the next ticket", chromedp.WaitVisible(css(`#ticket[data-ref="`+next.Ref()+`"]`)))
	if d := l.detail(t, tk.Ref()); d.Status != tickets.StatusResolved {
		t.Errorf("after e %s is %s, want resolved", tk.Ref(), d.Status)
	}
}
