package delivery_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// An opt-out from a number never seen is kept (the customer is created for it), each
// change is audited once however often it is asked for, and a resubscription's retried
// message is answered as the resubscription again while another "YES" is not one.
func TestOptOutAndResubscribe(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		const phone = "+8613800138011"
		steps := []struct {
			name      string
			do        func() (bool, error) // the step; its bool is Resubscribe's answer
			resumed   bool
			optedOut  bool
			outEvents int // customer.opted_out events so far
			inEvents  int // customer.opted_in events so far
		}{
			{"STOP from a new number", func() (bool, error) { return false, d.del.OptOut(ctx, tickets.IdentityPhone, "138 0013 8011") }, false, true, 1, 0},
			{"STOP again", func() (bool, error) { return false, d.del.OptOut(ctx, tickets.IdentityPhone, phone) }, false, true, 1, 0},
			{"YES", func() (bool, error) { return d.del.Resubscribe(ctx, tickets.IdentityPhone, phone, "SM-yes") }, true, false, 1, 1},
			{"the provider retries that YES", func() (bool, error) { return d.del.Resubscribe(ctx, tickets.IdentityPhone, phone, "SM-yes") }, true, false, 1, 1},
			{"another YES is an answer", func() (bool, error) { return d.del.Resubscribe(ctx, tickets.IdentityPhone, phone, "SM-yes-2") }, false, false, 1, 1},
			{"STOP once more", func() (bool, error) { return false, d.del.OptOut(ctx, tickets.IdentityPhone, phone) }, false, true, 2, 1},
			{"a WeChat follow lifts nothing of the phone", func() (bool, error) { return false, d.del.OptIn(ctx, tickets.IdentityWeChat, "oFollow") }, false, true, 2, 1},
		}
		for _, s := range steps {
			resumed, err := s.do()
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			out, err := d.del.AddressOptedOut(ctx, tickets.IdentityPhone, phone)
			if err != nil {
				t.Fatal(err)
			}
			outs, ins := tickettest.CountEvents(t, db, "customer.opted_out"), tickettest.CountEvents(t, db, "customer.opted_in")
			if resumed != s.resumed || out != s.optedOut || outs != s.outEvents || ins != s.inEvents {
				t.Errorf("%s: resubscribed %v, opted out %v, events out %d in %d; want %v, %v, %d, %d",
					s.name, resumed, out, outs, ins, s.resumed, s.optedOut, s.outEvents, s.inEvents)
			}
		}
		var customers int
		if err := db.NewSelect().Table("customer_identities").ColumnExpr("COUNT(DISTINCT customer_id)").Where("value = ?", phone).Scan(ctx, &customers); err != nil || customers != 1 {
			t.Errorf("%d customers own %s (%v), want 1", customers, tickets.MaskPhone(phone), err)
		}
		if _, err := d.del.AddressOptedOut(ctx, tickets.IdentityPhone, "not a number"); err == nil {
			t.Error("a malformed number was looked up")
		}
	})
}

// Concurrent "YES" from one opted-out number resubscribe it once: the conditional
// update decides, not a read before it.
func TestResubscribeOnceUnderRace(t *testing.T) {
	const n = 6
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		const phone = "+8613800138012"
		if err := d.del.OptOut(ctx, tickets.IdentityPhone, phone); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		resumed := make([]bool, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resumed[i], errs[i] = d.del.Resubscribe(ctx, tickets.IdentityPhone, phone, fmt.Sprintf("SM-yes-%d", i))
			}()
		}
		wg.Wait()
		won := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("YES %d: %v", i, errs[i])
			}
			if resumed[i] {
				won++
			}
		}
		if won != 1 || tickettest.CountEvents(t, db, "customer.opted_in") != 1 {
			t.Errorf("%d of %d concurrent YES resubscribed, %d opted_in events; want 1 and 1", won, n, tickettest.CountEvents(t, db, "customer.opted_in"))
		}
	})
}
