package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotlinedesk/hotline/app/console"
	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
	"github.com/hotlinedesk/hotline/tickets/webhooks"
)

// runWorker collects and sends the webhooks' deliveries every 50 ms until the test ends,
// as the worker's sweep and tasks do.
func runWorker(t *testing.T, hooks *webhooks.Service) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if _, err := hooks.Collect(ctx); err != nil && ctx.Err() == nil {
				t.Errorf("collect: %v", err)
				return
			}
			due, err := hooks.DueDeliveries(ctx, 100)
			if err != nil && ctx.Err() == nil {
				t.Errorf("due deliveries: %v", err)
				return
			}
			for _, d := range due {
				if _, err := hooks.Send(ctx, d.ID); err != nil && ctx.Err() == nil {
					t.Errorf("send %d: %v", d.ID, err)
					return
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
}

// TestBrowserWebhooks: an admin sees Admin → Webhooks, a subscription and a delivery at a
// phone's, half a screen's and a desktop's width in both languages; subscribes a receiver
// through the form (events checked in their groups) and is shown its secret once, with a
// copy button; and redelivers a ticket's event from its delivery page, which reaches the
// local receiver again with the same event id and shows as delivered.
func TestBrowserWebhooks(t *testing.T) {
	ctx := newBrowser(t)
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	hooks := webhooks.New(d.Service, webhooks.Config{AllowPrivate: true}) // the receiver is on this machine
	l := serveDesk(t, d, func(c *console.Config) { c.Outbound = hooks })
	rcv := newHookReceiver(t)
	bg := context.Background()
	admin := tickets.AgentActor(d.Admin)
	sub, _, err := hooks.Create(bg, admin, webhooks.SubscriptionInput{Name: "理赔系统 Claims", URL: rcv.URL + "/claims?token=t0k",
		Events: []string{"ticket.created", "ticket.assigned", "message.received"}})
	if err != nil {
		t.Fatal(err)
	}
	d.SMS("+8613800138000", "我的理赔进度怎么样了？")
	runWorker(t, hooks)
	var first *webhooks.Delivery
	for deadline := time.Now().Add(10 * time.Second); first == nil; {
		ds, err := hooks.Deliveries(bg, admin, webhooks.DeliveryFilter{SubscriptionID: sub.ID, State: webhooks.DeliveryDelivered})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range ds {
			if x.Event == "ticket.created" {
				first = x
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ticket's creation was not delivered (receiver got %q)", rcv.got())
		}
		time.Sleep(50 * time.Millisecond)
	}
	setLang := func(lang string) {
		t.Helper()
		loc := map[string]string{"zh": "zh-CN", "en": "en"}[lang]
		if _, err := d.Service.UpdateAgent(bg, tickets.Actor{Kind: "system"}, d.Admin.ID, tickets.AgentUpdate{Locale: &loc}); err != nil {
			t.Fatal(err)
		}
	}

	run(t, ctx, 5*time.Second, "desktop width", chromedp.EmulateViewport(1440, 900))
	signInBrowser(t, ctx, l.url, d.Admin)
	pages := []struct{ name, path, ready string }{
		{"admin-webhooks", "/admin/webhooks", "#new-hook-form"},
		{"admin-webhook", fmt.Sprintf("/admin/webhooks/%d", sub.ID), "#deliveries"},
		{"admin-webhook-delivery", fmt.Sprintf("/admin/webhook-deliveries/%d", first.ID), "#attempts"},
	}
	for _, lang := range []string{"zh", "en"} {
		setLang(lang)
		for _, p := range pages {
			for _, w := range screenWidths {
				name := fmt.Sprintf("%s-%s-%d", p.name, lang, w)
				run(t, ctx, 10*time.Second, "open "+name,
					chromedp.EmulateViewport(w, 900),
					chromedp.Navigate(l.url+p.path),
					chromedp.WaitVisible(css(p.ready)),
				)
				noSideScroll(t, ctx, name)
				shoot(t, ctx, name)
			}
		}
	}
	if text := read(t, ctx, "the delivery page", chromedp.Text(css(`#attempts`))); !strings.Contains(text, "HTTP 200") || !strings.Contains(text, "<b>thanks</b>") {
		t.Errorf("the attempts read %q", text)
	}

	// In Chinese, on a phone: subscribe another receiver through the form.
	setLang("zh")
	run(t, ctx, 10*time.Second, "the form",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(l.url+"/admin/webhooks"),
		chromedp.WaitVisible(css(`#new-hook-form`)),
		chromedp.SendKeys(css(`#new-hook-form input[name=name]`), "投诉台账"),
		chromedp.SendKeys(css(`#new-hook-form input[name=url]`), rcv.URL+"/complaints"),
		chromedp.Click(css(`#new-hook-form input[value="complaint.opened"]`)),
		chromedp.Click(css(`#new-hook-form input[value="complaint.decided"]`)),
	)
	submit(t, ctx, "create the webhook", `#new-hook-form button.primary`)
	secret := read(t, ctx, "the secret", chromedp.Text(css(`#secret-value`)))
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("the secret shown is %q", secret)
	}
	if text := read(t, ctx, "the warning", chromedp.Text(css(`#new-secret`))); !strings.Contains(text, "只显示这一次") {
		t.Errorf("the secret's warning reads %q", text)
	}
	run(t, ctx, 5*time.Second, "the copy button", chromedp.WaitVisible(css(`#new-secret button[data-copy]`)))
	noSideScroll(t, ctx, "admin-webhooks-created-zh-390")
	shoot(t, ctx, "admin-webhooks-created-zh-390")
	subs, err := hooks.Subscriptions(bg, admin)
	if err != nil || len(subs) != 2 || subs[1].Name != "投诉台账" || strings.Join(subs[1].Events, " ") != "complaint.opened complaint.decided" {
		t.Errorf("subscriptions after the form: %+v %v", subs, err)
	}

	// In English, at a desktop's width: redeliver the ticket's creation.
	setLang("en")
	before := len(rcv.got())
	run(t, ctx, 10*time.Second, "the delivery page",
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(fmt.Sprintf("%s/admin/webhook-deliveries/%d", l.url, first.ID)),
		chromedp.WaitVisible(css(`#redeliver button`)),
	)
	submit(t, ctx, "redeliver", `#redeliver button`)
	if text := read(t, ctx, "the confirmation", chromedp.Text(css(`.flash`))); !strings.Contains(text, "Redelivery queued") {
		t.Errorf("after redelivering the page says %q", text)
	}
	for deadline := time.Now().Add(10 * time.Second); len(rcv.got()) == before; {
		if time.Now().After(deadline) {
			t.Fatal("the redelivery did not reach the receiver")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ids := rcv.got(); ids[len(ids)-1] != first.EventID {
		t.Errorf("the redelivery carried event id %q, want %q", ids[len(ids)-1], first.EventID)
	}
	// The receiver has the post before the sender has recorded its answer: the page is
	// reloaded until it shows what was recorded.
	for deadline := time.Now().Add(10 * time.Second); ; {
		run(t, ctx, 10*time.Second, "the delivery page again",
			chromedp.Reload(),
			chromedp.WaitVisible(css(`#redeliver button`)),
		)
		if read(t, ctx, "the delivery's state", chromedp.Evaluate[bool](`document.querySelector('.badge.hook-delivered') !== null`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the redelivery does not show as delivered")
		}
		time.Sleep(100 * time.Millisecond)
	}
	shoot(t, ctx, "admin-webhook-redelivered-en-1440")
}
