package desk_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

var selectedStatus = regexp.MustCompile(`<select name="status" id="status-select"><option value="([a-z]+)" selected>`)

// TestStatusFormKeepsTheStatus: the status form opens on the ticket's own status, so a
// Save nobody meant changes nothing (it used to reopen a resolved ticket).
func TestStatusFormKeepsTheStatus(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		ctx := context.Background()
		admin := tickets.AgentActor(d.Admin)
		for _, st := range []tickets.Status{tickets.StatusNew, tickets.StatusOpen, tickets.StatusPending, tickets.StatusResolved, tickets.StatusClosed} {
			t.Run(string(st), func(t *testing.T) {
				tk := d.SMS("+86138001380"+string(rune('0'+len(st))), "理赔进度")
				path := []tickets.Status{tickets.StatusOpen, tickets.StatusPending, tickets.StatusResolved, tickets.StatusClosed}
				for _, step := range path {
					if tk.Status == st {
						break
					}
					if step == tickets.StatusPending && st != tickets.StatusPending {
						continue
					}
					var err error
					if tk, err = d.Service.SetStatus(ctx, admin, tk.Ref(), step, ""); err != nil {
						t.Fatal(err)
					}
				}
				b := d.SignIn(d.Super)
				r := b.Get("/tickets/" + tk.Ref())
				consoletest.WantStatus(t, r, 200)
				m := selectedStatus.FindStringSubmatch(r.Body)
				if m == nil || m[1] != string(st) {
					t.Fatalf("the status form preselects %v, want %s", m, st)
				}
				// Saving it as it stands is refused with a reason, and the ticket stays.
				r = b.Post("/tickets/"+tk.Ref()+"/status", url.Values{"status": {m[1]}})
				consoletest.WantStatus(t, r, 303)
				r = b.Get(r.Location)
				consoletest.WantContains(t, r, `class="flash error"`)
				if now, err := d.Service.Ticket(ctx, tk.Ref()); err != nil || now.Status != st {
					t.Errorf("after a stray Save the ticket is %v (%v), want %s", now.Status, err, st)
				}
			})
		}
	})
}

// TestTakeItOnlyWhereAllowed: "Take it" shows exactly where taking would be allowed.
func TestTakeItOnlyWhereAllowed(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		ctx := context.Background()
		assign := func(tk *tickets.Ticket, team, agent *int64) {
			t.Helper()
			if _, err := d.Service.Assign(ctx, tickets.AgentActor(d.Admin), tk.Ref(), tickets.Assignment{TeamID: team, AssigneeID: agent}); err != nil {
				t.Fatal(err)
			}
		}
		nobody := d.SMS("+8613800138101", "无人处理")
		team := d.SMS("+8613800138102", "团队队列")
		assign(team, &d.Team.ID, nil)
		other := d.SMS("+8613800138103", "另一个团队")
		assign(other, &d.Other.ID, nil)
		colleague := d.SMS("+8613800138104", "同事的")
		assign(colleague, nil, &d.Agent2.ID)
		mine := d.SMS("+8613800138105", "我的")
		assign(mine, nil, &d.Agent.ID)
		cases := []struct {
			who  *tickets.Agent
			tk   *tickets.Ticket
			take bool
		}{
			{d.Agent, nobody, true},
			{d.Agent, team, true},
			{d.Agent, other, false},
			{d.Agent, colleague, false},
			{d.Agent, mine, false},
			{d.Super, colleague, true},
			{d.Super, other, false},
			{d.Admin, colleague, true},
		}
		for _, tc := range cases {
			r := d.SignIn(tc.who).Get("/tickets/" + tc.tk.Ref())
			consoletest.WantStatus(t, r, 200)
			if got := strings.Contains(r.Body, `id="take"`); got != tc.take {
				t.Errorf("%s on %s (%s): Take it shown %v, want %v", tc.who.Email, tc.tk.Ref(), tc.tk.Subject, got, tc.take)
			}
		}
	})
}

