package api_test

import (
	"math"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// resolvedFor opens an SMS ticket, gives it to an agent, and has them resolve it.
func (e *env) resolvedFor(t *testing.T, phone, who string) string {
	t.Helper()
	ref := e.intake(t, sms(phone, "where is my claim?")).Ref()
	e.mustAct(t, "admin", ref, "assign", map[string]any{"assignee_id": e.id(who)})
	e.mustAct(t, who, ref, "status", map[string]any{"status": "resolved"})
	return ref
}

func TestFollowUpEndpoints(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ref := e.resolvedFor(t, "+8613800000001", "agent1")
		list := func(who, query string, want int) []map[string]any {
			t.Helper()
			status, js := e.do(t, "GET", "/api/v1/followups?"+query, who, nil)
			wantStatus(t, status, js, 200)
			items := itemsOf(t, js)
			if len(items) != want {
				t.Fatalf("GET /followups?%s: %d items, want %d: %v", query, len(items), want, items)
			}
			return items
		}
		mine := list("agent1", "assignee=me", 3)
		dues := []string{"2026-11-25T15:59:59Z", "2026-12-02T15:59:59Z", "2026-12-25T15:59:59Z"}
		for i, it := range mine {
			if getS(it, "due_at") != dues[i] || getS(it, "ticket_ref") != ref || getS(it, "status") != "open" || getN(it, "assignee", "id") != e.id("agent1") {
				t.Errorf("follow-up %d: %v", i, it)
			}
		}
		list("agent2", "assignee=me", 0)
		list("agent2", "assignee="+url.QueryEscape(strconv.FormatInt(e.id("agent1"), 10))+"&status=open", 3)
		list("agent1", "assignee=me&status=open&due_before="+url.QueryEscape("2026-11-26T00:00:00Z"), 1)
		list("agent1", "assignee=none", 0)
		list("agent1", "status=done", 0)
		for _, q := range []string{"assignee=someone", "status=late", "due_before=tomorrow", "limit=-1"} {
			status, js := e.do(t, "GET", "/api/v1/followups?"+q, "agent1", nil)
			wantStatus(t, status, js, 400)
		}

		first, second := strconv.FormatInt(getN(mine[0], "id"), 10), strconv.FormatInt(getN(mine[1], "id"), 10)
		complete := []struct {
			who, id string
			body    any
			status  int
		}{
			{"agent2", first, map[string]string{"note": "called"}, 403},
			{"agent3", first, map[string]string{"note": "called"}, 403},
			{"agent1", first, map[string]string{"note": " "}, 400},
			{"agent1", first, map[string]string{"notes": "typo"}, 400},
			{"agent1", first, map[string]string{"note": "called; the customer is happy"}, 200},
			{"agent1", first, map[string]string{"note": "again"}, 409},
			{"sup1", second, map[string]string{"note": "left a voicemail"}, 200},
			{"admin", "999999", map[string]string{"note": "x"}, 404},
		}
		for _, c := range complete {
			status, js := e.do(t, "POST", "/api/v1/followups/"+c.id+"/complete", c.who, c.body)
			wantStatus(t, status, js, c.status)
			if c.status == 200 && (getS(js, "status") != "done" || getS(js, "completed_at") == "" || getN(js, "completed_by") != e.id(c.who)) {
				t.Errorf("completed by %s: %v", c.who, js)
			}
		}
		list("agent1", "assignee=me&status=done", 2)
		kinds := eventKinds(e.detail(t, ref))
		if !slices.Contains(kinds, "followup.scheduled") || !slices.Contains(kinds, "followup.completed") {
			t.Errorf("events %v", kinds)
		}

		// Reopened: the call still open is cancelled.
		e.mustAct(t, "agent1", ref, "status", map[string]any{"status": "open", "reason": "customer called"})
		list("agent1", "assignee=me&status=open", 0)
		list("agent1", "assignee=me&status=cancelled", 1)
		if !slices.Contains(eventKinds(e.detail(t, ref)), "followup.cancelled") {
			t.Error("no followup.cancelled event")
		}
	})
}

