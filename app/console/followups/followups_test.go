package followups_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func TestFollowUpCalls(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	ctx := context.Background()
	tk := d.SMS("+8613800138000", "理赔已到账，谢谢")
	me := tickets.AgentActor(d.Agent)
	if _, err := d.Service.Assign(ctx, me, tk.Ref(), tickets.Assignment{AssigneeID: &d.Agent.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Service.SetStatus(ctx, me, tk.Ref(), tickets.StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	calls, err := d.Aftercare.FollowUps(ctx, aftercare.FollowUpFilter{TicketID: tk.ID})
	if err != nil || len(calls) != 3 {
		t.Fatalf("follow-ups %v %v", calls, err)
	}

	b := d.SignIn(d.Agent)
	r := b.Get("/followups")
	consoletest.WantStatus(t, r, 200)
	consoletest.WantContains(t, r, tk.Ref(), `href="tel:&#43;8613800138000"`, "当天", "7 天", "30 天", "完成回访")
	if n := strings.Count(r.Body, `href="tel:&#43;8613800138000"`); n != 3 {
		t.Errorf("%d of the ticket's 3 calls offer the customer's number", n)
	}
	consoletest.WantContains(t, d.SignIn(d.Agent2).Get("/followups?view=mine"), "没有待办的回访")
	consoletest.WantStatus(t, b.Get("/followups?view=everything"), 400)

	first := "/followups/" + strconv.FormatInt(calls[0].ID, 10) + "/complete"
	t.Run("the form needs its token", func(t *testing.T) {
		consoletest.WantStatus(t, b.PostRaw(first, url.Values{"note": {"called"}}), 403)
	})
	t.Run("a call is done only with what was said", func(t *testing.T) {
		b.Get("/followups")
		r := b.Post(first, url.Values{"note": {"  "}})
		consoletest.WantStatus(t, r, 303)
		consoletest.WantContains(t, b.Get(r.Location), `class="flash error"`)
	})
	t.Run("another agent may not close my call", func(t *testing.T) {
		other := d.SignIn(d.Agent2)
		consoletest.WantStatus(t, other.Post(first, url.Values{"note": {"not mine"}}), 403)
	})
	if fu, _ := d.Aftercare.FollowUp(ctx, calls[0].ID); fu.Status != aftercare.FollowUpOpen {
		t.Fatalf("a refused form changed the call: %s", fu.Status)
	}

	b.Get("/followups")
	r = b.Post(first, url.Values{"note": {"客户满意，无其他问题"}})
	consoletest.WantStatus(t, r, 303)
	consoletest.WantContains(t, b.Get(r.Location), "回访已完成")
	if fu, _ := d.Aftercare.FollowUp(ctx, calls[0].ID); fu.Status != aftercare.FollowUpDone || fu.Note != "客户满意，无其他问题" {
		t.Fatalf("follow-up after completing: %+v", fu)
	}
	consoletest.WantContains(t, b.Get("/followups?view=done"), "客户满意，无其他问题")
	consoletest.WantLacks(t, b.Get("/followups"), `action="`+first+`"`)
}

func TestTeamFollowUpsWaitingForSomeone(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	ctx := context.Background()
	tk := d.SMS("+8613900139000", "地址已改好")
	boss := tickets.AgentActor(d.Super)
	if _, err := d.Service.Assign(ctx, boss, tk.Ref(), tickets.Assignment{TeamID: &d.Team.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Service.SetStatus(ctx, boss, tk.Ref(), tickets.StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	consoletest.WantContains(t, d.SignIn(d.Agent2).Get("/followups?view=unassigned"), tk.Ref(), "完成回访")
	other := d.SMS("+8613700137000", "another team")
	if _, err := d.Service.Assign(ctx, tickets.AgentActor(d.Admin), other.Ref(), tickets.Assignment{TeamID: &d.Other.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Service.SetStatus(ctx, tickets.AgentActor(d.Admin), other.Ref(), tickets.StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	consoletest.WantLacks(t, d.SignIn(d.Agent2).Get("/followups?view=unassigned"), `href="/tickets/`+other.Ref()+`"`)
}
