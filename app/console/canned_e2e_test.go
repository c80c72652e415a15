package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/canned"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestBrowserCannedReply: in the reply box an agent types "/", searches the canned replies
// by title, picks one with the keyboard, and sends the text filled from the ticket, in the
// customer's language; at desktop and phone widths, with the console in Chinese and in
// English. Alt+/ inserts one where the cursor is in a reply already begun.
func TestBrowserCannedReply(t *testing.T) {
	for _, c := range []struct {
		name          string
		width, height int64
		consoleLang   string // the agent's console
		customerLang  string // the customer's locale: the text sent
		search        string
		want          string // the reply sent
		altSlash      bool   // open the picker with Alt+/ after typing a start
	}{
		{"desktop-zh", 1440, 900, "zh", "zh-CN", "材料", "赵磊您好，工单HL-000001还缺少病历，请在{due}前补充。\n李娜 Li Na", false},
		{"phone-en", 390, 844, "en", "en", "documents", "Dear Zhao Lei, ticket HL-000001 still needs the medical records, by {due}.\n李娜 Li Na", false},
		{"desktop-en-alt", 1440, 900, "en", "en", "greet", "Thanks. Hello Zhao Lei, this is 李娜 Li Na.", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := newBrowser(t)
			l := serveDesk(t, consoletest.NewDesk(t, tickettest.SQLite(t)))
			bg := context.Background()
			tk := l.SMS("+8613800138000", "我的理赔需要什么材料？")
			name := "赵磊"
			if c.customerLang == "en" {
				name = "Zhao Lei"
			}
			if _, err := l.Service.UpdateCustomer(bg, tickets.AgentActor(l.Admin), tk.CustomerID, tickets.CustomerUpdate{Name: &name, Locale: &c.customerLang}); err != nil {
				t.Fatal(err)
			}
			cs := canned.New(l.Service)
			admin := tickets.AgentActor(l.Admin)
			for _, in := range []canned.Input{
				{Title: "问候 Greeting", BodyZH: "{{customer_name}}您好，我是{{agent_name}}。", BodyEN: "Hello {{customer_name}}, this is {{agent_name}}."},
				{TeamID: &l.Team.ID, Title: "补充材料 Missing documents", BodyZH: "{{customer_name}}您好，工单{{ticket_ref}}还缺少病历，请在{{first_response_due}}前补充。\n{{agent_name}}",
					BodyEN: "Dear {{customer_name}}, ticket {{ticket_ref}} still needs the medical records, by {{first_response_due}}.\n{{agent_name}}"},
				{TeamID: &l.Other.ID, Title: "车险材料 Motor documents", BodyZH: "另一个团队的回复"},
			} {
				if _, err := cs.Create(bg, admin, in); err != nil {
					t.Fatal(err)
				}
			}
			// The deadlines read in the calendar's zone, as the reply shows them.
			due := tk.FirstResponseDueAt.In(l.Service.Calendar().Location()).Format("2006-01-02 15:04")
			want := strings.ReplaceAll(c.want, "{due}", due)

			signInBrowser(t, ctx, l.url, l.Agent)
			if c.consoleLang == "en" {
				submit(t, ctx, "switch to English", `#lang-switch`)
			}
			run(t, ctx, 5*time.Second, "phone or desktop", chromedp.EmulateViewport(c.width, c.height))
			run(t, ctx, 5*time.Second, "open the ticket",
				chromedp.Navigate(l.url+"/tickets/"+tk.Ref()), chromedp.WaitVisible(css(`#reply-body`)))
			if n := read(t, ctx, "picker items", chromedp.Evaluate[int](`document.querySelectorAll("#canned-items li").length`)); n != 2 {
				t.Errorf("the picker offers %d replies, want the global one and the team's", n)
			}
			run(t, ctx, 5*time.Second, "focus the reply box", chromedp.Click(css(`#reply-body`)))
			if c.altSlash {
				run(t, ctx, 5*time.Second, "begin a reply, then Alt+/",
					chromedp.SendKeys(css(`#reply-body`), "Thanks. "),
					press("/", "Slash", 191, chromedp.ModifierAlt))
			} else {
				run(t, ctx, 5*time.Second, "type /", press("/", "Slash", 191))
			}
			run(t, ctx, 5*time.Second, "the picker opens with the search focused",
				chromedp.WaitVisible(css(`#canned-q`)))
			read(t, ctx, "the search has the focus", chromedp.Poll[bool](`document.activeElement.id === "canned-q"`, chromedp.WithPollingTimeout(2*time.Second)))
			// Before searching, every reply shows; the first is chosen.
			shoot(t, ctx, "canned-picker-"+c.name)
			run(t, ctx, 5*time.Second, "search the titles", chromedp.SendKeys(css(`#canned-q`), c.search))
			visible := read(t, ctx, "titles shown", chromedp.Evaluate[[]string](
				`Array.from(document.querySelectorAll("#canned-items li")).filter((li) => !li.hidden).map((li) => li.dataset.title)`))
			if len(visible) != 1 {
				t.Fatalf("searching %q shows %q, want one reply", c.search, visible)
			}
			shoot(t, ctx, "canned-search-"+c.name)
			// Up and down move the choice within what the search shows; Enter inserts it.
			run(t, ctx, 5*time.Second, "choose with the keyboard and insert",
				press("ArrowDown", "ArrowDown", 40), press("ArrowUp", "ArrowUp", 38), press("Enter", "Enter", 13))
			read(t, ctx, "the reply box has the focus again", chromedp.Poll[bool](`document.activeElement.id === "reply-body"`, chromedp.WithPollingTimeout(2*time.Second)))
			got := read(t, ctx, "the reply box", chromedp.Value(css(`#reply-body`)))
			if got != want {
				t.Fatalf("the reply box holds %q, want %q", got, want)
			}
			if hidden := read(t, ctx, "picker closed", chromedp.Evaluate[bool](`!document.getElementById("canned-picker").open`)); !hidden {
				t.Error("the picker stays open after picking")
			}
			run(t, ctx, 5*time.Second, "edit before sending", chromedp.SendKeys(css(`#reply-body`), " 🙂"))
			shoot(t, ctx, "canned-filled-"+c.name)
			submit(t, ctx, "send", `#reply-form button[type=submit]`)
			d, err := l.Service.Ticket(bg, tk.Ref())
			if err != nil {
				t.Fatal(err)
			}
			// A form sends a textarea's line breaks as CRLF.
			if last := d.Messages[len(d.Messages)-1]; last.Direction != tickets.DirectionOutbound || strings.ReplaceAll(last.Body, "\r\n", "\n") != want+" 🙂" {
				t.Fatalf("sent %q (%s), want %q", last.Body, last.Direction, want+" 🙂")
			}
		})
	}
}

