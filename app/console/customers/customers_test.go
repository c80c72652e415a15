package customers_test

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/delivery"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The customer page shows everything about the caller and edits name, tags and language.
func TestCustomerPage(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		ctx := context.Background()
		cp := d.FileComplaint("王小明", "13800138000", "理赔拖了两个月", consoletest.T0)
		first, err := d.Service.Ticket(ctx, cp.Ticket.Ref())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Service.SetStatus(ctx, tickets.AgentActor(d.Admin), first.Ref(), tickets.StatusResolved, ""); err != nil {
			t.Fatal(err)
		}
		second, err := d.Service.CreateTicket(ctx, tickets.AgentActor(d.Agent), tickets.NewTicket{Phone: "13800138000", Subject: "还有一个问题"})
		if err != nil {
			t.Fatal(err)
		}
		if err := delivery.New(d.Service).OptOut(ctx, tickets.IdentityPhone, "+8613800138000"); err != nil {
			t.Fatal(err)
		}
		id := consoletest.ID(first.CustomerID)
		page := "/customers/" + id

		b := d.SignIn(d.Agent)
		r := b.Get(page)
		consoletest.WantStatus(t, r, 200)
		consoletest.WantContains(t, r, "王小明", `&#43;86 138****8000`, "已退订",
			first.Ref(), second.Ref(), cp.Ref(), "理赔拖了两个月", // both tickets, the complaint
			"当天", "7 天", "30 天", "待回访", // the resolved ticket's three follow-up calls
			`action="/customers/`+id+`"`)
		consoletest.WantLacks(t, r, "complaints.st.", "customer.fu.", "customer.locale.") // no raw keys

		// Linked from the ticket page and from the queue.
		consoletest.WantContains(t, b.Get("/tickets/"+second.Ref()), `href="/customers/`+id+`"`)
		consoletest.WantContains(t, b.Get("/queue?view=all"), `href="/customers/`+id+`"`)

		t.Run("the form needs its token", func(t *testing.T) {
			consoletest.WantStatus(t, b.PostRaw(page, url.Values{"name": {"X"}, "tags": {""}, "locale": {""}}), 403)
		})
		for _, c := range []struct {
			name string
			form url.Values
		}{
			{"unknown language", url.Values{"name": {"王小明"}, "tags": {"vip"}, "locale": {"fr"}}},
			{"name too long", url.Values{"name": {strings.Repeat("名", 201)}, "tags": {""}, "locale": {""}}},
			{"tags too long", url.Values{"name": {"王小明"}, "tags": {strings.Repeat("a,", 300)}, "locale": {""}}},
		} {
			t.Run(c.name, func(t *testing.T) {
				b.Get(page)
				r := b.Post(page, c.form)
				consoletest.WantStatus(t, r, 303)
				consoletest.WantContains(t, b.Get(r.Location), `class="flash error"`)
			})
		}
		if n := tickettest.CountEvents(t, db, "customer.updated"); n != 0 {
			t.Fatalf("refused forms recorded %d changes", n)
		}

		b.Get(page)
		r = b.Post(page, url.Values{"name": {" 王晓明 "}, "tags": {"VIP, 理赔 ,"}, "locale": {"en"}})
		consoletest.WantStatus(t, r, 303)
		consoletest.WantContains(t, b.Get(r.Location), "客户资料已保存", "王晓明", `<span class="badge tag">vip</span>`, `<span class="badge tag">理赔</span>`)
		c, err := d.Service.Customer(ctx, first.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Name != "王晓明" || c.Tags != "vip,理赔" || c.Locale != "en" {
			t.Errorf("customer after saving: %q %q %q", c.Name, c.Tags, c.Locale)
		}
		if n := tickettest.CountEvents(t, db, "customer.updated"); n != 1 {
			t.Errorf("%d customer.updated events, want 1", n)
		}

		// English words for an English-speaking agent.
		en := d.SignIn(d.Admin)
		en.Post("/settings/language", url.Values{"lang": {"en"}})
		consoletest.WantContains(t, en.Get(page), "All tickets", "How to reach them", "opted out", "English")

		for _, bad := range []string{"/customers/abc", "/customers/0", "/customers/999999"} {
			consoletest.WantStatus(t, b.Get(bad), 404)
		}
	})
}

