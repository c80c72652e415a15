package tickets_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestReplyThenStatus: a reply and the status it leaves the ticket in are one change. A
// status the ticket may not take refuses the reply too, and nothing of either is stored.
func TestReplyThenStatus(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		cases := []struct {
			name     string
			resolved bool // the ticket is resolved before the reply
			taken    bool // Zhang Wei has the ticket
			who      tickets.Actor
			then     tickets.Status
			want     tickets.Status // the status after; the ticket's own when refused
			err      error          // nil: the reply is stored
			events   []string       // the change's audit trail, in order
		}{
			{name: "reply only", who: d.liNa, want: tickets.StatusOpen,
				events: []string{"reply.queued", "status.changed"}},
			{name: "reply and resolve", who: d.liNa, then: tickets.StatusResolved, want: tickets.StatusResolved,
				events: []string{"reply.queued", "status.changed", "status.changed"}},
			{name: "reply and wait on the customer", who: d.liNa, then: tickets.StatusPending, want: tickets.StatusPending,
				events: []string{"reply.queued", "status.changed", "status.changed"}},
			{name: "open is what the first reply does anyway", who: d.liNa, then: tickets.StatusOpen, want: tickets.StatusOpen,
				events: []string{"reply.queued", "status.changed"}},
			{name: "reply on a resolved ticket and keep it resolved", resolved: true, who: d.liNa, then: tickets.StatusResolved,
				want: tickets.StatusResolved, events: []string{"reply.queued"}},
			{name: "reply and reopen", resolved: true, who: d.liNa, then: tickets.StatusOpen, want: tickets.StatusOpen,
				events: []string{"reply.queued", "ticket.reopened"}},
			{name: "a resolved ticket cannot wait on the customer", resolved: true, who: d.liNa, then: tickets.StatusPending,
				want: tickets.StatusResolved, err: tickets.ErrConflict},
			{name: "an open ticket is not closed in one step", who: d.liNa, then: tickets.StatusClosed,
				want: tickets.StatusNew, err: tickets.ErrConflict},
			{name: "unknown status", who: d.liNa, then: "archived", want: tickets.StatusNew, err: tickets.ErrInvalid},
			{name: "someone else's ticket", taken: true, who: d.liNa, then: tickets.StatusResolved, want: tickets.StatusNew, err: tickets.ErrForbidden},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				tk := d.ticket(t, fmt.Sprintf("+86138001381%02d", i))
				if tc.resolved {
					if _, err := d.svc.SetStatus(ctx, d.admin, tk.Ref(), tickets.StatusResolved, ""); err != nil {
						t.Fatal(err)
					}
				}
				if tc.taken {
					if _, err := d.svc.Assign(ctx, d.admin, tk.Ref(), tickets.Assignment{AssigneeID: &d.zhangWei.Agent.ID}); err != nil {
						t.Fatal(err)
					}
				}
				before := detail(t, d.svc, tk.Ref())
				_, err := d.svc.ReplyWith(ctx, tc.who, tk.Ref(), tickets.ReplyInput{Body: "您好，已为您处理。", Then: tc.then})
				if !errors.Is(err, tc.err) {
					t.Fatalf("ReplyWith(then %q) = %v, want %v", tc.then, err, tc.err)
				}
				after := detail(t, d.svc, tk.Ref())
				if after.Status != tc.want {
					t.Errorf("status %s, want %s", after.Status, tc.want)
				}
				replies := func(td *tickets.TicketDetail) int {
					return len(slices.DeleteFunc(slices.Clone(td.Messages), func(m *tickets.Message) bool { return m.Direction != tickets.DirectionOutbound }))
				}
				added := eventKinds(after.Events)[len(before.Events):]
				if tc.err != nil {
					if replies(after) != replies(before) || len(added) != 0 {
						t.Errorf("a refused reply left %d replies (had %d) and events %v", replies(after), replies(before), added)
					}
					return
				}
				if replies(after) != replies(before)+1 {
					t.Errorf("%d replies after, want %d", replies(after), replies(before)+1)
				}
				if !slices.Equal(added, tc.events) {
					t.Errorf("events %v, want %v", added, tc.events)
				}
				if tc.want == tickets.StatusResolved && after.ResolvedAt == nil {
					t.Error("resolved without a resolution time")
				}
			})
		}
	})
}