// press is a key pressed on the focused element and released. The press is sent as the
// keyboard's raw key-down, so that the page's handler decides what the key does: DevTools
// would otherwise deliver the key's character on its own, even where the page cancelled
// the key (see TestBrowserAgentAnswersSMS), which a real keyboard does not.
func press(key, code string, keyCode int64, mods ...chromedp.Modifier) chromedp.Action[chromedp.Void] {
	var m int64
	for _, x := range mods {
		m |= int64(x)
	}
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			p := input.DispatchKeyEventParams{Type: typ, Key: key, Code: code, WindowsVirtualKeyCode: keyCode, NativeVirtualKeyCode: keyCode, Modifiers: m}
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, p); err != nil {
				return err
			}
		}
		return nil
	})
}

// TestBrowserCannedRepliesPage keeps pictures of the page where supervisors keep their
// team's canned replies, in Chinese at desktop width and in English on a phone.
func TestBrowserCannedRepliesPage(t *testing.T) {
	ctx := newBrowser(t)
	l := serveDesk(t, consoletest.NewDesk(t, tickettest.SQLite(t)))
	cs := canned.New(l.Service)
	for _, in := range []canned.Input{
		{Title: "问候 Greeting", BodyZH: "{{customer_name}}您好，我是{{agent_name}}。", BodyEN: "Hello {{customer_name}}, this is {{agent_name}}."},
		{TeamID: &l.Team.ID, Title: "补充材料 Missing documents", BodyZH: "工单{{ticket_ref}}还缺少病历，请在{{resolution_due}}前补充。"},
	} {
		if _, err := cs.Create(context.Background(), tickets.AgentActor(l.Admin), in); err != nil {
			t.Fatal(err)
		}
	}
	signInBrowser(t, ctx, l.url, l.Super)
	run(t, ctx, 5*time.Second, "open the page from the menu",
		chromedp.Click(css(`nav.side a[href="/canned-replies"]`)), chromedp.WaitVisible(css(`#canned-replies`)))
	run(t, ctx, 5*time.Second, "open the team's reply to edit it",
		chromedp.Click(css(`#canned-2 summary`)), chromedp.WaitVisible(css(`#canned-2 textarea[name=body_zh]`)))
	if n := read(t, ctx, "editable replies", chromedp.Evaluate[int](`document.querySelectorAll("#canned-replies details").length`)); n != 1 {
		t.Errorf("a supervisor may edit %d replies, want their team's one", n)
	}
	shoot(t, ctx, "canned-replies-zh")
	submit(t, ctx, "switch to English", `#lang-switch`)
	run(t, ctx, 5*time.Second, "on a phone", chromedp.EmulateViewport(390, 844), chromedp.WaitVisible(css(`#new-canned`)))
	shoot(t, ctx, "canned-replies-phone-en")
}
