package api_test

import (
	"fmt"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// Who may read which scorecard, what it holds, and the tickets behind a figure.
func TestScorecardEndpoints(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ref := e.resolvedFor(t, "+8613800000031", "agent1")
		claims, billing := e.team("Claims"), e.team("Billing")
		const week = "&from=2026-11-23&to=2026-11-29"
		agent1 := fmt.Sprintf("?agent=%d", e.id("agent1")) + week
		for _, tc := range []struct {
			name, who, query string
			status           int
			handled          int64
			lines            int // agents' lines of a team's scorecard
		}{
			{"an agent's own, by default", "agent1", "?x=1" + week, 200, 1, 0},
			{"a peer agent may not", "agent2", agent1, 403, 0, 0},
			{"their supervisor", "sup1", agent1, 200, 1, 0},
			{"another team's supervisor may not", "sup2", agent1, 403, 0, 0},
			{"an admin", "admin", agent1, 200, 1, 0},
			{"the team's supervisor, by agent", "sup1", fmt.Sprintf("?team=%d", claims) + week, 200, 1, 3},
			{"another team's supervisor may not read the team", "sup2", fmt.Sprintf("?team=%d", claims) + week, 403, 0, 0},
			{"an agent may not read the team", "agent1", fmt.Sprintf("?team=%d", claims) + week, 403, 0, 0},
			{"an admin, another team", "admin", fmt.Sprintf("?team=%d", billing) + week, 200, 0, 2},
			{"an agent that is not a number", "admin", "?agent=bo", 400, 0, 0},
			{"both an agent and a team", "admin", fmt.Sprintf("?agent=%d&team=%d", e.id("agent1"), claims), 400, 0, 0},
			{"a bad date", "admin", "?from=25/11/2026", 400, 0, 0},
			{"an inverted period", "admin", "?from=2026-11-29&to=2026-11-23", 400, 0, 0},
			{"no such team", "admin", "?team=99999", 404, 0, 0},
			{"nobody signed in", "", "", 401, 0, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, js := e.do(t, "GET", "/api/v1/reports/scorecard"+tc.query, tc.who, nil)
				wantStatus(t, status, js, tc.status)
				if status != 200 {
					return
				}
				if getN(js, "figures", "handled") != tc.handled || getS(js, "figures", "resolution", "verdict") != verdictFor(tc.handled) {
					t.Errorf("figures %v, want %v handled", js["figures"], tc.handled)
				}
				if tc.lines > 0 && len(getA(js, "agents")) != tc.lines {
					t.Errorf("agents %v, want %d lines", js["agents"], tc.lines)
				}
			})
		}

		// The tickets behind "handled".
		status, js := e.do(t, "GET", "/api/v1/reports/scorecard/tickets?figure=handled&"+agent1[1:], "sup1", nil)
		wantStatus(t, status, js, 200)
		if list := getA(js, "tickets"); len(list) != 1 || getS(list[0], "ticket") != ref || getS(list[0], "assignee") != "Bo Agent" {
			t.Errorf("handled tickets %v, want %s", js["tickets"], ref)
		}
		for _, tc := range []struct{ name, who, query string }{
			{"a peer", "agent2", "?figure=handled&" + agent1[1:]},
			{"another team's supervisor", "sup2", fmt.Sprintf("?figure=handled&team=%d", claims) + week},
		} {
			status, js := e.do(t, "GET", "/api/v1/reports/scorecard/tickets"+tc.query, tc.who, nil)
			if status != 403 {
				t.Errorf("%s listing tickets: %d %v", tc.name, status, js)
			}
		}
		status, js = e.do(t, "GET", "/api/v1/reports/scorecard/tickets?figure=bogus", "agent1", nil)
		wantStatus(t, status, js, 400)
	})
}

func verdictFor(handled int64) string {
	if handled > 0 {
		return "met" // resolved within 48 h, target 90%
	}
	return "no_data"
}

