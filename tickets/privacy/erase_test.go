package privacy_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/privacy"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestErase: a customer's texts, files, names and identities go; the audit trail and the
// complaint's decision stay; twice is once (also at the same time); a hold, open work or
// an agent is refused.
func TestErase(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, privacy.Policy{})
		mei := d.text(t, tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "mei@example.com", Name: "王美",
			Subject: "证件 ID", Body: "身份证 110101199003074478", Attachments: []tickets.NewAttachment{scan}})
		d.text(t, sms("+8613800000009", "voicemail", voicemail))
		cp := d.decidedComplaint(t, mei)
		if err := d.Svc.InTx(ctx, func(tx tickets.Tx) error { // the same phone belongs to Mei
			_, err := tx.ExecContext(ctx, "UPDATE customer_identities SET customer_id = ? WHERE value = ?", mei.CustomerID, "+8613800000009")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		_, err := db.ExecContext(ctx, "UPDATE tickets SET customer_id = ? WHERE customer_id <> ?", mei.CustomerID, mei.CustomerID)
		if err != nil {
			t.Fatal(err)
		}

		if _, err := d.p.Erase(ctx, d.LiNa, mei.CustomerID, "asked by phone"); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("agent erasing: %v", err)
		}
		if _, err := d.p.Erase(ctx, d.Chen, mei.CustomerID, " "); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("erasing without a reason: %v", err)
		}
		if _, err := d.p.Erase(ctx, d.Chen, mei.CustomerID, "asked by phone"); !errors.Is(err, tickets.ErrConflict) || !strings.Contains(tickets.Reason(err), "open tickets") {
			t.Errorf("erasing with open tickets: %v", err)
		}
		var tks []*tickets.Ticket
		if err := db.NewSelect().Model(&tks).Where("customer_id = ?", mei.CustomerID).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		for _, tk := range tks {
			d.Resolve(t, tk)
		}
		h, err := d.p.PlaceHold(ctx, d.Admin, privacy.OnComplaint, cp, "lawsuit 2026-88")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.p.PlaceHold(ctx, d.Chen, privacy.OnComplaint, cp, "again"); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("second hold: %v", err)
		}
		if _, err := d.p.PlaceHold(ctx, d.LiNa, privacy.OnCustomer, mei.CustomerID, "because"); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("agent placing a hold: %v", err)
		}
		_, err = d.p.Erase(ctx, d.Chen, mei.CustomerID, "asked by phone")
		if !errors.Is(err, tickets.ErrConflict) || !strings.Contains(tickets.Reason(err), "lawsuit 2026-88") {
			t.Errorf("erasing under a hold: %v", err)
		}
		if _, err := d.p.ReleaseHold(ctx, d.Admin, h.ID, "settled"); err != nil {
			t.Fatal(err)
		}

		// Two supervisors press the button together: one erasure.
		var wg sync.WaitGroup
		res := make([]*privacy.Erasure, 2)
		for i := range res {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e, err := d.p.Erase(ctx, d.Chen, mei.CustomerID, "asked by phone")
				if err != nil {
					t.Error(err)
				}
				res[i] = e
			}()
		}
		wg.Wait()
		if res[0] == nil || res[1] == nil || res[0].Already == res[1].Already {
			t.Fatalf("two erasures at once: %+v %+v", res[0], res[1])
		}
		e := res[0]
		if e.Already {
			e = res[1]
		}
		if e.Identities != 2 || e.Attachments != 2 || e.Messages < 2 {
			t.Errorf("erasure: %+v", e)
		}
		if n := tickettest.CountEvents(t, db, privacy.KindErased); n != 1 {
			t.Errorf("%d erasure events", n)
		}
		if e, err := d.p.Erase(ctx, d.Admin, mei.CustomerID, "again"); err != nil || !e.Already {
			t.Errorf("erasing again: %+v %v", e, err)
		}

		for _, b := range d.bodies(t, mei.CustomerID) {
			if b != privacy.Erased {
				t.Errorf("body %q kept", b)
			}
		}
		for _, c := range []struct {
			what string
			q    string
			want int
		}{
			{"messages with text", "SELECT COUNT(*) FROM messages WHERE body <> '[erased]'", 0},
			{"subjects", "SELECT COUNT(*) FROM tickets WHERE subject <> '[erased]'", 0},
			{"files", "SELECT COUNT(*) FROM attachment_files", 0},
			{"attachments' links", "SELECT COUNT(*) FROM attachments WHERE url <> ''", 0},
			{"identities", "SELECT COUNT(*) FROM customer_identities", 0},
			{"names", "SELECT COUNT(*) FROM customers WHERE name <> ''", 0},
			{"the complaint's decision", "SELECT COUNT(*) FROM complaints WHERE decision = '赔付并致歉 paid with apology'", 1},
			{"the audit trail's ticket events", "SELECT COUNT(*) FROM events WHERE entity = 'ticket' AND kind = 'ticket.created'", 2},
		} {
			if n := d.count(t, c.q); n != c.want {
				t.Errorf("%s: %d, want %d", c.what, n, c.want)
			}
		}
		trail, err := d.p.Trail(ctx, mei.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, ev := range trail {
			kinds = append(kinds, ev.Kind+" by "+ev.Actor)
		}
		want := []string{"customer.erased by chen@example.com", "legal_hold.released by admin@example.com", "legal_hold.placed by admin@example.com"}
		if strings.Join(kinds, "; ") != strings.Join(want, "; ") {
			t.Errorf("trail, newest first:\n%q\nwant\n%q", kinds, want)
		}
		again := d.text(t, sms("+8613800000009", "new question"))
		if again.CustomerID == mei.CustomerID {
			t.Errorf("the freed number joined the erased customer")
		}
	})
}

