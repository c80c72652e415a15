package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/console"
	"github.com/hotlinedesk/hotline/app/webhooks"
	"github.com/hotlinedesk/hotline/channels/twilio"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// live is a desk served on a loopback port, with the Twilio webhook, for a real browser.
type live struct {
	*consoletest.Desk
	url string
}

const twilioToken = "e2e-twilio-auth-token"

func serveDesk(t *testing.T, d *consoletest.Desk, opts ...func(*console.Config)) *live {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := console.Config{Service: d.Service, Clock: d.Clock, LiveEvery: 50 * time.Millisecond, StreamFor: 5 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	c := console.New(cfg)
	app := api.New(api.Config{Service: d.Service, Webhooks: []interface{ Register(*fiber.App) }{
		c, webhooks.NewTwilio(d.Service, webhooks.TwilioConfig{AuthToken: twilioToken, PublicBaseURL: base}, tickettest.Logger()),
	}})
	go app.Listener(ln) //nolint:errcheck // ends with the test
	t.Cleanup(func() {
		c.Close()
		app.ShutdownWithTimeout(time.Second) //nolint:errcheck // the test is over
	})
	return &live{Desk: d, url: base}
}

// textIn sends a customer's SMS through the signed Twilio webhook, as Twilio would.
func (l *live) textIn(t *testing.T, from, body string) {
	t.Helper()
	form := url.Values{"MessageSid": {consoletest.NextSid()}, "AccountSid": {"AC00000000000000000000000000000000"}, "From": {from},
		"To": {"+8610095500"}, "Body": {body}, "NumMedia": {"0"}, "SmsStatus": {"received"}}
	req, _ := http.NewRequest(http.MethodPost, l.url+"/webhooks/twilio/sms", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilio.Sign(twilioToken, l.url+"/webhooks/twilio/sms", form))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("SMS webhook: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("SMS webhook answered %d", res.StatusCode)
	}
}

// chromium finds Debian's Chromium. Without it the browser tests skip, except in CI, which
// installs it (.ci/run) and must not pass without running them.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(chromiumMissing)
	}
	t.Skip(chromiumMissing + "; skipping")
	return ""
}

// installChromium is the command that installs what the browser tests need on Debian or
// Ubuntu: the browser, and the fonts that draw the Chinese pages' characters.
const installChromium = "sudo apt-get install chromium fonts-noto-cjk"

// chromiumMissing says so, and how to mend it, whether the test skips or fails (under CI).
const chromiumMissing = "browser tests need Chromium (set CHROMIUM, or install it: " + installChromium + ")"

// newBrowser starts a headless Chromium with its own profile, and no traffic of its own.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("lang", "zh-CN"),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// run runs browser steps with a deadline, so a missing element fails the test quickly.
func run(t *testing.T, ctx context.Context, within time.Duration, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// runLive is run for a step that acts on a page that redraws itself on live updates (the
// complaints board is redrawn from a fresh copy when a complaint's event arrives): when the
// node it acted on was replaced under it, the step is tried again on the redrawn page, at
// most three times.
func runLive(t *testing.T, ctx context.Context, within time.Duration, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	var err error
	for range 3 {
		attempt, cancel := context.WithTimeout(ctx, within)
		err = chromedp.Do(attempt, steps...)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "Could not find node") {
			break
		}
	}
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// read runs one browser query with a deadline and returns its value.
func read[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

type css = chromedp.CSS

// submit clicks a form's button and waits for the page it leads to.
func submit(t *testing.T, ctx context.Context, what, button string) {
	t.Helper()
	read(t, ctx, what, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(css(button))))
}

// screenshotDir is where the browser tests leave pictures of the main pages, for people to
// look at: $HOTLINE_SCREENSHOTS, or test-output/screenshots at the top of the repository.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("HOTLINE_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "test-output", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png := read(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join(screenshotDir(t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func signInBrowser(t *testing.T, ctx context.Context, base string, a *tickets.Agent) {
	t.Helper()
	run(t, ctx, 10*time.Second, "sign in as "+a.Email,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(css(`input[name=email]`)),
		chromedp.SendKeys(css(`input[name=email]`), a.Email),
		chromedp.SendKeys(css(`input[name=password]`), consoletest.Password),
		chromedp.Click(css(`button[type=submit]`)),
		chromedp.WaitVisible(css(`nav.side`)),
	)
}