// TestResolveGoesToTheNextTicket: resolving (or parking) a ticket opened from a queue,
// by the status form, the Resolve button or "Send and resolve", lands on that queue's
// next ticket; opened from nowhere, the agent stays on it.
func TestResolveGoesToTheNextTicket(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		ctx := context.Background()
		b := d.SignIn(d.Agent)
		unassigned := url.QueryEscape("view=unassigned")
		cases := []struct {
			name    string
			path    string // the form, under /tickets/<ref>
			form    url.Values
			want    tickets.Status
			replies int    // replies the ticket gets
			next    bool   // lands on the queue's next ticket, else on this one
			back    string // else, where it lands ("" this ticket)
		}{
			{name: "resolve from the queue", path: "status", form: url.Values{"status": {"resolved"}, "from": {"view=unassigned"}},
				want: tickets.StatusResolved, next: true},
			{name: "send and resolve", path: "reply", form: url.Values{"body": {"已为您处理"}, "then": {"resolved"}, "from": {"view=unassigned"}},
				want: tickets.StatusResolved, replies: 1, next: true},
			{name: "send and wait on the customer", path: "reply", form: url.Values{"body": {"请补充材料"}, "then": {"pending"}, "from": {"view=unassigned"}},
				want: tickets.StatusPending, replies: 1, next: true},
			{name: "a plain reply stays", path: "reply", form: url.Values{"body": {"处理中"}, "from": {"view=unassigned"}},
				want: tickets.StatusOpen, replies: 1, back: "?from=" + unassigned},
			{name: "resolve outside a queue stays", path: "status", form: url.Values{"status": {"resolved"}},
				want: tickets.StatusResolved},
			{name: "a queue that is none stays, resolved", path: "status", form: url.Values{"status": {"resolved"}, "from": {"view=elsewhere"}},
				want: tickets.StatusResolved, back: "?from=" + url.QueryEscape("view=elsewhere")},
			{name: "only the queue's keys are carried", path: "status", form: url.Values{"status": {"resolved"}, "from": {"view=unassigned&next=//evil.example"}},
				want: tickets.StatusResolved, next: true},
			// The search found this caller only: the way on is the queue searched in.
			{name: "a search goes on with its queue", path: "reply", form: url.Values{"body": {"已为您处理"}, "then": {"resolved"}, "from": {"view=unassigned&q=1382{i}"}},
				want: tickets.StatusResolved, replies: 1, next: true},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				tk := d.SMS("+86138001382"+string(rune('0'+i)), "第一张")
				following := d.SMS("+86138001383"+string(rune('0'+i)), "下一张")
				// Each case starts from a queue of these two.
				t.Cleanup(func() {
					for _, ref := range []string{tk.Ref(), following.Ref()} {
						if now, _ := d.Service.Ticket(ctx, ref); now != nil && now.Status.Active() {
							if _, err := d.Service.SetStatus(ctx, tickets.AgentActor(d.Admin), ref, tickets.StatusResolved, ""); err != nil {
								t.Error(err)
							}
						}
					}
				})
				b.Get("/tickets/" + tk.Ref() + "?from=" + unassigned)
				if from := tc.form.Get("from"); from != "" {
					tc.form.Set("from", strings.ReplaceAll(from, "{i}", string(rune('0'+i))))
				}
				r := b.Post("/tickets/"+tk.Ref()+"/"+tc.path, tc.form)
				consoletest.WantStatus(t, r, 303)
				want := "/tickets/" + tk.Ref() + tc.back
				if tc.next {
					want = "/tickets/" + following.Ref() + "?from=" + unassigned
				}
				if r.Location != want {
					t.Errorf("went to %s, want %s", r.Location, want)
				}
				got, err := d.Service.Ticket(ctx, tk.Ref())
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != tc.want || len(got.Messages) != 1+tc.replies {
					t.Errorf("ticket %s with %d messages, want %s with %d", got.Status, len(got.Messages), tc.want, 1+tc.replies)
				}
				if tc.next {
					page := b.Get(r.Location)
					consoletest.WantContains(t, page, tk.Ref(), following.Ref(), `href="/queue?view=unassigned"`)
				}
			})
		}
	})
}
