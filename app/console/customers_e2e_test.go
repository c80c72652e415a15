package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestBrowserFindCaller: the phone rings; the agent types the last digits of the number
// into the queue's search, opens the caller's page from the matches and tags them, in
// Chinese and English, at desktop and phone widths.
func TestBrowserFindCaller(t *testing.T) {
	ctx := newBrowser(t)
	l := serveDesk(t, consoletest.NewDesk(t, tickettest.SQLite(t)))
	l.textIn(t, "+8613800138000", "你好，我的车险理赔进度怎么样了？")
	l.textIn(t, "+8613900139999", "地址变更")
	caller, err := l.Service.CreateTicket(context.Background(), tickets.AgentActor(l.Agent),
		tickets.NewTicket{Name: "王小明", Phone: "13800138000", Email: "wang@example.cn", Subject: "来电催理赔", Category: "claims"})
	if err != nil {
		t.Fatal(err)
	}
	signInBrowser(t, ctx, l.url, l.Agent)

	for i, c := range []struct {
		lang  string
		width int
		tags  string
		words []string // on the customer page
	}{
		{"zh", 1440, "vip, 理赔", []string{"全部工单", "联系方式", "客户资料"}},
		{"zh", 390, "vip", []string{"全部工单", "联系方式"}},
		{"en", 1440, "motor, vip", []string{"All tickets", "How to reach them", "Details"}},
		{"en", 390, "vip", []string{"All tickets", "How to reach them"}},
	} {
		name := fmt.Sprintf("%s-%d", c.lang, c.width)
		run(t, ctx, 5*time.Second, "width "+name, chromedp.EmulateViewport(int64(c.width), 900))
		if i == 2 {
			run(t, ctx, 5*time.Second, "switch to English",
				chromedp.Click(css(`#lang-switch`)),
				chromedp.WaitVisible(css(`html[lang=en] nav.side`)),
			)
		}
		run(t, ctx, 5*time.Second, "open the queue", chromedp.Navigate(l.url+"/queue?view=all"), chromedp.WaitVisible(css(`#search`)))
		read(t, ctx, "search the last digits", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.SendKeys(css(`#search`), "8000\r")))
		run(t, ctx, 5*time.Second, "see the caller", chromedp.WaitVisible(css(`#customer-matches a[href^="/customers/`+consoletest.ID(caller.CustomerID)+`?from="]`)))
		rows := read(t, ctx, "the queue's rows", chromedp.Text(css(`#queue-rows`)))
		if !strings.Contains(rows, caller.Ref()) || !strings.Contains(rows, "HL-000001") || strings.Contains(rows, "HL-000002") {
			t.Errorf("%s: searching 8000 lists %q", name, rows)
		}
		shoot(t, ctx, "find-caller-"+name)

		submit(t, ctx, "open the caller's page", `#customer-matches a[href^="/customers/`+consoletest.ID(caller.CustomerID)+`?from="]`)
		pageText := read(t, ctx, "the customer page", chromedp.Text(css(`#customer`)))
		for _, w := range append(c.words, "王小明", "+86 138****8000", "wa***@example.cn", caller.Ref(), "HL-000001") {
			if !strings.Contains(pageText, w) {
				t.Errorf("%s: the customer page lacks %q", name, w)
			}
		}
		read(t, ctx, "empty the tags", chromedp.Evaluate[string](`document.getElementById("customer-tags").value = ""`))
		run(t, ctx, 5*time.Second, "type the tags", chromedp.SendKeys(css(`#customer-tags`), c.tags))
		submit(t, ctx, "save the tags", `#customer-save`)
		got, err := l.Service.Customer(context.Background(), caller.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.ReplaceAll(c.tags, " ", ""); got.Tags != want {
			t.Errorf("%s: tags saved as %q, want %q", name, got.Tags, want)
		}
		flash := read(t, ctx, "the message after saving", chromedp.Text(css(`.flash`)))
		if want := map[string]string{"zh": "客户资料已保存。", "en": "Customer details saved."}[c.lang]; flash != want {
			t.Errorf("%s: after saving the page says %q, want %q", name, flash, want)
		}
		shoot(t, ctx, "customer-"+name)
	}
}