// TestReplyThenStatusAllOrNothing: when the status cannot be saved, the reply is not
// stored nor queued to send either; once it can, both are.
func TestReplyThenStatusAllOrNothing(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		tk := d.ticket(t, "+8613800138000")
		lift := tickettest.FailUpdates(t, db, "tickets", "NEW.status = 'resolved'")
		if _, err := d.svc.ReplyWith(ctx, d.liNa, tk.Ref(), tickets.ReplyInput{Body: "已处理", Then: tickets.StatusResolved}); err == nil {
			t.Fatal("the reply was accepted while its resolution could not be saved")
		}
		got := detail(t, d.svc, tk.Ref())
		if got.Status != tickets.StatusNew || len(got.Messages) != 1 || got.FirstRespondedAt != nil {
			t.Errorf("after the failure: status %s, %d messages, first response %v; want new, the customer's one, none",
				got.Status, len(got.Messages), got.FirstRespondedAt)
		}
		if n := tickettest.CountEvents(t, db, "reply.queued"); n != 0 {
			t.Errorf("%d reply.queued events after the failure", n)
		}
		lift()
		if _, err := d.svc.ReplyWith(ctx, d.liNa, tk.Ref(), tickets.ReplyInput{Body: "已处理", Then: tickets.StatusResolved}); err != nil {
			t.Fatal(err)
		}
		got = detail(t, d.svc, tk.Ref())
		if got.Status != tickets.StatusResolved || len(got.Messages) != 2 {
			t.Errorf("after retrying: status %s, %d messages; want resolved, 2", got.Status, len(got.Messages))
		}
	})
}

func detail(t *testing.T, svc *tickets.Service, ref string) *tickets.TicketDetail {
	t.Helper()
	td, err := svc.Ticket(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return td
}

// TestMayTakeIsAssignsRule: "Take it" is offered exactly when taking the ticket would be
// allowed, for every kind of staff and every owner a ticket can have.
func TestMayTakeIsAssignsRule(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		owners := []struct {
			name  string
			team  *tickets.Team
			agent tickets.Actor
		}{
			{name: "nobody's"},
			{name: "claims' queue", team: d.claims},
			{name: "complaints' queue", team: d.complaints},
			{name: "Zhang Wei's", agent: d.zhangWei},
			{name: "Wang's", agent: d.wang},
			{name: "Li Na's", agent: d.liNa},
		}
		staff := map[string]tickets.Actor{"Li Na": d.liNa, "Wang": d.wang, "Chen (supervisor)": d.chen, "admin": d.admin}
		i := 0
		for _, o := range owners {
			for who, actor := range staff {
				i++
				tk := d.ticket(t, fmt.Sprintf("+86139001390%02d", i))
				in := tickets.Assignment{TeamID: nil}
				if o.team != nil {
					in.TeamID = &o.team.ID
				}
				if o.agent.Agent != nil {
					in.AssigneeID = &o.agent.Agent.ID
				}
				if in.TeamID != nil || in.AssigneeID != nil {
					if _, err := d.svc.Assign(ctx, d.admin, tk.Ref(), in); err != nil {
						t.Fatal(err)
					}
				}
				tk = detail(t, d.svc, tk.Ref()).Ticket
				may, err := d.svc.MayTake(ctx, actor, tk)
				if err != nil {
					t.Fatal(err)
				}
				_, err = d.svc.Assign(ctx, actor, tk.Ref(), tickets.Assignment{AssigneeID: &actor.Agent.ID})
				took := err == nil && !(o.agent.Agent != nil && o.agent.Agent.ID == actor.Agent.ID)
				if err != nil && !errors.Is(err, tickets.ErrForbidden) {
					t.Fatalf("%s takes %s ticket: %v", who, o.name, err)
				}
				if may != took {
					t.Errorf("%s, %s ticket: MayTake %v, but taking it succeeded: %v", who, o.name, may, took)
				}
			}
		}
	})
}
