package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/privacy"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// t0 is when every test's clock starts.
var t0 = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)

// password is every seeded agent's password.
const password = "correct-horse-battery"

// ---------------------------------------------------------------------------------------
// HTTP helpers

// newRequest builds a request; body is nil (none), a string (sent as is) or a value
// encoded as JSON.
func newRequest(t *testing.T, method, path string, body any) *http.Request {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode request body: %v", err)
		}
		r = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// send runs a request through the app and decodes the JSON object it answers with (nil
// for an empty body). A non-empty answer that is not a JSON object fails the test.
func send(t *testing.T, app *fiber.App, req *http.Request) (int, http.Header, map[string]any) {
	t.Helper()
	res, err := app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	if len(raw) == 0 {
		return res.StatusCode, res.Header, nil
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s: Content-Type %q, want JSON; body %s", req.Method, req.URL, ct, raw)
	}
	var js map[string]any
	if err := json.Unmarshal(raw, &js); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %v\n%s", req.Method, req.URL, err, raw)
	}
	return res.StatusCode, res.Header, js
}

// do sends a request with an optional bearer token and returns the status and JSON body.
func do(t *testing.T, app *fiber.App, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	status, _, js := doFull(t, app, method, path, token, body)
	return status, js
}

func doFull(t *testing.T, app *fiber.App, method, path, token string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	req := newRequest(t, method, path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return send(t, app, req)
}

// wantStatus fails unless the status is want; error statuses must carry exactly
// {"error": "<non-empty reason>"}.
func wantStatus(t *testing.T, got int, js map[string]any, want int) {
	t.Helper()
	if got != want {
		t.Fatalf("status %d, want %d; body %v", got, want, js)
	}
	if want >= 400 {
		msg, ok := js["error"].(string)
		if !ok || strings.TrimSpace(msg) == "" || len(js) != 1 {
			t.Fatalf("status %d body %v, want exactly {\"error\": \"<reason>\"}", got, js)
		}
	}
}

// ---------------------------------------------------------------------------------------
// JSON helpers

func get(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func getS(v any, path ...string) string { s, _ := get(v, path...).(string); return s }

func getN(v any, path ...string) int64 { f, _ := get(v, path...).(float64); return int64(f) }

func getB(v any, path ...string) bool { b, _ := get(v, path...).(bool); return b }

func getA(v any, path ...string) []map[string]any {
	raw, _ := get(v, path...).([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, x := range raw {
		m, _ := x.(map[string]any)
		out = append(out, m)
	}
	return out
}

// wantOnlyKeys checks that v is an object with exactly these keys.
func wantOnlyKeys(t *testing.T, v any, keys ...string) {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Errorf("got %#v, want an object with keys %v", v, keys)
		return
	}
	got, want := slices.Sorted(maps.Keys(m)), slices.Sorted(slices.Values(keys))
	if !slices.Equal(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
}

// wantKeys checks that v is an object with at least these keys (see wantHasKeys).
func wantKeys(t *testing.T, v any, keys ...string) {
	t.Helper()
	wantHasKeys(t, v, keys...)
}

// wantHasKeys checks that v is an object with at least these keys: tickets, customers and
// agents may grow new fields without breaking clients.
func wantHasKeys(t *testing.T, v any, keys ...string) {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Errorf("got %#v, want an object with keys %v", v, keys)
		return
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("key %q missing from %v", k, slices.Sorted(maps.Keys(m)))
		}
	}
}

// wantLacksKeys checks that the object v has none of these keys.
func wantLacksKeys(t *testing.T, v any, keys ...string) {
	t.Helper()
	m, _ := v.(map[string]any)
	for _, k := range keys {
		if _, ok := m[k]; ok {
			t.Errorf("key %q present in %v, want it absent", k, slices.Sorted(maps.Keys(m)))
		}
	}
}

// wantAgent checks the shape of an agent: its fields and never anything about its password.
func wantAgent(t *testing.T, v any) {
	t.Helper()
	wantHasKeys(t, v, agentKeys...)
	wantLacksKeys(t, v, "password", "password_hash", "PasswordHash")
}

// wantTime checks that m[key] is an RFC 3339 UTC time equal to want.
func wantTime(t *testing.T, m map[string]any, key string, want time.Time) {
	t.Helper()
	s, ok := m[key].(string)
	if !ok {
		t.Errorf("%s = %#v, want %s", key, m[key], want.Format(time.RFC3339))
		return
	}
	got, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !got.Equal(want) || !strings.HasSuffix(s, "Z") {
		t.Errorf("%s = %q, want %s in UTC", key, s, want.Format(time.RFC3339))
	}
}

// wantNull checks that m has key with the value null.
func wantNull(t *testing.T, m map[string]any, key string) {
	t.Helper()
	if v, ok := m[key]; !ok || v != nil {
		t.Errorf("%s = %#v (present: %v), want null", key, v, ok)
	}
}

// itemsOf checks the list envelope {"items": [...], "next_cursor": "..."} and returns items.
func itemsOf(t *testing.T, js map[string]any) []map[string]any {
	t.Helper()
	raw, ok := js["items"].([]any)
	if !ok {
		t.Fatalf("items = %#v, want a JSON array; body %v", js["items"], js)
	}
	if _, ok := js["next_cursor"].(string); !ok {
		t.Fatalf("next_cursor = %#v, want a string; body %v", js["next_cursor"], js)
	}
	out := make([]map[string]any, 0, len(raw))
	for _, v := range raw {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("item %#v is not an object", v)
		}
		out = append(out, m)
	}
	return out
}

func fieldOf(items []map[string]any, key string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, fmt.Sprint(it[key]))
	}
	return out
}

func eventKinds(d map[string]any) []string { return fieldOf(getA(d, "events"), "kind") }

func lastEvent(t *testing.T, d map[string]any) map[string]any {
	t.Helper()
	evs := getA(d, "events")
	if len(evs) == 0 {
		t.Fatalf("ticket %s has no events", getS(d, "ref"))
	}
	return evs[len(evs)-1]
}

var (
	ticketKeys = []string{"id", "ref", "status", "channel", "subject", "category", "priority", "team", "assignee", "customer",
		"first_response_due_at", "first_responded_at", "resolution_due_at", "resolved_at", "closed_at", "created_at", "updated_at"}
	agentKeys    = []string{"id", "email", "name", "role", "team_id", "capacity", "locale", "active", "created_at"}
	customerKeys = []string{"id", "name", "phone", "email", "wechat_openid"}
)

// ---------------------------------------------------------------------------------------
// Fixture: two teams and six agents, all signed in through the API.

type env struct {
	svc    *tickets.Service
	clock  *tickettest.Clock
	app    *fiber.App
	teams  map[string]*tickets.Team
	agents map[string]*tickets.Agent
	tok    map[string]string
}

var staff = []struct {
	key, name string
	role      tickets.Role
	team      string
}{
	{"admin", "Ada Admin", tickets.RoleAdmin, ""},
	{"agent1", "Bo Agent", tickets.RoleAgent, "Claims"},
	{"agent2", "Cy Agent", tickets.RoleAgent, "Claims"},
	{"agent3", "Di Agent", tickets.RoleAgent, "Billing"},
	{"sup1", "Eve Super", tickets.RoleSupervisor, "Claims"},
	{"sup2", "Fay Super", tickets.RoleSupervisor, "Billing"},
}

var system = tickets.Actor{Kind: "system"}

func newApp(svc *tickets.Service, ready func(context.Context) error) *fiber.App {
	return api.New(api.Config{Service: svc, Log: tickettest.Logger(), Ready: ready})
}

func newEnv(t *testing.T, db *bun.DB) *env {
	t.Helper()
	ctx := context.Background()
	clock := tickettest.NewClock(t0)
	svc := tickettest.Service(db, clock)
	svc.SetAftercare(aftercare.New(svc, aftercare.Config{})) // as app does: resolutions schedule calls
	svc.SetComplaints(complaints.New(svc))                   // as app wires it
	e := &env{
		svc: svc, clock: clock, app: newApp(svc, nil),
		teams: map[string]*tickets.Team{}, agents: map[string]*tickets.Agent{}, tok: map[string]string{},
	}
	for _, name := range []string{"Claims", "Billing"} {
		tm, err := svc.CreateTeam(ctx, system, name)
		if err != nil {
			t.Fatalf("create team %s: %v", name, err)
		}
		e.teams[name] = tm
	}
	for _, s := range staff {
		in := tickets.NewAgent{Email: s.key + "@hotline.test", Name: s.name, Role: s.role, Password: password}
		if s.team != "" {
			in.TeamID = &e.teams[s.team].ID
		}
		a, err := svc.CreateAgent(ctx, system, in)
		if err != nil {
			t.Fatalf("create agent %s: %v", s.key, err)
		}
		e.agents[s.key] = a
		e.tok[s.key] = login(t, e.app, a.Email, password)
	}
	return e
}

func login(t *testing.T, app *fiber.App, email, pw string) string {
	t.Helper()
	status, js := do(t, app, "POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": pw})
	wantStatus(t, status, js, 200)
	tok := getS(js, "token")
	if !strings.HasPrefix(tok, "hl_") {
		t.Fatalf("login token %q, want an hl_ token", tok)
	}
	return tok
}

func (e *env) id(who string) int64    { return e.agents[who].ID }
func (e *env) team(name string) int64 { return e.teams[name].ID }

// do sends a request as the named agent ("" for no token).
func (e *env) do(t *testing.T, method, path, who string, body any) (int, map[string]any) {
	t.Helper()
	return do(t, e.app, method, path, e.tok[who], body)
}

// act POSTs a ticket action: replies, notes, assign, status or priority.
func (e *env) act(t *testing.T, who, ref, action string, body any) (int, map[string]any) {
	t.Helper()
	return e.do(t, "POST", "/api/v1/tickets/"+ref+"/"+action, who, body)
}

// mustAct runs a ticket action that has to succeed.
func (e *env) mustAct(t *testing.T, who, ref, action string, body any) map[string]any {
	t.Helper()
	status, js := e.act(t, who, ref, action, body)
	want := 200
	if action == "replies" || action == "notes" {
		want = 201
	}
	wantStatus(t, status, js, want)
	return js
}

// detail GETs a ticket as the admin.
func (e *env) detail(t *testing.T, ref string) map[string]any {
	t.Helper()
	status, js := e.do(t, "GET", "/api/v1/tickets/"+ref, "admin", nil)
	wantStatus(t, status, js, 200)
	return js
}

// create logs a ticket through POST /api/v1/tickets.
func (e *env) create(t *testing.T, who string, body any) map[string]any {
	t.Helper()
	status, js := e.do(t, "POST", "/api/v1/tickets", who, body)
	wantStatus(t, status, js, 201)
	return js
}

func phoneCall(phone, subject string) map[string]any {
	return map[string]any{"channel": "phone", "customer": map[string]string{"phone": phone}, "subject": subject, "body": subject + ", said the caller"}
}

// refs lists tickets and returns their references in order.
func (e *env) refs(t *testing.T, who, query string) []string {
	t.Helper()
	status, js := e.do(t, "GET", "/api/v1/tickets?"+query, who, nil)
	wantStatus(t, status, js, 200)
	return fieldOf(itemsOf(t, js), "ref")
}

func (e *env) intake(t *testing.T, in tickets.Inbound) *tickets.Ticket {
	t.Helper()
	res, err := e.svc.Intake(context.Background(), in)
	if err != nil {
		t.Fatalf("intake: %v", err)
	}
	return res.Ticket
}

func sms(addr, body string) tickets.Inbound {
	return tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: addr, Body: body}
}

// ---------------------------------------------------------------------------------------
// Auth

