package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// fuzzRoutes are the main write endpoints whose JSON bodies FuzzAPIWrites sends.
var fuzzRoutes = []struct {
	method, path string
	officer      bool // sent as the complaint officer rather than the admin
}{
	{"POST", "/api/v1/tickets", false},
	{"POST", "/api/v1/tickets/HL-000001/replies", false},
	{"POST", "/api/v1/tickets/HL-000001/notes", false},
	{"POST", "/api/v1/tickets/HL-000001/assign", false},
	{"POST", "/api/v1/tickets/HL-000001/status", false},
	{"POST", "/api/v1/tickets/HL-000001/priority", false},
	{"POST", "/api/v1/sla-policies", false},
	{"PUT", "/api/v1/sla-policies/1", false},
	{"POST", "/api/v1/routing-rules", false},
	{"PUT", "/api/v1/routing-rules/1", false},
	{"POST", "/api/v1/complaints", true},
	{"POST", "/api/v1/complaints/CP-000001/decision", true},
	{"POST", "/api/v1/complaints/CP-000001/extend", true},
	{"POST", "/api/v1/legal-holds", false},
	{"POST", "/api/v1/legal-holds/1/release", false},
	{"POST", "/api/v1/customers/1/erase", false},
	{"PUT", "/api/v1/retention-policy", false},
}

// FuzzAPIWrites posts arbitrary bodies to the main write endpoints through the real Fiber
// app, signed in, on one SQLite desk per run: whatever the body, the answer is never a 5xx
// (a panic answers 500 too), and a refusal is a JSON {"error": "<reason>"}.
func FuzzAPIWrites(f *testing.F) {
	// The seed corpus is testdata/fuzz/FuzzAPIWrites: a route (an index into fuzzRoutes)
	// and a body, from well-formed requests of each endpoint to overflowing numbers, far
	// times, NULs and bodies that are not objects.

	ctx := context.Background()
	svc := tickettest.Service(tickettest.SQLite(f), tickettest.NewClock(t0))
	svc.SetComplaints(complaints.New(svc)) // as app wires it
	app := api.New(api.Config{Service: svc, Log: tickettest.Logger()})
	claims, err := svc.CreateTeam(ctx, system, "Claims")
	if err != nil {
		f.Fatal(err)
	}
	token := map[bool]string{}
	for officer, role := range map[bool]tickets.Role{false: tickets.RoleAdmin, true: tickets.RoleComplaintOfficer} {
		a, err := svc.CreateAgent(ctx, system, tickets.NewAgent{Email: string(role) + "@hotline.test", Role: role, TeamID: &claims.ID, Password: password})
		if err != nil {
			f.Fatal(err)
		}
		if token[officer], _, err = access.New(svc, access.Config{}).Login(ctx, a.Email, password); err != nil {
			f.Fatal(err)
		}
	}
	// HL-000001 with CP-000001, an SLA policy and a routing rule numbered 1, for the
	// endpoints that change one.
	if _, err := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "+8613800138000", Body: "我要投诉，理赔拖了两个月"}); err != nil {
		f.Fatal(err)
	}
	for _, s := range []struct{ route, body string }{
		{"/api/v1/sla-policies", `{"name":"email","channel":"email","first_response_seconds":3600,"resolution_seconds":7200}`},
		{"/api/v1/routing-rules", `{"name":"refunds","keywords":"refund","team_id":1}`},
	} {
		req := httptest.NewRequest("POST", s.route, strings.NewReader(s.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token[false])
		if res, err := app.Test(req, -1); err != nil || res.StatusCode != 201 {
			f.Fatalf("set up %s: %v %v", s.route, res.StatusCode, err)
		}
	}

	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		req := httptest.NewRequest(r.method, r.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token[r.officer])
		res, err := app.Test(req, -1)
		if err != nil {
			t.Fatalf("%s %s: %v", r.method, r.path, err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode == 401 {
			t.Fatalf("%s %s: 401; the fuzzer must test the endpoint, not the sign-in", r.method, r.path)
		}
		if testing.Verbose() && len(body) < 300 {
			t.Logf("%s %s %s: %d %.120s", r.method, r.path, body, res.StatusCode, raw)
		}
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s %q: %d %s", r.method, r.path, body, res.StatusCode, raw)
		}
		if res.StatusCode >= 400 {
			var e map[string]any
			if err := json.Unmarshal(raw, &e); err != nil || len(e) != 1 || strings.TrimSpace(getS(e, "error")) == "" {
				t.Fatalf("%s %s %q: %d answered %s, want {\"error\": \"<reason>\"}", r.method, r.path, body, res.StatusCode, raw)
			}
		}
	})
}
