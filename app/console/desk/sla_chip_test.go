package desk_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The deadline chip names its clock (first response, then resolution) and says the due
// time in the desk's calendar zone, on hover in the queue and in the ticket's header.
func TestSLAChipNamesItsClock(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	tk := d.SMS("+8613800138000", "理赔进度")
	if _, err := d.Service.Assign(context.Background(), tickets.AgentActor(d.Agent), tk.Ref(), tickets.Assignment{AssigneeID: &d.Agent.ID}); err != nil {
		t.Fatal(err)
	}
	b := d.SignIn(d.Agent)
	// Received 09:30 on 11-25 (Shanghai): the first response is due in 24 hours, the
	// resolution in 48.
	steps := []struct {
		name  string
		lang  string
		reply bool
		want  []string
	}{
		{"first response", "zh", false, []string{
			`data-clock="first"`, `title="首次响应截止 11-26 09:30（Asia/Shanghai 时间）"`, `<b class="clock">首响</b>`,
			`<span class="muted" id="sla-due">首次响应 · 截止 11-26 09:30</span>`}},
		{"first response in English", "en", false, []string{
			`title="First response due 11-26 09:30 (Asia/Shanghai time)"`, `<b class="clock">1st reply</b>`,
			`<span class="muted" id="sla-due">First response · due 11-26 09:30</span>`}},
		{"resolution once answered", "en", true, []string{
			`data-clock="resolution"`, `title="Resolution due 11-27 09:30 (Asia/Shanghai time)"`, `<b class="clock">Resolve</b>`,
			`<span class="muted" id="sla-due">Resolution · due 11-27 09:30</span>`}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			b.Post("/settings/language", url.Values{"lang": {s.lang}})
			if s.reply {
				if _, err := d.Service.Reply(context.Background(), tickets.AgentActor(d.Agent), tk.Ref(), "收到，正在处理"); err != nil {
					t.Fatal(err)
				}
			}
			page := b.Get("/tickets/" + tk.Ref())
			consoletest.WantStatus(t, page, 200)
			consoletest.WantContains(t, page, s.want...)
			// The queue's chip says the same on hover.
			consoletest.WantContains(t, b.Get("/queue"), s.want[:len(s.want)-1]...)
		})
	}
}
