package api_test

import (
	"fmt"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestFloorEndpoint checks who may watch the floor and what each of them is shown.
func TestFloorEndpoint(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		e.svc.SetAftercare(aftercare.New(e.svc, aftercare.Config{Surveys: true}))
		for _, a := range []struct{ phone, who, reply string }{
			{"+8613800000021", "agent1", "5"},
			{"+8613800000022", "agent3", "2"},
		} {
			e.resolvedFor(t, a.phone, a.who)
			e.intake(t, sms(a.phone, a.reply))
		}
		waiting := e.intake(t, sms("+8613800000023", "where is my claim?"))
		claims, billing := e.team("Claims"), e.team("Billing")

		cases := []struct {
			name   string
			who    string
			query  string
			status int
			agents []string // the agents listed, with their CSAT today ("-" without); nil: none shown
		}{
			{"admin sees everyone", "admin", "", 200, []string{"Bo Agent:5", "Cy Agent:-", "Di Agent:2", "Eve Super:-", "Fay Super:-"}},
			{"a supervisor sees their team's people", "sup1", "", 200, []string{"Bo Agent:5", "Cy Agent:-", "Eve Super:-"}},
			{"a supervisor on their own team", "sup1", fmt.Sprintf("?team=%d", claims), 200, []string{"Bo Agent:5", "Cy Agent:-", "Eve Super:-"}},
			{"a supervisor on another team sees no one's figures", "sup1", fmt.Sprintf("?team=%d", billing), 200, nil},
			{"an agent may not", "agent1", "", 403, nil},
			{"nobody signed in", "", "", 401, nil},
			{"a team that is not a number", "admin", "?team=claims", 400, nil},
			{"a team that does not exist", "admin", "?team=999999", 400, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				status, js := e.do(t, "GET", "/api/v1/reports/floor"+tc.query, tc.who, nil)
				wantStatus(t, status, js, tc.status)
				if status != 200 {
					return
				}
				if tc.agents == nil {
					if js["agents"] != nil {
						t.Errorf("agents shown: %v", js["agents"])
					}
				} else {
					var got []string
					for _, a := range getA(js, "agents") {
						csat := "-"
						if get(a, "csat_today") != nil {
							csat = fmt.Sprint(getN(a, "csat_today", "average"))
						}
						got = append(got, getS(a, "agent", "name")+":"+csat)
					}
					if fmt.Sprint(got) != fmt.Sprint(tc.agents) {
						t.Errorf("agents %v, want %v", got, tc.agents)
					}
				}
				if tc.query != "" { // the new ticket was not routed to a team
					if n := getN(js, "waiting", "total"); n != 0 {
						t.Errorf("a team's waiting %d, want 0", n)
					}
					return
				}
				groups := getA(js, "waiting", "by_team_channel")
				if getN(js, "waiting", "total") != 1 || len(groups) != 1 || get(groups[0], "team") != nil ||
					getS(groups[0], "channel") != "sms" || getN(groups[0], "count") != 1 || getN(js, "waiting", "oldest_wait_seconds") != 0 {
					t.Errorf("waiting %v, want %s alone, just in", js["waiting"], waiting.Ref())
				}
			})
		}
	})
}
