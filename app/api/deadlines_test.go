package api_test

import (
	"context"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func TestCalendarEndpoints(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		if err := deadlines.New(e.svc).SeedHolidays(context.Background()); err != nil {
			t.Fatal(err)
		}
		deadline := func(from string, days string) (int, map[string]any) {
			return e.do(t, "GET", "/api/v1/calendar/deadline?from="+url.QueryEscape(from)+"&working_days="+days, "agent1", nil)
		}
		cases := []struct {
			from, days string
			status     int
			want       string
		}{
			{"2026-09-28T10:00:00+08:00", "10", 200, "2026-10-16T23:59:59+08:00"}, // across National Day
			{"2026-02-12T02:00:00Z", "10", 200, "2026-03-04T23:59:59+08:00"},      // across Spring Festival
			{"2026-09-28T10:00:00+08:00", "1", 200, "2026-09-29T23:59:59+08:00"},
			{"yesterday", "10", 400, ""},
			{"2026-09-28T10:00:00+08:00", "ten", 400, ""},
			{"2026-09-28T10:00:00+08:00", "0", 400, ""},
		}
		for _, c := range cases {
			status, js := deadline(c.from, c.days)
			wantStatus(t, status, js, c.status)
			if c.status == 200 && getS(js, "deadline") != c.want {
				t.Errorf("deadline from %s + %s = %s, want %s", c.from, c.days, getS(js, "deadline"), c.want)
			}
		}
		// No holiday data for 2028: the answer says so.
		status, js := deadline("2027-12-28T10:00:00+08:00", "10")
		wantStatus(t, status, js, 200)
		if getS(js, "warning") == "" {
			t.Error("a deadline in a year without holiday data carries no warning")
		}

		status, js = e.do(t, "GET", "/api/v1/calendar/days?year=2026", "agent1", nil)
		wantStatus(t, status, js, 200)
		kinds := map[string]string{}
		for _, d := range itemsOf(t, js) {
			kinds[getS(d, "day")] = getS(d, "kind")
		}
		if kinds["2026-10-01"] != "holiday" || kinds["2026-10-10"] != "workday" {
			t.Errorf("2026 days: 10-01 %q, 10-10 %q", kinds["2026-10-01"], kinds["2026-10-10"])
		}
		status, js = e.do(t, "PUT", "/api/v1/calendar/days/2026-09-29", "agent1", map[string]string{"kind": "holiday"})
		wantStatus(t, status, js, 403)
		status, js = e.do(t, "PUT", "/api/v1/calendar/days/2026-09-29", "admin", map[string]string{"kind": "holiday", "name": "typhoon"})
		wantStatus(t, status, js, 200)
		if _, js := deadline("2026-09-28T10:00:00+08:00", "1"); getS(js, "deadline") != "2026-09-30T23:59:59+08:00" {
			t.Errorf("after closing 09-29 the next working day is %s", getS(js, "deadline"))
		}
		status, js = e.do(t, "PUT", "/api/v1/calendar/days/2026-99-01", "admin", map[string]string{"kind": "holiday"})
		wantStatus(t, status, js, 400)
	})
}

