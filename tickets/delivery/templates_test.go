package delivery_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/delivery"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// desk is the tests' call centre (tickettest.Desk), telling customers of their tickets,
// with its delivery as app builds it.
type desk struct {
	*tickettest.Desk
	del *delivery.Service
}

func newDesk(t *testing.T, db *bun.DB) *desk {
	t.Helper()
	clock := tickettest.NewClock(tickettest.T0)
	svc := tickets.NewService(db, clock, tickets.Config{DefaultCountry: "86", PasswordCost: 4, Notices: true}, tickettest.Logger())
	return &desk{Desk: tickettest.NewDesk(t, svc, clock), del: delivery.New(svc)}
}

// sentTo lists what a ticket's customer was sent, as "channel: text".
func (d *desk) sentTo(t *testing.T, ref string) []string {
	t.Helper()
	var out []string
	for _, m := range d.Detail(t, ref).Messages {
		if m.Direction == tickets.DirectionOutbound {
			out = append(out, string(m.Channel)+": "+m.Body)
		}
	}
	return out
}

func TestEditingTemplates(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		admin := d.Admin

		if err := d.del.SetTemplate(ctx, d.LiNa, tickets.TemplateAcknowledged, "zh", "x"); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("agent editing: %v", err)
		}
		for _, bad := range []struct{ key, locale, body string }{
			{tickets.TemplateAcknowledged, "zh", "工单 {{.Reff}}"}, // a variable that does not exist
			{tickets.TemplateAcknowledged, "zh", "工单 {{.Ref"},    // does not parse
			{tickets.TemplateAcknowledged, "fr", "x"},
		} {
			if err := d.del.SetTemplate(ctx, admin, bad.key, bad.locale, bad.body); !errors.Is(err, tickets.ErrInvalid) {
				t.Errorf("%q/%s: %v, want refused", bad.body, bad.locale, err)
			}
		}
		if err := d.del.SetTemplate(ctx, admin, "no.such", "zh", "x"); !errors.Is(err, tickets.ErrNotFound) {
			t.Errorf("unknown key: %v", err)
		}
		if n := tickettest.CountEvents(t, db, "template.changed"); n != 0 {
			t.Errorf("%d template.changed events after refusals only", n)
		}
		if err := d.del.SetTemplate(ctx, admin, tickets.TemplateAcknowledged, "zh", "【保险客服】已收到，工单号 {{.Ref}}，{{.Due}} 前答复。"); err != nil {
			t.Fatal(err)
		}
		res, err := d.Svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: "oY", Body: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		if got := d.sentTo(t, res.Ticket.Ref()); len(got) != 1 || got[0] != "wechat: 【保险客服】已收到，工单号 HL-000001，2026-11-26 17:30 前答复。" {
			t.Errorf("edited acknowledgement: %q", got)
		}
		ts, err := d.del.Templates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		custom := 0
		for _, v := range ts {
			if v.Custom {
				custom++
			}
		}
		if len(ts) != 2*len(tickets.DefaultWordings()) || custom != 1 {
			t.Errorf("%d templates, %d custom; want %d and 1", len(ts), custom, 2*len(tickets.DefaultWordings()))
		}
		// An empty wording restores the default.
		if err := d.del.SetTemplate(ctx, admin, tickets.TemplateAcknowledged, "zh", ""); err != nil {
			t.Fatal(err)
		}
		if text, _ := d.Svc.Notice(ctx, tickets.TemplateAcknowledged, "zh-CN", tickets.TemplateData{Ref: "HL-9", Due: time.Time{}.String()}); !strings.HasPrefix(text, "您好，我们已收到您的信息") {
			t.Errorf("restored default: %q", text)
		}
		if n := tickettest.CountEvents(t, db, "template.changed"); n != 2 {
			t.Errorf("%d template.changed events, want one for each change", n)
		}
	})
}
