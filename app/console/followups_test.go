package console_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func TestFollowUpCalls(t *testing.T) {
	d := newDesk(t, tickettest.SQLite(t))
	ctx := context.Background()
	tk := d.sms("+8613800138000", "理赔已到账，谢谢")
	me := tickets.AgentActor(d.agent)
	if _, err := d.svc.Assign(ctx, me, tk.Ref(), tickets.Assignment{AssigneeID: &d.agent.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.SetStatus(ctx, me, tk.Ref(), tickets.StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	calls, err := d.care.FollowUps(ctx, aftercare.FollowUpFilter{TicketID: tk.ID})
	if err != nil || len(calls) != 3 {
		t.Fatalf("follow-ups %v %v", calls, err)
	}

	b := d.signIn(d.agent)
	r := b.get("/followups")
	wantStatus(t, r, 200)
	wantContains(t, r, tk.Ref(), `href="tel:&#43;8613800138000"`, "当天", "7 天", "30 天", "完成回访")
	if n := strings.Count(r.body, `href="tel:&#43;8613800138000"`); n != 3 {
		t.Errorf("%d of the ticket's 3 calls offer the customer's number", n)
	}
	wantContains(t, d.signIn(d.agent2).get("/followups?view=mine"), "没有待办的回访")
	wantStatus(t, b.get("/followups?view=everything"), 400)

	first := "/followups/" + strconv.FormatInt(calls[0].ID, 10) + "/complete"
	t.Run("the form needs its token", func(t *testing.T) {
		wantStatus(t, b.postRaw(first, url.Values{"note": {"called"}}), 403)
	})
	t.Run("a call is done only with what was said", func(t *testing.T) {
		b.get("/followups")
		r := b.post(first, url.Values{"note": {"  "}})
		wantStatus(t, r, 303)
		wantContains(t, b.get(r.location), `class="flash error"`)
	})
	t.Run("another agent may not close my call", func(t *testing.T) {
		other := d.signIn(d.agent2)
		wantStatus(t, other.post(first, url.Values{"note": {"not mine"}}), 403)
	})
	if fu, _ := d.care.FollowUp(ctx, calls[0].ID); fu.Status != aftercare.FollowUpOpen {
		t.Fatalf("a refused form changed the call: %s", fu.Status)
	}

	b.get("/followups")
	r = b.post(first, url.Values{"note": {"客户满意，无其他问题"}})
	wantStatus(t, r, 303)
	wantContains(t, b.get(r.location), "回访已完成")
	if fu, _ := d.care.FollowUp(ctx, calls[0].ID); fu.Status != aftercare.FollowUpDone || fu.Note != "客户满意，无其他问题" {
		t.Fatalf("follow-up after completing: %+v", fu)
	}
	wantContains(t, b.get("/followups?view=done"), "客户满意，无其他问题")
	wantLacks(t, b.get("/followups"), `action="`+first+`"`)
}

func TestTeamFollowUpsWaitingForSomeone(t *testing.T) {
	d := newDesk(t, tickettest.SQLite(t))
	ctx := context.Background()
	tk := d.sms("+8613900139000", "地址已改好")
	boss := tickets.AgentActor(d.super)
	if _, err := d.svc.Assign(ctx, boss, tk.Ref(), tickets.Assignment{TeamID: &d.team.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.SetStatus(ctx, boss, tk.Ref(), tickets.StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	wantContains(t, d.signIn(d.agent2).get("/followups?view=unassigned"), tk.Ref(), "完成回访")
	other := d.sms("+8613700137000", "another team")
	if _, err := d.svc.Assign(ctx, tickets.AgentActor(d.admin), other.Ref(), tickets.Assignment{TeamID: &d.other.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.SetStatus(ctx, tickets.AgentActor(d.admin), other.Ref(), tickets.StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	wantLacks(t, d.signIn(d.agent2).get("/followups?view=unassigned"), `href="/tickets/`+other.Ref()+`"`)
}
