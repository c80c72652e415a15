package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// endSession drops the browser's session cookie, as an ended session leaves it: signed out.
func endSession(url string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, network.DeleteCookies, network.DeleteCookiesParams{Name: "hotline_session", URL: url})
		return chromedp.Void{}, err
	}
}

// TestBrowserExpiredFormKeepsReply: a reply sent from a form that expired, whether its
// CSRF token went stale or its session ended, is refused and not lost: back on the ticket
// (after signing in again) the text is there, said to be kept, and sending it then works
// and clears it.
func TestBrowserExpiredFormKeepsReply(t *testing.T) {
	ctx := newBrowser(t)
	l := serveDesk(t, consoletest.NewDesk(t, tickettest.SQLite(t)))
	l.textIn(t, "+8613800138000", "我的理赔进度怎么样了？")
	signInBrowser(t, ctx, l.url, l.Agent)
	ticket := l.url + "/tickets/HL-000001"

	tests := []struct {
		name   string
		expire chromedp.Action[chromedp.Void]
		status string // what the refusal page says, in Chinese
		signIn bool
	}{
		{"stale CSRF token", chromedp.Evaluate[chromedp.Void](`document.querySelector("#reply-form input[name=_csrf]").value = "stale"`), "403", false},
		{"session ended", endSession(l.url), "401", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reply := "您好，" + tc.name + "：材料已收到，两个工作日内回复您。"
			run(t, ctx, 5*time.Second, "open the ticket", chromedp.Navigate(ticket), chromedp.WaitVisible(css(`#reply-body`)))
			if v := read(t, ctx, "reply box", chromedp.Value(css(`#reply-body`))); v != "" {
				t.Fatalf("the reply box starts with %q, want it empty", v)
			}
			run(t, ctx, 5*time.Second, "type a reply", chromedp.SendKeys(css(`#reply-body`), reply), tc.expire)
			submit(t, ctx, "send it", `#send`)
			if got := read(t, ctx, "refusal", chromedp.Text(css(`[data-form-failed] h1`))); !strings.Contains(got, tc.status) {
				t.Fatalf("sending from the expired form shows %q, want the %s page", got, tc.status)
			}
			// The refusal page leads back to the ticket, through the sign-in when that is what failed.
			read(t, ctx, "follow the refusal's link", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(css(`[data-form-failed] a.btn`))))
			if tc.signIn {
				run(t, ctx, 10*time.Second, "sign in again",
					chromedp.WaitVisible(css(`input[name=email]`)),
					chromedp.SendKeys(css(`input[name=email]`), l.Agent.Email),
					chromedp.SendKeys(css(`input[name=password]`), consoletest.Password))
				submit(t, ctx, "sign in", `button[type=submit]`)
			}
			run(t, ctx, 5*time.Second, "back on the ticket", chromedp.WaitVisible(css(`#reply-body`)))
			if loc := read(t, ctx, "where", chromedp.Location()); loc != ticket {
				t.Errorf("after the refusal the agent is on %s, want the ticket", loc)
			}
			if v := read(t, ctx, "reply box", chromedp.Value(css(`#reply-body`))); v != reply {
				t.Fatalf("the reply box holds %q after the refusal, want what was typed: %q", v, reply)
			}
			if note := read(t, ctx, "kept note", chromedp.Text(css(`.draft-kept`))); !strings.Contains(note, "未发送的内容已恢复") {
				t.Errorf("the kept reply is announced as %q", note)
			}
			shoot(t, ctx, "draft-kept-"+map[bool]string{false: "csrf", true: "session"}[tc.signIn])
			submit(t, ctx, "send it again", `#send`)
			d, err := l.Service.Ticket(context.Background(), "HL-000001")
			if err != nil {
				t.Fatal(err)
			}
			if last := d.Messages[len(d.Messages)-1]; last.Body != reply || last.Direction != tickets.DirectionOutbound {
				t.Fatalf("last message is %q, want the kept reply sent", last.Body)
			}
			run(t, ctx, 5*time.Second, "open the ticket again", chromedp.Navigate(ticket), chromedp.WaitVisible(css(`#reply-body`)))
			if v := read(t, ctx, "reply box", chromedp.Value(css(`#reply-body`))); v != "" {
				t.Errorf("after the reply was sent the box still holds %q", v)
			}
		})
	}
}
