package api_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets/outbox"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// giveTickets has sup1 give n new tickets to agent, and the outbox write the notices the
// assignments imply (as the notice worker or the console's live feed does).
func giveTickets(t *testing.T, e *env, agent string, n int) []string {
	t.Helper()
	var refs []string
	for i := range n {
		ref := getS(e.create(t, "sup1", phoneCall(fmt.Sprintf("+861380000%04d", i), fmt.Sprintf("claim %d", i))), "ref")
		e.mustAct(t, "sup1", ref, "assign", map[string]any{"assignee_id": e.id(agent)})
		refs = append(refs, ref)
	}
	if _, err := outbox.New(e.svc).CollectAnnouncements(context.Background()); err != nil {
		t.Fatal(err)
	}
	return refs
}

func TestNoticesAreTheAgentsOwn(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		refs := giveTickets(t, e, "agent1", 3)
		giveTickets(t, e, "agent2", 1)

		status, js := e.do(t, "GET", "/api/v1/notices", "agent1", nil)
		wantStatus(t, status, js, 200)
		items := itemsOf(t, js)
		if got := fieldOf(items, "ticket_ref"); fmt.Sprint(got) != fmt.Sprint([]string{refs[2], refs[1], refs[0]}) {
			t.Fatalf("agent1's notices name %v, want their three tickets newest first", got)
		}
		if k := getS(items[0], "kind"); k != "ticket.assigned" {
			t.Errorf("kind %q", k)
		}
		if n := getN(js, "unread"); n != 3 {
			t.Errorf("unread %d, want 3", n)
		}

		// agent2 sees only the one ticket given to them, and cannot read agent1's by id.
		status, js = e.do(t, "GET", "/api/v1/notices", "agent2", nil)
		wantStatus(t, status, js, 200)
		if n := len(itemsOf(t, js)); n != 1 || getN(js, "unread") != 1 {
			t.Fatalf("agent2 sees %d notices (%v unread), want only their own", n, js["unread"])
		}
		newest := getN(items[0], "id")
		status, js = e.do(t, "POST", "/api/v1/notices/read", "agent2", map[string]int64{"up_to": newest + 1000})
		wantStatus(t, status, js, 204)
		status, js = e.do(t, "GET", "/api/v1/notices?unread=true", "agent1", nil)
		wantStatus(t, status, js, 200)
		if n := len(itemsOf(t, js)); n != 3 || getN(js, "unread") != 3 {
			t.Fatalf("agent2 reading marked agent1's notices: %d unread left, want 3", n)
		}

		// Paging: two, then the third; marking up to the middle one leaves the newest unread.
		status, js = e.do(t, "GET", "/api/v1/notices?limit=2", "agent1", nil)
		wantStatus(t, status, js, 200)
		page := itemsOf(t, js)
		cursor := getS(js, "next_cursor")
		if len(page) != 2 || cursor == "" {
			t.Fatalf("first page %d items, cursor %q", len(page), cursor)
		}
		status, js = e.do(t, "GET", "/api/v1/notices?limit=2&cursor="+cursor, "agent1", nil)
		wantStatus(t, status, js, 200)
		if got := fieldOf(itemsOf(t, js), "ticket_ref"); fmt.Sprint(got) != fmt.Sprint([]string{refs[0]}) || getS(js, "next_cursor") != "" {
			t.Fatalf("second page %v (cursor %q), want the oldest notice and no further page", got, getS(js, "next_cursor"))
		}
		status, js = e.do(t, "POST", "/api/v1/notices/read", "agent1", map[string]int64{"up_to": getN(page[1], "id")})
		wantStatus(t, status, js, 204)
		status, js = e.do(t, "GET", "/api/v1/notices?unread=true", "agent1", nil)
		wantStatus(t, status, js, 200)
		if got := fieldOf(itemsOf(t, js), "ticket_ref"); fmt.Sprint(got) != fmt.Sprint([]string{refs[2]}) || getN(js, "unread") != 1 {
			t.Fatalf("unread after reading up to the second: %v, want only the newest", got)
		}
		status, js = e.do(t, "GET", "/api/v1/notices", "agent1", nil)
		wantStatus(t, status, js, 200)
		if all := itemsOf(t, js); len(all) != 3 || all[1]["read_at"] == nil || all[0]["read_at"] != nil {
			t.Errorf("all notices %v: want the newest unread and the others read", all)
		}
	})
}

func TestNoticesRefuseBadInput(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		for _, c := range []struct {
			method, path string
			body         any
			want         int
		}{
			{"GET", "/api/v1/notices?limit=0", nil, 400},
			{"GET", "/api/v1/notices?limit=501", nil, 400},
			{"GET", "/api/v1/notices?limit=ten", nil, 400},
			{"GET", "/api/v1/notices?cursor=-3", nil, 400},
			{"GET", "/api/v1/notices?cursor=HL-1", nil, 400},
			{"POST", "/api/v1/notices/read", map[string]any{}, 400},
			{"POST", "/api/v1/notices/read", map[string]any{"up_to": -1}, 400},
			{"POST", "/api/v1/notices/read", map[string]any{"up_to": "all"}, 400},
			{"GET", "/api/v1/notices?limit=500", nil, 200},
		} {
			status, js := e.do(t, c.method, c.path, "agent1", c.body)
			if status != c.want {
				t.Errorf("%s %s %v: %d %v, want %d", c.method, c.path, c.body, status, js, c.want)
			}
			if c.want == 400 && getS(js, "error") == "" {
				t.Errorf("%s %s: no reason given", c.method, c.path)
			}
		}
		for _, path := range []string{"/api/v1/notices", "/api/v1/notices/read"} {
			method := "GET"
			if path == "/api/v1/notices/read" {
				method = "POST"
			}
			if status, _ := e.do(t, method, path, "", map[string]int64{"up_to": 1}); status != 401 {
				t.Errorf("%s %s without a token: %d, want 401", method, path, status)
			}
		}
	})
}