func TestAuth(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)

		t.Run("login", func(t *testing.T) {
			cred := func(email, pw string) map[string]string { return map[string]string{"email": email, "password": pw} }
			cases := []struct {
				name string
				body any
				want int
			}{
				{"success", cred("agent1@hotline.test", password), 200},
				{"email is case-insensitive and trimmed", cred("  Agent1@HOTLINE.test ", password), 200},
				{"wrong password", cred("agent1@hotline.test", "wrong-password"), 401},
				{"unknown email", cred("nobody@hotline.test", password), 401},
				{"invalid email", cred("not an email", password), 401},
				{"missing password", map[string]string{"email": "agent1@hotline.test"}, 400},
				{"missing email", map[string]string{"password": password}, 400},
				{"empty strings", cred("", ""), 400},
				{"no body", nil, 400},
				{"malformed JSON", `{"email": "agent1@hotline.test", "password": `, 400},
				{"unknown field", `{"email": "agent1@hotline.test", "password": "` + password + `", "remember": true}`, 400},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					status, js := do(t, e.app, "POST", "/api/v1/auth/login", "", tc.body)
					wantStatus(t, status, js, tc.want)
					if tc.want != 200 {
						return
					}
					wantOnlyKeys(t, js, "token", "agent")
					tok := getS(js, "token")
					if !strings.HasPrefix(tok, "hl_") || len(tok) < 40 || tok == e.tok["agent1"] {
						t.Errorf("token %q, want a fresh hl_ token", tok)
					}
					ag := js["agent"]
					wantAgent(t, ag)
					if getN(ag, "id") != e.id("agent1") || getS(ag, "email") != "agent1@hotline.test" || getS(ag, "name") != "Bo Agent" ||
						getS(ag, "role") != "agent" || getN(ag, "team_id") != e.team("Claims") || !getB(ag, "active") {
						t.Errorf("agent = %v, want agent1", ag)
					}
					// The new token works.
					status, me := do(t, e.app, "GET", "/api/v1/me", tok, nil)
					wantStatus(t, status, me, 200)
					if getN(me, "id") != e.id("agent1") {
						t.Errorf("/me with the new token = %v", me)
					}
				})
			}
		})

		t.Run("wrong password and unknown email look the same", func(t *testing.T) {
			_, a := do(t, e.app, "POST", "/api/v1/auth/login", "", map[string]string{"email": "agent1@hotline.test", "password": "wrong-password"})
			_, b := do(t, e.app, "POST", "/api/v1/auth/login", "", map[string]string{"email": "nobody@hotline.test", "password": "wrong-password"})
			if a["error"] != b["error"] {
				t.Errorf("errors differ, revealing which emails exist: %q vs %q", a["error"], b["error"])
			}
		})

		t.Run("bearer token", func(t *testing.T) {
			tok := e.tok["agent1"]
			forged := "hl_" + base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
			last := byte('A')
			if tok[len(tok)-1] == 'A' {
				last = 'B'
			}
			changed := tok[:len(tok)-1] + string(last)
			cases := []struct {
				name, header string
				want         int
			}{
				{"no header", "", 401},
				{"empty bearer", "Bearer ", 401},
				{"other scheme", "Basic " + base64.StdEncoding.EncodeToString([]byte("agent1@hotline.test:"+password)), 401},
				{"token without scheme", tok, 401},
				{"garbage", "Bearer garbage", 401},
				{"forged hl_ token", "Bearer " + forged, 401},
				{"token with its last character changed", "Bearer " + changed, 401},
				{"valid", "Bearer " + tok, 200},
				{"scheme in lower case", "bearer " + tok, 200},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					req := newRequest(t, "GET", "/api/v1/me", nil)
					if tc.header != "" {
						req.Header.Set("Authorization", tc.header)
					}
					status, _, js := send(t, e.app, req)
					wantStatus(t, status, js, tc.want)
					if tc.want == 200 && getN(js, "id") != e.id("agent1") {
						t.Errorf("/me = %v, want agent1", js)
					}
				})
			}
		})

		t.Run("every API route needs a token", func(t *testing.T) {
			ref := e.intake(t, sms("+8613900000001", "hello")).Ref()
			claims := strconv.FormatInt(e.team("Claims"), 10)
			agent2 := strconv.FormatInt(e.id("agent2"), 10)
			routes := []struct {
				method, path string
				body         any
			}{
				{"POST", "/api/v1/auth/logout", nil},
				{"GET", "/api/v1/me", nil},
				{"GET", "/api/v1/tickets", nil},
				{"POST", "/api/v1/tickets", phoneCall("13800138000", "x")},
				{"GET", "/api/v1/tickets/" + ref, nil},
				{"POST", "/api/v1/tickets/" + ref + "/replies", map[string]string{"body": "hi"}},
				{"POST", "/api/v1/tickets/" + ref + "/notes", map[string]string{"body": "hi"}},
				{"POST", "/api/v1/tickets/" + ref + "/assign", map[string]any{"team_id": e.team("Claims")}},
				{"POST", "/api/v1/tickets/" + ref + "/status", map[string]string{"status": "open"}},
				{"POST", "/api/v1/tickets/" + ref + "/priority", map[string]string{"priority": "high"}},
				{"GET", "/api/v1/customers/1", nil},
				{"GET", "/api/v1/agents", nil},
				{"POST", "/api/v1/agents", map[string]string{"email": "x@hotline.test", "password": password}},
				{"GET", "/api/v1/agents/" + agent2, nil},
				{"PATCH", "/api/v1/agents/" + agent2, map[string]string{"name": "x"}},
				{"DELETE", "/api/v1/agents/" + agent2, nil},
				{"GET", "/api/v1/teams", nil},
				{"POST", "/api/v1/teams", map[string]string{"name": "x"}},
				{"GET", "/api/v1/teams/" + claims, nil},
				{"PATCH", "/api/v1/teams/" + claims, map[string]string{"name": "x"}},
				{"DELETE", "/api/v1/teams/" + claims, nil},
			}
			before := e.detail(t, ref)
			for _, r := range routes {
				t.Run(r.method+" "+r.path, func(t *testing.T) {
					status, js := do(t, e.app, r.method, r.path, "", r.body)
					wantStatus(t, status, js, 401)
				})
			}
			if after := e.detail(t, ref); !reflect.DeepEqual(before, after) {
				t.Errorf("unauthenticated requests changed the ticket:\nbefore %v\nafter  %v", before, after)
			}
			status, a2 := e.do(t, "GET", "/api/v1/agents/"+agent2, "admin", nil)
			wantStatus(t, status, a2, 200)
			if getS(a2, "name") != "Cy Agent" || !getB(a2, "active") {
				t.Errorf("unauthenticated requests changed agent2: %v", a2)
			}
			status, tm := e.do(t, "GET", "/api/v1/teams/"+claims, "admin", nil)
			wantStatus(t, status, tm, 200)
			if getS(tm, "name") != "Claims" {
				t.Errorf("unauthenticated requests changed the team: %v", tm)
			}
		})

		t.Run("me", func(t *testing.T) {
			for _, s := range staff {
				status, js := e.do(t, "GET", "/api/v1/me", s.key, nil)
				wantStatus(t, status, js, 200)
				wantAgent(t, js)
				var team int64
				if s.team != "" {
					team = e.team(s.team)
				} else {
					wantNull(t, js, "team_id")
				}
				if getN(js, "id") != e.id(s.key) || getS(js, "email") != s.key+"@hotline.test" || getS(js, "name") != s.name ||
					getS(js, "role") != string(s.role) || getN(js, "team_id") != team || getN(js, "capacity") != 10 ||
					getS(js, "locale") != "zh-CN" || !getB(js, "active") {
					t.Errorf("/me for %s = %v", s.key, js)
				}
				wantTime(t, js, "created_at", t0)
			}
		})

		t.Run("logout revokes only that token", func(t *testing.T) {
			tokA := login(t, e.app, "agent2@hotline.test", password)
			tokB := login(t, e.app, "agent2@hotline.test", password)
			status, js := do(t, e.app, "POST", "/api/v1/auth/logout", tokA, nil)
			wantStatus(t, status, js, 204)
			if js != nil {
				t.Errorf("logout body %v, want none", js)
			}
			status, js = do(t, e.app, "GET", "/api/v1/me", tokA, nil)
			wantStatus(t, status, js, 401)
			status, js = do(t, e.app, "POST", "/api/v1/auth/logout", tokA, nil)
			wantStatus(t, status, js, 401)
			status, js = do(t, e.app, "GET", "/api/v1/me", tokB, nil)
			wantStatus(t, status, js, 200)
		})

		t.Run("deactivated agent is signed out", func(t *testing.T) {
			status, js := e.do(t, "GET", "/api/v1/me", "agent3", nil)
			wantStatus(t, status, js, 200)
			status, js = e.do(t, "DELETE", fmt.Sprintf("/api/v1/agents/%d", e.id("agent3")), "admin", nil)
			wantStatus(t, status, js, 200)
			if getB(js, "active") {
				t.Errorf("DELETE answered %v, want active false", js)
			}
			status, js = e.do(t, "GET", "/api/v1/me", "agent3", nil)
			wantStatus(t, status, js, 401)
			status, js = do(t, e.app, "POST", "/api/v1/auth/login", "", map[string]string{"email": "agent3@hotline.test", "password": password})
			wantStatus(t, status, js, 401)
		})

		t.Run("tokens expire after 30 days", func(t *testing.T) {
			e.clock.Advance(29 * 24 * time.Hour)
			status, js := e.do(t, "GET", "/api/v1/me", "admin", nil)
			wantStatus(t, status, js, 200)
			e.clock.Advance(24*time.Hour + time.Second)
			status, js = e.do(t, "GET", "/api/v1/me", "admin", nil)
			wantStatus(t, status, js, 401)
		})
	})
}

// Failed sign-ins are limited in the database, per client address and per account, and
// the budget is the service's: two API processes (two apps over one database here; see
// app/limits_test.go for real processes) and the console share it.
func TestLoginRateLimit(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		// Two apps behind one load balancer, over one database.
		apps := []*fiber.App{
			api.New(api.Config{Service: e.svc, Log: tickettest.Logger(), TrustedProxies: []string{"0.0.0.0"}}),
			api.New(api.Config{Service: e.svc, Log: tickettest.Logger(), TrustedProxies: []string{"0.0.0.0"}}),
		}
		attempt := func(i int, client, email, pw string) (int, http.Header, map[string]any) {
			req := newRequest(t, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": pw})
			req.Header.Set("X-Forwarded-For", client)
			return send(t, apps[i%2], req)
		}

		t.Run("per account, from any address", func(t *testing.T) {
			for i := range 5 {
				status, _, js := attempt(i, fmt.Sprintf("198.51.100.%d", i+1), "agent2@hotline.test", "wrong-password")
				wantStatus(t, status, js, 401)
			}
			// Locked: even the right password, from a new address, waits; the answer says why
			// and until when.
			status, h, js := attempt(5, "198.51.100.99", "agent2@hotline.test", password)
			wantStatus(t, status, js, 429)
			if reason := getS(js, "error"); !strings.Contains(reason, "locked") || !strings.Contains(reason, "1 minute") || h.Get("Retry-After") != "60" {
				t.Errorf("locked account: %q, Retry-After %q; want the lock, 1 minute and 60 seconds", reason, h.Get("Retry-After"))
			}
			// Only an admin lifts it, once; then the right password works.
			status, js = e.do(t, "POST", fmt.Sprintf("/api/v1/agents/%d/unlock", e.id("agent2")), "sup1", nil)
			wantStatus(t, status, js, 403)
			status, js = e.do(t, "POST", fmt.Sprintf("/api/v1/agents/%d/unlock", e.id("agent2")), "admin", nil)
			wantStatus(t, status, js, 200)
			if getN(js, "id") != e.id("agent2") {
				t.Errorf("unlock answered %v, want agent2", js)
			}
			status, js = e.do(t, "POST", fmt.Sprintf("/api/v1/agents/%d/unlock", e.id("agent2")), "admin", nil)
			wantStatus(t, status, js, 409)
			status, _, js = attempt(6, "198.51.100.99", "agent2@hotline.test", password)
			wantStatus(t, status, js, 200)
			// An email no agent has is answered exactly the same way.
			var got []int
			for i := range 6 {
				status, _, _ := attempt(i, fmt.Sprintf("198.51.101.%d", i+1), "nobody@hotline.test", "wrong-password")
				got = append(got, status)
			}
			if fmt.Sprint(got) != "[401 401 401 401 401 429]" {
				t.Errorf("an unknown email: %v, want 5 × 401 then 429 like a real account", got)
			}
		})

		t.Run("per address, behind the balancer", func(t *testing.T) {
			// The attacker varies the spoofable front of X-Forwarded-For and the email.
			var got []int
			for i := range 12 {
				status, _, _ := attempt(i, fmt.Sprintf("10.0.0.%d, 203.0.113.7", i), fmt.Sprintf("guess%d@hotline.test", i), "wrong-password")
				got = append(got, status)
			}
			if fmt.Sprint(got) != "[401 401 401 401 401 401 401 401 401 401 429 429]" {
				t.Errorf("one client's failures: %v, want the 11th limited", got)
			}
			status, h, js := attempt(0, "203.0.113.7", "agent3@hotline.test", password)
			wantStatus(t, status, js, 429)
			if h.Get("Retry-After") == "" || !strings.Contains(getS(js, "error"), "your address") {
				t.Errorf("limited address: %v, Retry-After %q", js, h.Get("Retry-After"))
			}
			status, _, js = attempt(1, "203.0.113.8", "agent3@hotline.test", password)
			wantStatus(t, status, js, 200) // another client behind the same balancer
			// Signed-in requests are not limited.
			status, js = e.do(t, "GET", "/api/v1/me", "agent3", nil)
			wantStatus(t, status, js, 200)
			e.clock.Advance(time.Minute)
			status, _, js = attempt(0, "203.0.113.7", "agent3@hotline.test", password)
			wantStatus(t, status, js, 200)
		})
	})
}

// ---------------------------------------------------------------------------------------
// Ticket queues

