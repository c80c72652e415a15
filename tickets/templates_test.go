package tickets_test

import (
	"context"
	"errors"
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

func TestEditingTemplates(t *testing.T) {
	ctx := context.Background()
	svc := tickets.NewService(tickettest.SQLite(t), tickettest.NewClock(t0), tickets.Config{DefaultCountry: "86", PasswordCost: 4, Notices: true}, nil)
	admin := adminActor(t, svc)
	agent, _ := svc.CreateAgent(ctx, admin, tickets.NewAgent{Email: "agent@example.com", Password: "long enough password"})

	if err := svc.SetTemplate(ctx, tickets.AgentActor(agent), tickets.TemplateAcknowledged, "zh", "x"); !errors.Is(err, tickets.ErrForbidden) {
		t.Errorf("agent editing: %v", err)
	}
	for _, bad := range []struct{ key, locale, body string }{
		{tickets.TemplateAcknowledged, "zh", "工单 {{.Reff}}"}, // a variable that does not exist
		{tickets.TemplateAcknowledged, "zh", "工单 {{.Ref"},    // does not parse
		{tickets.TemplateAcknowledged, "fr", "x"},
	} {
		if err := svc.SetTemplate(ctx, admin, bad.key, bad.locale, bad.body); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("%q/%s: %v, want refused", bad.body, bad.locale, err)
		}
	}
	if err := svc.SetTemplate(ctx, admin, "no.such", "zh", "x"); !errors.Is(err, tickets.ErrNotFound) {
		t.Errorf("unknown key: %v", err)
	}
	if err := svc.SetTemplate(ctx, admin, tickets.TemplateAcknowledged, "zh", "【保险客服】已收到，工单号 {{.Ref}}，{{.Due}} 前答复。"); err != nil {
		t.Fatal(err)
	}
	res, _ := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: "oY", Body: "hi"})
	if got := sentTo(t, svc, res.Ticket.Ref()); len(got) != 1 || got[0] != "wechat: 【保险客服】已收到，工单号 HL-000001，2026-11-26 17:30 前答复。" {
		t.Errorf("edited acknowledgement: %q", got)
	}
	ts, _ := svc.Templates(ctx)
	custom := 0
	for _, v := range ts {
		if v.Custom {
			custom++
		}
	}
	if len(ts) != 10 || custom != 1 {
		t.Errorf("%d templates, %d custom; want 10 and 1", len(ts), custom)
	}
	// An empty wording restores the default.
	if err := svc.SetTemplate(ctx, admin, tickets.TemplateAcknowledged, "zh", ""); err != nil {
		t.Fatal(err)
	}
	if text, _ := svc.Notice(ctx, tickets.TemplateAcknowledged, "zh-CN", tickets.TemplateData{Ref: "HL-9", Due: time.Time{}.String()}); !strings.HasPrefix(text, "您好，我们已收到您的信息") {
		t.Errorf("restored default: %q", text)
	}
}

func TestQuietHours(t *testing.T) {
	loc := shanghai(t)
	agentID := int64(7)
	cases := []struct {
		name      string
		local     string
		channel   tickets.Channel
		author    *int64
		priority  tickets.Priority
		wantUntil string // "" = send now
	}{
		{"evening notice waits", "2026-11-25 22:10", tickets.ChannelSMS, nil, tickets.PriorityNormal, "2026-11-26 08:00"},
		{"after midnight waits", "2026-11-26 03:00", tickets.ChannelSMS, nil, tickets.PriorityHigh, "2026-11-26 08:00"},
		{"from 21:00", "2026-11-25 21:00", tickets.ChannelSMS, nil, tickets.PriorityLow, "2026-11-26 08:00"},
		{"08:00 sends", "2026-11-26 08:00", tickets.ChannelSMS, nil, tickets.PriorityNormal, ""},
		{"daytime sends", "2026-11-26 14:00", tickets.ChannelSMS, nil, tickets.PriorityNormal, ""},
		{"urgent sends", "2026-11-25 23:00", tickets.ChannelSMS, nil, tickets.PriorityUrgent, ""},
		{"an agent's reply sends", "2026-11-25 23:00", tickets.ChannelSMS, &agentID, tickets.PriorityNormal, ""},
		{"email sends", "2026-11-25 23:00", tickets.ChannelEmail, nil, tickets.PriorityNormal, ""},
	}
	for _, c := range cases {
		at, _ := time.ParseInLocation("2006-01-02 15:04", c.local, loc)
		svc := tickets.NewService(tickettest.SQLite(t), tickettest.NewClock(at), tickets.Config{}, nil)
		d := &tickets.Delivery{Message: &tickets.Message{Channel: c.channel, AuthorID: c.author}, Ticket: &tickets.Ticket{Priority: c.priority}}
		until, quiet := svc.QuietUntil(d)
		got := ""
		if quiet {
			got = until.In(loc).Format("2006-01-02 15:04")
		}
		if got != c.wantUntil {
			t.Errorf("%s: until %q, want %q", c.name, got, c.wantUntil)
		}
	}
	off := tickets.NewService(tickettest.SQLite(t), tickettest.NewClock(time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)), tickets.Config{QuietStart: time.Hour, QuietEnd: time.Hour}, nil)
	if _, quiet := off.QuietUntil(&tickets.Delivery{Message: &tickets.Message{Channel: tickets.ChannelSMS}, Ticket: &tickets.Ticket{Priority: tickets.PriorityNormal}}); quiet {
		t.Error("quiet hours switched off still hold messages")
	}
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
