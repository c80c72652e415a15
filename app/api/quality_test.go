package api_test

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestQualityEndpoints: a rubric kept by the admin, a sample drawn, a review scored by the
// server and edited, the agent's one answer, and what each role is refused.
func TestQualityEndpoints(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ref := e.resolvedFor(t, "+8613800000001", "agent1")
		rubric := map[string]any{"name": "Calls", "criteria": []map[string]any{
			{"name_zh": "礼貌用语", "name_en": "Greeting", "weight": 40, "max": 5},
			{"name_zh": "解决问题", "name_en": "Solution", "weight": 60, "max": 10},
		}}
		status, js := e.do(t, "POST", "/api/v1/quality/rubrics", "sup1", rubric)
		wantStatus(t, status, js, 403)
		status, js = e.do(t, "POST", "/api/v1/quality/rubrics", "admin", map[string]any{"name": "x", "criteria": []map[string]any{{"name_zh": "一", "name_en": "One", "weight": 50, "max": 5}}})
		wantStatus(t, status, js, 400)
		status, js = e.do(t, "POST", "/api/v1/quality/rubrics", "admin", rubric)
		wantStatus(t, status, js, 201)
		rid := getN(js, "id")
		status, js = e.do(t, "GET", "/api/v1/quality/rubrics", "agent1", nil)
		wantStatus(t, status, js, 200)
		if items := itemsOf(t, js); len(items) != 1 || len(getA(items[0], "criteria")) != 2 || getS(getA(items[0], "criteria")[1], "key") != "k2" {
			t.Errorf("rubrics: %v", items)
		}

		q := url.Values{"team": {fmt.Sprint(e.team("Claims"))}, "from": {t0.Add(-time.Hour).Format(time.RFC3339)}, "to": {t0.Add(time.Hour).Format(time.RFC3339)}, "seed": {"42"}}
		status, js = e.do(t, "GET", "/api/v1/quality/sample?"+q.Encode(), "sup1", nil)
		wantStatus(t, status, js, 200)
		if getN(js, "seed") != 42 || getN(js, "matched") != 1 || len(getA(js, "items")) != 1 || getS(getA(js, "items")[0], "ticket") != ref {
			t.Errorf("sample: %v", js)
		}
		for who, want := range map[string]int{"agent1": 403, "sup2": 403} {
			status, js = e.do(t, "GET", "/api/v1/quality/sample?"+q.Encode(), who, nil)
			wantStatus(t, status, js, want)
		}
		for _, bad := range [][2]string{{"n", "0"}, {"seed", "abc"}, {"hours", "-1"}, {"team", "x"}, {"from", "yesterday"}, {"to", ""}} {
			b := url.Values{}
			for k, v := range q {
				b[k] = v
			}
			b.Set(bad[0], bad[1])
			status, js = e.do(t, "GET", "/api/v1/quality/sample?"+b.Encode(), "sup1", nil)
			wantStatus(t, status, js, 400)
		}

		review := map[string]any{"ticket": ref, "rubric_id": rid, "marks": map[string]int{"k1": 5, "k2": 5}, "comment": "clear"}
		for who, want := range map[string]int{"agent2": 403, "sup2": 403, "agent1": 403} {
			status, js = e.do(t, "POST", "/api/v1/quality/reviews", who, review)
			wantStatus(t, status, js, want)
		}
		status, js = e.do(t, "POST", "/api/v1/quality/reviews", "sup1", map[string]any{"ticket": ref, "rubric_id": rid, "marks": map[string]int{"k1": 9, "k2": 5}})
		wantStatus(t, status, js, 400)
		status, js = e.do(t, "POST", "/api/v1/quality/reviews", "sup1", review)
		wantStatus(t, status, js, 201)
		if got := get(js, "score"); got != 70.0 {
			t.Errorf("score %v, want 40 + 60×5/10 = 70", got)
		}
		id := getN(js, "id")
		review["marks"] = map[string]int{"k1": 5, "k2": 10}
		status, js = e.do(t, "POST", "/api/v1/quality/reviews", "sup1", review)
		wantStatus(t, status, js, 200)
		if getN(js, "id") != id || get(js, "score") != 100.0 {
			t.Errorf("edited: %v", js)
		}

		for who, want := range map[string]int{"agent1": 200, "agent2": 403, "sup1": 200, "sup2": 403, "admin": 200} {
			status, js = e.do(t, "GET", fmt.Sprintf("/api/v1/quality/reviews?agent=%d", e.id("agent1")), who, nil)
			wantStatus(t, status, js, want)
		}
		status, js = e.do(t, "GET", "/api/v1/quality/reviews", "agent1", nil)
		wantStatus(t, status, js, 200)
		if items := itemsOf(t, js); len(items) != 1 || getS(items[0], "reviewer") != "Eve Super" || getS(items[0], "ticket") != ref {
			t.Errorf("my reviews: %v", items)
		}
		path := fmt.Sprintf("/api/v1/quality/reviews/%d/answer", id)
		status, js = e.do(t, "POST", path, "sup1", map[string]any{"answer": "x"})
		wantStatus(t, status, js, 403)
		status, js = e.do(t, "POST", path, "agent1", map[string]any{"answer": "Thanks, noted."})
		wantStatus(t, status, js, 200)
		status, js = e.do(t, "POST", path, "agent1", map[string]any{"answer": "Again"})
		wantStatus(t, status, js, 409)
		status, js = e.do(t, "POST", "/api/v1/quality/reviews", "sup1", review)
		wantStatus(t, status, js, 409)
		status, js = e.do(t, "GET", fmt.Sprintf("/api/v1/quality/reviews/%d", id), "sup1", nil)
		wantStatus(t, status, js, 200)
		if getS(js, "answer") != "Thanks, noted." {
			t.Errorf("the reviewer reads the answer: %v", js)
		}

		status, js = e.do(t, "POST", "/api/v1/quality/reviews", "admin", map[string]any{"ticket": ref, "rubric_id": rid, "marks": map[string]int{"k1": 1, "k2": 10}})
		wantStatus(t, status, js, 201)
		status, js = e.do(t, "GET", "/api/v1/quality/calibration/"+ref, "sup1", nil)
		wantStatus(t, status, js, 200)
		if ls := getA(js, "lines"); len(ls) != 2 || getS(ls[0], "name_en") != "Greeting" || getN(ls[0], "spread") != 4 || !getB(ls[0], "wide") || getB(ls[1], "wide") {
			t.Errorf("calibration: %v", js)
		}
		for who, want := range map[string]int{"agent1": 403, "sup2": 403} {
			status, js = e.do(t, "GET", "/api/v1/quality/calibration/"+ref, who, nil)
			wantStatus(t, status, js, want)
		}
		status, js = e.do(t, "DELETE", fmt.Sprintf("/api/v1/quality/rubrics/%d", rid), "admin", nil)
		wantStatus(t, status, js, 204)
	})
}