func TestPolicyAndRuleEndpoints(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		policy := map[string]any{"name": "urgent", "priority": "urgent", "first_response_seconds": 3600, "resolution_seconds": 14400}
		status, js := e.do(t, "POST", "/api/v1/sla-policies", "sup1", policy)
		wantStatus(t, status, js, 403)
		status, js = e.do(t, "POST", "/api/v1/sla-policies", "admin", policy)
		wantStatus(t, status, js, 201)
		id := getN(js, "id")
		if getS(js, "first_response_breach") != "escalate" || getS(js, "resolution_breach") != "complaint" {
			t.Errorf("default breach actions %v", js)
		}
		for _, bad := range []map[string]any{
			{"name": "", "first_response_seconds": 1, "resolution_seconds": 1},
			{"name": "x", "first_response_seconds": 0, "resolution_seconds": 1},
			{"name": "x", "first_response_seconds": 1, "resolution_seconds": 1, "priority": "asap"},
			{"name": "x", "first_response_seconds": 1, "resolution_seconds": 1, "resolution_breach": "panic"},
		} {
			status, js := e.do(t, "POST", "/api/v1/sla-policies", "admin", bad)
			wantStatus(t, status, js, 400)
		}
		// A new urgent ticket gets the policy's deadlines.
		tk := e.create(t, "agent1", map[string]any{"customer": map[string]string{"phone": "+8613800000001"}, "subject": "x", "priority": "urgent"})
		wantTime(t, tk, "first_response_due_at", t0.Add(time.Hour))
		policy["first_response_seconds"] = 1800
		status, js = e.do(t, "PUT", "/api/v1/sla-policies/"+itoa(id), "admin", policy)
		wantStatus(t, status, js, 200)
		wantTime(t, e.detail(t, getS(tk, "ref")), "first_response_due_at", t0.Add(30*time.Minute))
		status, js = e.do(t, "GET", "/api/v1/sla-policies", "agent1", nil)
		wantStatus(t, status, js, 200)
		if n := len(itemsOf(t, js)); n != 1 {
			t.Errorf("%d policies listed", n)
		}
		status, js = e.do(t, "DELETE", "/api/v1/sla-policies/"+itoa(id), "admin", nil)
		wantStatus(t, status, js, 204)
		status, js = e.do(t, "DELETE", "/api/v1/sla-policies/"+itoa(id), "admin", nil)
		wantStatus(t, status, js, 404)

		rule := map[string]any{"name": "complaints", "keywords": "投诉,complain", "team_id": e.team("Billing"), "set_priority": "high"}
		status, js = e.do(t, "POST", "/api/v1/routing-rules", "agent1", rule)
		wantStatus(t, status, js, 403)
		status, js = e.do(t, "POST", "/api/v1/routing-rules", "admin", rule)
		wantStatus(t, status, js, 201)
		ruleID := getN(js, "id")
		if !getB(js, "active") {
			t.Error("a new rule is not active")
		}
		routed := e.intake(t, sms("+8613800000002", "我要投诉"))
		if routed.TeamID == nil || *routed.TeamID != e.team("Billing") || routed.Priority != tickets.PriorityHigh {
			t.Errorf("routed ticket: team %v priority %s", routed.TeamID, routed.Priority)
		}
		rule["active"] = false
		status, js = e.do(t, "PUT", "/api/v1/routing-rules/"+itoa(ruleID), "admin", rule)
		wantStatus(t, status, js, 200)
		if getB(js, "active") {
			t.Error("rule still active after PUT active=false")
		}
		status, js = e.do(t, "POST", "/api/v1/routing-rules", "admin", map[string]any{"name": "x", "team_id": 999})
		wantStatus(t, status, js, 404)
		status, js = e.do(t, "DELETE", "/api/v1/routing-rules/"+itoa(ruleID), "admin", nil)
		wantStatus(t, status, js, 204)
		status, js = e.do(t, "GET", "/api/v1/routing-rules", "admin", nil)
		wantStatus(t, status, js, 200)
		if n := len(itemsOf(t, js)); n != 0 {
			t.Errorf("%d rules after deleting the only one", n)
		}
	})
}

