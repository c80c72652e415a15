package admin_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// Every customer notice is shown in Chinese and English with its placeholders and a
// preview; an admin rewords one, a wording that does not render is refused with the
// reason and kept in the textarea, and the built-in wording can be restored.
func TestAdminTemplates(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	b := d.SignIn(d.Admin)
	r := b.Get("/admin/templates")
	consoletest.WantStatus(t, r, 200)
	for _, key := range []string{tickets.TemplateAcknowledged, tickets.TemplateResolved, tickets.TemplateComplaintReceived,
		tickets.TemplateComplaintDecided, tickets.TemplateComplaintExtended} {
		for _, locale := range []string{"zh", "en"} {
			consoletest.WantContains(t, r, `action="/admin/templates/`+key+`/`+locale+`"`)
		}
	}
	consoletest.WantContains(t, r, "收到确认", "投诉处理决定", "{{.Complaint}}", "{{.Decision}}",
		// Previews render the wording with sample data, the due time as the service words it.
		"您好，我们已收到您的信息，工单号 HL-000123，回复时请注明。我们将在 2026-11-26 09:30 前答复您。",
		"We have received your complaint CP-000042 (ticket HL-000123) and will answer by 2026-12-09.")

	path := "/admin/templates/" + tickets.TemplateResolved + "/zh"
	r = b.Post(path, url.Values{"body": {"工单 {{.Ref}} 已办结，谢谢！"}})
	consoletest.WantStatus(t, r, 303)
	r = b.Get(r.Location)
	consoletest.WantContains(t, r, "已保存“处理完毕”（ZH）", "已自定义", "工单 HL-000123 已办结，谢谢！")
	ctx := context.Background()
	if got, _ := d.Service.Notice(ctx, tickets.TemplateResolved, "zh-CN", tickets.TemplateData{Ref: "HL-000007"}); got != "工单 HL-000007 已办结，谢谢！" {
		t.Errorf("customers would get %q", got)
	}

	before := admEvents(t, d)
	for _, body := range []string{"工单 {{.Reff}} 已办结", "工单 {{.Ref 已办结"} {
		r = b.Post(path, url.Values{"body": {body}})
		consoletest.WantStatus(t, r, 400)
		consoletest.WantContains(t, r, "The wording does not render", ">"+body+"</textarea>", `class="notice-form refused"`)
	}
	r = b.Post("/admin/templates/"+tickets.TemplateResolved+"/fr", url.Values{"body": {"x"}})
	consoletest.WantStatus(t, r, 400)
	consoletest.WantContains(t, r, "Locale must be zh or en")
	if r := b.Post("/admin/templates/no.such/zh", url.Values{"body": {"x"}}); r.Status == 200 || r.Status >= 500 {
		t.Errorf("an unknown notice: %d", r.Status)
	}
	if n := admEvents(t, d); n != before {
		t.Errorf("refused wordings recorded %d events", n-before)
	}
	if got, _ := d.Service.Notice(ctx, tickets.TemplateResolved, "zh-CN", tickets.TemplateData{Ref: "HL-000007"}); got != "工单 HL-000007 已办结，谢谢！" {
		t.Errorf("a refused wording replaced the saved one: %q", got)
	}

	r = b.Post(path, url.Values{"body": {"ignored"}, "restore": {"1"}})
	consoletest.WantStatus(t, r, 303)
	consoletest.WantContains(t, b.Get(r.Location), "已恢复默认文字")
	if got, _ := d.Service.Notice(ctx, tickets.TemplateResolved, "zh-CN", tickets.TemplateData{Ref: "HL-000007"}); got != "您的工单 HL-000007 已处理完毕。如仍有问题，直接回复即可。" {
		t.Errorf("after restoring: %q", got)
	}
}