// TestExport: the copy holds the customer, their identities, tickets, messages with their
// files' metadata, complaints and surveys, and the events about them; agents may not.
func TestExport(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, privacy.Policy{})
		tk := d.text(t, tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "mei@example.com", Name: "王美",
			Subject: "证件", Body: "身份证 110101199003074478", Attachments: []tickets.NewAttachment{scan}})
		d.decidedComplaint(t, tk)
		if _, err := d.p.Export(ctx, d.LiNa, tk.CustomerID, "json"); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("agent exporting: %v", err)
		}
		if _, err := d.p.Export(ctx, d.Chen, tk.CustomerID, "pdf"); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("pdf: %v", err)
		}
		if _, err := d.p.Export(ctx, d.Chen, 9999, "json"); !errors.Is(err, tickets.ErrNotFound) {
			t.Errorf("no such customer: %v", err)
		}
		c, err := d.p.Export(ctx, d.Chen, tk.CustomerID, "json")
		if err != nil {
			t.Fatal(err)
		}
		if c.Customer.Name != "王美" || c.Customer.Identity(tickets.IdentityEmail) != "mei@example.com" {
			t.Errorf("customer %+v", c.Customer)
		}
		var got []*privacy.TicketCopy
		if cut, err := c.EachTicket(ctx, func(tc *privacy.TicketCopy) error { got = append(got, tc); return nil }); err != nil || cut {
			t.Fatal(cut, err)
		}
		if len(got) != 1 || len(got[0].Messages) == 0 || got[0].Messages[0].Body != "身份证 110101199003074478" ||
			len(got[0].Messages[0].Attachments) != 1 || got[0].Messages[0].Attachments[0].Filename != "id-card.jpg" ||
			len(got[0].Complaints) != 1 || got[0].Complaints[0].Decision == "" {
			t.Errorf("tickets in the copy: %+v", got)
		}
		var kinds []string
		if _, err := c.EachEvent(ctx, func(ev *tickets.Event) error { kinds = append(kinds, ev.Kind); return nil }); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(kinds, " "), "ticket.created") || kinds[len(kinds)-1] != privacy.KindExported {
			t.Errorf("events in the copy: %q", kinds)
		}
		if n := tickettest.CountEvents(t, db, privacy.KindExported); n != 1 {
			t.Errorf("%d export events", n)
		}
	})
}

// TestOnceRaced: processes waking together run a period once, and two supervisors holding
// a customer together place one hold.
func TestOnceRaced(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, privacy.Policy{Messages: 1})
		tk := d.text(t, sms("+8613800000001", "secret"))
		d.Resolve(t, tk)
		d.Clock.Advance(2 * day)
		var (
			wg         sync.WaitGroup
			mu         sync.Mutex
			ran, holds int
			conflicts  int
		)
		for i := range 4 {
			wg.Add(2)
			go func() {
				defer wg.Done()
				r, err := d.p.RunPeriod(ctx)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				if r != nil {
					ran++
				}
				mu.Unlock()
			}()
			go func() {
				defer wg.Done()
				_, err := d.p.PlaceHold(ctx, d.Chen, privacy.OnCustomer, tk.CustomerID, fmt.Sprintf("case %d", i))
				mu.Lock()
				switch {
				case err == nil:
					holds++
				case errors.Is(err, tickets.ErrConflict):
					conflicts++
				default:
					t.Error(err)
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		if ran != 1 || holds != 1 || conflicts != 3 {
			t.Errorf("runs %d (want 1), holds %d (want 1), refused %d (want 3)", ran, holds, conflicts)
		}
		if n := d.count(t, "SELECT COUNT(*) FROM retention_runs"); n != 1 {
			t.Errorf("%d runs recorded", n)
		}
		if n := tickettest.CountEvents(t, db, privacy.KindHoldPlaced); n != 1 {
			t.Errorf("%d hold events", n)
		}
	})
}