func TestComplaintEndpoints(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		if err := deadlines.New(e.svc).SeedHolidays(ctx); err != nil {
			t.Fatal(err)
		}
		officer, err := e.svc.CreateAgent(ctx, system, tickets.NewAgent{Email: "officer@hotline.test", Role: tickets.RoleComplaintOfficer, Password: password})
		if err != nil {
			t.Fatal(err)
		}
		e.tok["officer"] = login(t, e.app, officer.Email, password)

		status, js := e.do(t, "POST", "/api/v1/complaints", "agent1", map[string]any{
			"source": "regulator", "summary": "claim refused without reason", "received_at": "2026-09-28T10:00:00+08:00",
			"customer": map[string]string{"name": "赵磊", "phone": "13500000000"},
		})
		wantStatus(t, status, js, 201)
		wantKeys(t, js, "ref", "ticket_ref", "status", "source", "received_at", "due_at", "officer", "decision", "extended_until")
		ref := getS(js, "ref")
		if ref != "CP-000001" || getS(js, "status") != "received" || getS(js, "source") != "regulator" || getS(js, "officer", "email") != "officer@hotline.test" {
			t.Errorf("complaint %v", js)
		}
		if due := getS(js, "due_at"); due != "2026-10-16T15:59:59Z" {
			t.Errorf("due_at %s, want the end of 2026-10-16 in Shanghai", due)
		}
		// Received 2026-09-28: overdue by now (t0 is 2026-11-25).
		status, js = e.do(t, "GET", "/api/v1/complaints?overdue=true", "officer", nil)
		wantStatus(t, status, js, 200)
		if len(itemsOf(t, js)) != 1 || !getB(itemsOf(t, js)[0], "overdue") {
			t.Errorf("overdue list %v", js)
		}

		ticketRef := e.create(t, "agent1", phoneCall("+8613600000000", "rude agent"))["ref"].(string)
		status, js = e.do(t, "POST", "/api/v1/complaints", "agent1", map[string]any{"ticket_ref": ticketRef, "summary": "rude agent", "source": "customer"})
		wantStatus(t, status, js, 201)
		second := getS(js, "ref")
		status, js = e.do(t, "POST", "/api/v1/complaints", "agent1", map[string]any{"ticket_ref": ticketRef, "summary": "again"})
		wantStatus(t, status, js, 409)
		for _, bad := range []map[string]any{
			{"ticket_ref": ticketRef},                                  // no summary
			{"ticket_ref": ticketRef, "summary": "x", "source": "sms"}, // unknown source
			{"ticket_ref": ticketRef, "summary": "x", "received_at": "last week"},
			{"summary": "x"}, // nobody to reach
		} {
			status, js := e.do(t, "POST", "/api/v1/complaints", "agent1", bad)
			wantStatus(t, status, js, 400)
		}

		listed := func(q string) []string {
			status, js := e.do(t, "GET", "/api/v1/complaints?"+q, "officer", nil)
			wantStatus(t, status, js, 200)
			return fieldOf(itemsOf(t, js), "ref")
		}
		if got := listed("officer=me"); len(got) != 2 {
			t.Errorf("officer=me: %v", got)
		}
		if got := listed("due_before=2026-11-01T00:00:00Z"); len(got) != 1 || got[0] != ref {
			t.Errorf("due_before: %v", got)
		}
		status, js = e.do(t, "GET", "/api/v1/complaints?status=lost", "officer", nil)
		wantStatus(t, status, js, 400)

		act := func(who, action string, body any) (int, map[string]any) {
			return e.do(t, "POST", "/api/v1/complaints/"+second+"/"+action, who, body)
		}
		status, js = act("agent1", "status", map[string]string{"status": "investigating"})
		wantStatus(t, status, js, 403)
		status, js = act("officer", "status", map[string]string{"status": "investigating", "reason": "called the branch"})
		wantStatus(t, status, js, 200)
		status, js = act("officer", "status", map[string]string{"status": "closed"})
		wantStatus(t, status, js, 409)
		status, js = act("officer", "extend", map[string]string{"until": "2026-12-31T18:00:00+08:00", "reason": "waiting for records"})
		wantStatus(t, status, js, 200)
		if getS(js, "extended_until") != "2026-12-31T10:00:00Z" {
			t.Errorf("extended_until %s", getS(js, "extended_until"))
		}
		status, js = act("officer", "extend", map[string]string{"until": "2027-01-31T18:00:00+08:00", "reason": "more"})
		wantStatus(t, status, js, 409)
		status, js = act("officer", "extend", map[string]string{"until": "soon", "reason": "x"})
		wantStatus(t, status, js, 400)
		status, js = act("sup1", "assign", map[string]any{"officer_id": e.id("agent1")})
		wantStatus(t, status, js, 409) // a plain agent cannot handle complaints
		status, js = act("sup1", "assign", map[string]any{"officer_id": e.id("sup2")})
		wantStatus(t, status, js, 200)
		status, js = act("officer", "decision", map[string]string{"decision": "Apology and retraining.", "outcome": "upheld"})
		wantStatus(t, status, js, 200)
		if getS(js, "status") != "decided" || getS(js, "decision") != "Apology and retraining." {
			t.Errorf("decided: %v", js)
		}
		status, js = e.do(t, "GET", "/api/v1/complaints/"+second, "agent1", nil)
		wantStatus(t, status, js, 200)
		status, js = e.do(t, "GET", "/api/v1/complaints/CP-999999", "agent1", nil)
		wantStatus(t, status, js, 404)
		status, js = e.do(t, "GET", "/api/v1/complaints/HL-000001", "agent1", nil)
		wantStatus(t, status, js, 404)
		// The customer was told of the extension and the decision on their channel.
		outbound := 0
		for _, m := range getA(e.detail(t, ticketRef), "messages") {
			if getS(m, "direction") == "outbound" {
				outbound++
			}
		}
		if outbound != 2 {
			t.Errorf("%d messages to the customer, want the extension and the decision", outbound)
		}
	})
}

