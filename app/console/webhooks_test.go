package console_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/console"
	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
	"github.com/hotlinedesk/hotline/tickets/webhooks"
)

// hookReceiver is a local webhook receiver answering with status, keeping the event ids.
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	ids    []string
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{status: http.StatusOK}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body) //nolint:errcheck // only the headers matter
		r.mu.Lock()
		defer r.mu.Unlock()
		r.ids = append(r.ids, req.Header.Get("Hotline-Event-Id"))
		w.WriteHeader(r.status)
		fmt.Fprintf(w, "<b>thanks</b> #%d", len(r.ids))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *hookReceiver) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...)
}

// withHooks is a desk option giving the console outbound webhooks of cfg; it returns them.
func withHooks(cfg webhooks.Config, hooks **webhooks.Service) func(*console.Config) {
	return func(c *console.Config) {
		*hooks = webhooks.New(c.Service, cfg)
		c.Outbound = *hooks
	}
}

var (
	hookLink     = regexp.MustCompile(`href="/admin/webhooks/(\d+)"`)
	deliveryLink = regexp.MustCompile(`/admin/webhook-deliveries/(\d+)`)
)

// sendDue runs every due delivery's attempt, as the worker's sweep and tasks do.
func sendDue(t *testing.T, hooks *webhooks.Service) int {
	t.Helper()
	ctx := context.Background()
	due, err := hooks.DueDeliveries(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range due {
		ok, err := hooks.Send(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			n++
		}
	}
	return n
}

// Admin → Webhooks over the real chapter and a local receiver: the list and the form
// (events grouped), a subscription made with its secret shown once, refused input said in
// Chinese, edited, pinged (the delivery page shows the receiver's answer escaped and the
// JSON sent), redelivered with the same event id, paused and resumed, its secret rotated,
// shown as paused by its failures with their count and last error, and deleted; only
// admins reach any of it.
func TestWebhookPages(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		var hooks *webhooks.Service
		d := consoletest.NewDesk(t, db, withHooks(webhooks.Config{AllowPrivate: true, PauseAfterFailures: 2, PauseAfterSpan: time.Nanosecond}, &hooks))
		rcv := newHookReceiver(t)
		admin := d.SignIn(d.Admin)
		consoletest.WantStatus(t, d.SignIn(d.Super).Get("/admin/webhooks"), 403)

		page := admin.Get("/admin/webhooks")
		consoletest.WantStatus(t, page, 200)
		consoletest.WantContains(t, page, "还没有 Webhook", "工单", "投诉", `value="ticket.created"`, `value="survey.answered"`)
		consoletest.WantLacks(t, page, `value="ping"`)

		res := admin.Post("/admin/webhooks", url.Values{"name": {"CRM"}, "url": {rcv.URL + "/in"}})
		consoletest.WantStatus(t, res, 400)
		consoletest.WantContains(t, res, "请至少选择一个事件", `value="CRM"`)
		res = admin.Post("/admin/webhooks", url.Values{"name": {"CRM"}, "url": {"ftp://crm"}, "event": {"ticket.created"}})
		consoletest.WantStatus(t, res, 400)
		consoletest.WantContains(t, res, "接收地址须为", `value="ticket.created" checked`)

		res = admin.Post("/admin/webhooks", url.Values{"name": {"CRM"}, "url": {rcv.URL + "/in?token=t0k"}, "event": {"ticket.created", "complaint.opened"}})
		consoletest.WantStatus(t, res, 201)
		secret := regexp.MustCompile(`id="secret-value">(whsec_[A-Za-z0-9_-]+)<`).FindStringSubmatch(res.Body)
		if secret == nil {
			t.Fatal("no secret shown")
		}
		consoletest.WantContains(t, res, "只显示这一次", "data-copy")
		if v := res.Header.Get("Cache-Control"); v != "no-store" {
			t.Errorf("the secret's page may be cached: %q", v)
		}
		page = admin.Get("/admin/webhooks")
		consoletest.WantLacks(t, page, secret[1], "whsec_")
		consoletest.WantContains(t, page, "CRM", "正常")
		m := hookLink.FindStringSubmatch(page.Body)
		if m == nil {
			t.Fatal("the list links no webhook")
		}
		path := "/admin/webhooks/" + m[1]

		page = admin.Get(path)
		consoletest.WantStatus(t, page, 200)
		consoletest.WantContains(t, page, "暂无推送记录", "发送测试推送", "暂停推送", `value="complaint.opened" checked`)
		consoletest.WantLacks(t, page, secret[1])
		res = admin.Post(path, url.Values{"name": {""}, "url": {rcv.URL}, "event": {"ticket.created"}})
		consoletest.WantStatus(t, res, 400)
		consoletest.WantContains(t, res, "名称须为")
		consoletest.WantStatus(t, admin.Post(path, url.Values{"name": {"CRM 同步"}, "url": {rcv.URL + "/in"}, "event": {"ticket.created", "ticket.assigned"}}), 303)
		consoletest.WantContains(t, admin.Get(path), "CRM 同步", "Webhook 已保存", `value="ticket.assigned" checked`)

		// A ping: its page first waits, then shows the receiver's answer, escaped.
		res = admin.Post(path+"/ping", nil)
		dm := deliveryLink.FindStringSubmatch(res.Location)
		if res.Status != 303 || dm == nil {
			t.Fatalf("ping: %d to %q", res.Status, res.Location)
		}
		page = admin.Get(res.Location)
		consoletest.WantContains(t, page, "测试推送", "待推送", "尚未尝试", "&#34;type&#34;:&#34;ping&#34;")
		if n := sendDue(t, hooks); n != 1 {
			t.Fatalf("%d deliveries sent, want the ping", n)
		}
		page = admin.Get(res.Location)
		consoletest.WantContains(t, page, "已送达", "HTTP 200", "&lt;b&gt;thanks&lt;/b&gt; #1", "重新推送")
		consoletest.WantLacks(t, page, "<b>thanks</b>")

		// Redeliver: a new delivery of the same event, which reaches the receiver again.
		res = admin.Post("/admin/webhook-deliveries/"+dm[1]+"/redeliver", nil)
		if res.Status != 303 || res.Location == "/admin/webhook-deliveries/"+dm[1] {
			t.Fatalf("redeliver: %d to %q", res.Status, res.Location)
		}
		consoletest.WantContains(t, admin.Get(res.Location), "已重新推送")
		sendDue(t, hooks)
		if ids := rcv.got(); len(ids) != 2 || ids[0] != ids[1] {
			t.Errorf("the receiver got event ids %q, want the same one twice", ids)
		}
		consoletest.WantContains(t, admin.Get(path), "测试推送", "/admin/webhook-deliveries/"+dm[1])
		consoletest.WantContains(t, admin.Get(path+"?state=delivered"), "/admin/webhook-deliveries/"+dm[1])
		consoletest.WantLacks(t, admin.Get(path+"?state=failed"), "/admin/webhook-deliveries/"+dm[1])
		consoletest.WantStatus(t, admin.Get(path+"?state=lost"), 400)

		// Paused and resumed by the admin; the secret rotated, shown once.
		consoletest.WantStatus(t, admin.Post(path+"/pause", nil), 303)
		consoletest.WantContains(t, admin.Get(path), "已暂停（管理员）", "恢复推送")
		consoletest.WantStatus(t, admin.Post(path+"/resume", nil), 303)
		consoletest.WantContains(t, admin.Get(path), "已恢复推送", "暂停推送")
		res = admin.Post(path+"/rotate", nil)
		consoletest.WantStatus(t, res, 200)
		if s := regexp.MustCompile(`id="secret-value">(whsec_[A-Za-z0-9_-]+)<`).FindStringSubmatch(res.Body); s == nil || s[1] == secret[1] {
			t.Error("the rotated secret is not shown")
		}

		// The receiver fails: after two failures Hotline pauses it, and the list says why.
		rcv.mu.Lock()
		rcv.status = http.StatusBadGateway
		rcv.mu.Unlock()
		admin.Post(path+"/ping", nil)
		sendDue(t, hooks)
		d.Clock.Advance(webhooks.Backoff(1) * 2)
		sendDue(t, hooks)
		page = admin.Get("/admin/webhooks")
		consoletest.WantContains(t, page, "已暂停（连续失败）", "连续失败 2 次", "HTTP 502")
		consoletest.WantContains(t, admin.Get(path), "Hotline 暂停了推送", "恢复推送")
		// Every admin was told, with a link to its page.
		notices := admin.Get("/notices")
		consoletest.WantContains(t, notices, "Webhook 已暂停", `href="`+path+`"`)

		// Deleted: gone from the list; its deliveries' pages say so.
		consoletest.WantStatus(t, admin.Post(path+"/delete", nil), 303)
		page = admin.Get("/admin/webhooks")
		consoletest.WantContains(t, page, "Webhook 已删除", "还没有 Webhook")
		consoletest.WantStatus(t, admin.Get(path), 404)
		consoletest.WantContains(t, admin.Get("/admin/webhook-deliveries/"+dm[1]), "该 Webhook 已删除")
		consoletest.WantLacks(t, admin.Get("/admin/webhook-deliveries/"+dm[1]), `id="redeliver"`)
	})
}
