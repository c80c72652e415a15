package desk_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/stages"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// On the ticket page an agent sees the claim's stages, moves it on (the next stage is
// preselected), asks for documents and ticks them off; the queue shows the stage's
// deadline beside the SLA countdown. Another category's stage is refused with a 400.
func TestTicketPageStages(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	ctx := context.Background()
	tk := d.SMS("+8613800138000", "理赔进度")
	agent := tickets.AgentActor(d.Agent)
	if _, err := d.Service.Assign(ctx, agent, tk.Ref(), tickets.Assignment{AssigneeID: &d.Agent.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Service.SetCategory(ctx, agent, tk.Ref(), "claims", ""); err != nil {
		t.Fatal(err)
	}
	sts, err := stages.New(d.Service).Stages(ctx, "claims")
	if err != nil {
		t.Fatal(err)
	}
	b := d.SignIn(d.Agent)
	page := b.Get("/tickets/" + tk.Ref())
	consoletest.WantStatus(t, page, 200)
	consoletest.WantContains(t, page, "办理进度", `id="stage-select"`, fmt.Sprintf(`<option value="%d" selected>1. 报案已受理`, sts[0].ID), "<kbd>s</kbd> 选择阶段", "选择进度阶段")

	r := b.Post("/tickets/"+tk.Ref()+"/stage", url.Values{"stage": {fmt.Sprint(sts[1].ID)}})
	consoletest.WantStatus(t, r, 303)
	page = b.Get("/tickets/" + tk.Ref())
	consoletest.WantContains(t, page, `<li class="stage current" aria-current="step">`, "材料已收齐", "已跳过",
		fmt.Sprintf(`<option value="%d" selected>3. 正在调查`, sts[2].ID), "推进到阶段“材料已收齐”")
	// The queue carries the stage's deadline beside the SLA countdown.
	consoletest.WantContains(t, b.Get("/queue"), `class="sla stage-chip ok"`, `data-clock="stage"`, "阶段“材料已收齐”须在")

	if err := stages.New(d.Service).SaveStages(ctx, tickets.AgentActor(d.Admin), "policy", []stages.StageInput{{NameZh: "已受理", NameEn: "Received"}}); err != nil {
		t.Fatal(err)
	}
	other, _ := stages.New(d.Service).Stages(ctx, "policy")
	r = b.Post("/tickets/"+tk.Ref()+"/stage", url.Values{"stage": {fmt.Sprint(other[0].ID)}})
	consoletest.WantStatus(t, r, 303)
	consoletest.WantContains(t, b.Get(r.Location), `class="flash error"`, "只能选择本类别的阶段")

	r = b.Post("/tickets/"+tk.Ref()+"/documents", url.Values{"items": {"医院诊断证明\n发票原件\n"}})
	consoletest.WantStatus(t, r, 303)
	page = b.Get("/tickets/" + tk.Ref())
	consoletest.WantContains(t, page, `<span class="item">医院诊断证明</span>`, `<span class="item">发票原件</span>`, "请客户补充材料：医院诊断证明、发票原件")
	if !strings.Contains(page.Body, `badge st-pending`) {
		t.Error("the ticket does not wait on the customer after asking for documents")
	}
	i := strings.Index(page.Body, `action="/tickets/`+tk.Ref()+`/documents/`)
	id := strings.SplitN(page.Body[i+len(`action="/tickets/`+tk.Ref()+`/documents/`):], `"`, 2)[0]
	r = b.Post("/tickets/"+tk.Ref()+"/documents/"+id, url.Values{"received": {"1"}})
	consoletest.WantStatus(t, r, 303)
	consoletest.WantContains(t, b.Get("/tickets/"+tk.Ref()), `<li class="got">`, "材料已收到：医院诊断证明")
	r = b.Post("/tickets/"+tk.Ref()+"/documents", url.Values{"items": {"\n\n"}})
	consoletest.WantContains(t, b.Get(r.Location), `class="flash error"`, "请至少列出一项材料")
}