// The queue's search finds a caller by the last digits of their number, shows them as a
// match linked to their page, and lists their tickets.
func TestQueueFindsCaller(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		mine := d.SMS("+8613800138000", "理赔进度？")
		other := d.SMS("+8613900139999", "地址变更")
		b := d.SignIn(d.Agent)
		r := b.Get("/queue?view=all&q=" + url.QueryEscape("8000"))
		consoletest.WantStatus(t, r, 200)
		consoletest.WantContains(t, r, `id="customer-matches"`, `href="/customers/`+consoletest.ID(mine.CustomerID)+`"`, mine.Ref())
		consoletest.WantLacks(t, r, other.Ref())
		r = b.Get("/queue?view=all&q=" + url.QueryEscape("138 0013 8000"))
		consoletest.WantContains(t, r, mine.Ref())
		consoletest.WantLacks(t, r, other.Ref())
		consoletest.WantLacks(t, b.Get("/queue?view=all&q="+mine.Ref()), `id="customer-matches"`) // a reference is not a customer
	})
}

// Defect: a nameless caller's second ticket showed "—" in the queue, and their second
// ticket's follow-up calls no number to ring.
func TestEveryTicketShowsTheNumber(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		ctx := context.Background()
		me := tickets.AgentActor(d.Agent)
		for _, subject := range []string{"first call", "second call"} {
			tk, err := d.Service.CreateTicket(ctx, me, tickets.NewTicket{Phone: "13800138000", Subject: subject})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.Service.SetStatus(ctx, me, tk.Ref(), tickets.StatusResolved, ""); err != nil {
				t.Fatal(err)
			}
		}
		b := d.SignIn(d.Agent)
		r := b.Get("/queue?view=mine&status=resolved")
		if n := strings.Count(r.Body, `">&#43;86 138****8000</a></td>`); n != 2 {
			t.Errorf("the number shows on %d of the caller's 2 tickets", n)
		}
		calls, err := d.Aftercare.FollowUps(ctx, aftercare.FollowUpFilter{AssigneeID: &d.Agent.ID})
		if err != nil || len(calls) != 6 {
			t.Fatalf("follow-ups: %d %v", len(calls), err)
		}
		r = b.Get("/followups")
		if n := strings.Count(r.Body, `href="tel:&#43;8613800138000"`); n != 6 {
			t.Errorf("%d of the caller's 6 follow-up calls offer the number", n)
		}
	})
}

// TestCustomerPageKeepsTheQueue: a caller's page opened from the search's matches passes
// the queue on to their tickets, so that answering one there still ends on the queue's
// next ticket; a page opened otherwise links to the tickets alone.
func TestCustomerPageKeepsTheQueue(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		next := d.SMS("+8613900139999", "地址变更")
		caller := d.SMS("+8613800138000", "理赔进度？")
		id := consoletest.ID(caller.CustomerID)
		b := d.SignIn(d.Agent)
		carried := url.QueryEscape("q=8000&view=unassigned") // the queue's keys in order
		for _, c := range []struct {
			name string
			page string // the customer page as opened
			link string // its link to the caller's ticket
			then string // where sending and resolving there lands
		}{
			{"from the search", "", "/tickets/" + caller.Ref() + "?from=" + strings.ToLower(carried),
				"/tickets/" + next.Ref() + "?from=" + url.QueryEscape("view=unassigned")},
			{"from elsewhere", "/customers/" + id, "/tickets/" + caller.Ref(), "/tickets/" + caller.Ref()},
			{"a from too long to be a queue", "/customers/" + id + "?from=" + strings.Repeat("x", 1025), "/tickets/" + caller.Ref(), "/tickets/" + caller.Ref()},
		} {
			t.Run(c.name, func(t *testing.T) {
				if c.page == "" {
					r := b.Get("/queue?view=unassigned&q=8000")
					c.page = "/customers/" + id + "?from=" + strings.ToLower(carried)
					consoletest.WantContains(t, r, `href="`+c.page+`"`)
				}
				r := b.Get(c.page)
				consoletest.WantStatus(t, r, 200)
				consoletest.WantContains(t, r, `<a href="`+c.link+`">`)
				r = b.Get(c.link)
				from := regexp.MustCompile(`name="from" value="([^"]*)"`).FindStringSubmatch(r.Body)
				if from == nil {
					t.Fatal("the ticket page has no reply form")
				}
				r = b.Post("/tickets/"+caller.Ref()+"/reply", url.Values{"body": {"已为您处理"}, "then": {"resolved"}, "from": {html.UnescapeString(from[1])}})
				consoletest.WantStatus(t, r, 303)
				if r.Location != c.then {
					t.Errorf("sending and resolving went to %s, want %s", r.Location, c.then)
				}
				if _, err := d.Service.SetStatus(context.Background(), tickets.AgentActor(d.Admin), caller.Ref(), tickets.StatusOpen, "again"); err != nil {
					t.Fatal(err)
				}
			})
		}
	})
}