func TestListTickets(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		// A: new SMS, due t0+24h. D: resolved, so no deadline. B: email at +1h, whose first
		// response is due in 48h (t0+49h). C: WeChat at +2h (t0+26h), assigned to agent2
		// and urgent. P: a phone call agent1 logged at +3h (t0+27h), high priority.
		a := e.intake(t, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "+86 139 0000 0001",
			Name: "Chen Jie", Body: "Refund for order 1234\nIt was charged twice."})
		e.clock.Advance(30 * time.Minute)
		d := e.intake(t, sms("139 0000 0004", "Thanks, all good"))
		e.mustAct(t, "admin", d.Ref(), "status", map[string]string{"status": "resolved"})
		e.clock.Advance(30 * time.Minute)
		b := e.intake(t, tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "Li Na <Li.Na@Example.com>",
			Subject: "Invoice copy needed", Body: "Please send it again."})
		e.clock.Advance(time.Hour)
		c := e.intake(t, tickets.Inbound{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: "oWx_123",
			Name: "Zhang Wei", Body: "WeChat login broken"})
		e.clock.Advance(time.Hour)
		p := getS(e.create(t, "agent1", map[string]any{
			"channel":  "phone",
			"customer": map[string]string{"name": "Wang Fang", "phone": "138 0013 8000", "email": "Wang.Fang@Example.com"},
			"subject":  "Caller asks about refund status", "body": "Wants to know when the refund arrives",
			"category": "claims", "priority": "high",
		}), "ref")
		e.mustAct(t, "admin", b.Ref(), "assign", map[string]any{"team_id": e.team("Billing")})
		e.mustAct(t, "admin", c.Ref(), "assign", map[string]any{"assignee_id": e.id("agent2")})
		e.mustAct(t, "admin", c.Ref(), "priority", map[string]string{"priority": "urgent"})

		t.Run("item shape", func(t *testing.T) {
			status, js := e.do(t, "GET", "/api/v1/tickets", "agent1", nil)
			wantStatus(t, status, js, 200)
			wantOnlyKeys(t, js, "items", "next_cursor")
			if getS(js, "next_cursor") != "" {
				t.Errorf("next_cursor = %q on the only page, want \"\"", getS(js, "next_cursor"))
			}
			byRef := map[string]map[string]any{}
			for _, it := range itemsOf(t, js) {
				wantHasKeys(t, it, ticketKeys...)
				wantLacksKeys(t, it, "messages", "events")
				if ref := getS(it, "ref"); ref != tickets.FormatRef(getN(it, "id")) || len(ref) != len("HL-000001") {
					t.Errorf("ref %q for id %d, want HL-%06d", ref, getN(it, "id"), getN(it, "id"))
				}
				byRef[getS(it, "ref")] = it
			}
			if len(byRef) != 5 {
				t.Fatalf("listed %d tickets, want 5", len(byRef))
			}

			it := byRef[p]
			if getS(it, "status") != "open" || getS(it, "channel") != "phone" || getS(it, "subject") != "Caller asks about refund status" ||
				getS(it, "category") != "claims" || getS(it, "priority") != "high" {
				t.Errorf("phone ticket = %v", it)
			}
			wantHasKeys(t, it["team"], "id", "name")
			if getN(it, "team", "id") != e.team("Claims") || getS(it, "team", "name") != "Claims" {
				t.Errorf("team = %v, want Claims", it["team"])
			}
			wantHasKeys(t, it["assignee"], "id", "name", "email")
			wantLacksKeys(t, it["assignee"], "password_hash")
			if getN(it, "assignee", "id") != e.id("agent1") || getS(it, "assignee", "name") != "Bo Agent" || getS(it, "assignee", "email") != "agent1@hotline.test" {
				t.Errorf("assignee = %v, want agent1", it["assignee"])
			}
			wantHasKeys(t, it["customer"], customerKeys...)
			if getN(it, "customer", "id") <= 0 || getS(it, "customer", "name") != "Wang Fang" || getS(it, "customer", "phone") != privacy.MaskPhone("+8613800138000") ||
				getS(it, "customer", "email") != privacy.MaskEmail("wang.fang@example.com") || getS(it, "customer", "wechat_openid") != "" {
				t.Errorf("customer = %v", it["customer"])
			}
			created := t0.Add(3 * time.Hour)
			wantTime(t, it, "created_at", created)
			wantTime(t, it, "first_response_due_at", created.Add(24*time.Hour))
			wantTime(t, it, "resolution_due_at", created.Add(48*time.Hour))
			wantNull(t, it, "first_responded_at")
			wantNull(t, it, "resolved_at")
			wantNull(t, it, "closed_at")

			it = byRef[a.Ref()]
			wantNull(t, it, "team")
			wantNull(t, it, "assignee")
			if getS(it, "status") != "new" || getS(it, "channel") != "sms" || getS(it, "subject") != "Refund for order 1234" ||
				getS(it, "priority") != "normal" || getS(it, "category") != "" {
				t.Errorf("SMS ticket = %v", it)
			}
			if getS(it, "customer", "phone") != privacy.MaskPhone("+8613900000001") || getS(it, "customer", "name") != "Chen Jie" || getS(it, "customer", "email") != privacy.MaskEmail("") {
				t.Errorf("SMS customer = %v", it["customer"])
			}

			it = byRef[b.Ref()]
			wantTime(t, it, "first_response_due_at", t0.Add(49*time.Hour))
			if getS(it, "customer", "email") != privacy.MaskEmail("li.na@example.com") || getS(it, "customer", "phone") != privacy.MaskPhone("") ||
				getS(it, "team", "name") != "Billing" || it["assignee"] != nil || getS(it, "channel") != "email" {
				t.Errorf("email ticket = %v", it)
			}

			it = byRef[c.Ref()]
			if getS(it, "customer", "wechat_openid") != "oWx_123" || getS(it, "customer", "name") != "Zhang Wei" || getS(it, "customer", "phone") != privacy.MaskPhone("") {
				t.Errorf("WeChat customer = %v", it["customer"])
			}
			if getN(it, "assignee", "id") != e.id("agent2") || getN(it, "team", "id") != e.team("Claims") || getS(it, "priority") != "urgent" {
				t.Errorf("WeChat ticket = %v, want agent2's urgent ticket in Claims", it)
			}

			it = byRef[d.Ref()]
			if getS(it, "status") != "resolved" {
				t.Errorf("resolved ticket = %v", it)
			}
			wantTime(t, it, "resolved_at", t0.Add(30*time.Minute))
		})

		t.Run("nearest deadline first", func(t *testing.T) {
			want := []string{a.Ref(), c.Ref(), p, b.Ref(), d.Ref()}
			if got := e.refs(t, "agent1", ""); !slices.Equal(got, want) {
				t.Errorf("order %v, want %v (A +24h, C +26h, P +27h, email B +49h, resolved D last)", got, want)
			}
		})

		filters := []struct {
			name, who, query string
			want             []string
		}{
			{"status", "admin", "status=new", []string{a.Ref(), c.Ref(), b.Ref()}},
			{"status list", "admin", "status=new,resolved", []string{a.Ref(), c.Ref(), b.Ref(), d.Ref()}},
			{"status with spaces", "admin", "status=" + url.QueryEscape(" open , pending "), []string{p}},
			{"status without matches", "admin", "status=closed", []string{}},
			{"team", "admin", fmt.Sprintf("team=%d", e.team("Claims")), []string{c.Ref(), p}},
			{"other team", "admin", fmt.Sprintf("team=%d", e.team("Billing")), []string{b.Ref()}},
			{"assignee=me", "agent1", "assignee=me", []string{p}},
			{"assignee=me for another agent", "agent2", "assignee=me", []string{c.Ref()}},
			{"assignee=none", "admin", "assignee=none", []string{a.Ref(), b.Ref(), d.Ref()}},
			{"assignee id", "admin", fmt.Sprintf("assignee=%d", e.id("agent2")), []string{c.Ref()}},
			{"channel", "admin", "channel=sms", []string{a.Ref(), d.Ref()}},
			{"channel wechat", "admin", "channel=wechat", []string{c.Ref()}},
			{"priority", "admin", "priority=urgent", []string{c.Ref()}},
			{"priority normal", "admin", "priority=normal", []string{a.Ref(), b.Ref(), d.Ref()}},
			{"q by ref", "admin", "q=" + p, []string{p}},
			{"q by short lower-case ref", "admin", fmt.Sprintf("q=hl-%d", b.ID), []string{b.Ref()}},
			{"q by subject word", "admin", "q=refund", []string{a.Ref(), p}},
			{"q ignores case", "admin", "q=REFUND", []string{a.Ref(), p}},
			{"q by subject words", "admin", "q=" + url.QueryEscape("login broken"), []string{c.Ref()}},
			{"q without matches", "admin", "q=parcel", []string{}},
			{"q treats _ literally", "admin", "q=_", []string{}},
			{"q treats % literally", "admin", "q=" + url.QueryEscape("%"), []string{}},
			{"filters combine", "admin", fmt.Sprintf("status=new&team=%d", e.team("Claims")), []string{c.Ref()}},
			{"filters combine 2", "admin", "channel=sms&status=resolved", []string{d.Ref()}},
		}
		for _, tc := range filters {
			t.Run("filter "+tc.name, func(t *testing.T) {
				if got := e.refs(t, tc.who, tc.query); !slices.Equal(got, tc.want) {
					t.Errorf("GET /tickets?%s = %v, want %v", tc.query, got, tc.want)
				}
			})
		}

		bad := []string{
			"status=bogus", "status=new,bogus", "status=NEW", "channel=fax", "priority=critical",
			"team=claims", "assignee=someone", "cursor=garbage", "cursor=" + base64.RawURLEncoding.EncodeToString([]byte("x.y")),
			"limit=0", "limit=-1", "limit=ten", "limit=201",
		}
		for _, q := range bad {
			t.Run("bad "+q, func(t *testing.T) {
				status, js := e.do(t, "GET", "/api/v1/tickets?"+q, "admin", nil)
				wantStatus(t, status, js, 400)
			})
		}
	})
}

func TestListTicketsPagination(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		// Ten tickets with ties in the queue order: three share a deadline, two more share
		// another, and three resolved ones share "no deadline".
		n := 0
		next := func(ch tickets.Channel) *tickets.Ticket {
			n++
			in := sms(fmt.Sprintf("+86139000010%02d", n), fmt.Sprintf("ticket %d", n))
			if ch == tickets.ChannelEmail {
				in = tickets.Inbound{Channel: ch, From: tickets.IdentityEmail, Address: fmt.Sprintf("c%d@example.com", n), Subject: "mail", Body: "mail"}
			}
			return e.intake(t, in)
		}
		for range 3 {
			next(tickets.ChannelSMS)
		}
		e.clock.Advance(time.Hour)
		next(tickets.ChannelEmail)
		next(tickets.ChannelSMS)
		next(tickets.ChannelSMS)
		e.clock.Advance(time.Hour)
		for range 3 {
			e.mustAct(t, "admin", next(tickets.ChannelSMS).Ref(), "status", map[string]string{"status": "resolved"})
		}
		next(tickets.ChannelEmail)

		full := e.refs(t, "admin", "limit=200")
		if len(full) != 10 {
			t.Fatalf("full list has %d tickets, want 10", len(full))
		}
		smsRefs := e.refs(t, "admin", "limit=200&channel=sms")
		if len(smsRefs) != 8 {
			t.Fatalf("SMS list has %d tickets, want 8", len(smsRefs))
		}

		walk := func(t *testing.T, query string, limit int) (refs []string, pages int) {
			t.Helper()
			cursor := ""
			for {
				pages++
				if pages > 20 {
					t.Fatalf("pagination did not end: %v", refs)
				}
				q := query + "&limit=" + strconv.Itoa(limit)
				if cursor != "" {
					q += "&cursor=" + url.QueryEscape(cursor)
				}
				status, js := e.do(t, "GET", "/api/v1/tickets?"+q, "admin", nil)
				wantStatus(t, status, js, 200)
				items := fieldOf(itemsOf(t, js), "ref")
				nextCursor := getS(js, "next_cursor")
				if len(items) > limit || (nextCursor != "" && len(items) != limit) {
					t.Fatalf("page %d has %d items (cursor %q), want %d", pages, len(items), nextCursor, limit)
				}
				refs = append(refs, items...)
				if nextCursor == "" {
					return refs, pages
				}
				if nextCursor == cursor {
					t.Fatalf("page %d returned its own cursor", pages)
				}
				cursor = nextCursor
			}
		}
		for _, tc := range []struct {
			filter string
			want   []string
			limit  int
		}{
			{"", full, 1}, {"", full, 2}, {"", full, 3}, {"", full, 4}, {"", full, 5},
			{"", full, 9}, {"", full, 10}, {"", full, 50},
			{"channel=sms", smsRefs, 3}, {"channel=sms", smsRefs, 4},
		} {
			t.Run(fmt.Sprintf("%s limit=%d", tc.filter, tc.limit), func(t *testing.T) {
				got, pages := walk(t, tc.filter, tc.limit)
				if !slices.Equal(got, tc.want) {
					t.Errorf("pages joined = %v, want %v (no duplicates, no gaps)", got, tc.want)
				}
				if want := max(1, (len(tc.want)+tc.limit-1)/tc.limit); pages != want {
					t.Errorf("%d pages, want %d", pages, want)
				}
			})
		}
	})
}

// ---------------------------------------------------------------------------------------
// One ticket

