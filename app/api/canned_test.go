package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestCannedRepliesEndpoints: who reads and writes which canned replies, and what is refused.
func TestCannedRepliesEndpoints(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		claims, billing := e.team("Claims"), e.team("Billing")
		body := func(team any, title string) map[string]any {
			return map[string]any{"team_id": team, "title": title, "body_zh": "您好{{customer_name}}", "body_en": "Hello {{customer_name}}"}
		}
		mk := func(who string, team any, title string) int64 {
			t.Helper()
			status, js := e.do(t, "POST", "/api/v1/canned-replies", who, body(team, title))
			wantStatus(t, status, js, 201)
			wantKeys(t, js, "id", "team_id", "title", "body_zh", "body_en", "created_at", "updated_at")
			return getN(js, "id")
		}
		global := mk("admin", nil, "Greeting")
		claimsID := mk("sup1", claims, "Documents needed")
		billingID := mk("sup2", billing, "Invoice sent")

		for _, c := range []struct {
			who, query string
			want       []string
		}{
			{"agent1", "", []string{"Documents needed", "Greeting"}},
			{"agent3", "", []string{"Greeting", "Invoice sent"}},
			{"sup1", "", []string{"Documents needed", "Greeting"}},
			{"admin", "", []string{"Documents needed", "Greeting", "Invoice sent"}},
			{"admin", "q=invoice", []string{"Invoice sent"}},
			{"agent1", "q=invoice", nil},
		} {
			status, js := e.do(t, "GET", "/api/v1/canned-replies?"+c.query, c.who, nil)
			wantStatus(t, status, js, 200)
			if got := fieldOf(itemsOf(t, js), "title"); !slices.Equal(got, c.want) {
				t.Errorf("%s lists %q (%s), want %q", c.who, got, c.query, c.want)
			}
		}

		path := func(id int64) string { return fmt.Sprintf("/api/v1/canned-replies/%d", id) }
		for _, c := range []struct {
			what, who, method, path string
			body                    any
			status                  int
		}{
			{"no token", "", "GET", "/api/v1/canned-replies", nil, 401},
			{"agent creates", "agent1", "POST", "/api/v1/canned-replies", body(claims, "x"), 403},
			{"agent edits global", "agent1", "PUT", path(global), body(nil, "x"), 403},
			{"agent deletes own team's", "agent1", "DELETE", path(claimsID), nil, 403},
			{"supervisor creates global", "sup1", "POST", "/api/v1/canned-replies", body(nil, "x"), 403},
			{"supervisor creates for another team", "sup1", "POST", "/api/v1/canned-replies", body(billing, "x"), 403},
			{"supervisor edits another team's", "sup1", "PUT", path(billingID), body(claims, "x"), 404},
			{"supervisor moves own team's away", "sup1", "PUT", path(claimsID), body(billing, "x"), 403},
			{"supervisor deletes global", "sup1", "DELETE", path(global), nil, 403},
			{"unknown variable", "admin", "POST", "/api/v1/canned-replies", map[string]any{"title": "x", "body_en": "Hi {{customer}}"}, 400},
			{"unclosed variable", "admin", "PUT", path(global), map[string]any{"title": "x", "body_zh": "您好{{customer_name"}, 400},
			{"no title", "admin", "POST", "/api/v1/canned-replies", map[string]any{"body_zh": "好"}, 400},
			{"no text", "admin", "POST", "/api/v1/canned-replies", map[string]any{"title": "x"}, 400},
			{"missing team", "admin", "POST", "/api/v1/canned-replies", body(99999, "x"), 400},
			{"team id not a number", "admin", "POST", "/api/v1/canned-replies", body("Claims", "x"), 400},
			{"unknown field", "admin", "POST", "/api/v1/canned-replies", map[string]any{"title": "x", "body": "x"}, 400},
			{"not JSON", "admin", "POST", "/api/v1/canned-replies", "title=x", 400},
			{"bad id", "admin", "PUT", "/api/v1/canned-replies/abc", body(nil, "x"), 404},
			{"missing id", "admin", "DELETE", path(99999), nil, 404},
			{"long search", "admin", "GET", "/api/v1/canned-replies?q=" + strings.Repeat("a", 200), nil, 400},
			{"supervisor edits own team's", "sup1", "PUT", path(claimsID), body(claims, "Documents we need"), 200},
			{"admin deletes another team's", "admin", "DELETE", path(billingID), nil, 204},
		} {
			status, js := e.do(t, c.method, c.path, c.who, c.body)
			if status != c.status {
				t.Errorf("%s: %d %v, want %d", c.what, status, js, c.status)
			} else if c.status >= 400 {
				wantStatus(t, status, js, c.status)
			}
		}
		status, js := e.do(t, "POST", "/api/v1/canned-replies", "admin", map[string]any{"title": "x", "body_en": "Hi {{customer}}"})
		wantStatus(t, status, js, 400)
		if msg := getS(js, "error"); !strings.Contains(msg, "unknown variable {{customer}}") || !strings.Contains(msg, "{{customer_name}}") {
			t.Errorf("the refusal does not name the variable and the known ones: %q", msg)
		}
		status, js = e.do(t, "GET", "/api/v1/canned-replies", "agent3", nil)
		wantStatus(t, status, js, 200)
		if got := fieldOf(itemsOf(t, js), "title"); !slices.Equal(got, []string{"Greeting"}) {
			t.Errorf("after the changes agent3 lists %q", got)
		}
		if n := tickettest.CountEvents(t, db, "canned_reply.created"); n != 3 {
			t.Errorf("%d creations audited, want 3", n)
		}
	})
}

