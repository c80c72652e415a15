package console_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/delivery"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestBrowserReplyFilesAndFailedSends: an agent sees why an earlier reply was not
// delivered, in Chinese and English, on desktop and phone; chooses a file past the SMS
// limits and is told before sending; then sends a picture with a reply.
func TestBrowserReplyFilesAndFailedSends(t *testing.T) {
	ctx := newBrowser(t)
	l := serveDesk(t, consoletest.NewDesk(t, tickettest.SQLite(t)))
	bg := context.Background()
	tk := l.SMS("+8613800138000", "能把理赔申请表发给我吗？")
	m, err := l.Service.Reply(bg, tickets.AgentActor(l.Agent), tk.Ref(), "已给您回电，未接通。")
	if err != nil {
		t.Fatal(err)
	}
	sid := consoletest.NextSid()
	if err := delivery.New(l.Service).MarkSent(bg, m.ID, sid, "sent"); err != nil {
		t.Fatal(err)
	}
	if _, err := delivery.New(l.Service).UpdateDelivery(bg, tickets.ChannelSMS, sid, "undelivered", "30003"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pic := filepath.Join(dir, "理赔申请表.png")
	img := image.NewRGBA(image.Rect(0, 0, 120, 80))
	for i := range img.Pix {
		img.Pix[i] = byte(40 + i%3*70)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pic, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	pdf := filepath.Join(dir, "保单条款.pdf")
	if err := os.WriteFile(pdf, []byte("%PDF-1.4\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	signInBrowser(t, ctx, l.url, l.Agent)
	page := l.url + "/tickets/" + tk.Ref()
	for _, tc := range []struct{ lang, failed, limits, problem string }{
		{"zh", "未送达：客户手机关机或不在服务区（错误代码 30003）", "最多 10 个文件，共 5 MB；格式：gif, jpeg, jpg, png", "保单条款.pdf 的格式此渠道不支持"},
		{"en", "Not delivered: The customer's phone is off or out of coverage (error code 30003)", "Up to 10 file(s), 5 MB in all; types: gif, jpeg, jpg, png", "This channel cannot carry 保单条款.pdf's type"},
	} {
		if tc.lang == "en" {
			run(t, ctx, 5*time.Second, "desktop width", chromedp.EmulateViewport(1440, 900), chromedp.Navigate(page), chromedp.WaitVisible(css(`#lang-switch`)))
			submit(t, ctx, "switch to English", `#lang-switch`)
		}
		for _, w := range []int64{1440, 390} {
			run(t, ctx, 10*time.Second, "open the ticket",
				chromedp.EmulateViewport(w, 900),
				chromedp.Navigate(page),
				chromedp.WaitVisible(css(`.send-failed`)),
			)
			if got := read(t, ctx, "the failure", chromedp.Text(css(`.send-failed`))); got != tc.failed {
				t.Errorf("%s: the failed reply says %q, want %q", tc.lang, got, tc.failed)
			}
			shoot(t, ctx, fmt.Sprintf("reply-failed-%s-%d", tc.lang, w))
			run(t, ctx, 5*time.Second, "choose a PDF",
				chromedp.SetUploadFiles(css(`#reply-files`), []string{pdf}),
				chromedp.WaitVisible(css(`#file-problem`)),
			)
			if got := read(t, ctx, "the problem", chromedp.Text(css(`#file-problem`))); got != tc.problem {
				t.Errorf("%s: choosing a PDF for an SMS says %q, want %q", tc.lang, got, tc.problem)
			}
			run(t, ctx, 5*time.Second, "choose a picture",
				chromedp.SetUploadFiles(css(`#reply-files`), []string{pic}),
				chromedp.WaitNotVisible(css(`#file-problem`)),
				chromedp.SendKeys(css(`#reply-body`), "请查收申请表"),
			)
			if got := read(t, ctx, "the limits", chromedp.Text(css(`#file-limits`))); got != tc.limits {
				t.Errorf("%s: the composer says %q, want %q", tc.lang, got, tc.limits)
			}
			shoot(t, ctx, fmt.Sprintf("reply-file-%s-%d", tc.lang, w))
		}
	}
	submit(t, ctx, "send the reply with its picture", `#reply-form button[type=submit]`)
	run(t, ctx, 5*time.Second, "the picture is on the timeline",
		chromedp.WaitVisible(css(`#timeline img[alt="理赔申请表.png"]`)))
	if got := read(t, ctx, "the timeline", chromedp.Text(css(`#timeline`))); !strings.Contains(got, "请查收申请表") {
		t.Errorf("timeline lacks the reply: %q", got)
	}
	shoot(t, ctx, "reply-file-sent-en-390")
}