func TestGetTicket(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		tk := e.intake(t, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "13900000001", Name: "Chen Jie",
			Body: "My claim is stuck", ProviderMessageID: "SM1",
			Attachments: []tickets.NewAttachment{{Filename: "photo.jpg", ContentType: "image/jpeg", SizeBytes: 1234, URL: "https://files.example/photo.jpg"}}})
		ref := tk.Ref()
		e.clock.Advance(10 * time.Minute)
		e.mustAct(t, "agent1", ref, "assign", map[string]any{"assignee_id": e.id("agent1")})
		e.clock.Advance(5 * time.Minute)
		e.mustAct(t, "agent1", ref, "replies", map[string]string{"body": "We are on it"})
		e.clock.Advance(time.Minute)
		e.mustAct(t, "agent1", ref, "notes", map[string]string{"body": "Called the garage"})

		t.Run("detail", func(t *testing.T) {
			// Any agent may read any ticket.
			status, d := e.do(t, "GET", "/api/v1/tickets/"+ref, "agent3", nil)
			wantStatus(t, status, d, 200)
			wantHasKeys(t, d, append(slices.Clone(ticketKeys), "messages", "events")...)
			if getS(d, "ref") != ref || getN(d, "id") != tk.ID || getS(d, "status") != "open" || getS(d, "assignee", "email") != "agent1@hotline.test" ||
				getS(d, "customer", "phone") != privacy.MaskPhone("+8613900000001") || getS(d, "customer", "name") != "Chen Jie" {
				t.Errorf("detail = %v", d)
			}
			wantTime(t, d, "first_responded_at", t0.Add(15*time.Minute))

			msgs := getA(d, "messages")
			want := []struct {
				direction, body, delivery string
				at                        time.Time
				author                    int64
			}{
				{"inbound", "My claim is stuck", "received", t0, 0},
				{"outbound", "We are on it", "queued", t0.Add(15 * time.Minute), e.id("agent1")},
				{"note", "Called the garage", "", t0.Add(16 * time.Minute), e.id("agent1")},
			}
			if len(msgs) != len(want) {
				t.Fatalf("%d messages, want %d: %v", len(msgs), len(want), msgs)
			}
			for i, w := range want {
				m := msgs[i]
				if getS(m, "direction") != w.direction || getS(m, "channel") != "sms" || getS(m, "body") != w.body ||
					getS(m, "delivery_status") != w.delivery || getN(m, "author_id") != w.author || getN(m, "id") <= 0 {
					t.Errorf("message %d = %v, want %+v", i, m, w)
				}
				wantTime(t, m, "created_at", w.at)
				if w.author == 0 {
					wantNull(t, m, "author_id")
				}
			}
			atts := getA(msgs[0], "attachments")
			if len(atts) != 1 || getS(atts[0], "filename") != "photo.jpg" || getS(atts[0], "content_type") != "image/jpeg" ||
				getN(atts[0], "size_bytes") != 1234 || getS(atts[0], "url") != "https://files.example/photo.jpg" {
				t.Errorf("attachments = %v", atts)
			}
			if atts, ok := msgs[1]["attachments"].([]any); !ok || len(atts) != 0 {
				t.Errorf("reply attachments = %#v, want []", msgs[1]["attachments"])
			}

			evs := getA(d, "events")
			wantEvents := []struct{ kind, actor, actorKind string }{
				{"ticket.created", "customer", "customer"},
				{"message.received", "customer", "customer"},
				{"ticket.assigned", "agent1@hotline.test", "agent"},
				{"reply.queued", "agent1@hotline.test", "agent"},
				{"status.changed", "agent1@hotline.test", "agent"},
				{"note.added", "agent1@hotline.test", "agent"},
			}
			if len(evs) != len(wantEvents) {
				t.Fatalf("events %v, want %v", eventKinds(d), wantEvents)
			}
			for i, w := range wantEvents {
				ev := evs[i]
				if getS(ev, "kind") != w.kind || getS(ev, "actor") != w.actor || getS(ev, "actor_kind") != w.actorKind {
					t.Errorf("event %d = %v, want %+v", i, ev, w)
				}
				if _, err := time.Parse(time.RFC3339, getS(ev, "created_at")); err != nil {
					t.Errorf("event %d created_at %q is not RFC 3339", i, getS(ev, "created_at"))
				}
			}
			wantTime(t, evs[0], "created_at", t0)
			wantTime(t, evs[5], "created_at", t0.Add(16*time.Minute))
			if data := evs[4]["data"]; getS(data, "from") != "new" || getS(data, "to") != "open" || getS(data, "reason") != "first reply" {
				t.Errorf("status event data = %v", data)
			}
			if getS(evs[0], "data", "ref") != ref {
				t.Errorf("created event data = %v", evs[0]["data"])
			}
		})

		for _, tc := range []struct {
			name, ref string
			want      int
		}{
			{"canonical ref", ref, 200},
			{"short lower-case ref", fmt.Sprintf("hl-%d", tk.ID), 200},
			{"unknown ref", "HL-999999", 404},
			{"malformed ref", "ticket-1", 404},
			{"number only", strconv.FormatInt(tk.ID, 10), 404},
			{"zero", "HL-000000", 404},
			{"negative", "HL--1", 404},
			{"overflowing", "HL-99999999999999999999", 404},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, js := e.do(t, "GET", "/api/v1/tickets/"+tc.ref, "agent1", nil)
				wantStatus(t, status, js, tc.want)
				if tc.want == 200 && getS(js, "ref") != ref {
					t.Errorf("ref = %q, want %q", getS(js, "ref"), ref)
				}
			})
		}
	})
}

func TestCreateTicket(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		e.clock.Advance(2 * time.Hour)
		now := e.clock.Now()

		type want struct {
			channel, priority, phone, email, name, subject, category, body string
			who, team                                                      string
		}
		cases := []struct {
			name   string
			who    string
			body   any
			status int
			want   want
		}{
			{"phone call with a local number", "agent1", map[string]any{
				"channel": "phone", "customer": map[string]string{"name": "Wang Fang", "phone": "138 0013 8000"},
				"subject": "Policy question", "body": "Asks what the policy covers", "category": "policy", "priority": "high",
			}, 201, want{"phone", "high", "+8613800138000", "", "Wang Fang", "Policy question", "policy", "Asks what the policy covers", "agent1", "Claims"}},
			{"defaults to a normal phone call", "agent1", map[string]any{
				"customer": map[string]string{"phone": "+44 20 7946 0958"}, "subject": "Lost card",
			}, 201, want{"phone", "normal", "+442079460958", "", "", "Lost card", "", "", "agent1", "Claims"}},
			{"walk-in with only an email", "agent3", map[string]any{
				"channel": "walk_in", "customer": map[string]string{"name": "Li Na", "email": "Li.Na@Example.COM"},
				"body": "Came to the counter\nabout a refund",
			}, 201, want{"walk_in", "normal", "", "li.na@example.com", "Li Na", "Came to the counter", "", "Came to the counter\nabout a refund", "agent3", "Billing"}},
			{"phone and email", "sup1", map[string]any{
				"customer": map[string]string{"phone": "0086-139-1234-5678", "email": "zhao@example.com"}, "subject": "Two ways to reach me",
			}, 201, want{"phone", "normal", "+8613912345678", "zhao@example.com", "", "Two ways to reach me", "", "", "sup1", "Claims"}},
			{"landline with a trunk zero", "agent1", map[string]any{
				"customer": map[string]string{"phone": "(010) 1234-5678"}, "subject": "Landline",
			}, 201, want{"phone", "normal", "+861012345678", "", "", "Landline", "", "", "agent1", "Claims"}},
			{"full-width digits", "agent1", map[string]any{
				"customer": map[string]string{"phone": "１３９００００００９９"}, "subject": "Full width",
			}, 201, want{"phone", "normal", "+8613900000099", "", "", "Full width", "", "", "agent1", "Claims"}},

			{"letters in the phone", "agent1", map[string]any{"customer": map[string]string{"phone": "138-ABC-8000"}, "subject": "x"}, 400, want{}},
			{"too short a phone", "agent1", map[string]any{"customer": map[string]string{"phone": "12345"}, "subject": "x"}, 400, want{}},
			{"no way to reach the customer", "agent1", map[string]any{"customer": map[string]string{"name": "Anonymous"}, "subject": "x"}, 400, want{}},
			{"invalid email", "agent1", map[string]any{"customer": map[string]string{"email": "not-an-email"}, "subject": "x"}, 400, want{}},
			{"invalid email beside a phone", "agent1", map[string]any{"customer": map[string]string{"phone": "13800138000", "email": "nope"}, "subject": "x"}, 400, want{}},
			{"sms channel", "agent1", map[string]any{"channel": "sms", "customer": map[string]string{"phone": "13800138000"}, "subject": "x"}, 400, want{}},
			{"email channel", "agent1", map[string]any{"channel": "email", "customer": map[string]string{"email": "a@example.com"}, "subject": "x"}, 400, want{}},
			{"unknown channel", "agent1", map[string]any{"channel": "fax", "customer": map[string]string{"phone": "13800138000"}, "subject": "x"}, 400, want{}},
			{"unknown priority", "agent1", map[string]any{"customer": map[string]string{"phone": "13800138000"}, "subject": "x", "priority": "asap"}, 400, want{}},
			{"neither subject nor body", "agent1", map[string]any{"customer": map[string]string{"phone": "13800138000"}, "subject": "  "}, 400, want{}},
			{"no body", "agent1", nil, 400, want{}},
			{"malformed JSON", "agent1", `{"customer": {"phone": "13800138000"}, "subject": "x"`, 400, want{}},
			{"unknown field", "agent1", `{"customer": {"phone": "13800138000"}, "subject": "x", "assignee": 1}`, 400, want{}},
			{"unknown nested field", "agent1", `{"customer": {"phone": "13800138000", "fax": "1"}, "subject": "x"}`, 400, want{}},
		}
		created := 0
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				status, hdr, d := doFull(t, e.app, "POST", "/api/v1/tickets", e.tok[tc.who], tc.body)
				wantStatus(t, status, d, tc.status)
				if tc.status != 201 {
					return
				}
				created++
				w := tc.want
				ref := getS(d, "ref")
				if loc := hdr.Get("Location"); loc != "/api/v1/tickets/"+ref || ref == "" {
					t.Errorf("Location %q, want /api/v1/tickets/%s", loc, ref)
				}
				if getS(d, "status") != "open" || getS(d, "channel") != w.channel || getS(d, "priority") != w.priority ||
					getS(d, "subject") != w.subject || getS(d, "category") != w.category {
					t.Errorf("ticket = %v, want %+v", d, w)
				}
				if getN(d, "assignee", "id") != e.id(w.who) || getN(d, "team", "id") != e.team(w.team) {
					t.Errorf("assignee %v team %v, want %s in %s", d["assignee"], d["team"], w.who, w.team)
				}
				if getS(d, "customer", "phone") != privacy.MaskPhone(w.phone) || getS(d, "customer", "email") != privacy.MaskEmail(w.email) || getS(d, "customer", "name") != w.name {
					t.Errorf("customer = %v, want phone %q email %q name %q", d["customer"], w.phone, w.email, w.name)
				}
				// The number is stored in full, normalised: its assignee may see it so.
				if w.phone != "" {
					status, rv := e.do(t, "POST", fmt.Sprintf("/api/v1/customers/%d/reveal", getN(d, "customer", "id")), tc.who, map[string]string{"field": "phone", "ticket": ref})
					wantStatus(t, status, rv, 200)
					if getS(rv, "value") != w.phone {
						t.Errorf("revealed phone %q, want %q", getS(rv, "value"), w.phone)
					}
				}
				wantTime(t, d, "created_at", now)
				wantTime(t, d, "first_response_due_at", now.Add(24*time.Hour))
				wantTime(t, d, "resolution_due_at", now.Add(48*time.Hour))
				msgs := getA(d, "messages")
				if w.body == "" {
					if len(msgs) != 0 {
						t.Errorf("messages = %v, want none without a description", msgs)
					}
				} else if len(msgs) != 1 || getS(msgs[0], "direction") != "inbound" || getS(msgs[0], "body") != w.body ||
					getS(msgs[0], "channel") != w.channel || getN(msgs[0], "author_id") != e.id(w.who) {
					t.Errorf("messages = %v, want the caller's words as one inbound message", msgs)
				}
				if kinds := eventKinds(d); !slices.Equal(kinds, []string{"ticket.created"}) || getS(getA(d, "events")[0], "actor") != w.who+"@hotline.test" {
					t.Errorf("events = %v, want ticket.created by %s", d["events"], w.who)
				}
				// The answer is what GET returns.
				if got := e.detail(t, ref); getS(got, "customer", "phone") != privacy.MaskPhone(w.phone) || getN(got, "assignee", "id") != e.id(w.who) {
					t.Errorf("GET after create = %v", got)
				}
			})
		}

		t.Run("failed requests stored nothing", func(t *testing.T) {
			if got := e.refs(t, "admin", "limit=200"); len(got) != created {
				t.Errorf("%d tickets stored, want %d", len(got), created)
			}
		})

		t.Run("same phone, same customer", func(t *testing.T) {
			first := e.create(t, "agent1", phoneCall("+86 138 0013 8000", "Calling again"))
			second := e.create(t, "agent2", phoneCall("13800138000", "And again"))
			if id := getN(first, "customer", "id"); id <= 0 || id != getN(second, "customer", "id") || getS(first, "ref") == getS(second, "ref") {
				t.Errorf("customers %v / %v, want one customer with two tickets", first["customer"], second["customer"])
			}
			if getS(second, "customer", "name") != "Wang Fang" {
				t.Errorf("returning customer lost their name: %v", second["customer"])
			}
		})
	})
}

