package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The API shows customers' numbers masked, in the customer and in the text, and reveals
// one in full through POST /customers/:id/reveal to the roles allowed: each reveal is one
// pii.revealed event; a wrong role or a forged request is 403 and records nothing.
func TestRevealThroughTheAPI(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		tk := e.create(t, "agent1", map[string]any{"channel": "phone", "customer": map[string]string{"phone": "13800138000", "email": "wang.fang@example.com"},
			"subject": "卡号 6217 0012 3456 7893 扣款失败", "body": "身份证 310101199001011234，请回电 13800138000"})
		ref := getS(tk, "ref")
		cust := int64(getN(tk, "customer", "id"))
		d := e.detail(t, ref)
		msgs := getA(d, "messages")
		all := fmt.Sprint(d)
		for _, raw := range []string{"13800138000", "310101199001011234", "0012 3456", "wang.fang"} {
			if strings.Contains(all, raw) {
				t.Errorf("GET /tickets/%s shows %q in full: %s", ref, raw, all)
			}
		}
		if getS(d, "subject") != "卡号 6217 **** **** 7893 扣款失败" || getS(msgs[0], "body") != "身份证 3101**********1234，请回电 138****8000" {
			t.Errorf("subject %q, body %q", getS(d, "subject"), getS(msgs[0], "body"))
		}
		msgID := int64(getN(msgs[0], "id"))

		path := fmt.Sprintf("/api/v1/customers/%d/reveal", cust)
		for _, tc := range []struct {
			name, who string
			body      any
			status    int
			value     string
		}{
			{"the assignee sees the phone", "agent1", map[string]any{"field": "phone", "ticket": ref}, 200, "+8613800138000"},
			{"an agent may not see the email", "agent1", map[string]any{"field": "email", "ticket": ref}, 403, ""},
			{"an agent may not see the message", "agent1", map[string]any{"field": "message", "message_id": msgID}, 403, ""},
			{"another agent of the team: the ticket is agent1's", "agent2", map[string]any{"field": "phone", "ticket": ref}, 403, ""},
			{"an agent of another team", "agent3", map[string]any{"field": "phone"}, 403, ""},
			{"another team's supervisor", "sup2", map[string]any{"field": "email"}, 403, ""},
			{"the team's supervisor sees the email", "sup1", map[string]any{"field": "email"}, 200, "wang.fang@example.com"},
			{"the team's supervisor sees the message", "sup1", map[string]any{"field": "message", "message_id": msgID}, 200, "身份证 310101199001011234，请回电 13800138000"},
			{"the admin", "admin", map[string]any{"field": "phone"}, 200, "+8613800138000"},
			{"no token", "", map[string]any{"field": "phone"}, 401, ""},
			{"an unknown field", "admin", map[string]any{"field": "password"}, 400, ""},
			{"not a ticket reference", "admin", map[string]any{"field": "phone", "ticket": "x"}, 400, ""},
			{"an unknown key", "admin", `{"field": "phone", "all": true}`, 400, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := tickettest.CountEvents(t, db, "pii.revealed")
				status, js := e.do(t, "POST", path, tc.who, tc.body)
				wantStatus(t, status, js, tc.status)
				after := tickettest.CountEvents(t, db, "pii.revealed")
				if tc.status != 200 {
					if after != before {
						t.Errorf("a refused reveal recorded %d events", after-before)
					}
					return
				}
				if getS(js, "value") != tc.value || after != before+1 {
					t.Errorf("revealed %v with %d events, want %q and one event", js, after-before, tc.value)
				}
			})
		}
	})
}
