package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// apiSession signs a into the JSON API: a session of its own, apart from the browser's.
func (l *live) apiSession(t *testing.T, a *tickets.Agent) func(method, path string, body any) int {
	t.Helper()
	call := func(tok, method, path string, body any) (int, map[string]any) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, l.url+path, strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		var out map[string]any
		json.NewDecoder(res.Body).Decode(&out) //nolint:errcheck // a 204 has no body
		return res.StatusCode, out
	}
	status, js := call("", "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": consoletest.Password})
	tok, _ := js["token"].(string)
	if status != 200 || tok == "" {
		t.Fatalf("API sign-in as %s: %d %v", a.Email, status, js)
	}
	return func(method, path string, body any) int {
		status, _ := call(tok, method, path, body)
		return status
	}
}

// TestBrowserNoticesArriveLive: an agent's menu counts their unread notices, and the count
// rises while they look at their queue when a supervisor, in another session, gives them
// a ticket; the notices page reads them, in both languages, on a desktop and a phone.
func TestBrowserNoticesArriveLive(t *testing.T) {
	ctx := newBrowser(t)
	l := serveDesk(t, consoletest.NewDesk(t, tickettest.SQLite(t)))
	l.textIn(t, "+8613800138000", "车险理赔进度怎么样了？")
	l.textIn(t, "+8613800138001", "报案材料要寄到哪里？")
	boss := l.apiSession(t, l.Super)

	signInBrowser(t, ctx, l.url, l.Agent)
	run(t, ctx, 5*time.Second, "open the queue with its live feed",
		chromedp.Navigate(l.url+"/queue"),
		chromedp.WaitVisible(css(`#live-state:not(.off)`)),
	)
	if read(t, ctx, "the count before", chromedp.Evaluate[bool](`document.getElementById("unread-count").hidden`)) != true {
		t.Fatal("the menu shows unread notices before any")
	}
	for i, ref := range []string{"HL-000001", "HL-000002"} {
		given := time.Now()
		if status := boss("POST", "/api/v1/tickets/"+ref+"/assign", map[string]any{"assignee_id": l.Agent.ID}); status != 200 {
			t.Fatalf("the supervisor could not assign %s: %d", ref, status)
		}
		want := string(rune('1' + i))
		run(t, ctx, 3*time.Second, "see the count", chromedp.WaitVisible(css(`#unread-count`), chromedp.RetryInterval(20*time.Millisecond)))
		for end := given.Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			got := read(t, ctx, "the count", chromedp.Text(css(`#unread-count`)))
			if got == want {
				break
			}
			if time.Now().After(end) {
				t.Fatalf("the menu counts %q unread, want %s", got, want)
			}
		}
		t.Logf("the count rose to %s %v after the assignment was answered", want, time.Since(given).Round(time.Millisecond))
		toast := read(t, ctx, "the toast", chromedp.Text(css(`#toasts .toast:last-child`)))
		if !strings.Contains(toast, "工单分配给您") || !strings.Contains(toast, ref) {
			t.Errorf("the toast says %q, want the ticket given to them", toast)
		}
	}
	shoot(t, ctx, "notices-live-zh")

	// The page lists them; its alerts are offered; reading them clears the count.
	run(t, ctx, 5*time.Second, "open the notices", chromedp.Click(css(`#nav-notices`)), chromedp.WaitVisible(css(`#notice-alerts`)))
	list := read(t, ctx, "the notices", chromedp.Text(css(`#notice-list`)))
	if strings.Index(list, "HL-000002") < 0 || strings.Index(list, "HL-000002") > strings.Index(list, "HL-000001") {
		t.Errorf("the notices list %q: want both, newest first", list)
	}
	if got := read(t, ctx, "the desktop switch", chromedp.Text(css(`#alerts-desktop`))); got != "开启桌面通知" {
		t.Errorf("the desktop switch says %q", got)
	}
	run(t, ctx, 5*time.Second, "turn the ring on", chromedp.Click(css(`#alerts-sound`)))
	if got := read(t, ctx, "the ring switch", chromedp.Text(css(`#alerts-sound`))); got != "不再响铃" {
		t.Errorf("after turning the ring on, its switch says %q", got)
	}
	// A ticket given while the page is open joins its list.
	l.textIn(t, "+8613800138002", "保单地址变更")
	if status := boss("POST", "/api/v1/tickets/HL-000003/assign", map[string]any{"assignee_id": l.Agent.ID}); status != 200 {
		t.Fatalf("the supervisor could not assign HL-000003: %d", status)
	}
	run(t, ctx, 3*time.Second, "see the third notice join the list",
		chromedp.WaitVisible(css(`#notice-list a[href="/tickets/HL-000003"]`), chromedp.RetryInterval(20*time.Millisecond)))
	shoot(t, ctx, "notices-zh")
	run(t, ctx, 5*time.Second, "phone width", chromedp.EmulateViewport(390, 844))
	shoot(t, ctx, "notices-zh-phone")
	run(t, ctx, 5*time.Second, "desktop width", chromedp.EmulateViewport(1440, 900))
	submit(t, ctx, "switch to English", `#lang-switch`)
	run(t, ctx, 5*time.Second, "the English page", chromedp.WaitVisible(css(`#notices-read`)))
	if got := read(t, ctx, "the heading", chromedp.Text(css(`h1`))); got != "My notices" {
		t.Errorf("English heading %q", got)
	}
	shoot(t, ctx, "notices-en")
	run(t, ctx, 5*time.Second, "phone width", chromedp.EmulateViewport(390, 844))
	shoot(t, ctx, "notices-en-phone")
	run(t, ctx, 5*time.Second, "desktop width", chromedp.EmulateViewport(1440, 900))
	submit(t, ctx, "mark them read", `#notices-read button`)
	if read(t, ctx, "the count after", chromedp.Evaluate[bool](`document.getElementById("unread-count").hidden`)) != true {
		t.Error("the menu still counts notices after reading them")
	}
	if n, err := l.Service.UnreadNotices(context.Background(), l.Agent.ID); err != nil || n != 0 {
		t.Errorf("%d unread after marking read (%v)", n, err)
	}

	// A supervisor sees a breach as it happens, without Slack: the sweep that records it
	// tells them, and their open page counts it.
	submit(t, ctx, "sign out", `form[action="/logout"] button`)
	signInBrowser(t, ctx, l.url, l.Super)
	run(t, ctx, 5*time.Second, "the supervisor's queue", chromedp.Navigate(l.url+"/queue?view=all"), chromedp.WaitVisible(css(`#live-state:not(.off)`)))
	before := read(t, ctx, "the supervisor's count", chromedp.Text(css(`#unread-count`)))
	l.Clock.Advance(25 * time.Hour)
	if _, err := deadlines.New(l.Service).Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		toast := read(t, ctx, "the supervisor's toasts", chromedp.Text(css(`#toasts`)))
		if strings.Contains(toast, "Deadline missed") && strings.Contains(toast, "HL-000001") { // in English, as chosen on this browser
			break
		}
		if time.Now().After(end) {
			t.Fatalf("no breach toast on the supervisor's page (count was %q, toasts %q)", before, toast)
		}
	}
	if after := read(t, ctx, "the supervisor's count", chromedp.Text(css(`#unread-count`))); after == before {
		t.Errorf("the supervisor's count stayed %q after the breach", after)
	}
	shoot(t, ctx, "notices-breach-en")
}