// ---------------------------------------------------------------------------------------
// Ticket actions

func TestReplyAndNote(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		a := e.intake(t, sms("13900000001", "Where is my refund?")).Ref()
		b := e.intake(t, sms("13900000002", "Card blocked")).Ref()

		t.Run("first reply", func(t *testing.T) {
			e.clock.Advance(time.Hour)
			m := e.mustAct(t, "agent1", a, "replies", map[string]string{"body": "  Hello, we are looking into it  "})
			wantHasKeys(t, m, "id", "direction", "channel", "body", "author_id", "delivery_status", "attachments", "created_at")
			if getN(m, "id") <= 0 || getS(m, "direction") != "outbound" || getS(m, "channel") != "sms" || getS(m, "body") != "Hello, we are looking into it" ||
				getS(m, "delivery_status") != "queued" || getN(m, "author_id") != e.id("agent1") {
				t.Errorf("reply = %v", m)
			}
			wantTime(t, m, "created_at", t0.Add(time.Hour))
			d := e.detail(t, a)
			if getS(d, "status") != "open" || len(getA(d, "messages")) != 2 {
				t.Errorf("after the first reply: status %q, %d messages; want open and 2", getS(d, "status"), len(getA(d, "messages")))
			}
			wantTime(t, d, "first_responded_at", t0.Add(time.Hour))
			if got := eventKinds(d)[2:]; !slices.Equal(got, []string{"reply.queued", "status.changed"}) {
				t.Errorf("events after the reply %v", got)
			}
		})

		t.Run("later replies keep the first response time", func(t *testing.T) {
			e.clock.Advance(time.Hour)
			e.mustAct(t, "agent1", a, "replies", map[string]string{"body": "Refund sent"})
			d := e.detail(t, a)
			wantTime(t, d, "first_responded_at", t0.Add(time.Hour))
			if getS(d, "status") != "open" || len(getA(d, "messages")) != 3 {
				t.Errorf("status %q, %d messages", getS(d, "status"), len(getA(d, "messages")))
			}
		})

		t.Run("note is internal", func(t *testing.T) {
			m := e.mustAct(t, "agent1", b, "notes", map[string]string{"body": " Customer is a VIP "})
			if getS(m, "direction") != "note" || getS(m, "body") != "Customer is a VIP" || getS(m, "channel") != "sms" ||
				getN(m, "author_id") != e.id("agent1") || getS(m, "delivery_status") == "queued" {
				t.Errorf("note = %v", m)
			}
			d := e.detail(t, b)
			// A note is not an answer to the customer.
			if getS(d, "status") != "new" || len(getA(d, "messages")) != 2 {
				t.Errorf("after a note: status %q, %d messages; want new and 2", getS(d, "status"), len(getA(d, "messages")))
			}
			wantNull(t, d, "first_responded_at")
			if ev := lastEvent(t, d); getS(ev, "kind") != "note.added" || getN(ev, "data", "message_id") != getN(m, "id") {
				t.Errorf("last event = %v", ev)
			}
		})

		t.Run("reply goes out on the channel the customer last used", func(t *testing.T) {
			// Logged from a call (phone and email known), then the customer writes an email
			// about it (an email joins a ticket it names; see tickets' threading rule).
			c := getS(e.create(t, "agent2", map[string]any{"customer": map[string]string{"phone": "13900000004", "email": "jo@example.com"}, "subject": "call"}), "ref")
			e.intake(t, tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "jo@example.com", Subject: "Re: call [" + c + "]", Body: "as promised, the invoice"})
			m := e.mustAct(t, "agent2", c, "replies", map[string]string{"body": "answering by email"})
			if getS(m, "channel") != "email" {
				t.Errorf("reply channel %q, want email", getS(m, "channel"))
			}
		})

		t.Run("a call is answered by SMS", func(t *testing.T) {
			c := e.intake(t, sms("13900000003", "texting first")).Ref()
			e.intake(t, tickets.Inbound{Channel: tickets.ChannelPhone, From: tickets.IdentityPhone, Address: "13900000003", Body: "voicemail"})
			m := e.mustAct(t, "agent2", c, "replies", map[string]string{"body": "calling you back"})
			if getS(m, "channel") != "sms" {
				t.Errorf("reply channel %q, want sms: a phone call is answered in writing by SMS", getS(m, "channel"))
			}
		})

		closed := e.intake(t, sms("13900000009", "done")).Ref()
		e.mustAct(t, "admin", closed, "status", map[string]string{"status": "resolved"})
		e.mustAct(t, "admin", closed, "status", map[string]string{"status": "closed"})

		for _, tc := range []struct {
			name, action, ref string
			body              any
			want              int
		}{
			{"blank reply", "replies", b, map[string]string{"body": "   "}, 400},
			{"reply without body field", "replies", b, map[string]string{}, 400},
			{"too long a reply", "replies", b, map[string]string{"body": strings.Repeat("x", 64<<10+1)}, 400},
			{"reply to an unknown ticket", "replies", "HL-999999", map[string]string{"body": "hi"}, 404},
			{"reply to a malformed ref", "replies", "nope", map[string]string{"body": "hi"}, 404},
			{"reply to a closed ticket", "replies", closed, map[string]string{"body": "hi"}, 409},
			{"blank note", "notes", b, map[string]string{"body": "\n\t"}, 400},
			{"too long a note", "notes", b, map[string]string{"body": strings.Repeat("x", 64<<10+1)}, 400},
			{"note on an unknown ticket", "notes", "HL-999999", map[string]string{"body": "hi"}, 404},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var before map[string]any
				if tc.want != 404 {
					before = e.detail(t, tc.ref)
				}
				status, js := e.act(t, "admin", tc.ref, tc.action, tc.body)
				wantStatus(t, status, js, tc.want)
				if before != nil {
					after := e.detail(t, tc.ref)
					if len(getA(after, "messages")) != len(getA(before, "messages")) || len(getA(after, "events")) != len(getA(before, "events")) {
						t.Errorf("a refused %s was stored", tc.action)
					}
				}
			})
		}
	})
}

func TestAssign(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		free := e.intake(t, sms("13900000001", "unassigned, no team")).Ref()
		queued := e.intake(t, sms("13900000002", "in the Claims queue")).Ref()
		e.mustAct(t, "admin", queued, "assign", map[string]any{"team_id": e.team("Claims")})
		owned := getS(e.create(t, "agent1", phoneCall("13900000003", "agent1's call")), "ref")
		gone, err := e.svc.CreateAgent(ctx, system, tickets.NewAgent{Email: "gone@hotline.test", Name: "Gone", Password: password})
		if err != nil {
			t.Fatal(err)
		}
		inactive := false
		if _, err := e.svc.UpdateAgent(ctx, system, gone.ID, tickets.AgentUpdate{Active: &inactive}); err != nil {
			t.Fatal(err)
		}

		type owner struct {
			assignee int64 // 0: nobody
			team     string
		}
		cases := []struct {
			name, who, ref string
			body           any
			want           int
			after          owner
			reason         string
		}{
			{"agent cannot assign to someone else", "agent1", free, map[string]any{"assignee_id": e.id("agent2")}, 403, owner{0, ""}, ""},
			{"agent takes an unassigned ticket", "agent1", free, map[string]any{"assignee_id": e.id("agent1")}, 200, owner{e.id("agent1"), "Claims"}, ""},
			{"agent of another team cannot take a team's ticket", "agent3", queued, map[string]any{"assignee_id": e.id("agent3")}, 403, owner{0, "Claims"}, ""},
			{"agent cannot move a team's ticket to another queue", "agent2", queued, map[string]any{"team_id": e.team("Billing")}, 403, owner{0, "Claims"}, ""},
			{"agent of the team takes it", "agent2", queued, map[string]any{"assignee_id": e.id("agent2")}, 200, owner{e.id("agent2"), "Claims"}, ""},
			{"agent cannot take someone else's ticket", "agent2", owned, map[string]any{"assignee_id": e.id("agent2")}, 403, owner{e.id("agent1"), "Claims"}, ""},
			{"supervisor of another team cannot reassign", "sup2", owned, map[string]any{"assignee_id": e.id("agent3")}, 403, owner{e.id("agent1"), "Claims"}, ""},
			{"supervisor reassigns within their team", "sup1", owned, map[string]any{"assignee_id": e.id("agent2"), "reason": "  Bo is on leave "}, 200, owner{e.id("agent2"), "Claims"}, "Bo is on leave"},
			{"admin moves a ticket to another team's queue", "admin", owned, map[string]any{"team_id": e.team("Billing"), "reason": "billing issue"}, 200, owner{0, "Billing"}, "billing issue"},
			{"nothing to assign to", "admin", owned, map[string]any{}, 400, owner{0, "Billing"}, ""},
			{"wrong type", "admin", owned, map[string]any{"assignee_id": "agent2"}, 400, owner{0, "Billing"}, ""},
			{"unknown agent", "admin", owned, map[string]any{"assignee_id": 999999}, 404, owner{0, "Billing"}, ""},
			{"unknown team", "admin", owned, map[string]any{"team_id": 999999}, 404, owner{0, "Billing"}, ""},
			{"deactivated agent", "admin", owned, map[string]any{"assignee_id": gone.ID}, 409, owner{0, "Billing"}, ""},
			{"unknown ticket", "admin", "HL-999999", map[string]any{"assignee_id": e.id("agent1")}, 404, owner{}, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var before map[string]any
				if tc.ref != "HL-999999" {
					before = e.detail(t, tc.ref)
				}
				status, js := e.act(t, tc.who, tc.ref, "assign", tc.body)
				wantStatus(t, status, js, tc.want)
				if before == nil {
					return
				}
				d := js
				if tc.want != 200 {
					d = e.detail(t, tc.ref)
					if len(getA(d, "events")) != len(getA(before, "events")) {
						t.Errorf("a refused assignment recorded an event: %v", eventKinds(d))
					}
				} else if !reflect.DeepEqual(d, e.detail(t, tc.ref)) {
					t.Errorf("assign answered %v, but GET says %v", d, e.detail(t, tc.ref))
				}
				if got := getN(d, "assignee", "id"); got != tc.after.assignee {
					t.Errorf("assignee %v, want id %d", d["assignee"], tc.after.assignee)
				}
				if tc.after.assignee == 0 {
					wantNull(t, d, "assignee")
				}
				if tc.after.team == "" {
					wantNull(t, d, "team")
				} else if getS(d, "team", "name") != tc.after.team {
					t.Errorf("team %v, want %s", d["team"], tc.after.team)
				}
				if tc.want != 200 {
					return
				}
				ev := lastEvent(t, d)
				if getS(ev, "kind") != "ticket.assigned" || getS(ev, "actor") != tc.who+"@hotline.test" {
					t.Errorf("last event = %v", ev)
				}
				if getN(ev, "data", "from_assignee") != getN(before, "assignee", "id") || getN(ev, "data", "to_assignee") != tc.after.assignee {
					t.Errorf("event data %v, want from %v to %d", ev["data"], before["assignee"], tc.after.assignee)
				}
				if r, ok := get(ev, "data", "reason").(string); tc.reason != "" && r != tc.reason || tc.reason == "" && ok {
					t.Errorf("event reason %q, want %q", r, tc.reason)
				}
			})
		}
	})
}

