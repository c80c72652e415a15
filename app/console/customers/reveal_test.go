package customers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The ticket and customer pages show the caller's number and what they wrote masked; a
// "show" button is offered to those who may reveal, and each reveal is recorded. Anyone
// else gets no button, and a forged reveal is 403 with nothing recorded.
func TestRevealOnTheConsole(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		ctx := context.Background()
		tk := d.SMS("+8613800138000", "身份证310101199001011234，卡号6217001234567893，理赔还没到账")
		if _, err := d.Service.Assign(ctx, tickets.AgentActor(d.Admin), tk.Ref(), tickets.Assignment{TeamID: &d.Team.ID, AssigneeID: &d.Agent.ID}); err != nil {
			t.Fatal(err)
		}
		cust := consoletest.ID(tk.CustomerID)
		revealed := func() int { return tickettest.CountEvents(t, db, "pii.revealed") }
		full := []string{"8613800138000", "310101199001011234", "6217001234567893"}

		// The assignee: everything masked, a button for the phone only.
		li := d.SignIn(d.Agent)
		page := li.Get("/tickets/" + tk.Ref())
		consoletest.WantStatus(t, page, 200)
		consoletest.WantContains(t, page, "&#43;86 138****8000", "身份证3101**********1234，卡号6217********7893", `name="field" value="phone"`)
		consoletest.WantLacks(t, page, append(full, `name="field" value="message"`)...)
		for _, p := range []string{"/customers/" + cust, "/queue?view=mine"} {
			r := li.Get(p)
			for _, f := range full {
				if i := strings.Index(r.Body, f); i >= 0 {
					t.Errorf("%s shows %s: …%s…", p, f, r.Body[max(0, i-300):min(len(r.Body), i+100)])
				}
			}
		}
		r := li.Post("/customers/"+cust+"/reveal", url.Values{"field": {"phone"}, "ticket": {tk.Ref()}})
		consoletest.WantStatus(t, r, 200)
		consoletest.WantContains(t, r, `id="revealed-value">&#43;8613800138000<`)
		if n := revealed(); n != 1 {
			t.Fatalf("%d pii.revealed events after one reveal", n)
		}
		// Forged: the message, which an agent may not reveal.
		r = li.Post("/customers/"+cust+"/reveal", url.Values{"field": {"message"}, "message": {"1"}})
		consoletest.WantStatus(t, r, 403)
		consoletest.WantLacks(t, r, full...)

		// Another agent of the team: the ticket is Li Na's, so no button, and a forged post is refused.
		zhang := d.SignIn(d.Agent2)
		consoletest.WantLacks(t, zhang.Get("/tickets/"+tk.Ref()), `class="reveal"`)
		r = zhang.Post("/customers/"+cust+"/reveal", url.Values{"field": {"phone"}, "ticket": {tk.Ref()}})
		consoletest.WantStatus(t, r, 403)
		consoletest.WantLacks(t, r, full...)
		// Without the session's form token: refused before anything is read.
		r = li.PostRaw("/customers/"+cust+"/reveal", url.Values{"field": {"phone"}, "ticket": {tk.Ref()}})
		consoletest.WantStatus(t, r, 403)
		if n := revealed(); n != 1 {
			t.Fatalf("refused reveals recorded: %d events", n)
		}

		// The team's supervisor reveals the message in place (as console.js asks: JSON).
		chen := d.SignIn(d.Super)
		page = chen.Get("/tickets/" + tk.Ref())
		consoletest.WantContains(t, page, `name="field" value="message"`, `name="field" value="phone"`)
		detail := d.Service
		td, err := detail.Ticket(ctx, tk.Ref())
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"field": {"message"}, "message": {consoletest.ID(td.Messages[0].ID)}, "ticket": {tk.Ref()}, "_csrf": {chen.CSRF}}
		req := httptest.NewRequest(http.MethodPost, "/customers/"+cust+"/reveal", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		r = chen.Do(req)
		consoletest.WantStatus(t, r, 200)
		var got struct{ Value string }
		if err := json.Unmarshal([]byte(r.Body), &got); err != nil || got.Value != "身份证310101199001011234，卡号6217001234567893，理赔还没到账" {
			t.Fatalf("revealed %s (%v)", r.Body, err)
		}
		if n := revealed(); n != 2 {
			t.Fatalf("%d events after two reveals", n)
		}
	})
}