// TestBrowserAgentAnswersSMS: an agent signs in, sees a customer's text arrive in the open
// queue without reloading, replies in Chinese (the composer counts UCS-2 segments) and
// resolves the ticket.
func TestBrowserAgentAnswersSMS(t *testing.T) {
	ctx := newBrowser(t)
	l := serveDesk(t, consoletest.NewDesk(t, tickettest.SQLite(t)))

	signInBrowser(t, ctx, l.url, l.Agent)
	shoot(t, ctx, "queue-empty")
	run(t, ctx, 5*time.Second, "open the unassigned queue",
		chromedp.Navigate(l.url+"/queue?view=unassigned"),
		chromedp.WaitVisible(css(`#queue-rows`)),
		chromedp.WaitVisible(css(`#live-state`)), // the live stream is open
	)

	sent := time.Now()
	l.textIn(t, "+8613800138000", "你好，我的车险理赔进度怎么样了？报案号 A123")
	run(t, ctx, 3*time.Second, "see the new ticket arrive without reloading",
		chromedp.WaitVisible(css(`#queue-rows tr[data-ref="HL-000001"]`), chromedp.RetryInterval(20*time.Millisecond)),
	)
	if took := time.Since(sent); took > time.Second {
		t.Errorf("the new ticket took %v to appear in the open queue, want under a second", took)
	} else {
		t.Logf("the new ticket appeared in the open queue %v after the webhook answered", took.Round(time.Millisecond))
	}
	row := read(t, ctx, "read the row", chromedp.Text(css(`#queue-rows tr[data-ref="HL-000001"]`)))
	for _, want := range []string{"HL-000001", "+86 138****8000", "车险理赔"} {
		if !strings.Contains(row, want) {
			t.Errorf("queue row %q lacks %q", row, want)
		}
	}
	shoot(t, ctx, "queue")

	// Keyboard: j selects the first row, Enter opens it.
	// (Waiting for the page's load event: its script has run by then.)
	run(t, ctx, 5*time.Second, "select the first row", chromedp.KeyEvent("j"))
	read(t, ctx, "open the ticket from the keyboard", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.KeyEvent("\r")))
	run(t, ctx, 5*time.Second, "see the composer", chromedp.WaitVisible(css(`#reply-body`)))
	segmentTests := []struct {
		text     string
		n, chars int
		enc      string
	}{
		{"", 0, 0, "GSM-7"},
		{strings.Repeat("a", 160), 1, 160, "GSM-7"},
		{strings.Repeat("a", 161), 2, 161, "GSM-7"},
		{strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152), 3, 306, "GSM-7"}, // € takes two septets, never split
		{strings.Repeat("中", 70), 1, 70, "UCS-2"},
		{strings.Repeat("中", 71), 2, 71, "UCS-2"},
		{"aa" + strings.Repeat("😀", 66), 3, 134, "UCS-2"}, // an emoji's two halves stay in one part
	}
	for _, tc := range segmentTests {
		js, _ := json.Marshal(tc.text)
		got := read(t, ctx, "count segments", chromedp.Evaluate[string](`(() => { const b = document.getElementById("reply-body");
			b.value = `+string(js)+`; b.dispatchEvent(new Event("input")); return document.getElementById("segments").textContent; })()`))
		if want := fmt.Sprintf("%d 条短信 · %d 字符 · %s", tc.n, tc.chars, tc.enc); got != want {
			t.Errorf("%d characters counted as %q, want %q", len([]rune(tc.text)), got, want)
		}
	}
	read(t, ctx, "empty the reply box", chromedp.Evaluate[string](`(() => { const b = document.getElementById("reply-body");
		b.value = ""; b.dispatchEvent(new Event("input")); return ""; })()`))
	reply := "您好，您的理赔已进入审核，预计两个工作日内完成。"
	run(t, ctx, 5*time.Second, "press r", chromedp.KeyEvent("r"))
	if focused := read(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement.id`)); focused != "reply-body" {
		t.Fatalf("r put the focus on %q, want the reply box", focused)
	}
	// DevTools delivers the key's character separately from the keydown the page cancels,
	// which a real keyboard does not; start the reply from an empty box.
	read(t, ctx, "empty the reply box", chromedp.Evaluate[string](`document.getElementById("reply-body").value = ""`))
	run(t, ctx, 5*time.Second, "write a reply", chromedp.SendKeys(css(`#reply-body`), reply))
	channel := read(t, ctx, "reply channel", chromedp.Value(css(`#reply-channel`)))
	segments := read(t, ctx, "segment counter", chromedp.Text(css(`#segments`)))
	if channel != "sms" {
		t.Errorf("reply channel defaults to %q, want the customer's sms", channel)
	}
	if !strings.Contains(segments, "UCS-2") || !strings.HasPrefix(segments, "1 ") {
		t.Errorf("segment counter shows %q, want one UCS-2 message", segments)
	}
	shoot(t, ctx, "ticket-reply")
	submit(t, ctx, "send it", `#send`)
	detail, err := l.Service.Ticket(context.Background(), "HL-000001")
	if err != nil {
		t.Fatal(err)
	}
	if last := detail.Messages[len(detail.Messages)-1]; last.Body != reply || last.Direction != tickets.DirectionOutbound || last.Channel != tickets.ChannelSMS {
		t.Fatalf("last message is %+v, want the SMS reply", last)
	}

	run(t, ctx, 5*time.Second, "choose resolved", chromedp.SetValue(css(`#status-select`), "resolved"))
	submit(t, ctx, "resolve the ticket", `#status-save`)
	if detail, err = l.Service.Ticket(context.Background(), "HL-000001"); err != nil {
		t.Fatal(err)
	}
	if detail.Status != tickets.StatusResolved {
		t.Fatalf("status %s after resolving in the browser", detail.Status)
	}
	// Resolved, the agent moves on in the queue the ticket was opened from: here it is
	// empty, so they are back on it.
	if loc := read(t, ctx, "where the agent is", chromedp.Location()); !strings.HasSuffix(loc, "/queue?view=unassigned") {
		t.Errorf("after resolving the agent is on %s, want the unassigned queue", loc)
	}
	shoot(t, ctx, "ticket-resolved")
	run(t, ctx, 5*time.Second, "open the resolved ticket again",
		chromedp.Navigate(l.url+"/tickets/HL-000001"), chromedp.WaitVisible(css(`#timeline`)))

	// The customer writes again: the resolved ticket reopens, and the open page shows the
	// message in its timeline without a reload.
	sent = time.Now()
	l.textIn(t, "+8613800138000", "谢谢，还想问一下发票什么时候寄出？")
	run(t, ctx, 3*time.Second, "see the customer's new text on the open ticket page",
		chromedp.WaitVisible(css(`#changed`), chromedp.RetryInterval(20*time.Millisecond)),
	)
	// The change shown may be an earlier one (the follow-ups the resolution scheduled);
	// the text itself must follow within the second.
	var timeline string
	for end := sent.Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		// The live refresh replaces the timeline's node; a read that lands mid-swap is tried again.
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		got, err := chromedp.Run(rctx, chromedp.Text(css(`#timeline`)))
		cancel()
		if err == nil {
			timeline = got
		}
		if strings.Contains(timeline, "发票什么时候寄出") || time.Now().After(end) {
			break
		}
	}
	if !strings.Contains(timeline, "发票什么时候寄出") {
		t.Fatalf("the timeline lacks the new message:\n%s", timeline)
	}
	if took := time.Since(sent); took > time.Second {
		t.Errorf("the new message took %v to appear on the open ticket page, want under a second", took)
	}
	shoot(t, ctx, "ticket-live")
	run(t, ctx, 5*time.Second, "open the call form", chromedp.Navigate(l.url+"/calls/new"), chromedp.WaitVisible(css(`#call-form`)))
	shoot(t, ctx, "log-a-call")
	fmt.Fprintln(os.Stderr, "screenshots in", screenshotDir(t))
}