// Targets: read by staff, set by admins, checked.
func TestTargetsEndpoints(t *testing.T) {
	db := tickettest.SQLite(t)
	e := newEnv(t, db)
	status, js := e.do(t, "GET", "/api/v1/reports/targets", "agent1", nil)
	wantStatus(t, status, js, 200)
	if getN(js, "satisfied") != 95 || getN(js, "followups") != 100 {
		t.Errorf("default targets %v", js)
	}
	for _, tc := range []struct {
		name, who string
		body      any
		status    int
	}{
		{"a supervisor may not", "sup1", map[string]any{"satisfied": 90}, 403},
		{"over 100", "admin", map[string]any{"satisfied": 120}, 400},
		{"a typo", "admin", map[string]any{"satisfaction": 90}, 400},
		{"not a number", "admin", map[string]any{"satisfied": "high"}, 400},
		{"an admin", "admin", map[string]any{"satisfied": 90, "first_response": nil, "followups": 100}, 200},
	} {
		status, js := e.do(t, "PUT", "/api/v1/reports/targets", tc.who, tc.body)
		wantStatus(t, status, js, tc.status)
	}
	status, js = e.do(t, "GET", "/api/v1/reports/scorecard", "agent1", nil)
	wantStatus(t, status, js, 200)
	if get(js, "figures", "first_response", "target") != nil || getS(js, "figures", "first_response", "verdict") != "no_target" ||
		getN(js, "figures", "csat", "target") != 90 || getS(js, "figures", "csat", "verdict") != "no_data" {
		t.Errorf("figures against the new targets: %v", js["figures"])
	}
}

// Frequent issues, as JSON and CSV, for supervisors and admins.
func TestFrequentIssuesEndpoints(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		e.intake(t, sms("+8613800000041", "where is my claim?"))
		const q = "?weeks=2&end=2026-11-25"
		for _, tc := range []struct {
			who    string
			query  string
			status int
		}{{"agent1", q, 403}, {"sup1", q, 200}, {"admin", "?weeks=1", 400}, {"admin", "?weeks=two", 400}, {"admin", "?end=tomorrow", 400}, {"admin", "?team=x", 400}} {
			status, js := e.do(t, "GET", "/api/v1/reports/frequent-issues"+tc.query, tc.who, nil)
			wantStatus(t, status, js, tc.status)
		}
		status, js := e.do(t, "GET", "/api/v1/reports/frequent-issues"+q, "admin", nil)
		wantStatus(t, status, js, 200)
		cats := getA(js, "categories")
		if len(cats) != 1 || fmt.Sprint(get(cats[0], "weeks")) != "[0 1]" || getN(cats[0], "change") != 1 || get(cats[0], "change_rate") != nil || js["last_week_partial"] != true {
			t.Errorf("categories %v", js)
		}

		status, _, rows := e.getCSV(t, "/api/v1/reports/frequent-issues.csv"+q, "admin")
		if status != 200 || len(rows) < 2 {
			t.Fatalf("CSV: %d %v", status, rows)
		}
		want := [][]string{{"类型", "名称", "2026-11-16", "2026-11-23（未完）", "合计", "较上周", "较上周 %"}, {"类别", "未分类", "0", "1", "1", "1", ""}}
		if fmt.Sprint(rows[:2]) != fmt.Sprint(want) {
			t.Errorf("CSV:\n%v\nwant\n%v", rows[:2], want)
		}
		_, _, rows = e.getCSV(t, "/api/v1/reports/frequent-issues.csv"+q+"&lang=en", "sup1")
		if len(rows) < 2 || rows[0][0] != "Kind" || rows[1][1] != "Uncategorised" {
			t.Errorf("English CSV: %v", rows)
		}
		if status, _, _ := e.getCSV(t, "/api/v1/reports/frequent-issues.csv"+q, "agent1"); status != 403 {
			t.Errorf("an agent's CSV: %d", status)
		}
	})
}
