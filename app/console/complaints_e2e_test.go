package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"

	"github.com/chromedp/chromedp"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestBrowserOfficerDecidesComplaint: a complaint officer signs in, opens the board, opens
// the complaint due soonest from its card, records a decision, and finds it on the board
// among the decided ones; then reads the board and a complaint in English. It leaves
// pictures of the pages in the screenshot folder.
func TestBrowserOfficerDecidesComplaint(t *testing.T) {
	ctx := newBrowser(t)
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	l := serveDesk(t, d)
	officer := tickets.AgentActor(d.Office)
	d.FileComplaint("赵磊", "+8613600000002", "客服态度恶劣，电话中途被挂断，要求道歉", consoletest.Local(2026, 11, 2, 10, 0))
	soon := d.FileComplaint("钱芳", "+8613600000003", "退保手续费比合同约定高出一倍，要求退还差额", consoletest.Local(2026, 11, 12, 10, 0))
	d.FileComplaint("周敏", "+8613600000001", "车险理赔款三周未到账", consoletest.T0)
	busy := d.FileComplaint("孙强", "+8613600000004", "查勘员三天未上门定损", consoletest.Local(2026, 11, 20, 10, 0))
	done := d.FileComplaint("Li Lei", "+8613600000005", "Cancellation fee charged twice", consoletest.Local(2026, 11, 24, 10, 0))
	bg := context.Background()
	if _, err := d.Complaints().SetStatus(bg, officer, busy.Ref(), tickets.ComplaintInvestigating, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Complaints().Extend(bg, officer, busy.Ref(), consoletest.Local(2026, 12, 18, 23, 59).Add(59*time.Second), "等待第三方查勘报告"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Complaints().Decide(bg, officer, done.Ref(), "The second fee is refunded.", "upheld"); err != nil {
		t.Fatal(err)
	}

	signInBrowser(t, ctx, l.url, d.Office)
	run(t, ctx, 5*time.Second, "open the board from the side bar",
		chromedp.Click(css(`nav.side a[href="/complaints"]`)),
		chromedp.WaitVisible(css(`#complaints .cp-columns`)),
	)
	if got := read(t, ctx, "the card due tomorrow", chromedp.Text(css(`#col-received .cp-card[data-ref="`+soon.Ref()+`"] .cp-left`))); got != "剩 1 个工作日" {
		t.Errorf("the card due tomorrow says %q", got)
	}
	shoot(t, ctx, "complaints-board-zh")

	runLive(t, ctx, 5*time.Second, "open the complaint from its card",
		chromedp.Click(css(`.cp-card[data-ref="`+soon.Ref()+`"] .cp-summary`)), // anywhere on the card
		chromedp.WaitVisible(css(`#decide-form`)),
	)
	shoot(t, ctx, "complaint-zh")
	decision := "经核实，退保手续费按合同第十二条应为保费的 1%，多收部分将于三个工作日内退还至您的原付款账户。"
	run(t, ctx, 5*time.Second, "write the decision",
		chromedp.Click(css(`label.out-partly_upheld`)),
		chromedp.SendKeys(css(`#decision-text`), decision),
	)
	run(t, ctx, 5*time.Second, "preview the decision", chromedp.Click(css(`#decide`)), chromedp.WaitVisible(css(`#decide-dialog #customer-text`)))
	if got := read(t, ctx, "the customer's text", chromedp.Text(css(`#decide-dialog #customer-text`))); !strings.Contains(got, decision) {
		t.Errorf("the confirmation shows %q, not the decision", got)
	}
	if got := d.ComplaintNow(soon.Ref()); got.Status == tickets.ComplaintDecided {
		t.Fatal("decided before the officer confirmed")
	}
	shoot(t, ctx, "complaint-confirm-zh")
	// Going back keeps what was written; the second look sends it.
	run(t, ctx, 5*time.Second, "go back to edit", chromedp.Click(css(`#confirm-edit`)), chromedp.WaitNotVisible(css(`#decide-dialog`)))
	if got := read(t, ctx, "the decision kept", chromedp.Value(css(`#decision-text`))); got != decision {
		t.Fatalf("after going back the decision reads %q", got)
	}
	run(t, ctx, 5*time.Second, "preview again", chromedp.Click(css(`#decide`)), chromedp.WaitVisible(css(`#decide-dialog #confirm-send`)))
	submit(t, ctx, "confirm and send the decision", `#decide-dialog #confirm-send`)
	if got := read(t, ctx, "the message after deciding", chromedp.Text(css(`.flash`))); got != "决定已记录，正在通知客户。" {
		t.Errorf("after deciding the page says %q", got)
	}
	if got := d.ComplaintNow(soon.Ref()); got.Status != tickets.ComplaintDecided || got.Decision != decision || got.Outcome != "partly_upheld" {
		t.Fatalf("after deciding in the browser: %s %q %q", got.Status, got.Decision, got.Outcome)
	}
	run(t, ctx, 5*time.Second, "see the decision", chromedp.WaitVisible(css(`#decision`)))
	shoot(t, ctx, "complaint-decided-zh")

	run(t, ctx, 5*time.Second, "back to the board",
		chromedp.Click(css(`a.back`)),
		chromedp.WaitVisible(css(`#col-decided .cp-card[data-ref="`+soon.Ref()+`"]`)),
	)
	run(t, ctx, 5*time.Second, "switch to English",
		chromedp.Click(css(`#lang-switch`)),
		chromedp.WaitVisible(css(`html[lang=en] #complaints`)),
	)
	if got := read(t, ctx, "the decided card", chromedp.Text(css(`#col-decided .cp-card[data-ref="`+soon.Ref()+`"] .cp-out`))); got != "Partly upheld" {
		t.Errorf("the decided card in English says %q", got)
	}
	shoot(t, ctx, "complaints-board-en")
	run(t, ctx, 5*time.Second, "open an extended complaint in English",
		chromedp.Navigate(l.url+"/complaints/"+busy.Ref()),
		chromedp.WaitVisible(css(`#decide-form`)),
	)
	shoot(t, ctx, "complaint-en")
}

// TestBrowserOfficerBoardIsLive: a complaint officer lands on the complaints board when
// signing in, and the board shows, without a reload, a complaint opened elsewhere and one
// taken into investigation by someone else.
func TestBrowserOfficerBoardIsLive(t *testing.T) {
	ctx := newBrowser(t)
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	l := serveDesk(t, d)
	first := d.FileComplaint("周敏", "+8613600000001", "车险理赔款三周未到账", consoletest.T0)

	signInBrowser(t, ctx, l.url, d.Office)
	if got := read(t, ctx, "where the officer landed", chromedp.Evaluate[string](`location.pathname`)); got != "/complaints" {
		t.Fatalf("the officer landed on %q, want the complaints board", got)
	}
	run(t, ctx, 5*time.Second, "the board with its live feed", chromedp.WaitVisible(css(`#live-state:not(.off)`)))

	opened := time.Now()
	second := d.FileComplaint("钱芳", "+8613600000003", "退保手续费比合同约定高出一倍", consoletest.T0)
	run(t, ctx, 3*time.Second, "see the new complaint arrive",
		chromedp.WaitVisible(css(`#col-received .cp-card[data-ref="`+second.Ref()+`"]`), chromedp.RetryInterval(20*time.Millisecond)))
	t.Logf("the new complaint appeared on the board %v after it was opened", time.Since(opened).Round(time.Millisecond))

	if _, err := d.Complaints().SetStatus(context.Background(), tickets.AgentActor(d.Super), first.Ref(), tickets.ComplaintInvestigating, ""); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, 3*time.Second, "see the complaint move to investigating",
		chromedp.WaitVisible(css(`#col-investigating .cp-card.fresh[data-ref="`+first.Ref()+`"]`), chromedp.RetryInterval(20*time.Millisecond)))
	shoot(t, ctx, "complaints-board-live-zh")
	run(t, ctx, 5*time.Second, "phone width", chromedp.EmulateViewport(390, 844))
	shoot(t, ctx, "complaints-board-live-zh-phone")
}
