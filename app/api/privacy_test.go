package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// raw GETs path as who and returns the status, the content type and the body.
func (e *env) raw(t *testing.T, path, who string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+e.tok[who])
	res, err := e.app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), string(b)
}

// A customer's copy and erasure through the API: supervisors and admins only, the copy
// holds their messages, the erasure removes them and is refused under a legal hold, and
// the trail says who did what.
func TestCustomerRightsAPI(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		tk := e.intake(t, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "+8613800138000", Name: "王小明",
			Body: "身份证 110101199003074478 <b>bold</b>"})
		cust := fmt.Sprint(tk.CustomerID)
		base := "/api/v1/customers/" + cust

		for _, c := range []struct {
			who, path string
			status    int
		}{
			{"agent1", base + "/export", 403},
			{"sup1", base + "/export?format=pdf", 400},
			{"sup1", "/api/v1/customers/999999/export", 404},
			{"sup1", "/api/v1/customers/x/export", 404},
		} {
			status, js := e.do(t, "GET", c.path, c.who, nil)
			wantStatus(t, status, js, c.status)
		}

		status, ctype, body := e.raw(t, base+"/export", "sup1")
		if status != 200 || ctype != "application/json" {
			t.Fatalf("JSON copy: %d %s %s", status, ctype, body)
		}
		var cp struct {
			Customer struct {
				Name       string
				Identities []struct{ Kind, Value string }
			}
			Tickets []struct {
				Ref      string
				Messages []struct{ Body string }
			}
			Events []struct{ Kind, Actor string }
		}
		if err := json.Unmarshal([]byte(body), &cp); err != nil {
			t.Fatalf("copy is not JSON: %v\n%s", err, body)
		}
		if cp.Customer.Name != "王小明" || len(cp.Customer.Identities) != 1 || cp.Customer.Identities[0].Value != "+8613800138000" ||
			len(cp.Tickets) != 1 || cp.Tickets[0].Ref != tk.Ref() || cp.Tickets[0].Messages[0].Body != "身份证 110101199003074478 <b>bold</b>" {
			t.Errorf("copy: %+v", cp)
		}
		status, ctype, body = e.raw(t, base+"/export?format=html&lang=en", "admin")
		if status != 200 || !strings.HasPrefix(ctype, "text/html") || !strings.Contains(body, "Copy of personal information") ||
			!strings.Contains(body, "身份证 110101199003074478 &lt;b&gt;bold&lt;/b&gt;") || !strings.Contains(body, "8613800138000") {
			t.Errorf("HTML copy: %d %s\n%s", status, ctype, body)
		}

		// A hold refuses the erasure with its reason; released, the erasure goes through.
		status, js := e.do(t, "POST", "/api/v1/legal-holds", "agent1", map[string]any{"customer_id": tk.CustomerID, "reason": "x"})
		wantStatus(t, status, js, 403)
		status, js = e.do(t, "POST", "/api/v1/legal-holds", "sup1", map[string]any{"customer_id": tk.CustomerID, "complaint_id": 1, "reason": "x"})
		wantStatus(t, status, js, 400)
		status, js = e.do(t, "POST", "/api/v1/legal-holds", "sup1", map[string]any{"customer_id": tk.CustomerID, "reason": "court case 7"})
		wantStatus(t, status, js, 201)
		hold := fmt.Sprint(get(js, "id"))
		e.mustAct(t, "admin", tk.Ref(), "status", map[string]any{"status": "resolved", "reason": "answered"})

		status, js = e.do(t, "POST", base+"/erase", "agent1", map[string]any{"reason": "asked"})
		wantStatus(t, status, js, 403)
		status, js = e.do(t, "POST", base+"/erase", "sup1", map[string]any{"reason": "asked"})
		wantStatus(t, status, js, 409)
		if !strings.Contains(getS(js, "error"), "court case 7") {
			t.Errorf("refusal does not say why: %v", js)
		}
		status, js = e.do(t, "POST", "/api/v1/legal-holds/"+hold+"/release", "sup1", map[string]any{"reason": "case closed"})
		wantStatus(t, status, js, 200)
		status, js = e.do(t, "POST", base+"/erase", "sup1", map[string]any{"reason": "asked by phone, 2026-12-04"})
		wantStatus(t, status, js, 200)
		if get(js, "already_erased") != false || get(js, "identities") != float64(1) {
			t.Errorf("erasure: %v", js)
		}
		status, js = e.do(t, "POST", base+"/erase", "admin", map[string]any{"reason": "again"})
		wantStatus(t, status, js, 200)
		if get(js, "already_erased") != true {
			t.Errorf("second erasure: %v", js)
		}
		var bodies []string
		if err := db.NewSelect().Table("messages").Column("body").Where("ticket_id = ?", tk.ID).Scan(t.Context(), &bodies); err != nil {
			t.Fatal(err)
		}
		for _, b := range bodies {
			if b != "[erased]" {
				t.Errorf("body %q kept", b)
			}
		}

		status, js = e.do(t, "GET", base+"/privacy", "agent1", nil)
		wantStatus(t, status, js, 200)
		var kinds []string
		for _, it := range get(js, "trail").([]any) {
			kinds = append(kinds, getS(it, "kind")+" "+getS(it, "actor"))
		}
		want := "customer.erased sup1@hotline.test,legal_hold.released sup1@hotline.test,legal_hold.placed sup1@hotline.test," +
			"customer.exported admin@hotline.test,customer.exported sup1@hotline.test"
		if strings.Join(kinds, ",") != want {
			t.Errorf("trail:\n%s\nwant\n%s", strings.Join(kinds, ","), want)
		}

		// The policy: admins only, bad days refused.
		status, js = e.do(t, "GET", "/api/v1/retention-policy", "sup1", nil)
		wantStatus(t, status, js, 403)
		status, js = e.do(t, "PUT", "/api/v1/retention-policy", "admin", map[string]any{"messages": -3})
		wantStatus(t, status, js, 400)
		status, js = e.do(t, "PUT", "/api/v1/retention-policy", "admin", map[string]any{"messages": 365, "attachments": 180, "recordings": 90, "customers": 1095})
		wantStatus(t, status, js, 200)
		if get(js, "policy", "recordings") != float64(90) {
			t.Errorf("policy: %v", js)
		}
	})
}