func TestPresenceNoticesCustomersAndCategory(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		status, js := e.do(t, "POST", "/api/v1/me/presence", "agent1", map[string]bool{"online": true})
		wantStatus(t, status, js, 200)
		status, js = e.do(t, "POST", "/api/v1/me/presence", "agent1", map[string]string{})
		wantStatus(t, status, js, 400)

		tk := e.create(t, "agent1", phoneCall("+8613800000001", "claim status"))
		ref := getS(tk, "ref")
		d := e.mustAct(t, "agent1", ref, "category", map[string]string{"category": "claim", "reason": "it is a claim"})
		if getS(d, "category") != "claim" {
			t.Errorf("category %q", getS(d, "category"))
		}
		status, js = e.act(t, "agent2", ref, "category", map[string]string{"category": "other"})
		wantStatus(t, status, js, 403)

		cid := getN(tk, "customer", "id")
		status, js = e.do(t, "PATCH", "/api/v1/customers/"+itoa(cid), "agent1", map[string]string{"tags": "VIP", "locale": "en"})
		wantStatus(t, status, js, 200)
		if getS(js, "tags") != "vip" || getS(js, "locale") != "en" {
			t.Errorf("customer %v", js)
		}
		status, js = e.do(t, "PATCH", "/api/v1/customers/999", "agent1", map[string]string{"tags": "x"})
		wantStatus(t, status, js, 404)

		// The logged call misses its first response: the team supervisor is told.
		e.clock.Advance(25 * time.Hour)
		if _, err := deadlines.New(e.svc).Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		status, js = e.do(t, "GET", "/api/v1/notices?unread=true", "sup1", nil)
		wantStatus(t, status, js, 200)
		items := itemsOf(t, js)
		if len(items) != 1 || getS(items[0], "kind") != "sla.breached" || getS(items[0], "ticket_ref") != ref {
			t.Fatalf("supervisor notices %v", items)
		}
		status, js = e.do(t, "POST", "/api/v1/notices/read", "sup1", map[string]int64{"up_to": getN(items[0], "id")})
		wantStatus(t, status, js, 204)
		status, js = e.do(t, "GET", "/api/v1/notices?unread=true", "sup1", nil)
		wantStatus(t, status, js, 200)
		if n := len(itemsOf(t, js)); n != 0 {
			t.Errorf("%d unread notices after reading them", n)
		}
		if getS(e.detail(t, ref), "first_response_breached_at") == "" {
			t.Error("ticket does not show its breach")
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestTemplateEndpoints(t *testing.T) {
	e := newEnv(t, tickettest.SQLite(t))
	status, js := e.do(t, "GET", "/api/v1/templates", "agent1", nil)
	wantStatus(t, status, js, 200)
	if n, want := len(itemsOf(t, js)), len(tickets.DefaultWordings()); n != 2*want {
		t.Errorf("%d templates, want %d notices in 2 languages", n, want)
	}
	status, js = e.do(t, "PUT", "/api/v1/templates/ticket.resolved/en", "agent1", map[string]string{"body": "Done: {{.Ref}}"})
	wantStatus(t, status, js, 403)
	status, js = e.do(t, "PUT", "/api/v1/templates/ticket.resolved/en", "admin", map[string]string{"body": "Done: {{.Reff}}"})
	wantStatus(t, status, js, 400)
	status, js = e.do(t, "PUT", "/api/v1/templates/ticket.resolved/en", "admin", map[string]string{"body": "Done: {{.Ref}}"})
	wantStatus(t, status, js, 200)
	found := false
	for _, it := range itemsOf(t, js) {
		if getS(it, "key") == "ticket.resolved" && getS(it, "locale") == "en" {
			found = getS(it, "body") == "Done: {{.Ref}}" && getB(it, "custom")
		}
	}
	if !found {
		t.Errorf("the new wording is not listed: %v", js)
	}
	status, js = e.do(t, "PUT", "/api/v1/templates/no.such/en", "admin", map[string]string{"body": "x"})
	wantStatus(t, status, js, 404)
}
