package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/privacy"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestBrowserCustomerRights: a supervisor opens a customer's page and reads who viewed,
// copied and held their information, opens the erasure's confirmation, and at last erases
// them; in Chinese and English, at phone, half-screen and desktop widths.
func TestBrowserCustomerRights(t *testing.T) {
	ctx := newBrowser(t)
	l := serveDesk(t, consoletest.NewDesk(t, tickettest.SQLite(t)))
	bg := context.Background()
	tk, err := l.Service.CreateTicket(bg, tickets.AgentActor(l.Agent),
		tickets.NewTicket{Name: "王小明", Phone: "13800138000", Email: "wang@example.cn", Subject: "理赔材料：身份证复印件", Category: "claims"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Service.SetStatus(bg, tickets.AgentActor(l.Admin), tk.Ref(), tickets.StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	p := privacy.New(l.Service, privacy.Config{})
	sup, admin := tickets.AgentActor(l.Super), tickets.AgentActor(l.Admin)
	// What the masking chapter records when an agent reveals a number.
	if err := l.Service.InTx(bg, func(tx tickets.Tx) error {
		return tx.Record(bg, tx.Event(tickets.AgentActor(l.Agent), "customer", tk.CustomerID, privacy.KindRevealed, map[string]any{"field": "phone", "ticket": tk.Ref()}))
	}); err != nil {
		t.Fatal(err)
	}
	l.Clock.Advance(time.Hour)
	if _, err := p.Export(bg, sup, tk.CustomerID, "html"); err != nil {
		t.Fatal(err)
	}
	l.Clock.Advance(time.Hour)
	h, err := p.PlaceHold(bg, admin, privacy.OnCustomer, tk.CustomerID, "法院调取 (2026) 沪01民初88号")
	if err != nil {
		t.Fatal(err)
	}
	signInBrowser(t, ctx, l.url, l.Super)
	page := l.url + "/customers/" + consoletest.ID(tk.CustomerID)

	for i, c := range []struct {
		lang  string
		width int
		words []string // in the trail
		held  string   // on the confirmation
	}{
		{"zh", 1440, []string{"个人信息访问记录", "查看完整信息", "手机号", "导出副本", "设置法律保全", "chen@desk.test"}, "该客户处于法律保全中"},
		{"zh", 960, []string{"个人信息访问记录", "导出副本"}, "该客户处于法律保全中"},
		{"zh", 390, []string{"个人信息访问记录", "导出副本"}, "该客户处于法律保全中"},
		{"en", 1440, []string{"Who viewed or changed their information", "Revealed in full", "phone", "Copy exported", "Legal hold placed"}, "under a legal hold"},
		{"en", 960, []string{"Who viewed or changed their information"}, "under a legal hold"},
		{"en", 390, []string{"Who viewed or changed their information"}, "under a legal hold"},
	} {
		name := fmt.Sprintf("%s-%d", c.lang, c.width)
		run(t, ctx, 5*time.Second, "width "+name, chromedp.EmulateViewport(int64(c.width), 900))
		if i == 3 {
			run(t, ctx, 5*time.Second, "switch to English", chromedp.Click(css(`#lang-switch`)), chromedp.WaitVisible(css(`html[lang=en] nav.side`)))
		}
		run(t, ctx, 5*time.Second, "open the customer", chromedp.Navigate(page), chromedp.WaitVisible(css(`#customer-trail`)))
		trail := read(t, ctx, "the trail", chromedp.Text(css(`#customer-trail`)))
		for _, w := range c.words {
			if !strings.Contains(trail, w) && !strings.Contains(read(t, ctx, "the page", chromedp.Text(css(`#customer`))), w) {
				t.Errorf("%s: the customer page lacks %q", name, w)
			}
		}
		shoot(t, ctx, "privacy-customer-"+name)
		submit(t, ctx, "open the erasure", `#customer-erase`)
		text := read(t, ctx, "the confirmation", chromedp.Text(css(`#erase-confirm`)))
		if !strings.Contains(text, c.held) {
			t.Errorf("%s: the confirmation does not say the hold stops it: %q", name, text)
		}
		shoot(t, ctx, "privacy-erase-held-"+name)
	}

	// The printable copy, as the customer will read it.
	run(t, ctx, 5*time.Second, "open the copy", chromedp.EmulateViewport(960, 900), chromedp.Navigate(page+"/export?format=html"), chromedp.WaitVisible(css(`h1`)))
	if copyText := read(t, ctx, "the copy", chromedp.Text(css(`body`))); !strings.Contains(copyText, "理赔材料：身份证复印件") || !strings.Contains(copyText, "Copy of personal information") {
		t.Errorf("the printable copy: %q", copyText)
	}
	shoot(t, ctx, "privacy-copy-en-960")

	// Released, the erasure goes through after confirming.
	if _, err := p.ReleaseHold(bg, admin, h.ID, "案件已结"); err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{1440, 960, 390} {
		run(t, ctx, 5*time.Second, "width", chromedp.EmulateViewport(int64(w), 900))
		run(t, ctx, 5*time.Second, "open the erasure", chromedp.Navigate(page+"/erase"), chromedp.WaitVisible(css(`#erase-reason`)))
		shoot(t, ctx, fmt.Sprintf("privacy-erase-en-%d", w))
	}
	run(t, ctx, 5*time.Second, "say why", chromedp.SendKeys(css(`#erase-reason`), "Asked by phone on 4 December"))
	submit(t, ctx, "erase", `#erase-submit`)
	flash := read(t, ctx, "the message after erasing", chromedp.Text(css(`.flash`)))
	if !strings.HasPrefix(flash, "Erased:") {
		t.Errorf("after erasing the page says %q", flash)
	}
	pageText := read(t, ctx, "the customer page", chromedp.Text(css(`#customer`)))
	if strings.Contains(pageText, "13800138000") || strings.Contains(pageText, "王小明") || !strings.Contains(pageText, "Erased") ||
		strings.Contains(pageText, "to call") {
		t.Errorf("the erased customer's page: %q", pageText)
	}
	shoot(t, ctx, "privacy-customer-erased-en-390")
}
