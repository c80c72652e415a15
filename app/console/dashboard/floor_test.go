package dashboard_test

import (
	"testing"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func TestFloorIsForSupervisorsAndAdmins(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	for _, c := range []struct {
		who  *tickets.Agent
		want int
	}{{d.Agent, 403}, {d.Office, 403}, {d.Super, 200}, {d.Admin, 200}} {
		r := d.SignIn(c.who).Get("/dashboard/floor")
		consoletest.WantStatus(t, r, c.want)
		if c.want == 403 {
			consoletest.WantLacks(t, r, `id="floor"`)
		}
	}
	consoletest.WantStatus(t, d.SignIn(d.Admin).Get("/dashboard/floor?team=nope"), 400)
	consoletest.WantStatus(t, d.Browser().Get("/dashboard/floor"), 303)
}

// TestFloorShowsTheFigures reads the floor of dashDesk (Thursday 11:30 in Shanghai: two
// texts unanswered since Wednesday 09:30, one routed to the claims team and given to Li
// Na, who is online; a 5 given on Wednesday) as each viewer sees it.
func TestFloorShowsTheFigures(t *testing.T) {
	d := dashDesk(t)
	cases := []struct {
		name  string
		who   *tickets.Agent
		query string
		want  map[string][]string // element id → what it says
		lacks []string
	}{
		{
			name: "admin, all teams", who: d.Admin,
			want: map[string][]string{
				"tile-waiting":    {"正在等待", `data-n="2"`, "最久已等 1 天 2 小时"},
				"tile-breaching":  {`data-n="0"`},
				"tile-complaints": {`data-n="0"`},
				"tile-online":     {`data-n="1"`, "/ 4"},
				"floor-waiting":   {"理赔服务 Claims", "短信", "未分配团队", "1 天 2 小时"},
				"floor-breaching": {"一小时内没有到期的时限。"},
				"floor-agents":    {"李娜 Li Na", "1 / 10", "今日暂无评价", "张伟 Zhang Wei"},
			},
		},
		{
			name: "the claims supervisor: his team by default", who: d.Super,
			want: map[string][]string{
				"tile-waiting": {`data-n="1"`},
				"floor-agents": {"李娜 Li Na", "1 / 10"},
			},
			lacks: []string{"未分配团队"},
		},
		{
			name: "the claims supervisor on another team: no one's figures", who: d.Super, query: "?team=" + consoletest.ID(d.Other.ID),
			want: map[string][]string{
				"tile-waiting": {`data-n="0"`, "没有等待回复的工单。"},
				"tile-online":  {"个人数据只向本团队主管和管理员显示。"},
			},
			lacks: []string{"李娜 Li Na"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := d.SignIn(tc.who).Get("/dashboard/floor" + tc.query)
			consoletest.WantStatus(t, r, 200)
			for id, parts := range tc.want {
				end := "</section>"
				if len(id) > 5 && id[:5] == "tile-" {
					end = "</article>"
				}
				dashWant(t, dashPart(t, r, id, end), id, parts...)
			}
			consoletest.WantLacks(t, r, tc.lacks...)
		})
	}
	// The dashboard and the floor link to each other, keeping the team.
	r := d.SignIn(d.Super).Get("/dashboard")
	consoletest.WantContains(t, r, `href="/dashboard/floor?team=`+consoletest.ID(d.Team.ID)+`">现场实况`)
}
