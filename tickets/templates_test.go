package tickets_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func sentTo(t *testing.T, svc *tickets.Service, ref string) []string {
	t.Helper()
	var out []string
	for _, m := range mustDetail(t, svc, ref).Messages {
		if m.Direction == tickets.DirectionOutbound {
			out = append(out, string(m.Channel)+": "+m.Body)
		}
	}
	return out
}

// With notices on, customers are told on their channel and in their language: a new
// email or WeChat ticket's reference, its resolution, and a complaint's receipt.
func TestCustomerNotices(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := tickettest.NewClock(t0)
		svc := tickets.NewService(db, clock, tickets.Config{DefaultCountry: "86", PasswordCost: 4, Notices: true}, nil)
		admin := adminActor(t, svc)
		if err := deadlines.New(svc).SeedHolidays(ctx); err != nil {
			t.Fatal(err)
		}
		mail, err := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "li@example.com", Subject: "Claim", Body: "hi", ProviderMessageID: "m1", Locale: "en"})
		if err != nil {
			t.Fatal(err)
		}
		if got := sentTo(t, svc, mail.Ticket.Ref()); len(got) != 1 || !strings.Contains(got[0], "email: Thank you, we have your message. Your reference is HL-000001") || !strings.Contains(got[0], "2026-11-27 17:30") {
			t.Errorf("email acknowledgement: %q", got)
		}
		wx, _ := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: "oX", Body: "你好"})
		if got := sentTo(t, svc, wx.Ticket.Ref()); len(got) != 1 || !strings.HasPrefix(got[0], "wechat: 您好，我们已收到您的信息，工单号 HL-000002") {
			t.Errorf("WeChat acknowledgement: %q", got)
		}
		sms, _ := svc.Intake(ctx, sms("+8613800138000", "hi", "S1"))
		if got := sentTo(t, svc, sms.Ticket.Ref()); len(got) != 0 {
			t.Errorf("an SMS ticket was acknowledged by a separate message (the webhook's answer does it): %q", got)
		}
		// A second message on the same ticket is not acknowledged again.
		svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: "oX", Body: "还在吗"}) //nolint:errcheck
		if got := sentTo(t, svc, wx.Ticket.Ref()); len(got) != 1 {
			t.Errorf("%d notices after a second message", len(got))
		}

		mustDo(t)(svc.SetStatus(ctx, admin, mail.Ticket.Ref(), tickets.StatusResolved, ""))
		if got := sentTo(t, svc, mail.Ticket.Ref()); len(got) != 2 || !strings.Contains(got[1], "has been resolved") {
			t.Errorf("resolution notice: %q", got)
		}
		c, err := complaints.New(svc).Open(ctx, admin, complaints.NewComplaint{TicketRef: wx.Ticket.Ref(), Summary: "too slow"})
		if err != nil {
			t.Fatal(err)
		}
		if got := sentTo(t, svc, wx.Ticket.Ref()); len(got) != 2 || !strings.Contains(got[1], "您的投诉已受理，编号 "+c.Ref()) || !strings.Contains(got[1], "2026-12-09") {
			t.Errorf("complaint receipt: %q", got)
		}
	})
}

// A notice due after WeChat's 48-hour window goes by SMS when the customer has a phone,
// and the fallback is on the ticket; with no other way in, it is kept as failed, with why.
func TestNoticeFallbackWhenWeChatWindowClosed(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := tickettest.NewClock(t0)
		svc := tickets.NewService(db, clock, tickets.Config{DefaultCountry: "86", PasswordCost: 4, Notices: true}, nil)
		admin := adminActor(t, svc)
		reachable, _ := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: "oPhone", Body: "hi"})
		phone, err := svc.CreateTicket(ctx, admin, tickets.NewTicket{Phone: "+8613800138000", Subject: "x"})
		if err != nil {
			t.Fatal(err)
		}
		db.NewUpdate().Table("customer_identities").Set("customer_id = ?", reachable.Ticket.CustomerID).Where("customer_id = ?", phone.CustomerID).Exec(ctx) //nolint:errcheck
		lonely, _ := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: "oAlone", Body: "hi"})

		clock.Advance(50 * time.Hour)
		mustDo(t)(svc.SetStatus(ctx, admin, reachable.Ticket.Ref(), tickets.StatusResolved, ""))
		mustDo(t)(svc.SetStatus(ctx, admin, lonely.Ticket.Ref(), tickets.StatusResolved, ""))

		got := sentTo(t, svc, reachable.Ticket.Ref())
		if last := got[len(got)-1]; !strings.HasPrefix(last, "sms: 您的工单") {
			t.Errorf("resolution notice after 50h: %q, want it by SMS", last)
		}
		if kinds := eventKinds(mustDetail(t, svc, reachable.Ticket.Ref()).Events); !strings.Contains(strings.Join(kinds, " "), "notice.fallback") {
			t.Errorf("the fallback is not recorded: %v", kinds)
		}
		d := mustDetail(t, svc, lonely.Ticket.Ref())
		last := d.Messages[len(d.Messages)-1]
		if last.DeliveryStatus != "failed" || !strings.Contains(last.DeliveryError, "48-hour window") {
			t.Errorf("unreachable customer's notice: %s %q", last.DeliveryStatus, last.DeliveryError)
		}
	})
}