// TestCannedReplyFill: a reply comes filled for a ticket, in the customer's language.
func TestCannedReplyFill(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		tk := e.intake(t, sms("+8613800138000", "where is my claim?"))
		status, js := e.do(t, "PATCH", fmt.Sprintf("/api/v1/customers/%d", tk.CustomerID), "admin", map[string]any{"name": "Zhao Lei", "locale": "en"})
		wantStatus(t, status, js, 200)
		status, js = e.do(t, "POST", "/api/v1/canned-replies", "admin", map[string]any{"title": "All",
			"body_zh": "{{customer_name}}您好",
			"body_en": "Dear {{customer_name}}, {{ticket_ref}} {{complaint_ref}} due {{first_response_due}} / {{resolution_due}} / {{complaint_due}}. {{agent_name}}"})
		wantStatus(t, status, js, 201)
		id := getN(js, "id")
		status, js = e.do(t, "POST", "/api/v1/complaints", "admin", map[string]any{"ticket_ref": tk.Ref(), "summary": "slow"})
		wantStatus(t, status, js, 201)

		fill := fmt.Sprintf("/api/v1/tickets/%s/canned-replies/%d", tk.Ref(), id)
		status, js = e.do(t, "GET", fill, "agent1", nil)
		wantStatus(t, status, js, 200)
		want := tk.Ref() + " CP-000001 due 2026-11-26 17:30 / 2026-11-27 17:30 / 2026-12-09 23:59. Bo Agent"
		if getS(js, "body") != "Dear Zhao Lei, "+want || getS(js, "locale") != "en" || getS(js, "title") != "All" {
			t.Errorf("filled: %v, want body %q", js, "Dear Zhao Lei, "+want)
		}
		for _, c := range []struct {
			who, path string
			status    int
		}{
			{"agent1", fmt.Sprintf("/api/v1/tickets/HL-999999/canned-replies/%d", id), 404},
			{"agent1", "/api/v1/tickets/" + tk.Ref() + "/canned-replies/99999", 404},
			{"agent1", "/api/v1/tickets/" + tk.Ref() + "/canned-replies/x", 404},
			{"", fill, 401},
		} {
			status, js := e.do(t, "GET", c.path, c.who, nil)
			wantStatus(t, status, js, c.status)
		}
	})
}
