package console_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// scorecardDesk gives Li Na a morning's work: one ticket answered and resolved in time,
// one never answered (its first response missed by the next day), and two quality
// reviews (90 and 70).
func scorecardDesk(t *testing.T) (*consoletest.Desk, *tickets.Ticket, *tickets.Ticket) {
	t.Helper()
	ctx := context.Background()
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	sup := tickets.AgentActor(d.Super)
	done := d.SMS("+8613800000051", "理赔进度怎么样了")
	late := d.SMS("+8613800000052", "理赔进度查询一下")
	for _, tk := range []*tickets.Ticket{done, late} {
		if _, err := d.Service.Assign(ctx, sup, tk.Ref(), tickets.Assignment{AssigneeID: &d.Agent.ID}); err != nil {
			t.Fatal(err)
		}
	}
	d.Clock.Advance(time.Hour)
	if _, err := d.Service.Reply(ctx, tickets.AgentActor(d.Agent), done.Ref(), "已在处理"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Service.SetStatus(ctx, tickets.AgentActor(d.Agent), done.Ref(), tickets.StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	for i, score := range []float64{90, 70} {
		tk := []*tickets.Ticket{done, late}[i]
		if _, err := d.Service.DB().ExecContext(ctx, "INSERT INTO quality_reviews (ticket_id, agent_id, reviewer_id, score, created_at) VALUES (?, ?, ?, ?, ?)",
			tk.ID, d.Agent.ID, d.Super.ID, score, d.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	d.Clock.Advance(30 * time.Hour) // the unanswered ticket's 24 hours have passed
	return d, done, late
}

// TestScorecardPages: who may open which scorecard in the console, what it says against
// the targets, and the tickets behind a figure.
func TestScorecardPages(t *testing.T) {
	d, done, late := scorecardDesk(t)
	period := "&from=2026-11-25&to=2026-11-26"
	li := "/dashboard/scorecard?who=agent:" + consoletest.ID(d.Agent.ID) + period
	team := "/dashboard/scorecard?who=team:" + consoletest.ID(d.Team.ID) + period
	motorSup, err := d.Service.CreateAgent(context.Background(), tickets.Actor{Kind: "system"},
		tickets.NewAgent{Email: "motor@desk.test", Name: "Motor Sup", Role: tickets.RoleSupervisor, TeamID: &d.Other.ID, Password: consoletest.Password})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		who    *tickets.Agent
		path   string
		status int
	}{
		{"Li Na's own, by default", d.Agent, "/dashboard/scorecard?x=1" + period, 200},
		{"a peer agent", d.Agent2, li, 403},
		{"her supervisor", d.Super, li, 200},
		{"another team's supervisor", motorSup, li, 403},
		{"another team's supervisor, the team", motorSup, team, 403},
		{"an agent, the team", d.Agent, team, 403},
		{"the team's supervisor", d.Super, team, 200},
		{"an admin", d.Admin, team, 200},
		{"a bad choice", d.Admin, "/dashboard/scorecard?who=nobody", 400},
		{"a bad date", d.Admin, "/dashboard/scorecard?from=yesterday", 400},
		{"a peer's tickets", d.Agent2, "/dashboard/scorecard/tickets?figure=handled&who=agent:" + consoletest.ID(d.Agent.ID), 403},
		{"a figure that does not exist", d.Agent, "/dashboard/scorecard/tickets?figure=bogus", 400},
		{"frequent issues, an agent", d.Agent, "/dashboard/issues", 403},
	} {
		r := d.SignIn(c.who).Get(c.path)
		if r.Status != c.status {
			t.Errorf("%s: %d, want %d: %s", c.name, r.Status, c.status, consoletest.Clip(r.Body))
		}
	}

	// A refusal says why, in the agent's language.
	consoletest.WantContains(t, d.SignIn(d.Agent2).Get(li), "只有坐席本人、其团队主管或管理员可以查看其个人指标。")

	b := d.SignIn(d.Agent)
	r := b.Get("/dashboard/scorecard?x=1" + period)
	consoletest.WantContains(t, r, `id="fig-first"`, "50%", "1 / 2 项按时", "✗ 未达标", `id="fig-reviews"`, "80.0", "✓ 达标", "我的考核")
	consoletest.WantLacks(t, r, `id="score-targets"`, `id="score-agents"`)
	r = b.Get("/dashboard/scorecard/tickets?figure=first_missed&who=agent:" + consoletest.ID(d.Agent.ID) + period)
	consoletest.WantContains(t, r, late.Ref())
	consoletest.WantLacks(t, r, done.Ref())

	r = d.SignIn(d.Super).Get(team)
	consoletest.WantContains(t, r, `id="score-agents"`, "李娜 Li Na", "张伟 Zhang Wei", "考核")
	consoletest.WantLacks(t, r, `id="score-targets"`)

	// An admin sets the targets: a first response target of 50% is met.
	a := d.SignIn(d.Admin)
	consoletest.WantContains(t, a.Get(team), `id="score-targets"`)
	r = a.Post("/dashboard/scorecard/targets", url.Values{"first_response": {"50"}, "satisfied": {"95"}, "reviews": {""}})
	if r.Status != 303 {
		t.Fatalf("saving targets: %d %s", r.Status, consoletest.Clip(r.Body))
	}
	// A refused form goes back with the reason; the targets stay as they were.
	a.Post("/dashboard/scorecard/targets", url.Values{"first_response": {"150"}})
	consoletest.WantContains(t, a.Get(team), "目标应为 0 到 100 之间的数字", `value="50"`)
	if r := d.SignIn(d.Super).Post("/dashboard/scorecard/targets", url.Values{"first_response": {"10"}}); r.Status != 403 {
		t.Errorf("a supervisor saving targets: %d", r.Status)
	}
	r = b.Get("/dashboard/scorecard?x=1" + period)
	first := section(r.Body, `id="fig-first"`)
	if !strings.Contains(first, "目标 ≥ 50%") || !strings.Contains(first, "✓ 达标") {
		t.Errorf("first response against 50%%: %s", first)
	}
	if reviews := section(r.Body, `id="fig-reviews"`); strings.Contains(reviews, "目标") {
		t.Errorf("reviews without a target: %s", reviews)
	}
}

// section is the article of a page that starts with marker.
func section(body, marker string) string {
	i := strings.Index(body, marker)
	if i < 0 {
		return ""
	}
	j := strings.Index(body[i:], "</article>")
	if j < 0 {
		return body[i:]
	}
	return body[i : i+j]
}

// TestFrequentIssuesPage: the weeks' table and its CSV, in the supervisor's language.
func TestFrequentIssuesPage(t *testing.T) {
	d, _, _ := scorecardDesk(t)
	b := d.SignIn(d.Super)
	r := b.Get("/dashboard/issues?team=all&weeks=4")
	consoletest.WantStatus(t, r, 200)
	consoletest.WantContains(t, r, `id="issues-categories"`, `id="issues-keywords"`, "理赔", "▲ 新出现 2", "（未完）")
	r = b.Get("/dashboard/issues.csv?team=all&weeks=4")
	consoletest.WantStatus(t, r, 200)
	if !strings.Contains(r.Body, "类型,名称") || !strings.Contains(r.Body, "关键词,理赔,0,0,0,2,2,2,\n关键词,进度,0,0,0,2,2,2,") {
		t.Errorf("CSV:\n%s", r.Body)
	}
	if r := b.Get("/dashboard/issues?weeks=100"); r.Status != 400 {
		t.Errorf("100 weeks: %d", r.Status)
	}
}
