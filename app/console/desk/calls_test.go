package desk_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/console"
	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func countTickets(t *testing.T, db bun.IDB) int {
	t.Helper()
	n, err := db.NewSelect().Table("tickets").Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A call from a caller with an open ticket is offered to that ticket before a duplicate
// is opened.
func TestLogACallOffersOpenTicket(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		ctx := context.Background()
		open := d.SMS("+8613800138000", "理赔进度？")
		closed := d.SMS("+8613900139000", "谢谢")
		if _, err := d.Service.SetStatus(ctx, tickets.AgentActor(d.Admin), closed.Ref(), tickets.StatusResolved, ""); err != nil {
			t.Fatal(err)
		}
		b := d.SignIn(d.Agent)
		call := url.Values{"phone": {"138 0013 8000"}, "name": {"王先生"}, "subject": {"催理赔"}, "body": {"客户再次来电询问进度"}, "priority": {"normal"}}

		r := b.Post("/calls", call)
		consoletest.WantStatus(t, r, 200)
		consoletest.WantContains(t, r, `id="call-offer"`, `name="add_to" value="`+open.Ref()+`"`, "记入 "+open.Ref(), "仍新建工单",
			`value="王先生"`, "客户再次来电询问进度") // what was typed is kept
		if n := countTickets(t, db); n != 2 {
			t.Fatalf("%d tickets after the offer, want 2", n)
		}

		// The number alone, from the customer page, offers it at once.
		consoletest.WantContains(t, b.Get("/calls/new?phone="+url.QueryEscape("+8613800138000")), `id="call-offer"`, open.Ref())
		consoletest.WantLacks(t, b.Get("/calls/new?phone=13900139000"), `id="call-offer"`) // resolved: nothing to add to
		consoletest.WantLacks(t, b.Get("/calls/new?phone=x"), `id="call-offer"`)

		t.Run("not another caller's ticket", func(t *testing.T) {
			b.Get("/calls/new")
			other := url.Values{"add_to": {closed.Ref()}}
			for k, v := range call {
				other[k] = v
			}
			r := b.Post("/calls", other)
			consoletest.WantStatus(t, r, 303)
			consoletest.WantContains(t, b.Get(r.Location), `class="flash error"`)
			if n := tickettest.CountEvents(t, db, "note.added"); n != 0 {
				t.Fatalf("%d notes added", n)
			}
		})

		b.Get("/calls/new")
		add := url.Values{"add_to": {open.Ref()}}
		for k, v := range call {
			add[k] = v
		}
		r = b.Post("/calls", add)
		consoletest.WantStatus(t, r, 303)
		if r.Location != "/tickets/"+open.Ref() {
			t.Fatalf("went to %q", r.Location)
		}
		consoletest.WantContains(t, b.Get(r.Location), "来电已记入 "+open.Ref())
		td, err := d.Service.Ticket(ctx, open.Ref())
		if err != nil {
			t.Fatal(err)
		}
		last := td.Messages[len(td.Messages)-1]
		if last.Direction != tickets.DirectionNote || !strings.Contains(last.Body, "催理赔") || !strings.Contains(last.Body, "客户再次来电询问进度") {
			t.Errorf("the call on the ticket: %s %q", last.Direction, last.Body)
		}
		if n := countTickets(t, db); n != 2 {
			t.Errorf("%d tickets after adding the call, want 2", n)
		}

		b.Get("/calls/new")
		anyway := url.Values{"new_ticket": {"1"}}
		for k, v := range call {
			anyway[k] = v
		}
		r = b.Post("/calls", anyway)
		consoletest.WantStatus(t, r, 303)
		if n := countTickets(t, db); n != 3 {
			t.Errorf("%d tickets after opening one anyway, want 3", n)
		}
	})
}

// Categories come from a list, named in the agent's language.
func TestLogACallCategories(t *testing.T) {
	for _, c := range []struct {
		name       string
		configured []string
		pick       string
		shows      []string
		ok         bool
	}{
		{"default list", nil, "claims", []string{`<option value="claims">理赔</option>`, `<option value="enquiry">咨询</option>`}, true},
		{"not on the default list", nil, "Claims!", nil, false},
		{"configured", []string{"车险", "健康险"}, "健康险", []string{`<option value="车险">车险</option>`}, true},
		{"a default not configured", []string{"车险", "健康险"}, "claims", nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := consoletest.NewDesk(t, tickettest.SQLite(t), func(cfg *console.Config) { cfg.CallCategories = c.configured })
			b := d.SignIn(d.Agent)
			consoletest.WantContains(t, b.Get("/calls/new"), append([]string{`<select name="category"`}, c.shows...)...)
			r := b.Post("/calls", url.Values{"phone": {"13800138000"}, "subject": {"保单"}, "category": {c.pick}, "priority": {"normal"}})
			if !c.ok {
				consoletest.WantStatus(t, r, 400)
				consoletest.WantContains(t, r, "请从列表中选择类别", `value="保单"`)
				if n := countTickets(t, d.Service.DB()); n != 0 {
					t.Errorf("%d tickets", n)
				}
				return
			}
			consoletest.WantStatus(t, r, 303)
			td, err := d.Service.Ticket(context.Background(), strings.TrimPrefix(r.Location, "/tickets/"))
			if err != nil || td.Category != c.pick {
				t.Errorf("ticket %v category %q, want %q", err, td.Category, c.pick)
			}
		})
	}
}