// TestBrowserMainPages opens the pages people spend their day in, as each role, and keeps
// a picture of each for review. A page that fails to render fails the test.
func TestBrowserMainPages(t *testing.T) {
	ctx := newBrowser(t)
	l := serveDesk(t, consoletest.NewDesk(t, tickettest.SQLite(t)))
	for i, text := range []string{"车险理赔进度怎么样了？", "发票什么时候寄出", "I want to change my address", "投诉：理赔员态度很差"} {
		l.textIn(t, fmt.Sprintf("+86138001380%02d", i), text)
	}
	// A Mandarin voicemail waiting to be listened to: the ticket page plays it through
	// Hotline (the player's source is Hotline's attachment route, not Twilio's address).
	vm, err := l.Service.Intake(context.Background(), tickets.Inbound{Channel: tickets.ChannelPhone, From: tickets.IdentityPhone,
		Address: "+8613800138099", ProviderMessageID: "CA" + strings.Repeat("7", 32), Body: tickets.VoicemailAwaits,
		Attachments: []tickets.NewAttachment{{Filename: "recording-RE1.mp3", ContentType: "audio/mpeg", Provider: tickets.ProviderTwilio,
			URL: "https://api.twilio.com/2010-04-01/Accounts/AC" + strings.Repeat("0", 32) + "/Recordings/RE" + strings.Repeat("1", 32) + ".mp3"}}})
	if err != nil {
		t.Fatal(err)
	}
	run(t, ctx, 5*time.Second, "sign-in page", chromedp.Navigate(l.url+"/login?lang=en"), chromedp.WaitVisible(css(`.login-card`)))
	shoot(t, ctx, "login-en")

	pages := []struct {
		who   *tickets.Agent
		path  string
		ready string
		name  string
	}{
		{l.Agent, "/followups", `#followup-list`, "followups"},
		{l.Agent, "/tickets/" + vm.Ticket.Ref(), `audio[controls][src^="/attachments/"]`, "ticket-voicemail"},
		{l.Super, "/queue?view=all", `#queue-rows tr[data-ref]`, "queue-all"},
		{l.Super, "/dashboard", `svg`, "dashboard"},
		{l.Admin, "/admin/agents", `table`, "admin-agents"},
		{l.Admin, "/admin/routing", `.page`, "admin-routing"},
		{l.Admin, "/admin/sla", `.page`, "admin-sla"},
		{l.Admin, "/admin/calendar", `.page`, "admin-calendar"},
		{l.Admin, "/admin/templates", `textarea`, "admin-templates"},
		{l.Admin, "/admin/channels", `form`, "admin-channels"},
		{l.Admin, "/admin/keys", `form`, "admin-keys"},
	}
	signedIn := ""
	for _, p := range pages {
		if signedIn != p.who.Email {
			if signedIn != "" {
				submit(t, ctx, "sign out", `form[action="/logout"] button`)
			}
			signInBrowser(t, ctx, l.url, p.who)
			signedIn = p.who.Email
		}
		run(t, ctx, 5*time.Second, "open "+p.path, chromedp.Navigate(l.url+p.path), chromedp.WaitVisible(css(p.ready)))
		shoot(t, ctx, p.name)
	}
}