func TestStatus(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		s := e.intake(t, sms("13900000001", "status ticket")).Ref()
		e.clock.Advance(time.Hour)
		other := e.intake(t, sms("13900000002", "a later ticket")).Ref()
		done := e.intake(t, sms("13900000003", "already resolved")).Ref()
		e.mustAct(t, "admin", done, "status", map[string]string{"status": "resolved"})
		e.mustAct(t, "agent1", s, "assign", map[string]any{"assignee_id": e.id("agent1")})

		// ahead reports whether ticket a comes before ticket b in the default queue.
		ahead := func(t *testing.T, a, b string) bool {
			t.Helper()
			refs := e.refs(t, "agent1", "")
			i, j := slices.Index(refs, a), slices.Index(refs, b)
			if i < 0 || j < 0 {
				t.Fatalf("queue %v lacks %s or %s", refs, a, b)
			}
			return i < j
		}
		// reopened checks that a new resolution window starts at the reopening and that
		// the ticket is back among active work, ahead of resolved tickets.
		reopened := func(t *testing.T, d map[string]any) {
			t.Helper()
			wantNull(t, d, "resolved_at")
			wantNull(t, d, "closed_at")
			wantTime(t, d, "resolution_due_at", e.clock.Now().Add(48*time.Hour))
			if !ahead(t, s, done) {
				t.Error("a reopened ticket stays at the back of the queue with resolved work")
			}
		}
		cases := []struct {
			name, ref, status, reason string
			want                      int
			kind                      string // event kind on success
			check                     func(t *testing.T, d map[string]any)
		}{
			{"new cannot be closed", s, "closed", "", 409, "", nil},
			{"already new", s, "new", "", 409, "", nil},
			{"unknown status", s, "done", "", 400, "", nil},
			{"empty status", s, "", "", 400, "", nil},
			{"status is case-sensitive", s, "OPEN", "", 400, "", nil},
			{"new to pending", s, "pending", " waiting for documents ", 200, "status.changed", nil},
			{"already pending", s, "pending", "", 409, "", nil},
			{"pending to resolved", s, "resolved", "", 200, "status.changed", func(t *testing.T, d map[string]any) {
				wantTime(t, d, "resolved_at", e.clock.Now())
				if ahead(t, s, other) {
					t.Error("a resolved ticket stays ahead of active work in the queue")
				}
			}},
			{"resolved cannot go pending", s, "pending", "", 409, "", nil},
			{"reopen resolved", s, "open", "customer called back", 200, "ticket.reopened", reopened},
			{"open to resolved", s, "resolved", "", 200, "status.changed", nil},
			{"resolved to closed", s, "closed", "", 200, "status.changed", func(t *testing.T, d map[string]any) {
				wantTime(t, d, "closed_at", e.clock.Now())
			}},
			{"closed cannot be resolved", s, "resolved", "", 409, "", nil},
			{"reopen closed", s, "open", "", 200, "ticket.reopened", reopened},
			{"open cannot go back to new", s, "new", "", 409, "", nil},
			{"new to resolved directly", other, "resolved", "", 200, "status.changed", nil},
			{"unknown ticket", "HL-999999", "open", "", 404, "", nil},
			{"malformed ref", "HL-x", "open", "", 404, "", nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e.clock.Advance(time.Minute)
				var before map[string]any
				if tc.want != 404 {
					before = e.detail(t, tc.ref)
				}
				status, d := e.act(t, "agent1", tc.ref, "status", map[string]string{"status": tc.status, "reason": tc.reason})
				wantStatus(t, status, d, tc.want)
				if before == nil {
					return
				}
				if tc.want != 200 {
					after := e.detail(t, tc.ref)
					if getS(after, "status") != getS(before, "status") || len(getA(after, "events")) != len(getA(before, "events")) {
						t.Errorf("a refused change moved the ticket from %s to %s", getS(before, "status"), getS(after, "status"))
					}
					return
				}
				if getS(d, "status") != tc.status || getS(d, "ref") != tc.ref {
					t.Errorf("status %q, want %q", getS(d, "status"), tc.status)
				}
				ev := lastEvent(t, d)
				if getS(ev, "kind") != tc.kind || getS(ev, "data", "from") != getS(before, "status") || getS(ev, "data", "to") != tc.status {
					t.Errorf("last event = %v, want %s from %s to %s", ev, tc.kind, getS(before, "status"), tc.status)
				}
				if r := strings.TrimSpace(tc.reason); getS(ev, "data", "reason") != r {
					t.Errorf("event reason %q, want %q", getS(ev, "data", "reason"), r)
				}
				if tc.check != nil {
					tc.check(t, d)
				}
			})
		}
	})
}

func TestPriority(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ref := getS(e.create(t, "agent1", phoneCall("13900000001", "priority ticket")), "ref")
		cases := []struct {
			priority, reason string
			want             int
			after            string
		}{
			{"high", "VIP customer", 200, "high"},
			{"high", "", 409, "high"},
			{"urgent", "", 200, "urgent"},
			{"low", "", 200, "low"},
			{"critical", "", 400, "low"},
			{"", "", 400, "low"},
			{"HIGH", "", 400, "low"},
		}
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%q", tc.priority), func(t *testing.T) {
				before := e.detail(t, ref)
				status, js := e.act(t, "agent1", ref, "priority", map[string]string{"priority": tc.priority, "reason": tc.reason})
				wantStatus(t, status, js, tc.want)
				d := e.detail(t, ref)
				if getS(d, "priority") != tc.after {
					t.Errorf("priority %q, want %q", getS(d, "priority"), tc.after)
				}
				if tc.want != 200 {
					if len(getA(d, "events")) != len(getA(before, "events")) {
						t.Error("a refused change recorded an event")
					}
					return
				}
				if getS(js, "priority") != tc.after {
					t.Errorf("answer priority %q, want %q", getS(js, "priority"), tc.after)
				}
				ev := lastEvent(t, d)
				if getS(ev, "kind") != "priority.changed" || getS(ev, "data", "from") != getS(before, "priority") ||
					getS(ev, "data", "to") != tc.after || getS(ev, "data", "reason") != tc.reason {
					t.Errorf("last event = %v", ev)
				}
			})
		}
		t.Run("unknown ticket", func(t *testing.T) {
			status, js := e.act(t, "admin", "HL-999999", "priority", map[string]string{"priority": "high"})
			wantStatus(t, status, js, 404)
		})
	})
}

// TestMalformedBodies sends every JSON endpoint a valid body spoiled in several ways: each
// must be refused with 400 and change nothing, while the unspoiled body works.
func TestMalformedBodies(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ref := e.intake(t, sms("13900000001", "hello")).Ref()
		agent1 := fmt.Sprintf("/api/v1/agents/%d", e.id("agent1"))
		claims := fmt.Sprintf("/api/v1/teams/%d", e.team("Claims"))
		endpoints := []struct {
			name, method, path, who, valid string
			want                           int
		}{
			{"login", "POST", "/api/v1/auth/login", "", `{"email": "agent1@hotline.test", "password": "` + password + `"}`, 200},
			{"create ticket", "POST", "/api/v1/tickets", "agent1", `{"customer": {"phone": "13800138000"}, "subject": "hi"}`, 201},
			{"reply", "POST", "/api/v1/tickets/" + ref + "/replies", "admin", `{"body": "hi"}`, 201},
			{"note", "POST", "/api/v1/tickets/" + ref + "/notes", "admin", `{"body": "hi"}`, 201},
			{"assign", "POST", "/api/v1/tickets/" + ref + "/assign", "admin", fmt.Sprintf(`{"assignee_id": %d}`, e.id("agent1")), 200},
			{"status", "POST", "/api/v1/tickets/" + ref + "/status", "admin", `{"status": "pending"}`, 200},
			{"priority", "POST", "/api/v1/tickets/" + ref + "/priority", "admin", `{"priority": "high"}`, 200},
			{"create agent", "POST", "/api/v1/agents", "admin", `{"email": "new@hotline.test", "password": "` + password + `"}`, 201},
			{"update agent", "PATCH", agent1, "admin", `{"name": "Renamed"}`, 200},
			{"create team", "POST", "/api/v1/teams", "admin", `{"name": "New Team"}`, 201},
			{"rename team", "PATCH", claims, "admin", `{"name": "Renamed Team"}`, 200},
		}
		spoil := []struct {
			name string
			fn   func(valid string) string
		}{
			{"empty body", func(string) string { return "" }},
			{"malformed JSON", func(v string) string { return v[:len(v)-1] }},
			{"unknown field", func(v string) string { return v[:len(v)-1] + `, "extra": true}` }},
			{"two JSON values", func(v string) string { return v + ` {}` }},
			{"an array", func(v string) string { return "[" + v + "]" }},
		}
		state := func(t *testing.T) string {
			t.Helper()
			_, agents := e.do(t, "GET", "/api/v1/agents", "admin", nil)
			_, teams := e.do(t, "GET", "/api/v1/teams", "admin", nil)
			_, list := e.do(t, "GET", "/api/v1/tickets", "admin", nil)
			raw, _ := json.Marshal([]any{agents, teams, list, e.detail(t, ref)})
			return string(raw)
		}
		before := state(t)
		for _, ep := range endpoints {
			for _, sp := range spoil {
				t.Run(ep.name+"/"+sp.name, func(t *testing.T) {
					status, js := e.do(t, ep.method, ep.path, ep.who, sp.fn(ep.valid))
					wantStatus(t, status, js, 400)
				})
			}
		}
		if after := state(t); after != before {
			t.Errorf("malformed requests changed the data:\nbefore %s\nafter  %s", before, after)
		}
		// The same bodies unspoiled are accepted, so the 400s above came from the spoiling.
		for _, ep := range endpoints {
			t.Run(ep.name+"/valid", func(t *testing.T) {
				status, js := e.do(t, ep.method, ep.path, ep.who, ep.valid)
				wantStatus(t, status, js, ep.want)
			})
		}
	})
}

// ---------------------------------------------------------------------------------------
// Roles

func TestTicketPermissions(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		p := getS(e.create(t, "agent1", phoneCall("13900000001", "agent1's ticket in Claims")), "ref")
		q := getS(e.create(t, "agent3", phoneCall("13900000003", "agent3's ticket in Billing")), "ref")
		x := getS(e.create(t, "agent1", phoneCall("13900000005", "agent1's ticket in Billing")), "ref")
		e.mustAct(t, "admin", x, "assign", map[string]any{"team_id": e.team("Billing"), "assignee_id": e.id("agent1")})

		reply := map[string]string{"body": "hello"}
		note := map[string]string{"body": "internal"}
		pending := map[string]string{"status": "pending"}
		high := map[string]string{"priority": "high"}
		cases := []struct {
			name, who, ref, action string
			body                   any
			want                   int
		}{
			{"teammate cannot reply", "agent2", p, "replies", reply, 403},
			{"teammate cannot add a note", "agent2", p, "notes", note, 403},
			{"teammate cannot change status", "agent2", p, "status", pending, 403},
			{"teammate cannot change priority", "agent2", p, "priority", high, 403},
			{"teammate cannot take it", "agent2", p, "assign", map[string]any{"assignee_id": e.id("agent2")}, 403},
			{"agent of another team cannot reply", "agent3", p, "replies", reply, 403},
			{"supervisor of another team cannot reply", "sup2", p, "replies", reply, 403},
			{"supervisor of another team cannot change status", "sup2", p, "status", pending, 403},
			{"agent of the ticket's team cannot reply to someone else's ticket", "agent3", x, "replies", reply, 403},
			{"assignee replies", "agent1", p, "replies", reply, 201},
			{"supervisor of the team replies", "sup1", p, "replies", reply, 201},
			{"supervisor of the team changes priority", "sup1", p, "priority", high, 200},
			{"supervisor of the assignee's team changes a ticket in another team", "sup1", x, "status", pending, 200},
			{"supervisor of the ticket's team changes it", "sup2", x, "priority", high, 200},
			{"admin replies to any ticket", "admin", q, "replies", reply, 201},
			{"admin adds a note to any ticket", "admin", q, "notes", note, 201},
			{"admin changes any ticket", "admin", q, "status", pending, 200},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := e.detail(t, tc.ref)
				status, js := e.act(t, tc.who, tc.ref, tc.action, tc.body)
				wantStatus(t, status, js, tc.want)
				after := e.detail(t, tc.ref)
				msgs, evs := len(getA(after, "messages"))-len(getA(before, "messages")), len(getA(after, "events"))-len(getA(before, "events"))
				if tc.want == 403 {
					if msgs != 0 || evs != 0 || getS(after, "status") != getS(before, "status") ||
						getS(after, "priority") != getS(before, "priority") || getN(after, "assignee", "id") != getN(before, "assignee", "id") {
						t.Errorf("a forbidden %s changed the ticket (+%d messages, +%d events)", tc.action, msgs, evs)
					}
					return
				}
				if evs == 0 {
					t.Errorf("an allowed %s recorded no event", tc.action)
				}
				if wantMsgs := map[bool]int{true: 1, false: 0}[tc.want == 201]; msgs != wantMsgs {
					t.Errorf("+%d messages, want +%d", msgs, wantMsgs)
				}
				if ev := lastEvent(t, after); getS(ev, "actor") != tc.who+"@hotline.test" {
					t.Errorf("last event by %q, want %s", getS(ev, "actor"), tc.who)
				}
			})
		}
	})
}

