package dashboard_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// dashPart is the piece of a page from the element with the given id to the end of the
// element's tag name, e.g. part(body, "kpi-first", "</article>").
func dashPart(t *testing.T, r consoletest.Response, id, end string) string {
	t.Helper()
	i := strings.Index(r.Body, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("page has no #%s:\n%s", id, consoletest.Clip(r.Body))
	}
	j := strings.Index(r.Body[i:], end)
	if j < 0 {
		t.Fatalf("#%s does not end with %s", id, end)
	}
	return r.Body[i : i+j]
}

func dashWant(t *testing.T, where, what string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(where, p) {
			t.Errorf("%s lacks %q:\n%s", what, p, where)
		}
	}
}

// dashDesk is a desk a day and two hours into its work: three texts yesterday morning (two
// about claims, routed to the team), one answered and resolved within the hour and rated 5;
// the other two unanswered, their first-response deadlines passed this morning at 09:30.
// Li Na is online with the waiting claims ticket. Now is Thursday 11:30 in Shanghai.
func dashDesk(t *testing.T) *consoletest.Desk {
	t.Helper()
	ctx := context.Background()
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	d.Service.SetAftercare(aftercare.New(d.Service, aftercare.Config{Surveys: true}))
	admin := tickets.AgentActor(d.Admin)
	if _, err := d.Service.SaveRoutingRule(ctx, admin, &tickets.RoutingRule{Name: "claims", Keywords: "理赔", TeamID: d.Team.ID, SetCategory: "理赔"}); err != nil {
		t.Fatal(err)
	}
	t1 := d.SMS("+8613800000001", "理赔进度怎么样了")
	d.SMS("+8613800000002", "我的理赔款什么时候到账")
	t3 := d.SMS("+8613800000003", "refund please")
	if _, err := d.Service.SetCategory(ctx, admin, t3.Ref(), `<img src=x onerror=alert(1)>`, ""); err != nil {
		t.Fatal(err)
	}
	d.Clock.Advance(time.Hour)
	if _, err := d.Service.Reply(ctx, admin, t1.Ref(), "已为您加急处理"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Service.SetStatus(ctx, admin, t1.Ref(), tickets.StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	d.Clock.Advance(time.Hour)
	d.SMS("+8613800000001", "5")
	if _, err := d.Service.SetOnline(ctx, tickets.AgentActor(d.Agent), true); err != nil {
		t.Fatal(err)
	}
	d.Clock.Advance(24 * time.Hour)
	return d
}

func TestDashboardIsForSupervisorsAndAdmins(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	for _, c := range []struct {
		who  *tickets.Agent
		want int
	}{{d.Agent, 403}, {d.Office, 403}, {d.Super, 200}, {d.Admin, 200}} {
		r := d.SignIn(c.who).Get("/dashboard")
		consoletest.WantStatus(t, r, c.want)
		if c.want == 403 {
			consoletest.WantContains(t, r, "您的角色无权查看此页面。")
			consoletest.WantLacks(t, r, `id="dashboard"`)
		}
	}
	// Signed out: to the sign-in page, and back here after.
	r := d.Browser().Get("/dashboard?team=all")
	consoletest.WantStatus(t, r, 303)
	if r.Location != "/login?next="+url.QueryEscape("/dashboard?team=all") {
		t.Errorf("signed out: to %q", r.Location)
	}
	// Only they see the menu entry.
	consoletest.WantLacks(t, d.SignIn(d.Agent).Get("/queue"), `href="/dashboard"`)
	consoletest.WantContains(t, d.SignIn(d.Super).Get("/queue"), `href="/dashboard"`)
}

func TestDashboardShowsTheFigures(t *testing.T) {
	d := dashDesk(t)

	// The admin sees all teams: first responses 1 of 3 in 30 days, 0 of 2 today.
	b := d.SignIn(d.Admin)
	r := b.Get("/dashboard")
	consoletest.WantStatus(t, r, 200)
	consoletest.WantContains(t, r, `<option value="all" selected>全部团队</option>`, "数据截至 11-26 11:30 · 今天 11-26 · 近 30 天 10-28 – 11-26")
	first := dashPart(t, r, "kpi-first", "</article>")
	dashWant(t, first, "first response", "24 小时内首次响应", `data-period="today"`, "0%", "0 / 2 项按时", "2 项超时", "1 / 3 项按时", "33.3%", `title="11-26">今天`, `title="10-28 – 11-26">近 30 天`)
	if !strings.Contains(first, `kpi-cell bad" data-period="today"`) {
		t.Errorf("today's 0%% is not marked bad:\n%s", first)
	}
	res := dashPart(t, r, "kpi-resolution", "</article>")
	dashWant(t, res, "resolution", "期间内没有到期项", "1 / 1 项按时", "全部按时", "100%")
	dashWant(t, dashPart(t, r, "kpi-complaints", "</article>"), "complaints", "—", "期间内没有到期项")
	csat := dashPart(t, r, "kpi-csat", "</article>")
	dashWant(t, csat, "csat", "暂无评价", "5.0", "满意 100%", "1 份评价")

	volume := dashPart(t, r, "dash-volume", "</section>")
	dashWant(t, volume, "volume", "近 30 天共 3 张 · 今天 0 张", `<svg class="chart cols"`, "2026-11-25：3 张工单", "11-26")
	dashWant(t, dashPart(t, r, "dash-channels", "</section>"), "channels", "短信", "3 · 100%")
	cats := dashPart(t, r, "dash-categories", "</section>")
	dashWant(t, cats, "categories", "理赔", "2 · 66.7%", "&lt;img src=x onerror=alert(1)&gt;")
	if strings.Contains(r.Body, "<img src=x") {
		t.Error("a category name came out as markup")
	}
	kws := dashPart(t, r, "dash-keywords", "</section>")
	dashWant(t, kws, "keywords", `<span class="kw-term">理赔</span>`, "取自近 30 天最近 4 条客户消息")

	agents := dashPart(t, r, "dash-agents", "</section>")
	dashWant(t, agents, "agents", "在线 1 / 4", "李娜 Li Na", "1 / 10", "张伟 Zhang Wei", "陈静 Chen Jing", "王芳 Wang Fang", "无团队", "投诉专员")
	if strings.Index(agents, "李娜 Li Na") > strings.Index(agents, "张伟 Zhang Wei") {
		t.Error("the online agent is not listed first")
	}
	if strings.Contains(agents, ">Admin<") {
		t.Error("admins are listed among agents")
	}
	// The page obeys the CSP: no inline style, no inline script.
	page := dashPart(t, r, "dashboard", "</main>")
	if strings.Contains(page, " style=") || strings.Contains(page, "<script") {
		t.Error("the dashboard has an inline style or script")
	}

	// The supervisor sees their team by default: 1 of 2 in 30 days, 0 of 1 today.
	s := d.SignIn(d.Super)
	r = s.Get("/dashboard")
	consoletest.WantStatus(t, r, 200)
	consoletest.WantContains(t, r, fmt.Sprintf(`<option value="%d" selected>理赔服务 Claims</option>`, d.Team.ID), "主管看板 <span class=\"muted\">· 理赔服务 Claims</span>")
	dashWant(t, dashPart(t, r, "kpi-first", "</article>"), "team first response", "0 / 1 项按时", "1 / 2 项按时", "50%")
	dashWant(t, dashPart(t, r, "dash-volume", "</section>"), "team volume", "近 30 天共 2 张")
	agents = dashPart(t, r, "dash-agents", "</section>")
	dashWant(t, agents, "team agents", "在线 1 / 3", "李娜 Li Na")
	if strings.Contains(agents, "王芳") {
		t.Error("an agent of no team is listed for the team")
	}
	// …and may look at all teams, or another.
	dashWant(t, dashPart(t, s.Get("/dashboard?team=all"), "kpi-first", "</article>"), "all", "1 / 3 项按时")
	r = s.Get(fmt.Sprintf("/dashboard?team=%d", d.Other.ID))
	consoletest.WantStatus(t, r, 200)
	dashWant(t, dashPart(t, r, "kpi-first", "</article>"), "other team", "期间内没有到期项")
	dashWant(t, dashPart(t, r, "dash-volume", "</section>"), "other team volume", "近 30 天没有新工单。")
	dashWant(t, dashPart(t, r, "dash-agents", "</section>"), "other team agents", "这个团队还没有坐席。")

	// In English.
	b.Post("/settings/language", url.Values{"lang": {"en"}})
	r = b.Get("/dashboard")
	consoletest.WantStatus(t, r, 200)
	dashWant(t, dashPart(t, r, "kpi-first", "</article>"), "English", "First response within 24h", "0 of 2 on time", "1 of 3 on time", "Last 30 days")
	dashWant(t, dashPart(t, r, "kpi-csat", "</article>"), "English CSAT", "100% satisfied", "1 answer<", "No answers yet")
	dashWant(t, dashPart(t, r, "dash-agents", "</section>"), "English agents", "1 of 4 online", "Complaint officer", "No team")
	consoletest.WantLacks(t, r, "dash.", "kpi.") // every key has its words
}

func TestDashboardTeamFilter(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	b := d.SignIn(d.Admin)
	for _, team := range []string{"abc", "0", "-1", "999", "1.5", "all'"} {
		r := b.Get("/dashboard?team=" + url.QueryEscape(team))
		consoletest.WantStatus(t, r, 400)
		consoletest.WantContains(t, r, "没有这个团队。")
	}
	consoletest.WantStatus(t, b.Get("/dashboard?team=all"), 200)
	consoletest.WantStatus(t, b.Get(fmt.Sprintf("/dashboard?team=%d", d.Team.ID)), 200)
}

// A desk with nothing yet: every figure says so, nothing divides by zero.
func TestDashboardEmpty(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	r := d.SignIn(d.Super).Get("/dashboard")
	consoletest.WantStatus(t, r, 200)
	consoletest.WantContains(t, r, "期间内没有到期项", "暂无评价", "近 30 天没有新工单。", "消息还不够多", "在线 0 / 3")
	consoletest.WantLacks(t, r, "NaN", "Inf", "%!")
	if n := strings.Count(r.Body, `<span class="kpi-value">—</span>`); n != 8 {
		t.Errorf("%d empty KPI values, want 8", n)
	}
}
