package customers_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/privacy"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The customer's rights on their page: a supervisor prints their copy, places a hold that
// refuses the erasure, releases it and erases them after confirming; an agent sees the
// trail but may neither copy nor erase; the trail lists it all, newest first.
func TestCustomerRights(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		ctx := context.Background()
		tk := d.SMS("+8613800138000", "我的身份证号 110101199003074478")
		id := consoletest.ID(tk.CustomerID)
		page := "/customers/" + id

		agent := d.SignIn(d.Agent)
		r := agent.Get(page)
		consoletest.WantStatus(t, r, 200)
		consoletest.WantContains(t, r, "个人信息访问记录", "暂无记录。")
		consoletest.WantLacks(t, r, `id="copy-html"`, `id="customer-erase"`, `id="hold-form"`)
		consoletest.WantStatus(t, agent.Get(page+"/export?format=html"), 403)
		consoletest.WantStatus(t, agent.Get(page+"/erase"), 403)
		consoletest.WantStatus(t, agent.Post(page+"/erase", url.Values{"reason": {"x"}, "confirmed": {"1"}}), 403)

		sup := d.SignIn(d.Super)
		r = sup.Get(page)
		consoletest.WantContains(t, r, `id="copy-html"`, `id="customer-erase"`, `id="hold-form"`)
		r = sup.Get(page + "/export?format=html")
		consoletest.WantStatus(t, r, 200)
		consoletest.WantContains(t, r, "个人信息副本", "我的身份证号 110101199003074478", "8613800138000")
		r = sup.Get(page + "/export?format=json")
		consoletest.WantStatus(t, r, 200)
		if !strings.HasPrefix(r.Body, `{"exported_at":`) || !strings.Contains(r.Body, "110101199003074478") {
			t.Errorf("JSON copy: %s", consoletest.Clip(r.Body))
		}

		sup.Get(page)
		r = sup.Post(page+"/holds", url.Values{"reason": {"法院调取 (2026) 沪01民初88号"}})
		consoletest.WantStatus(t, r, 303)
		if _, err := d.Service.SetStatus(ctx, tickets.AgentActor(d.Admin), tk.Ref(), tickets.StatusResolved, ""); err != nil {
			t.Fatal(err)
		}
		r = sup.Get(page + "/erase")
		consoletest.WantStatus(t, r, 200)
		consoletest.WantContains(t, r, "删除客户的个人信息", "投诉记录及处理决定", "法院调取 (2026) 沪01民初88号", `id="erase-submit" disabled`)
		r = sup.Post(page+"/erase", url.Values{"reason": {"客户来电要求删除"}, "confirmed": {"1"}})
		consoletest.WantStatus(t, r, 303)
		consoletest.WantContains(t, sup.Get(r.Location), `class="flash error"`, "该客户处于法律保全中（", "解除保全后才能删除。")
		if n := tickettest.CountEvents(t, db, privacy.KindErased); n != 0 {
			t.Fatalf("erased under a hold")
		}

		hs, err := privacy.New(d.Service, privacy.Config{}).Holds(ctx, tk.CustomerID)
		if err != nil || len(hs) != 1 {
			t.Fatal(hs, err)
		}
		sup.Get(page)
		consoletest.WantStatus(t, sup.Post(page+"/holds/"+consoletest.ID(hs[0].ID)+"/release", url.Values{"reason": {"案件已结"}}), 303)
		sup.Get(page + "/erase")
		consoletest.WantStatus(t, sup.Post(page+"/erase", url.Values{"reason": {"客户来电要求删除"}}), 303) // not confirmed
		if n := tickettest.CountEvents(t, db, privacy.KindErased); n != 0 {
			t.Fatalf("erased without the confirmation")
		}
		r = sup.Post(page+"/erase", url.Values{"reason": {"客户来电要求删除"}, "confirmed": {"1"}})
		consoletest.WantStatus(t, r, 303)
		r = sup.Get(r.Location)
		consoletest.WantContains(t, r, "已删除：消息", "个人信息已删除")
		consoletest.WantLacks(t, r, "110101199003074478", "8613800138000", `id="customer-erase"`)

		rows := r.Body[strings.Index(r.Body, `id="customer-trail"`):]
		rows = rows[:strings.Index(rows, "</table>")]
		var order []string
		for _, k := range []string{"删除个人信息", "解除法律保全", "设置法律保全", "导出副本"} {
			order = append(order, k)
			if !strings.Contains(rows, k) {
				t.Errorf("trail lacks %s:\n%s", k, rows)
			}
		}
		if strings.Index(rows, order[0]) > strings.Index(rows, order[1]) || strings.Index(rows, order[2]) > strings.Index(rows, order[3]) {
			t.Errorf("trail is not newest first:\n%s", rows)
		}
		consoletest.WantContains(t, consoletest.Response{Body: rows}, "chen@desk.test", "客户来电要求删除", "HTML", "JSON")
	})
}