func TestAdminOnly(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		spare, err := e.svc.CreateTeam(context.Background(), system, "Spare")
		if err != nil {
			t.Fatal(err)
		}
		for _, who := range []string{"agent1", "sup1"} {
			self := fmt.Sprintf("/api/v1/agents/%d", e.id(who))
			agent2 := fmt.Sprintf("/api/v1/agents/%d", e.id("agent2"))
			sparePath := fmt.Sprintf("/api/v1/teams/%d", spare.ID)
			cases := []struct {
				name, method, path string
				body               any
			}{
				{"create agent", "POST", "/api/v1/agents", map[string]string{"email": "sneaky@hotline.test", "password": password, "role": "admin"}},
				{"rename another agent", "PATCH", agent2, map[string]string{"name": "Hacked"}},
				{"promote another agent", "PATCH", agent2, map[string]string{"role": "admin"}},
				{"promote self", "PATCH", self, map[string]string{"role": "admin"}},
				{"raise own capacity", "PATCH", self, map[string]int{"capacity": 99}},
				{"change own team", "PATCH", self, map[string]int64{"team_id": e.team("Billing")}},
				{"leave own team", "PATCH", self, map[string]bool{"no_team": true}},
				{"deactivate another agent", "DELETE", agent2, nil},
				{"create team", "POST", "/api/v1/teams", map[string]string{"name": "Shadow"}},
				{"rename team", "PATCH", sparePath, map[string]string{"name": "Mine"}},
				{"delete team", "DELETE", sparePath, nil},
			}
			for _, tc := range cases {
				t.Run(who+"/"+tc.name, func(t *testing.T) {
					status, js := e.do(t, tc.method, tc.path, who, tc.body)
					wantStatus(t, status, js, 403)
				})
			}
		}

		t.Run("nothing changed", func(t *testing.T) {
			status, js := e.do(t, "GET", "/api/v1/agents", "agent1", nil)
			wantStatus(t, status, js, 200)
			if items := itemsOf(t, js); len(items) != len(staff) {
				t.Errorf("%d agents, want %d", len(items), len(staff))
			}
			for _, s := range staff {
				status, a := e.do(t, "GET", fmt.Sprintf("/api/v1/agents/%d", e.id(s.key)), "agent1", nil)
				wantStatus(t, status, a, 200)
				if getS(a, "name") != s.name || getS(a, "role") != string(s.role) || !getB(a, "active") || getN(a, "capacity") != 10 {
					t.Errorf("agent %s = %v", s.key, a)
				}
			}
			status, js = e.do(t, "GET", "/api/v1/teams", "agent1", nil)
			wantStatus(t, status, js, 200)
			if names := fieldOf(itemsOf(t, js), "name"); !slices.Equal(names, []string{"Billing", "Claims", "Spare"}) {
				t.Errorf("teams %v", names)
			}
		})

		t.Run("agents manage their own name, language and password", func(t *testing.T) {
			self := fmt.Sprintf("/api/v1/agents/%d", e.id("agent1"))
			status, js := e.do(t, "PATCH", self, "agent1", map[string]string{"name": "Bo Renamed", "locale": "en"})
			wantStatus(t, status, js, 200)
			status, me := e.do(t, "GET", "/api/v1/me", "agent1", nil)
			wantStatus(t, status, me, 200)
			if getS(me, "name") != "Bo Renamed" || getS(me, "locale") != "en" || getS(me, "role") != "agent" {
				t.Errorf("/me = %v", me)
			}
			status, js = e.do(t, "PATCH", self, "agent1", map[string]string{"password": "a-brand-new-password"})
			wantStatus(t, status, js, 200)
			// A new password signs out every session.
			status, js = e.do(t, "GET", "/api/v1/me", "agent1", nil)
			wantStatus(t, status, js, 401)
			status, js = do(t, e.app, "POST", "/api/v1/auth/login", "", map[string]string{"email": "agent1@hotline.test", "password": password})
			wantStatus(t, status, js, 401)
			login(t, e.app, "agent1@hotline.test", "a-brand-new-password")
		})
	})
}

func TestAgents(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		e.clock.Advance(time.Hour)
		var hire int64
		path := func() string { return fmt.Sprintf("/api/v1/agents/%d", hire) }

		t.Run("create", func(t *testing.T) {
			status, js := e.do(t, "POST", "/api/v1/agents", "admin", map[string]any{
				"email": " New.Hire@Example.com ", "name": "Gu New", "role": "supervisor", "team_id": e.team("Claims"),
				"capacity": 5, "password": "long-enough-pw", "locale": "en",
			})
			wantStatus(t, status, js, 201)
			wantAgent(t, js)
			hire = getN(js, "id")
			if hire <= 0 || getS(js, "email") != "new.hire@example.com" || getS(js, "name") != "Gu New" || getS(js, "role") != "supervisor" ||
				getN(js, "team_id") != e.team("Claims") || getN(js, "capacity") != 5 || getS(js, "locale") != "en" || !getB(js, "active") {
				t.Errorf("created %v", js)
			}
			wantTime(t, js, "created_at", t0.Add(time.Hour))
			tok := login(t, e.app, "new.hire@example.com", "long-enough-pw")
			status, me := do(t, e.app, "GET", "/api/v1/me", tok, nil)
			wantStatus(t, status, me, 200)
			if getN(me, "id") != hire {
				t.Errorf("/me = %v", me)
			}
		})

		t.Run("create with defaults", func(t *testing.T) {
			status, js := e.do(t, "POST", "/api/v1/agents", "admin", map[string]string{"email": "min@example.com", "password": "long-enough-pw"})
			wantStatus(t, status, js, 201)
			if getS(js, "role") != "agent" || getN(js, "capacity") != 10 || getS(js, "locale") != "zh-CN" || getS(js, "name") != "min@example.com" {
				t.Errorf("created %v", js)
			}
			wantNull(t, js, "team_id")
		})

		for _, tc := range []struct {
			name string
			body map[string]any
			want int
		}{
			{"duplicate email", map[string]any{"email": "NEW.HIRE@example.com", "password": "long-enough-pw"}, 409},
			{"short password", map[string]any{"email": "short@example.com", "password": "short"}, 400},
			{"no password", map[string]any{"email": "nopw@example.com"}, 400},
			{"password over 72 bytes", map[string]any{"email": "long@example.com", "password": strings.Repeat("p", 73)}, 400},
			{"unknown role", map[string]any{"email": "role@example.com", "password": "long-enough-pw", "role": "superuser"}, 400},
			{"invalid email", map[string]any{"email": "not an email", "password": "long-enough-pw"}, 400},
			{"negative capacity", map[string]any{"email": "cap@example.com", "password": "long-enough-pw", "capacity": -1}, 400},
			{"capacity over 1000", map[string]any{"email": "cap@example.com", "password": "long-enough-pw", "capacity": 1001}, 400},
			{"unknown team", map[string]any{"email": "team@example.com", "password": "long-enough-pw", "team_id": 999999}, 404},
		} {
			t.Run("create: "+tc.name, func(t *testing.T) {
				status, js := e.do(t, "POST", "/api/v1/agents", "admin", tc.body)
				wantStatus(t, status, js, tc.want)
			})
		}

		t.Run("list", func(t *testing.T) {
			status, js := e.do(t, "GET", "/api/v1/agents", "admin", nil)
			wantStatus(t, status, js, 200)
			items := itemsOf(t, js)
			want := []string{"Ada Admin", "Bo Agent", "Cy Agent", "Di Agent", "Eve Super", "Fay Super", "Gu New", "min@example.com"}
			if names := fieldOf(items, "name"); !slices.Equal(names, want) {
				t.Errorf("agents %v, want %v (by name)", names, want)
			}
			for _, it := range items {
				wantAgent(t, it)
			}
		})

		for _, tc := range []struct {
			name, query string
			want        []string
			status      int
		}{
			{"team", fmt.Sprintf("team=%d", e.team("Claims")), []string{"Bo Agent", "Cy Agent", "Eve Super", "Gu New"}, 200},
			{"empty team", "team=999999", []string{}, 200},
			{"bad team", "team=claims", nil, 400},
		} {
			t.Run("list by "+tc.name, func(t *testing.T) {
				status, js := e.do(t, "GET", "/api/v1/agents?"+tc.query, "admin", nil)
				wantStatus(t, status, js, tc.status)
				if tc.status == 200 {
					if names := fieldOf(itemsOf(t, js), "name"); !slices.Equal(names, tc.want) {
						t.Errorf("agents %v, want %v", names, tc.want)
					}
				}
			})
		}

		for _, tc := range []struct {
			name, id string
			want     int
		}{
			{"existing", "", 200},
			{"unknown", "999999", 404},
			{"not a number", "abc", 404},
			{"zero", "0", 404},
			{"negative", "-3", 404},
		} {
			t.Run("get "+tc.name, func(t *testing.T) {
				id := tc.id
				if id == "" {
					id = strconv.FormatInt(hire, 10)
				}
				status, js := e.do(t, "GET", "/api/v1/agents/"+id, "agent1", nil)
				wantStatus(t, status, js, tc.want)
				if tc.want == 200 && (getN(js, "id") != hire || getS(js, "email") != "new.hire@example.com") {
					t.Errorf("agent = %v", js)
				}
			})
		}

		for _, tc := range []struct {
			name   string
			body   map[string]any
			want   int
			field  string
			expect any
		}{
			{"rename", map[string]any{"name": " Gu Renamed "}, 200, "name", "Gu Renamed"},
			{"change role", map[string]any{"role": "agent"}, 200, "role", "agent"},
			{"move team", map[string]any{"team_id": e.team("Billing")}, 200, "team_id", float64(e.team("Billing"))},
			{"change capacity", map[string]any{"capacity": 0}, 200, "capacity", float64(0)},
			{"change locale", map[string]any{"locale": "zh-TW"}, 200, "locale", "zh-TW"},
			{"leave team", map[string]any{"no_team": true}, 200, "team_id", nil},
			{"blank name", map[string]any{"name": "  "}, 400, "name", "Gu Renamed"},
			{"unknown role", map[string]any{"role": "boss"}, 400, "role", "agent"},
			{"unknown team", map[string]any{"team_id": 999999}, 404, "team_id", nil},
			{"capacity over 1000", map[string]any{"capacity": 1001}, 400, "capacity", float64(0)},
			{"nothing to change", map[string]any{}, 400, "name", "Gu Renamed"},
		} {
			t.Run("patch "+tc.name, func(t *testing.T) {
				status, js := e.do(t, "PATCH", path(), "admin", tc.body)
				wantStatus(t, status, js, tc.want)
				if tc.want == 200 && !reflect.DeepEqual(js[tc.field], tc.expect) {
					t.Errorf("answer %s = %#v, want %#v", tc.field, js[tc.field], tc.expect)
				}
				status, got := e.do(t, "GET", path(), "admin", nil)
				wantStatus(t, status, got, 200)
				if v, ok := got[tc.field]; !ok || !reflect.DeepEqual(v, tc.expect) {
					t.Errorf("stored %s = %#v, want %#v", tc.field, v, tc.expect)
				}
			})
		}

		for _, tc := range []struct {
			name, method, path string
			body               any
			want               int
		}{
			{"patch unknown agent", "PATCH", "/api/v1/agents/999999", map[string]string{"name": "x"}, 404},
			{"patch non-numeric id", "PATCH", "/api/v1/agents/abc", map[string]string{"name": "x"}, 404},
			{"admin cannot demote themselves", "PATCH", fmt.Sprintf("/api/v1/agents/%d", e.id("admin")), map[string]string{"role": "agent"}, 409},
			{"admin cannot deactivate themselves", "DELETE", fmt.Sprintf("/api/v1/agents/%d", e.id("admin")), nil, 409},
			{"delete unknown agent", "DELETE", "/api/v1/agents/999999", nil, 404},
			{"delete non-numeric id", "DELETE", "/api/v1/agents/abc", nil, 404},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, js := e.do(t, tc.method, tc.path, "admin", tc.body)
				wantStatus(t, status, js, tc.want)
			})
		}
		t.Run("admin is still an active admin", func(t *testing.T) {
			status, me := e.do(t, "GET", "/api/v1/me", "admin", nil)
			wantStatus(t, status, me, 200)
			if getS(me, "role") != "admin" || !getB(me, "active") {
				t.Errorf("/me = %v", me)
			}
		})

		t.Run("delete deactivates", func(t *testing.T) {
			tok := login(t, e.app, "new.hire@example.com", "long-enough-pw")
			status, js := e.do(t, "DELETE", path(), "admin", nil)
			wantStatus(t, status, js, 200)
			if getN(js, "id") != hire || getB(js, "active") {
				t.Errorf("DELETE answered %v, want the agent with active false", js)
			}
			status, js = e.do(t, "GET", path(), "admin", nil)
			wantStatus(t, status, js, 200)
			if getB(js, "active") || getS(js, "name") != "Gu Renamed" {
				t.Errorf("after DELETE the agent is %v, want kept but inactive", js)
			}
			status, js = e.do(t, "GET", "/api/v1/agents", "admin", nil)
			wantStatus(t, status, js, 200)
			if !slices.Contains(fieldOf(itemsOf(t, js), "email"), "new.hire@example.com") {
				t.Error("a deactivated agent disappeared from the list")
			}
			status, js = do(t, e.app, "GET", "/api/v1/me", tok, nil)
			wantStatus(t, status, js, 401)
			status, js = do(t, e.app, "POST", "/api/v1/auth/login", "", map[string]string{"email": "new.hire@example.com", "password": "long-enough-pw"})
			wantStatus(t, status, js, 401)
		})

		t.Run("reactivate", func(t *testing.T) {
			status, js := e.do(t, "PATCH", path(), "admin", map[string]bool{"active": true})
			wantStatus(t, status, js, 200)
			if !getB(js, "active") {
				t.Errorf("PATCH active answered %v", js)
			}
			login(t, e.app, "new.hire@example.com", "long-enough-pw")
		})
	})
}

