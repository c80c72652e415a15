package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
	"github.com/hotlinedesk/hotline/tickets/webhooks"
)

// receiver is a local webhook receiver: it keeps every request's event id and answers
// with status.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	status   int
	eventIDs []string
	bodies   []string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{status: http.StatusOK}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.eventIDs = append(r.eventIDs, req.Header.Get("Hotline-Event-Id"))
		r.bodies = append(r.bodies, string(b))
		w.WriteHeader(r.status)
		fmt.Fprintf(w, "<ok n=%d>", len(r.eventIDs))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.eventIDs...)
}

// The webhooks' routes against the real chapter and a local receiver: an admin
// subscribes it (the secret only in that answer and a rotation's), changes it, pings it
// and reads the delivery with the receiver's answer, redelivers it with the same event id,
// pauses, resumes and deletes it; everyone else is refused, and bad input is a clear 400.
func TestWebhooksAPI(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		hooks := webhooks.New(e.svc, webhooks.Config{AllowPrivate: true}) // the receiver is on this machine
		e.app = api.New(api.Config{Service: e.svc, Outbound: hooks, Log: slog.New(slog.DiscardHandler)})
		rcv := newReceiver(t)
		do := func(who, method, path string, body any, want int) map[string]any {
			t.Helper()
			status, js := e.do(t, method, path, who, body)
			wantStatus(t, status, js, want)
			return js
		}
		// send runs the delivery's attempt, as the worker's task does.
		send := func(id int64) {
			t.Helper()
			if ok, err := hooks.Send(ctx, id); err != nil || !ok {
				t.Fatalf("send delivery %d: %v %v", id, ok, err)
			}
		}

		in := map[string]any{"name": "CRM", "url": rcv.URL + "/hotline?token=abc", "events": []string{"ticket.created", "complaint.opened"}}
		do("sup1", "POST", "/api/v1/webhooks", in, 403)
		do("agent1", "GET", "/api/v1/webhooks", nil, 403)
		do("admin", "POST", "/api/v1/webhooks", map[string]any{"name": "x", "url": "ftp://example.com", "events": []string{"ticket.created"}}, 400)
		do("admin", "POST", "/api/v1/webhooks", map[string]any{"name": "x", "url": "https://example.com", "events": []string{"ticket.exploded"}}, 400)
		do("admin", "POST", "/api/v1/webhooks", map[string]any{"name": "x", "url": "https://example.com"}, 400)
		do("admin", "POST", "/api/v1/webhooks", `{"name": "x", "url": "https://example.com", "events": ["ticket.created"], "secret": "mine"}`, 400)
		do("admin", "POST", "/api/v1/webhooks", map[string]any{"name": strings.Repeat("长", 101), "url": "https://example.com", "events": []string{"ticket.created"}}, 400)
		do("admin", "POST", "/api/v1/webhooks", `{"name": "C\u0000RM", "url": "https://example.com", "events": ["ticket.created"]}`, 400)
		do("admin", "POST", "/api/v1/webhooks", `{"name": "CRM\nis paused", "url": "https://example.com", "events": ["ticket.created"]}`, 400)
		do("admin", "POST", "/api/v1/webhooks", `{"name": "x", "url": "https://example.com/a\u0085b", "events": ["ticket.created"]}`, 400)
		do("admin", "POST", "/api/v1/webhooks", map[string]any{"name": "x", "url": "https://" + strings.Repeat("a", 20<<10) + ".com", "events": []string{"ticket.created"}}, 413)

		created := do("admin", "POST", "/api/v1/webhooks", in, 201)
		secret := getS(created, "secret")
		if !strings.HasPrefix(secret, "whsec_") {
			t.Fatalf("secret %q", secret)
		}
		hook := get(created, "webhook")
		id := getN(hook, "id")
		path := fmt.Sprintf("/api/v1/webhooks/%d", id)
		if getS(hook, "state") != "active" {
			t.Errorf("a new webhook is %v", hook)
		}
		for _, p := range []string{"/api/v1/webhooks", path} {
			_, _, raw := e.raw(t, p, "admin")
			if strings.Contains(raw, secret) || strings.Contains(raw, "whsec_") {
				t.Errorf("GET %s shows the secret", p)
			}
		}
		list := do("admin", "GET", "/api/v1/webhooks", nil, 200)
		if len(getA(list, "items")) != 1 || len(getA(list, "events")) != 11 {
			t.Errorf("list: %v", list)
		}
		do("admin", "GET", "/api/v1/webhooks/999999", nil, 404)
		do("admin", "GET", "/api/v1/webhooks/abc", nil, 404)

		// PATCH changes what it is sent, and only that.
		up := do("admin", "PATCH", path, map[string]any{"events": []string{"ticket.created", "ticket.assigned"}}, 200)
		if getS(up, "name") != "CRM" || len(getA(up, "events")) != 2 {
			t.Errorf("after PATCH: %v", up)
		}
		do("admin", "PATCH", path, map[string]any{}, 400)
		do("admin", "PATCH", path, map[string]any{"url": "not a url"}, 400)
		do("admin", "PATCH", "/api/v1/webhooks/999999", map[string]any{"name": "y"}, 404)

		// A ping reaches the receiver; its delivery shows the attempt and the JSON sent.
		ping := do("admin", "POST", path+"/ping", nil, 202)
		pid := getN(ping, "id")
		if getS(ping, "event") != "ping" || getS(ping, "state") != "pending" {
			t.Errorf("ping: %v", ping)
		}
		send(pid)
		got := do("admin", "GET", fmt.Sprintf("/api/v1/webhook-deliveries/%d", pid), nil, 200)
		d := get(got, "delivery")
		if getS(d, "state") != "delivered" || getN(d, "last_status") != 200 || !strings.Contains(getS(d, "body"), `"type":"ping"`) {
			t.Errorf("the ping's delivery: %v", d)
		}
		attempts := getA(got, "attempts")
		if len(attempts) != 1 || getN(attempts[0], "status") != 200 || getS(attempts[0], "response_body") != "<ok n=1>" {
			t.Errorf("the ping's attempts: %v", attempts)
		}
		do("admin", "GET", "/api/v1/webhook-deliveries/999999", nil, 404)

		// Redelivered: a new delivery of the same event, which the receiver gets again.
		again := do("admin", "POST", fmt.Sprintf("/api/v1/webhook-deliveries/%d/redeliver", pid), nil, 202)
		if getN(again, "id") == pid || getS(again, "event_id") != getS(d, "event_id") {
			t.Errorf("redelivery %v of %v", again, d)
		}
		send(getN(again, "id"))
		if ids := rcv.got(); len(ids) != 2 || ids[0] != ids[1] || ids[0] != getS(d, "event_id") {
			t.Errorf("the receiver got event ids %q", ids)
		}
		do("sup1", "POST", fmt.Sprintf("/api/v1/webhook-deliveries/%d/redeliver", pid), nil, 403)

		// The deliveries, newest first, a page at a time, and by state.
		page := do("admin", "GET", path+"/deliveries?limit=1", nil, 200)
		items := getA(page, "items")
		if len(items) != 1 || getN(items[0], "id") != getN(again, "id") || page["next_cursor"] == nil {
			t.Fatalf("first page: %v", page)
		}
		if _, ok := items[0]["body"]; ok {
			t.Error("the list carries the bodies")
		}
		page = do("admin", "GET", path+"/deliveries?limit=1&cursor="+getS(page, "next_cursor"), nil, 200)
		if items := getA(page, "items"); len(items) != 1 || getN(items[0], "id") != pid {
			t.Errorf("second page: %v", page)
		}
		if items := getA(do("admin", "GET", path+"/deliveries?state=failed", nil, 200), "items"); len(items) != 0 {
			t.Errorf("failed deliveries: %v", items)
		}
		do("admin", "GET", path+"/deliveries?state=lost", nil, 400)
		do("admin", "GET", path+"/deliveries?limit=0", nil, 400)
		do("admin", "GET", path+"/deliveries?cursor=x", nil, 400)
		do("admin", "GET", "/api/v1/webhooks/999999/deliveries", nil, 404)

		// Paused, resumed; the secret rotated, shown in that answer only.
		if p := do("admin", "POST", path+"/pause", nil, 200); getS(p, "state") != "paused" || getS(p, "paused_reason") != "admin" {
			t.Errorf("paused: %v", p)
		}
		if p := do("admin", "POST", path+"/resume", nil, 200); getS(p, "state") != "active" || p["paused_reason"] != nil {
			t.Errorf("resumed: %v", p)
		}
		rot := do("admin", "POST", path+"/rotate-secret", nil, 200)
		if s := getS(rot, "secret"); !strings.HasPrefix(s, "whsec_") || s == secret {
			t.Errorf("rotated: %v", rot)
		}

		// An admin key may administer them; another key may not.
		e.tok["ops"] = e.newKey(t, "ops", access.ScopeAdmin)
		e.tok["crm"] = e.newKey(t, "crm", access.ScopeTicketsRead, access.ScopeReports)
		do("ops", "GET", path, nil, 200)
		do("crm", "GET", path, nil, 403)

		do("admin", "DELETE", path, nil, 204)
		do("admin", "GET", path, nil, 404)
		do("admin", "DELETE", path, nil, 404)
		do("admin", "POST", fmt.Sprintf("/api/v1/webhook-deliveries/%d/redeliver", pid), nil, 404)
		for _, kind := range []string{"webhook.created", "webhook.updated", "webhook.pinged", "webhook.redelivered", "webhook.paused", "webhook.resumed", "webhook.secret_rotated", "webhook.deleted"} {
			if n := tickettest.CountEvents(t, db, kind); n < 1 {
				t.Errorf("no %s audit event", kind)
			}
		}
	})
}
