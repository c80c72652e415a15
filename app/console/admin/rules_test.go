package admin_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func admRules(t *testing.T, d *consoletest.Desk) []*tickets.RoutingRule {
	t.Helper()
	rs, err := d.Service.RoutingRules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// An admin writes a routing rule in the console and new tickets follow it; editing keeps
// what the form does not show, pausing stops it, deleting removes it.
func TestAdminRoutingRules(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	b := d.SignIn(d.Admin)
	consoletest.WantContains(t, b.Get("/admin/routing"), "还没有规则")
	r := b.Get("/admin/routing/new")
	consoletest.WantContains(t, r, `name="position" type="number" value="10"`, `<option value="`+consoletest.ID(d.Other.ID)+`">Motor</option>`)

	r = b.Post("/admin/routing", url.Values{"name": {"车险转 Motor"}, "position": {"5"}, "keywords": {"车险，碰撞、 Motor\naccident"},
		"channel": {"sms"}, "team": {consoletest.ID(d.Other.ID)}, "set_priority": {"high"}, "set_category": {"motor"}})
	consoletest.WantStatus(t, r, 303)
	r = b.Get(r.Location)
	consoletest.WantContains(t, r, "已保存规则“车险转 Motor”", "车险, 碰撞, Motor, accident", "→ <b>Motor</b>")
	rules := admRules(t, d)
	if len(rules) != 1 || rules[0].Keywords != "车险, 碰撞, Motor, accident" || rules[0].TeamID != d.Other.ID || !rules[0].Active ||
		rules[0].Channel != tickets.ChannelSMS || rules[0].SetPriority != tickets.PriorityHigh || rules[0].Position != 5 {
		t.Fatalf("stored %+v", rules)
	}
	tk := d.SMS("+8613800138001", "我的车险理赔怎么办？")
	if tk.TeamID == nil || *tk.TeamID != d.Other.ID || tk.Priority != tickets.PriorityHigh || tk.Category != "motor" {
		t.Errorf("a matching SMS went to team %v, priority %s, category %q", tk.TeamID, tk.Priority, tk.Category)
	}

	path := "/admin/routing/" + consoletest.ID(rules[0].ID)
	consoletest.WantContains(t, b.Get(path), `value="车险转 Motor"`, `name="active" checked`)
	d.Clock.Advance(time.Minute)
	r = b.Post(path, url.Values{"name": {"车险"}, "position": {"7"}, "keywords": {"车险"}, "team": {consoletest.ID(d.Team.ID)}, "language": {"zh"}})
	consoletest.WantStatus(t, r, 303)
	got := admRules(t, d)[0]
	if got.Active || got.Name != "车险" || got.TeamID != d.Team.ID || got.Language != "zh" || got.Channel != "" || got.SetPriority != "" ||
		!got.CreatedAt.Equal(rules[0].CreatedAt) {
		t.Errorf("after the edit (active unticked): %+v", got)
	}
	consoletest.WantContains(t, b.Get("/admin/routing"), "已停用", "客户语言：中文")
	if tk := d.SMS("+8613800138002", "车险"); tk.TeamID != nil {
		t.Errorf("a paused rule routed a ticket to %d", *tk.TeamID)
	}

	before := admEvents(t, d)
	for _, c := range []struct {
		name   string
		form   url.Values
		status int
		reason string
	}{
		{"no team", url.Values{"name": {"X"}, "keywords": {"typed keyword"}}, 400, "请选择要分配到的团队"},
		{"no name", url.Values{"name": {""}, "team": {consoletest.ID(d.Team.ID)}}, 400, "needs a name"},
		{"missing team", url.Values{"name": {"X"}, "team": {"999"}}, 404, "Team 999 not found"},
		{"bad position", url.Values{"name": {"X"}, "position": {"first"}, "team": {consoletest.ID(d.Team.ID)}}, 400, "必须是整数"},
		{"bad channel", url.Values{"name": {"X"}, "channel": {"fax"}, "team": {consoletest.ID(d.Team.ID)}}, 400, "Unknown channel"},
		{"bad priority", url.Values{"name": {"X"}, "set_priority": {"asap"}, "team": {consoletest.ID(d.Team.ID)}}, 400, "Unknown priority"},
		{"bad language", url.Values{"name": {"X"}, "language": {"fr"}, "team": {consoletest.ID(d.Team.ID)}}, 400, "客户语言只能是中文或英文"},
	} {
		r := b.Post("/admin/routing", c.form)
		if r.Status != c.status {
			t.Errorf("%s: status %d, want %d", c.name, r.Status, c.status)
		}
		consoletest.WantContains(t, r, c.reason, `role="alert"`)
	}
	r = b.Post("/admin/routing", url.Values{"name": {"X"}, "keywords": {"typed keyword"}})
	consoletest.WantContains(t, r, ">typed keyword</textarea>")
	if n := admEvents(t, d); n != before || len(admRules(t, d)) != 1 {
		t.Errorf("refused rules recorded %d events", n-before)
	}

	r = b.Post(path+"/delete", nil)
	consoletest.WantStatus(t, r, 303)
	if len(admRules(t, d)) != 0 {
		t.Error("the rule is still there")
	}
	r = b.Post(path+"/delete", nil)
	consoletest.WantStatus(t, r, 404)
	consoletest.WantContains(t, r, "Routing rule "+consoletest.ID(rules[0].ID)+" not found")
	for _, missing := range []string{"/admin/routing/999", "/admin/routing/x"} {
		if r := b.Get(missing); r.Status != 404 {
			t.Errorf("%s: %d", missing, r.Status)
		}
	}
	if r := b.Post("/admin/routing/999", url.Values{"name": {"X"}, "team": {consoletest.ID(d.Team.ID)}}); r.Status == 200 || r.Status >= 500 {
		t.Errorf("saving a missing rule: %d", r.Status)
	}
}

func admPolicies(t *testing.T, d *consoletest.Desk) []*tickets.Policy {
	t.Helper()
	ps, err := deadlines.New(d.Service).Policies(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// An admin writes SLA policies with durations typed as 24h or 90m; open tickets take the
// new deadlines; a duration that does not read is refused with the reason and the form
// as typed.
func TestAdminSLAPolicies(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	b := d.SignIn(d.Admin)
	consoletest.WantContains(t, b.Get("/admin/sla"), "还没有时限规则", "HOTLINE_SLA_FIRST_RESPONSE")
	consoletest.WantContains(t, b.Get("/admin/sla/new"), `value="24h"`, `value="48h"`)
	tk := d.SMS("+8613800138000", "在吗")

	r := b.Post("/admin/sla", url.Values{"name": {"短信"}, "channel": {"sms"}, "first_response": {"90m"}, "resolution": {"1d"},
		"clock": {"working"}, "first_breach": {"warn"}, "resolution_breach": {"complaint"}})
	consoletest.WantStatus(t, r, 303)
	r = b.Get(r.Location)
	consoletest.WantContains(t, r, "已保存时限规则“短信”", "1h30m", "24h", "工作时间", "提醒主管")
	ps := admPolicies(t, d)
	if len(ps) != 1 || ps[0].FirstResponseSeconds != 5400 || ps[0].ResolutionSeconds != 86400 || !ps[0].WorkingTime ||
		ps[0].FirstResponseBreach != tickets.BreachWarn || ps[0].Channel != tickets.ChannelSMS || ps[0].Position != 10 {
		t.Fatalf("stored %+v", ps)
	}
	// The open ticket was re-timed: 90 working minutes from Wednesday 09:30 in Shanghai.
	got, err := d.Service.Ticket(context.Background(), tk.Ref())
	if err != nil {
		t.Fatal(err)
	}
	if want := consoletest.T0.Add(90 * time.Minute); got.FirstResponseDueAt == nil || !got.FirstResponseDueAt.Equal(want) {
		t.Errorf("first response due %v, want %v", got.FirstResponseDueAt, want)
	}

	path := "/admin/sla/" + consoletest.ID(ps[0].ID)
	consoletest.WantContains(t, b.Get(path), `value="1h30m"`, `value="24h"`, `value="working" checked`)
	r = b.Post(path, url.Values{"name": {"短信"}, "position": {"3"}, "channel": {"sms"}, "first_response": {"2h"}, "resolution": {"48h"},
		"clock": {"clock"}, "first_breach": {"escalate"}, "resolution_breach": {"warn"}})
	consoletest.WantStatus(t, r, 303)
	p := admPolicies(t, d)[0]
	if p.FirstResponseSeconds != 7200 || p.WorkingTime || p.Position != 3 || p.ResolutionBreach != tickets.BreachWarn || !p.CreatedAt.Equal(ps[0].CreatedAt) {
		t.Errorf("after the edit: %+v", p)
	}

	before := admEvents(t, d)
	for _, c := range []struct {
		name, first, resolution, breach string
		status                          int
		reason                          string
	}{
		{"words", "soon", "48h", "warn", 400, "首次响应时限“soon”无法识别"},
		{"zero", "0h", "48h", "warn", 400, "无法识别"},
		{"negative", "-5m", "48h", "warn", 400, "无法识别"},
		{"too long", "24h", "400d", "warn", 400, "解决时限“400d”无法识别"},
		{"bad action", "24h", "48h", "shout", 400, "warn, escalate or complaint"},
	} {
		r := b.Post(path, url.Values{"name": {"短信"}, "first_response": {c.first}, "resolution": {c.resolution}, "first_breach": {c.breach}, "resolution_breach": {"warn"}})
		if r.Status != c.status {
			t.Errorf("%s: status %d, want %d", c.name, r.Status, c.status)
		}
		consoletest.WantContains(t, r, c.reason, `value="`+c.first+`"`)
	}
	r = b.Post("/admin/sla", url.Values{"name": {""}, "first_response": {"1h"}, "resolution": {"2h"}})
	consoletest.WantStatus(t, r, 400)
	consoletest.WantContains(t, r, "needs a name")
	if n := admEvents(t, d); n != before {
		t.Errorf("refused policies recorded %d events", n-before)
	}

	r = b.Post(path+"/delete", nil)
	consoletest.WantStatus(t, r, 303)
	if len(admPolicies(t, d)) != 0 {
		t.Error("the policy is still there")
	}
	r = b.Post(path+"/delete", nil)
	consoletest.WantStatus(t, r, 404)
	consoletest.WantContains(t, r, "SLA policy "+consoletest.ID(ps[0].ID)+" not found")
	if r := b.Get("/admin/sla/999"); r.Status != 404 {
		t.Errorf("a missing policy: %d", r.Status)
	}
}