func TestTeams(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		var complaints int64

		t.Run("create", func(t *testing.T) {
			status, js := e.do(t, "POST", "/api/v1/teams", "admin", map[string]string{"name": "  Complaints  "})
			wantStatus(t, status, js, 201)
			wantHasKeys(t, js, "id", "name")
			complaints = getN(js, "id")
			if complaints <= 0 || getS(js, "name") != "Complaints" {
				t.Errorf("created %v", js)
			}
		})
		for _, tc := range []struct {
			name, team string
			want       int
		}{
			{"duplicate name", "Complaints", 409},
			{"empty name", "   ", 400},
			{"name over 100 characters", strings.Repeat("x", 101), 400},
			{"100 characters, not bytes", strings.Repeat("队", 100), 201},
		} {
			t.Run("create: "+tc.name, func(t *testing.T) {
				status, js := e.do(t, "POST", "/api/v1/teams", "admin", map[string]string{"name": tc.team})
				wantStatus(t, status, js, tc.want)
			})
		}

		t.Run("list", func(t *testing.T) {
			status, js := e.do(t, "GET", "/api/v1/teams", "agent1", nil)
			wantStatus(t, status, js, 200)
			want := []string{"Billing", "Claims", "Complaints", strings.Repeat("队", 100)}
			items := itemsOf(t, js)
			if names := fieldOf(items, "name"); !slices.Equal(names, want) {
				t.Errorf("teams %v, want %v", names, want)
			}
			for _, it := range items {
				wantHasKeys(t, it, "id", "name")
			}
			if getS(js, "next_cursor") != "" {
				t.Errorf("next_cursor %q", getS(js, "next_cursor"))
			}
		})

		for _, tc := range []struct {
			name, id string
			want     int
		}{
			{"existing", "", 200},
			{"unknown", "999999", 404},
			{"not a number", "claims", 404},
			{"zero", "0", 404},
		} {
			t.Run("get "+tc.name, func(t *testing.T) {
				id := tc.id
				if id == "" {
					id = strconv.FormatInt(complaints, 10)
				}
				status, js := e.do(t, "GET", "/api/v1/teams/"+id, "agent1", nil)
				wantStatus(t, status, js, tc.want)
				if tc.want == 200 && (getN(js, "id") != complaints || getS(js, "name") != "Complaints") {
					t.Errorf("team = %v", js)
				}
			})
		}

		for _, tc := range []struct {
			name, id, team string
			want           int
			stored         string
		}{
			{"rename", "", "Complaints & Appeals", 200, "Complaints & Appeals"},
			{"to a taken name", "", "Claims", 409, "Complaints & Appeals"},
			{"to an empty name", "", " ", 400, "Complaints & Appeals"},
			{"unknown team", "999999", "Ghosts", 404, "Complaints & Appeals"},
			{"non-numeric id", "abc", "Ghosts", 404, "Complaints & Appeals"},
		} {
			t.Run("patch "+tc.name, func(t *testing.T) {
				id := tc.id
				if id == "" {
					id = strconv.FormatInt(complaints, 10)
				}
				status, js := e.do(t, "PATCH", "/api/v1/teams/"+id, "admin", map[string]string{"name": tc.team})
				wantStatus(t, status, js, tc.want)
				if tc.want == 200 && (getS(js, "name") != tc.stored || getN(js, "id") != complaints) {
					t.Errorf("renamed %v", js)
				}
				status, got := e.do(t, "GET", fmt.Sprintf("/api/v1/teams/%d", complaints), "admin", nil)
				wantStatus(t, status, got, 200)
				if getS(got, "name") != tc.stored {
					t.Errorf("stored name %q, want %q", getS(got, "name"), tc.stored)
				}
			})
		}

		// A team that has tickets but no agents cannot be deleted either.
		queue, err := e.svc.CreateTeam(context.Background(), system, "Queue")
		if err != nil {
			t.Fatal(err)
		}
		ref := e.intake(t, sms("13900000001", "for the queue")).Ref()
		e.mustAct(t, "admin", ref, "assign", map[string]any{"team_id": queue.ID})

		for _, tc := range []struct {
			name string
			id   string
			want int
		}{
			{"team with agents", strconv.FormatInt(e.team("Claims"), 10), 409},
			{"team with tickets", strconv.FormatInt(queue.ID, 10), 409},
			{"empty team", "", 204},
			{"already deleted", "", 404},
			{"unknown team", "999999", 404},
			{"non-numeric id", "abc", 404},
		} {
			t.Run("delete "+tc.name, func(t *testing.T) {
				id := tc.id
				if id == "" {
					id = strconv.FormatInt(complaints, 10)
				}
				status, js := e.do(t, "DELETE", "/api/v1/teams/"+id, "admin", nil)
				wantStatus(t, status, js, tc.want)
				if tc.want == 204 && js != nil {
					t.Errorf("204 with body %v", js)
				}
				if _, err := strconv.Atoi(id); err == nil && id != "999999" {
					status, js := e.do(t, "GET", "/api/v1/teams/"+id, "admin", nil)
					if gone := tc.want == 204 || tc.want == 404; (status == 404) != gone {
						t.Errorf("after delete GET /teams/%s is %d %v", id, status, js)
					}
				}
			})
		}
	})
}

// ---------------------------------------------------------------------------------------
// Customers

func TestCustomer(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		first := e.intake(t, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "139 0000 0001", Name: "Chen Jie", Body: "first"})
		e.mustAct(t, "admin", first.Ref(), "status", map[string]string{"status": "resolved"})
		e.clock.Advance(8 * 24 * time.Hour) // past the 7-day reopen window
		second := e.intake(t, sms("+8613900000001", "second"))
		e.clock.Advance(time.Hour)
		third := e.create(t, "agent1", map[string]any{"customer": map[string]string{"phone": "13900000001", "email": "Chen@Example.com"}, "subject": "third"})
		wechat := e.intake(t, tickets.Inbound{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: "oWx_9", Body: "hi"})
		if second.CustomerID != first.CustomerID || getN(third, "customer", "id") != first.CustomerID || second.ID == first.ID {
			t.Fatalf("fixture: tickets %d/%d/%d belong to customers %d/%d/%d", first.ID, second.ID, getN(third, "id"),
				first.CustomerID, second.CustomerID, getN(third, "customer", "id"))
		}

		t.Run("with tickets newest first", func(t *testing.T) {
			status, js := e.do(t, "GET", fmt.Sprintf("/api/v1/customers/%d", first.CustomerID), "agent2", nil)
			wantStatus(t, status, js, 200)
			wantHasKeys(t, js, append(slices.Clone(customerKeys), "tickets")...)
			if getN(js, "id") != first.CustomerID || getS(js, "name") != "Chen Jie" || getS(js, "phone") != privacy.MaskPhone("+8613900000001") ||
				getS(js, "email") != privacy.MaskEmail("chen@example.com") || getS(js, "wechat_openid") != "" {
				t.Errorf("customer = %v", js)
			}
			ts := getA(js, "tickets")
			if refs := fieldOf(ts, "ref"); !slices.Equal(refs, []string{getS(third, "ref"), second.Ref(), first.Ref()}) {
				t.Fatalf("tickets %v, want newest first", refs)
			}
			if got := fieldOf(ts, "status"); !slices.Equal(got, []string{"open", "new", "resolved"}) {
				t.Errorf("statuses %v", got)
			}
			for _, tk := range ts {
				wantHasKeys(t, tk, ticketKeys...)
				if getN(tk, "customer", "id") != first.CustomerID {
					t.Errorf("ticket %s customer %v", getS(tk, "ref"), tk["customer"])
				}
			}
			if getN(ts[0], "assignee", "id") != e.id("agent1") || getS(ts[0], "team", "name") != "Claims" {
				t.Errorf("logged ticket assignee %v team %v", ts[0]["assignee"], ts[0]["team"])
			}
			wantNull(t, ts[1], "assignee")
		})

		t.Run("WeChat customer", func(t *testing.T) {
			status, js := e.do(t, "GET", fmt.Sprintf("/api/v1/customers/%d", wechat.CustomerID), "agent1", nil)
			wantStatus(t, status, js, 200)
			if getS(js, "wechat_openid") != "oWx_9" || getS(js, "phone") != "" || len(getA(js, "tickets")) != 1 {
				t.Errorf("customer = %v", js)
			}
		})

		for _, id := range []string{"999999", "abc", "0", "-1"} {
			t.Run("unknown "+id, func(t *testing.T) {
				status, js := e.do(t, "GET", "/api/v1/customers/"+id, "agent1", nil)
				wantStatus(t, status, js, 404)
			})
		}
	})
}

// ---------------------------------------------------------------------------------------
// Health and routing

func TestHealthAndRouting(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		closed := tickettest.SQLite(t)
		closed.Close()
		var calls atomic.Int32
		failing := func(context.Context) error { calls.Add(1); return errors.New("redis: connection refused") }
		for _, tc := range []struct {
			name, method, path string
			ready              func(context.Context) error
			want               int
			body               map[string]any
			calls              int32
		}{
			{"healthz", "GET", "/healthz", nil, 200, map[string]any{"status": "ok"}, 0},
			{"healthz ignores dependencies", "GET", "/healthz", failing, 200, map[string]any{"status": "ok"}, 0},
			{"readyz without a check", "GET", "/readyz", nil, 200, map[string]any{"status": "ready"}, 0},
			{"readyz when the database answers", "GET", "/readyz", e.svc.Ping, 200, map[string]any{"status": "ready"}, 0},
			{"readyz when a dependency is down", "GET", "/readyz", failing, 503, map[string]any{"status": "not ready"}, 1}, // details: ready_test.go
			{"readyz when the database is closed", "GET", "/readyz", tickettest.Service(closed, nil).Ping, 503, map[string]any{"status": "not ready"}, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				calls.Store(0)
				app := newApp(e.svc, tc.ready)
				status, js := do(t, app, tc.method, tc.path, "", nil)
				if status != tc.want { // a health check answers {"status": ...}, not {"error": ...}
					t.Fatalf("status %d, want %d; body %v", status, tc.want, js)
				}
				if tc.body != nil && !reflect.DeepEqual(js, tc.body) {
					t.Errorf("body %v, want %v", js, tc.body)
				}
				if calls.Load() != tc.calls {
					t.Errorf("readiness check ran %d times, want %d", calls.Load(), tc.calls)
				}
			})
		}

		for _, tc := range []struct {
			name, method, path, who string
		}{
			{"unknown path", "GET", "/nope", ""},
			{"unknown API path", "GET", "/api/v1/nope", "admin"},
			{"unknown API version", "GET", "/api/v2/tickets", "admin"},
			{"wrong method on a collection", "PUT", "/api/v1/tickets", "admin"},
			{"wrong method on a ticket action", "GET", "/api/v1/tickets/HL-000001/replies", "admin"},
			{"wrong method on health", "POST", "/healthz", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, js := e.do(t, tc.method, tc.path, tc.who, nil)
				wantStatus(t, status, js, 404)
			})
		}
	})
}

// ---------------------------------------------------------------------------------------
// Regressions

func TestDetailAlwaysHasHistoryArrays(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		js := e.create(t, "agent1", map[string]any{"customer": map[string]string{"phone": "+8613800000001"}, "subject": "walk-in, said nothing"})
		for _, key := range []string{"messages", "events"} {
			if _, ok := js[key].([]any); !ok {
				t.Errorf("%s = %#v, want an array", key, js[key])
			}
		}
		if n := len(getA(js, "messages")); n != 0 {
			t.Errorf("%d messages, want none", n)
		}
	})
}

func TestTrailingJSONIsRefused(t *testing.T) {
	db := tickettest.SQLite(t)
	e := newEnv(t, db)
	ref := getS(e.create(t, "agent1", phoneCall("+8613800000001", "x")), "ref")
	for _, body := range []string{`{"body":"x"} }`, `{"body":"y"}]]]`, `{"body":"z"} {"body":"w"}`, `{"body":"v"} x`} {
		req := httptest.NewRequest("POST", "/api/v1/tickets/"+ref+"/notes", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.tok["agent1"])
		status, _, js := send(t, e.app, req)
		wantStatus(t, status, js, 400)
	}
	if n := len(getA(e.detail(t, ref), "messages")); n != 1 {
		t.Errorf("%d messages, want only the logged call's", n)
	}
}

func TestAgentTakesOnlyIntoOwnTeam(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		tk := e.intake(t, sms("+8613800000001", "hello"))
		status, js := e.act(t, "agent1", tk.Ref(), "assign", map[string]any{"assignee_id": e.id("agent1"), "team_id": e.team("Billing")})
		wantStatus(t, status, js, 403)
		d := e.mustAct(t, "agent1", tk.Ref(), "assign", map[string]any{"assignee_id": e.id("agent1"), "team_id": e.team("Claims")})
		if getN(d, "team", "id") != e.team("Claims") {
			t.Errorf("team %v", d["team"])
		}
	})
}

func TestDeactivatedAgentsDoNotHoldTeams(t *testing.T) {
	db := tickettest.SQLite(t)
	e := newEnv(t, db)
	status, js := e.do(t, "POST", "/api/v1/teams", "admin", map[string]string{"name": "Night shift"})
	wantStatus(t, status, js, 201)
	team := getN(js, "id")
	status, js = e.do(t, "POST", "/api/v1/agents", "admin", map[string]any{"email": "night@hotline.test", "password": password, "team_id": team})
	wantStatus(t, status, js, 201)
	agent := getN(js, "id")
	status, js = e.do(t, "DELETE", "/api/v1/teams/"+itoa(team), "admin", nil)
	wantStatus(t, status, js, 409)
	status, js = e.do(t, "DELETE", "/api/v1/agents/"+itoa(agent), "admin", nil)
	wantStatus(t, status, js, 200)
	status, js = e.do(t, "DELETE", "/api/v1/teams/"+itoa(team), "admin", nil)
	wantStatus(t, status, js, 204)
}
