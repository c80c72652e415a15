package admin_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets/privacy"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// An admin sets how long each kind of data is kept; nonsense is refused on the page with
// what was typed; the latest runs are listed.
func TestRetentionPage(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	b := d.SignIn(d.Admin)
	r := b.Get("/admin/retention")
	consoletest.WantStatus(t, r, 200)
	consoletest.WantContains(t, r, "数据保留", "消息内容（天）", "尚未运行。")

	r = b.Post("/admin/retention", url.Values{"messages": {"-5"}, "attachments": {"30"}})
	consoletest.WantStatus(t, r, 400)
	consoletest.WantContains(t, r, `role="alert"`, `value="-5"`)
	r = b.Post("/admin/retention", url.Values{"messages": {"abc"}})
	consoletest.WantStatus(t, r, 303)

	r = b.Post("/admin/retention", url.Values{"messages": {"365"}, "attachments": {"180"}, "recordings": {"90"}, "customers": {"1095"}})
	consoletest.WantStatus(t, r, 303)
	p, err := privacy.New(d.Service, privacy.Config{}).Policy(context.Background())
	if err != nil || p != (privacy.Policy{Messages: 365, Attachments: 180, Recordings: 90, Customers: 1095}) {
		t.Fatalf("saved %+v %v", p, err)
	}
	if _, err := privacy.New(d.Service, privacy.Config{}).RunPeriod(context.Background()); err != nil {
		t.Fatal(err)
	}
	r = b.Get(r.Location)
	consoletest.WantContains(t, r, `value="1095"`, `id="retention-runs"`, "数据保留设置已保存。")
	consoletest.WantLacks(t, r, "尚未运行。")

	consoletest.WantStatus(t, d.SignIn(d.Super).Get("/admin/retention"), 403)
}
