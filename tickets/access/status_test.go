package access_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func TestStatusRequest(t *testing.T) {
	cases := []struct {
		text, ref string
		english   bool
		ok        bool
	}{
		{"状态", "", false, true},
		{" 状态 HL-000123 ", "HL-000123", false, true},
		{"状态：hl-12", "hl-12", false, true},
		{"查询", "", false, true},
		{"STATUS", "", true, true},
		{"status HL-000007?", "HL-000007", true, true},
		{"status of my claim is terrible", "", false, false},
		{"我的状态不好", "", false, false},
		{"hello", "", false, false},
	}
	for _, c := range cases {
		ref, english, ok := access.StatusRequest(c.text)
		if ref != c.ref || english != c.english || ok != c.ok {
			t.Errorf("StatusRequest(%q) = %q %v %v", c.text, ref, english, ok)
		}
	}
}

func TestCustomerAndPublicStatus(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		a := d.ticket(t, "+8613800138000")
		b := d.ticket(t, "+8613900139000")
		reply, err := d.core.Reply(ctx, d.liNa, a.Ref(), "We have your documents.")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.core.AddNote(ctx, d.liNa, a.Ref(), "internal: customer is difficult"); err != nil {
			t.Fatal(err)
		}

		sts, err := d.svc.CustomerStatus(ctx, tickets.IdentityPhone, "13800138000", "")
		if err != nil || len(sts) != 1 || sts[0].Ref != a.Ref() || sts[0].NextDue == nil {
			t.Fatalf("own open tickets: %+v %v", sts, err)
		}
		if text := d.svc.StatusText(sts, false); !strings.Contains(text, a.Ref()) || !strings.Contains(text, "处理中") {
			t.Errorf("status text %q", text)
		}
		if sts, _ := d.svc.CustomerStatus(ctx, tickets.IdentityPhone, "13800138000", b.Ref()); len(sts) != 0 {
			t.Error("a customer learned about someone else's ticket")
		}

		// A queued reply may still fail: it is listed once it was sent.
		if st, err := d.svc.PublicStatus(ctx, a.Ref(), "8000"); err != nil || len(st.Replies) != 0 {
			t.Fatalf("public status before sending: %+v %v", st, err)
		}
		if _, err := db.NewUpdate().TableExpr("messages").Set("delivery_status = ?", tickets.DeliverySent).Where("id = ?", reply.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		st, err := d.svc.PublicStatus(ctx, a.Ref(), "8000")
		if err != nil || len(st.Replies) != 1 || st.Replies[0].Body != "We have your documents." {
			t.Fatalf("public status: %+v %v", st, err)
		}
		for _, check := range []string{"9000", "800", "38000", "", "someone@example.com"} {
			if _, err := d.svc.PublicStatus(ctx, a.Ref(), check); !errors.Is(err, tickets.ErrNotFound) {
				t.Errorf("check %q: %v, want not found", check, err)
			}
		}
		if _, err := d.svc.PublicStatus(ctx, "HL-999999", "8000"); !errors.Is(err, tickets.ErrNotFound) {
			t.Errorf("unknown ticket: %v", err)
		}
	})
}
