package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// newKey has the admin make an API key with scopes through the API and returns it.
func (e *env) newKey(t *testing.T, name string, scopes ...access.Scope) string {
	t.Helper()
	status, js := e.do(t, "POST", "/api/v1/api-keys", "admin", map[string]any{"name": name, "scopes": scopes})
	wantStatus(t, status, js, http.StatusCreated)
	key := getS(js, "key")
	if !strings.HasPrefix(key, "hlk_") {
		t.Fatalf("key %q, want hlk_...", key)
	}
	return key
}

// Every authenticated /api/v1 route has a scope; a key without it is refused with 403,
// and a key with it is not. Routes about a person refuse every key.
func TestAPIKeyScopesOverEveryRoute(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		only := map[access.Scope]string{}
		all := map[access.Scope]string{} // every scope but this one (and admin, which grants all)
		for _, s := range access.Scopes {
			only[s] = e.newKey(t, "only "+string(s), s)
			var others []access.Scope
			for _, o := range access.Scopes {
				if o != s && o != access.ScopeAdmin {
					others = append(others, o)
				}
			}
			all[s] = e.newKey(t, "all but "+string(s), others...)
		}
		checked := 0
		for _, r := range e.app.GetRoutes(true) {
			path, ok := strings.CutPrefix(r.Path, "/api/v1")
			if !ok || r.Method == http.MethodHead || r.Path == "/api/v1/auth/login" || r.Path == "/api/v1/openapi.json" { // public
				continue
			}
			scope, ok := api.RouteScope(r.Method, path)
			if !ok {
				t.Errorf("%s %s has no scope", r.Method, r.Path)
				continue
			}
			checked++
			url := strings.NewReplacer(":ref", "HL-000001", ":id", "1", ":day", "2026-12-01", ":key", "ticket.created", ":locale", "en").Replace(r.Path)
			status := func(key string) int {
				req := newRequest(t, r.Method, url, map[string]any{})
				req.Header.Set("Authorization", "Bearer "+key)
				res, err := e.app.Test(req, -1)
				if err != nil {
					t.Fatalf("%s %s: %v", r.Method, url, err)
				}
				res.Body.Close()
				return res.StatusCode
			}
			if scope == "" {
				if st := status(only[access.ScopeAdmin]); st != http.StatusForbidden {
					t.Errorf("%s %s with an admin key: %d, want 403 (people only)", r.Method, r.Path, st)
				}
				continue
			}
			if st := status(all[access.Scope(scope)]); st != http.StatusForbidden {
				t.Errorf("%s %s without %s: %d, want 403", r.Method, r.Path, scope, st)
			}
			if st := status(only[access.Scope(scope)]); st == http.StatusForbidden || st >= 500 {
				t.Errorf("%s %s with %s: %d", r.Method, r.Path, scope, st)
			}
		}
		if checked < 60 {
			t.Errorf("checked %d routes; the route list was not read", checked)
		}
	})
}

// A key opens a ticket: the audit trail names the key, not a person, and no one is made its
// assignee. Revoked, the key is refused; the secret is stored only as a hash.
func TestAPIKeyActsAndIsRevoked(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		key := e.newKey(t, "crm-sync", access.ScopeTicketsWrite, access.ScopeTicketsRead)
		st, js := do(t, e.app, "POST", "/api/v1/tickets", key, phoneCall("+8613800138000", "from the CRM"))
		wantStatus(t, st, js, http.StatusCreated)
		var ev tickets.Event
		if err := db.NewSelect().Model(&ev).Where("kind = ?", "ticket.created").OrderExpr("id DESC").Limit(1).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if ev.ActorKind != "apikey" || ev.Actor != "crm-sync" || ev.ActorID != nil {
			t.Errorf("event actor %q %q %v, want apikey crm-sync", ev.ActorKind, ev.Actor, ev.ActorID)
		}
		var hashes []string
		if err := db.NewSelect().Table("api_keys").Column("secret_hash").Scan(ctx, &hashes); err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(hashes, func(h string) bool { return strings.Contains(key, h) || strings.Contains(h, key[len(key)-20:]) }) {
			t.Error("the key is stored in clear")
		}

		st, js = e.do(t, "GET", "/api/v1/api-keys", "admin", nil)
		wantStatus(t, st, js, http.StatusOK)
		if items := getA(js, "items"); len(items) != 1 || getS(items[0], "name") != "crm-sync" || getS(items[0], "last_used_at") == "" {
			t.Errorf("listed keys %v, want crm-sync, used", items)
		}
		if strings.Contains(fmtAny(js), key[5:]) {
			t.Error("the list shows the secret")
		}
		var id int64
		if err := db.NewSelect().Table("api_keys").Column("id").Where("name = ?", "crm-sync").Scan(ctx, &id); err != nil {
			t.Fatal(err)
		}
		st, js = e.do(t, "DELETE", "/api/v1/api-keys/"+itoa(id), "admin", nil)
		wantStatus(t, st, js, http.StatusNoContent)
		st, js = do(t, e.app, "GET", "/api/v1/tickets", key, nil)
		wantStatus(t, st, js, http.StatusUnauthorized)
		// Only admins manage keys.
		st, js = e.do(t, "POST", "/api/v1/api-keys", "sup1", map[string]any{"name": "x", "scopes": []string{"reports"}})
		wantStatus(t, st, js, http.StatusForbidden)
		st, js = e.do(t, "POST", "/api/v1/api-keys", "admin", map[string]any{"name": "x", "scopes": []string{"everything"}})
		wantStatus(t, st, js, http.StatusBadRequest)
	})
}

func fmtAny(v any) string { b, _ := json.Marshal(v); return string(b) }

// A key is no person: what a person answers for (a legal hold) refuses it plainly, what
// keeps who made it (a rubric) keeps no one, and figures name whose they are, for a key
// has no "me". Never a server error.
func TestAPIKeyOnPeoplesRecords(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		key := e.newKey(t, "bi-export", access.ScopeAdmin)
		rubric := map[string]any{"name": "Calls", "criteria": []map[string]any{
			{"name_zh": "礼貌", "name_en": "Manners", "weight": 40, "max": 5},
			{"name_zh": "解决", "name_en": "Solved", "weight": 60, "max": 10}}}
		for _, tc := range []struct {
			method, path string
			body         any
			want         int
		}{
			{"POST", "/api/v1/quality/rubrics", rubric, http.StatusCreated},
			{"POST", "/api/v1/legal-holds", map[string]any{"customer_id": 1, "reason": "court order"}, http.StatusForbidden},
			{"GET", "/api/v1/reports/scorecard", nil, http.StatusBadRequest},
			{"GET", "/api/v1/quality/reviews", nil, http.StatusBadRequest},
		} {
			st, js := do(t, e.app, tc.method, tc.path, key, tc.body)
			if st != tc.want {
				t.Errorf("%s %s with an admin key: %d %v, want %d", tc.method, tc.path, st, js, tc.want)
			}
		}
	})
}