func TestCSATEndpoint(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		e.svc.SetAftercare(aftercare.New(e.svc, aftercare.Config{Surveys: true}))
		answers := []struct{ phone, who, reply string }{
			{"+8613800000011", "agent1", "5"},
			{"+8613800000012", "agent1", "2 太慢"},
			{"+8613800000013", "agent3", "４分"},
			{"+8613800000014", "agent3", ""},
		}
		for _, a := range answers {
			ref := e.resolvedFor(t, a.phone, a.who)
			if a.reply != "" {
				e.intake(t, sms(a.phone, a.reply))
				if st := getS(e.detail(t, ref), "status"); st != "resolved" {
					t.Errorf("%s after the score %q: %s", ref, a.reply, st)
				}
			}
			e.clock.Advance(time.Minute)
		}
		q := "/api/v1/reports/csat?from=" + url.QueryEscape("2026-11-25T00:00:00Z") + "&to=" + url.QueryEscape("2026-11-26T00:00:00Z")
		status, js := e.do(t, "GET", q, "sup1", nil)
		wantStatus(t, status, js, 200)
		near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
		num := func(v any, path ...string) float64 { f, _ := get(v, path...).(float64); return f }
		if getN(js, "responses") != 3 || !near(num(js, "average"), 11.0/3) || !near(num(js, "satisfied_share"), 2.0/3) {
			t.Errorf("totals: %v", js)
		}
		for score, want := range map[string]int64{"1": 0, "2": 1, "3": 0, "4": 1, "5": 1} {
			if getN(js, "distribution", score) != want {
				t.Errorf("distribution %s = %d, want %d", score, getN(js, "distribution", score), want)
			}
		}
		// Figures about people are for those who manage them: an admin reads every agent's
		// line, a supervisor their team's, an agent their own; totals and teams for all.
		for _, tc := range []struct {
			who    string
			agents []string
		}{
			{"admin", []string{"agent1", "agent3"}},
			{"sup1", []string{"agent1"}}, // Claims
			{"sup2", []string{"agent3"}}, // Billing
			{"agent1", []string{"agent1"}},
			{"agent3", []string{"agent3"}},
			{"agent2", nil}, // answered nothing: sees no one's line
		} {
			status, js := e.do(t, "GET", q, tc.who, nil)
			wantStatus(t, status, js, 200)
			agents := getA(js, "by_agent")
			var got []string
			for _, a := range agents {
				for who := range e.agents {
					if getN(a, "agent", "id") == e.id(who) {
						got = append(got, who)
					}
				}
			}
			if !slices.Equal(got, tc.agents) {
				t.Errorf("%s reads the lines of %v, want %v", tc.who, got, tc.agents)
			}
			for _, a := range agents {
				switch getN(a, "agent", "id") {
				case e.id("agent1"):
					if getS(a, "agent", "email") != "agent1@hotline.test" || getN(a, "responses") != 2 || !near(num(a, "average"), 3.5) {
						t.Errorf("agent1's line: %v", a)
					}
				case e.id("agent3"):
					if getN(a, "responses") != 1 || !near(num(a, "average"), 4) {
						t.Errorf("agent3's line: %v", a)
					}
				}
			}
			teams := getA(js, "by_team")
			if getN(js, "responses") != 3 || len(teams) != 2 || getS(teams[0], "team", "name") != "Billing" || getN(teams[0], "responses") != 1 ||
				getS(teams[1], "team", "name") != "Claims" || getN(teams[1], "responses") != 2 {
				t.Errorf("%s: totals %v, by team %v", tc.who, getN(js, "responses"), teams)
			}
		}
		// The default period is the last 30 days.
		status, js = e.do(t, "GET", "/api/v1/reports/csat", "agent1", nil)
		wantStatus(t, status, js, 200)
		if getN(js, "responses") != 3 {
			t.Errorf("default period: %v", js)
		}
		for _, bad := range []string{"?from=yesterday", "?to=2026-13-01", "?from=2026-11-26T00:00:00Z&to=2026-11-25T00:00:00Z"} {
			status, js := e.do(t, "GET", "/api/v1/reports/csat"+bad, "sup1", nil)
			wantStatus(t, status, js, 400)
		}
	})
}
