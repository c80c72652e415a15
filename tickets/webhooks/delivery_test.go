package webhooks_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
	"github.com/hotlinedesk/hotline/tickets/webhooks"
)

func onlyDelivery(t *testing.T, d *desk) (*webhooks.Delivery, []*webhooks.Attempt) {
	t.Helper()
	ctx := context.Background()
	ds, err := d.hooks.Deliveries(ctx, d.Admin, webhooks.DeliveryFilter{})
	if err != nil || len(ds) != 1 {
		t.Fatalf("deliveries: %d, %v; want 1", len(ds), err)
	}
	x, as, err := d.hooks.Delivery(ctx, d.Admin, ds[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return x, as
}

// A receiver that answers 500, then too slowly, then 200 gets the event three times,
// each after its back-off (nothing is sent before it is due), and it is delivered once;
// every attempt is kept with its status, answer and error.
func TestRetriesWithBackoff(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db, webhooks.Config{Timeout: 300 * time.Millisecond})
		rc := newReceiver(t)
		rc.answer = func(n int, _ received) (int, time.Duration) {
			switch n {
			case 1:
				return 500, 0
			case 2:
				return 200, time.Second // after the timeout: a failure
			}
			return 200, 0
		}
		d.subscribe(t, rc, "ticket.created")
		d.Ticket(t, "+8613800138000")
		if n := d.run(t); n != 1 {
			t.Fatalf("first pass: %d attempts", n)
		}
		x, _ := onlyDelivery(t, d)
		if x.State != webhooks.DeliveryPending || x.LastStatus != 500 || x.NextAttemptAt == nil {
			t.Fatalf("after a 500: %+v", x)
		}
		if wait := x.NextAttemptAt.Sub(d.Clock.Now()); wait < 27*time.Second || wait > 33*time.Second {
			t.Errorf("first back-off %s, want 30 s ± 10%%", wait)
		}
		d.Clock.Advance(20 * time.Second)
		if n := d.run(t); n != 0 {
			t.Fatalf("%d attempts before the back-off ended", n)
		}
		d.Clock.Advance(15 * time.Second)
		if n := d.run(t); n != 1 {
			t.Fatalf("after the back-off: %d attempts", n)
		}
		x, _ = onlyDelivery(t, d)
		if x.State != webhooks.DeliveryPending || x.LastStatus != 0 || x.LastError != "timed out" {
			t.Fatalf("after a timeout: %+v", x)
		}
		if wait := x.NextAttemptAt.Sub(d.Clock.Now()); wait < 108*time.Second || wait > 132*time.Second {
			t.Errorf("second back-off %s, want 2 m ± 10%%", wait)
		}
		d.Clock.Advance(3 * time.Minute)
		d.drain(t)
		d.Clock.Advance(48 * time.Hour)
		d.drain(t)
		x, as := onlyDelivery(t, d)
		if x.State != webhooks.DeliveryDelivered || x.Attempts != 3 || x.DeliveredAt == nil || x.LastStatus != 200 {
			t.Fatalf("delivered: %+v", x)
		}
		if got := len(rc.received()); got != 3 {
			t.Errorf("the receiver got %d posts, want 3", got)
		}
		want := []struct {
			status int
			body   string
			err    string
		}{{500, "answer 1", "the receiver answered 500"}, {0, "", "timed out"}, {200, "answer 3", ""}}
		if len(as) != len(want) {
			t.Fatalf("%d attempts kept", len(as))
		}
		for i, w := range want {
			if a := as[i]; a.Status != w.status || a.ResponseBody != w.body || a.Error != w.err {
				t.Errorf("attempt %d: %+v, want %+v", i+1, a, w)
			}
		}
	})
}

// A receiver that never answers 2xx is tried until a day after the first attempt, then
// the delivery fails; the next event of the same ticket then goes on.
func TestGivesUpAfterADay(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, webhooks.Config{PauseAfterFailures: 1000})
		rc := newReceiver(t)
		failing := true
		var mu sync.Mutex
		rc.answer = func(int, received) (int, time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			if failing {
				return 503, 0
			}
			return 200, 0
		}
		d.subscribe(t, rc, "ticket.created", "ticket.assigned")
		tk := d.Ticket(t, "+8613800138000")
		d.run(t)
		// The next event of the ticket waits behind the first.
		if _, err := d.Svc.Assign(ctx, d.Chen, tk.Ref(), tickets.Assignment{AssigneeID: &d.LiNa.Agent.ID}); err != nil {
			t.Fatal(err)
		}
		d.run(t)
		for state, want := range map[string]string{webhooks.DeliveryWaiting: "ticket.assigned", webhooks.DeliveryPending: "ticket.created"} {
			ds, err := d.hooks.Deliveries(ctx, d.Admin, webhooks.DeliveryFilter{State: state})
			if err != nil || len(ds) != 1 || ds[0].Event != want || ds[0].State != state {
				t.Fatalf("%s deliveries: %+v %v; want the %s", state, ds, err, want)
			}
		}
		for range 40 {
			d.Clock.Advance(time.Hour)
			d.run(t)
		}
		ds, err := d.hooks.Deliveries(ctx, d.Admin, webhooks.DeliveryFilter{State: webhooks.DeliveryFailed})
		if err != nil || len(ds) != 1 || ds[0].Event != "ticket.created" {
			t.Fatalf("failed after a day and more: %+v %v", ds, err)
		}
		if ds[0].Attempts < 8 || ds[0].Attempts > 12 {
			t.Errorf("%d attempts in a day, want the back-off's 8 to 12", ds[0].Attempts)
		}
		mu.Lock()
		failing = false
		mu.Unlock()
		d.Clock.Advance(7 * time.Hour)
		d.drain(t)
		ds, _ = d.hooks.Deliveries(ctx, d.Admin, webhooks.DeliveryFilter{State: webhooks.DeliveryDelivered})
		if len(ds) != 1 || ds[0].Event != "ticket.assigned" {
			t.Errorf("the later event after the failure: %+v", ds)
		}
	})
}

// After PauseAfterFailures failed attempts over at least PauseAfterSpan the subscription
// is paused, once, and every admin told once; what happens meanwhile waits; resuming
// delivers it all.
func TestPausedWhenFailingAndResumed(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, webhooks.Config{PauseAfterFailures: 4, PauseAfterSpan: time.Hour})
		second, err := d.Svc.CreateAgent(ctx, d.Admin, tickets.NewAgent{Email: "admin2@example.com", Role: tickets.RoleAdmin, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		rc := newReceiver(t)
		var mu sync.Mutex
		healthy := false
		rc.answer = func(int, received) (int, time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			if healthy {
				return 204, 0
			}
			return 500, 0
		}
		sub, _ := d.subscribe(t, rc, "ticket.created")
		d.Ticket(t, "+8613800138000")
		// Four failures within 13 minutes: not yet (the span is an hour).
		for range 4 {
			d.run(t)
			d.Clock.Advance(11 * time.Minute)
		}
		s, _ := d.hooks.Subscription(ctx, d.Admin, sub.ID)
		if s.State != webhooks.StateActive || s.ConsecutiveFailures < 3 {
			t.Fatalf("after quick failures: %+v", s)
		}
		for range 6 {
			d.Clock.Advance(time.Hour)
			d.run(t)
		}
		s, _ = d.hooks.Subscription(ctx, d.Admin, sub.ID)
		if s.State != webhooks.StatePaused || s.PausedReason != webhooks.PausedFailing || s.PausedAt == nil || s.LastFailureAt == nil {
			t.Fatalf("after failing for an hour: %+v", s)
		}
		posts := len(rc.received())
		d.Ticket(t, "+8613900139000")
		for range 3 {
			d.Clock.Advance(time.Hour)
			d.run(t)
		}
		if n := len(rc.received()); n != posts {
			t.Errorf("%d posts while paused", n-posts)
		}
		waiting, err := d.hooks.Deliveries(ctx, d.Admin, webhooks.DeliveryFilter{State: webhooks.DeliveryWaiting})
		if err != nil || len(waiting) != 2 {
			t.Fatalf("waiting while paused: %d %v; want 2", len(waiting), err)
		}
		for _, admin := range []int64{d.Admin.Agent.ID, second.ID} {
			var n int
			if err := db.NewSelect().Table("notices").ColumnExpr("count(*)").Where("agent_id = ? AND kind = ?", admin, webhooks.KindPausedNotice).Scan(ctx, &n); err != nil || n != 1 {
				t.Errorf("admin %d told %d times (%v), want once", admin, n, err)
			}
		}
		if n := tickettest.CountEvents(t, db, "webhook.paused"); n != 1 {
			t.Errorf("%d webhook.paused events, want 1", n)
		}
		mu.Lock()
		healthy = true
		mu.Unlock()
		if err := d.hooks.Resume(ctx, d.Admin, sub.ID); err != nil {
			t.Fatal(err)
		}
		d.drain(t)
		ds, _ := d.hooks.Deliveries(ctx, d.Admin, webhooks.DeliveryFilter{State: webhooks.DeliveryDelivered})
		if len(ds) != 2 {
			t.Errorf("%d delivered after resuming, want 2", len(ds))
		}
		s, _ = d.hooks.Subscription(ctx, d.Admin, sub.ID)
		if s.State != webhooks.StateActive || s.ConsecutiveFailures != 0 || s.LastSuccessAt == nil {
			t.Errorf("after resuming: %+v", s)
		}
		// An admin's pause holds deliveries too, and tells nobody.
		if err := d.hooks.Pause(ctx, d.Admin, sub.ID); err != nil {
			t.Fatal(err)
		}
		d.Ticket(t, "+8613700137000")
		d.drain(t)
		if ds, _ := d.hooks.Deliveries(ctx, d.Admin, webhooks.DeliveryFilter{State: webhooks.DeliveryWaiting}); len(ds) != 1 {
			t.Errorf("%d waiting under an admin's pause, want 1", len(ds))
		}
	})
}

// A delivery whose worker died holding its claim while the subscription was paused gets a
// new day of retries when an admin resumes it more than a day later, as a pending one
// does: its next failure is retried, not failed at once.
func TestResumedLapsedClaimRetried(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, webhooks.Config{PauseAfterFailures: 1000})
		rc := newReceiver(t)
		rc.answer = func(int, received) (int, time.Duration) { return 500, 0 }
		sub, _ := d.subscribe(t, rc, "ticket.created")
		d.Ticket(t, "+8613800138000")
		d.run(t) // the first attempt fails
		d.Clock.Advance(time.Minute)
		due, err := d.hooks.DueDeliveries(ctx, 0)
		if err != nil || len(due) != 1 {
			t.Fatalf("due: %+v %v", due, err)
		}
		if ok, err := d.hooks.ClaimForTest(ctx, due[0].ID); err != nil || !ok { // and its worker dies
			t.Fatalf("claim: %v %v", ok, err)
		}
		if err := d.hooks.Pause(ctx, d.Admin, sub.ID); err != nil {
			t.Fatal(err)
		}
		d.Clock.Advance(30 * time.Hour)
		if n := d.run(t); n != 0 {
			t.Fatalf("%d attempts while paused", n)
		}
		if err := d.hooks.Resume(ctx, d.Admin, sub.ID); err != nil {
			t.Fatal(err)
		}
		if n := d.run(t); n != 1 {
			t.Fatalf("%d attempts after resuming, want 1", n)
		}
		x, as := onlyDelivery(t, d)
		if x.State != webhooks.DeliveryPending || x.Attempts != 3 || len(as) != 2 {
			t.Fatalf("after a failure on resuming: %+v, %d attempts kept; want pending, retried", x, len(as))
		}
		var first time.Time
		if err := db.NewSelect().Table("webhook_deliveries").Column("first_attempt_at").Where("id = ?", x.ID).Scan(ctx, &first); err != nil {
			t.Fatal(err)
		}
		if !first.Equal(d.Clock.Now()) {
			t.Errorf("first attempt at %s, want the resumed one at %s", first, d.Clock.Now())
		}
	})
}

// eventNumber is the audit event id in a webhook event id.
func eventNumber(t *testing.T, id string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(strings.TrimPrefix(id, "evt_"), 10, 64)
	if err != nil {
		t.Fatalf("event id %q", id)
	}
	return n
}

// A ticket's events reach the receiver in their order, however its answers fail and
// however many workers send at once: two workers race on every delivery, the receiver
// fails a third of its first posts at random, and still each ticket's events arrive in order,
// each delivered once.
func TestOrderPerTicket(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, webhooks.Config{PauseAfterFailures: 1000})
		rc := newReceiver(t)
		var mu sync.Mutex
		rng := rand.New(rand.NewPCG(1, 2))
		failFirst := 3
		rc.answer = func(n int, _ received) (int, time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			// A third of the first 40 posts fail at random; later ones succeed, so no
			// delivery can run out of its day of retries and the test ends.
			if n <= failFirst || (n <= 40 && rng.IntN(3) == 0) {
				return 502, 0
			}
			return 200, 0
		}
		names := []string{"ticket.created", "message.received", "ticket.assigned", "ticket.status_changed"}
		d.subscribe(t, rc, names...)
		phones := []string{"+8613800138000", "+8613900139000", "+8613700137000"}
		var tks []*tickets.Ticket
		for _, p := range phones {
			tks = append(tks, d.Ticket(t, p))
		}
		for round := range 3 {
			for i, tk := range tks {
				if _, err := d.Svc.Intake(ctx, tickettest.SMS(phones[i], fmt.Sprintf("follow-up %d", round), "")); err != nil {
					t.Fatal(err)
				}
				who := d.LiNa.Agent.ID
				if round%2 == 1 {
					who = d.ZhangWei.Agent.ID
				}
				if _, err := d.Svc.Assign(ctx, d.Chen, tk.Ref(), tickets.Assignment{AssigneeID: &who}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := d.hooks.Collect(ctx); err != nil {
			t.Fatal(err)
		}
		total, err := db.NewSelect().Table("webhook_deliveries").Count(ctx)
		if err != nil || total < 3*7 {
			t.Fatalf("%d deliveries collected (%v)", total, err)
		}
		worker := func() error {
			due, err := d.hooks.DueDeliveries(ctx, 0)
			if err != nil {
				return err
			}
			// Each worker takes the due list in its own order, as tasks arrive.
			rand.Shuffle(len(due), func(i, j int) { due[i], due[j] = due[j], due[i] })
			for _, x := range due {
				if _, err := d.hooks.Send(ctx, x.ID); err != nil {
					return err
				}
			}
			return nil
		}
		for pass := 0; ; pass++ {
			if pass > 200 {
				t.Fatal("not all delivered after 200 passes")
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for w := range 2 {
				wg.Add(1)
				go func() { defer wg.Done(); errs[w] = worker() }()
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			left, err := db.NewSelect().Table("webhook_deliveries").Where("state <> 'delivered'").Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if left == 0 {
				break
			}
			d.Clock.Advance(time.Hour) // past every back-off up to an hour's; the longer ones take a few passes
		}
		// What the receiver saw, post by post: per ticket, never an event before an earlier
		// one was answered 2xx, and each event answered 2xx once.
		last := map[float64]int64{}
		got := rc.received()
		for i, g := range got {
			tkd, _ := g.Data["ticket"].(map[string]any)
			tid, _ := tkd["id"].(float64)
			n := eventNumber(t, g.ID)
			if n < last[tid] {
				t.Fatalf("post %d: %s (%s) of ticket %v after event %d", i, g.ID, g.Type, tid, last[tid])
			}
			last[tid] = n
		}
		var rows []struct {
			EventID int64 `bun:"event_id"`
			State   string
		}
		if err := db.NewSelect().Table("webhook_deliveries").Column("event_id", "state").Scan(ctx, &rows); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.State != webhooks.DeliveryDelivered {
				t.Errorf("event %d: %s", r.EventID, r.State)
			}
		}
		var successes int
		if err := db.NewSelect().Table("webhook_attempts").ColumnExpr("count(*)").Where("status = 200").Scan(ctx, &successes); err != nil {
			t.Fatal(err)
		}
		if successes != total {
			t.Errorf("%d successful attempts for %d deliveries: an event was delivered twice", successes, total)
		}
		if len(got) < total+failFirst {
			t.Errorf("the receiver got %d posts for %d deliveries with %d forced failures", len(got), total, failFirst)
		}
	})
}

// Collect run twice, and at once by four workers, makes one delivery per subscription and
// event; and a cursor put back (as a restore might) writes nothing twice.
func TestCollectOnce(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, webhooks.Config{})
		a, b := newReceiver(t), newReceiver(t)
		d.subscribe(t, a, "ticket.created", "message.received")
		d.subscribe(t, b, "ticket.created")
		for i := range 10 {
			d.Ticket(t, fmt.Sprintf("+86138001380%02d", i))
		}
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for w := range 4 {
			wg.Add(1)
			go func() { defer wg.Done(); _, errs[w] = d.hooks.Collect(ctx) }()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if n, err := d.hooks.Collect(ctx); err != nil || n != 0 {
			t.Fatalf("collect again: %d %v", n, err)
		}
		count := func() int {
			n, err := db.NewSelect().Table("webhook_deliveries").Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(); n != 30 {
			t.Fatalf("%d deliveries, want 30 (10 tickets × 2 events to one, 1 to the other)", n)
		}
		if _, err := db.NewUpdate().Table("settings").Set("value = '0'").Where("key = 'webhooks.after_event'").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := d.hooks.Collect(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 30 {
			t.Fatalf("after the cursor was put back: %d deliveries, want 30", n)
		}
	})
}

// Redelivering sends the same event (same id) again, promptly; a ping reaches the
// receiver even while paused; deliveries that ended a week ago are removed with their
// attempts, and recent ones kept.
func TestRedeliverPingAndPurge(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, webhooks.Config{})
		rc := newReceiver(t)
		sub, _ := d.subscribe(t, rc, "ticket.created")
		d.Ticket(t, "+8613800138000")
		d.drain(t)
		first, _ := onlyDelivery(t, d)
		again, err := d.hooks.Redeliver(ctx, d.Admin, first.ID)
		if err != nil || again.ID == first.ID || again.EventID != first.EventID || again.State != webhooks.DeliveryPending {
			t.Fatalf("redeliver: %+v %v", again, err)
		}
		d.drain(t)
		got := rc.received()
		if len(got) != 2 || got[0].ID != got[1].ID || got[1].Header.Get("Hotline-Event-Id") != first.EventID || string(got[0].Body) != string(got[1].Body) {
			t.Fatalf("redelivered: %d posts %v", len(got), got)
		}
		if err := d.hooks.Pause(ctx, d.Admin, sub.ID); err != nil {
			t.Fatal(err)
		}
		ping, err := d.hooks.Ping(ctx, d.Admin, sub.ID)
		if err != nil || ping.Event != webhooks.EventPing {
			t.Fatalf("ping: %+v %v", ping, err)
		}
		d.drain(t)
		got = rc.received()
		if len(got) != 3 || got[2].Type != "ping" || got[2].Header.Get("Hotline-Event") != "ping" || got[2].ID != ping.EventID {
			t.Fatalf("after the ping: %d posts, last %+v", len(got), got[len(got)-1])
		}
		if err := d.hooks.Resume(ctx, d.Admin, sub.ID); err != nil {
			t.Fatal(err)
		}

		d.Clock.Advance(8 * 24 * time.Hour)
		d.Ticket(t, "+8613900139000")
		d.drain(t)
		n, err := d.hooks.Purge(ctx)
		if err != nil || n != 3 {
			t.Fatalf("purge: %d %v; want the 3 week-old deliveries", n, err)
		}
		ds, _ := d.hooks.Deliveries(ctx, d.Admin, webhooks.DeliveryFilter{})
		if len(ds) != 1 {
			t.Fatalf("%d deliveries left, want the recent one", len(ds))
		}
		var attempts int
		if err := db.NewSelect().Table("webhook_attempts").ColumnExpr("count(*)").Scan(ctx, &attempts); err != nil || attempts != 1 {
			t.Errorf("%d attempts left (%v), want 1", attempts, err)
		}
	})
}

// A ping to a paused subscription is sent, so it reads as pending, not waiting, while the
// subscription's other deliveries wait: in the list, in its filters and by itself.
func TestPingToPausedReadsPending(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, webhooks.Config{})
		rc := newReceiver(t)
		sub, _ := d.subscribe(t, rc, "ticket.created")
		if err := d.hooks.Pause(ctx, d.Admin, sub.ID); err != nil {
			t.Fatal(err)
		}
		d.Ticket(t, "+8613800138000")
		if _, err := d.hooks.Collect(ctx); err != nil {
			t.Fatal(err)
		}
		ping, err := d.hooks.Ping(ctx, d.Admin, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		ids := func(state string) []int64 {
			t.Helper()
			ds, err := d.hooks.Deliveries(ctx, d.Admin, webhooks.DeliveryFilter{State: state})
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, x := range ds {
				if x.Event == webhooks.EventPing {
					out = append(out, x.ID)
				} else if x.State != webhooks.DeliveryWaiting {
					t.Errorf("the ticket's delivery under the pause reads %s, want waiting", x.State)
				}
			}
			return out
		}
		if got := ids(webhooks.DeliveryPending); len(got) != 1 || got[0] != ping.ID {
			t.Errorf("pending: pings %v, want the ping %d", got, ping.ID)
		}
		if got := ids(webhooks.DeliveryWaiting); len(got) != 0 {
			t.Errorf("waiting: pings %v, want none", got)
		}
		if got := ids(""); len(got) != 1 {
			t.Errorf("all: pings %v", got)
		}
		if x, _, err := d.hooks.Delivery(ctx, d.Admin, ping.ID); err != nil || x.State != webhooks.DeliveryPending {
			t.Errorf("the ping reads %+v %v, want pending", x, err)
		}
		if n := d.run(t); n != 1 || len(rc.received()) != 1 || rc.received()[0].Type != "ping" {
			t.Errorf("%d attempts, %d posts; want the ping sent", n, len(rc.received()))
		}
	})
}

// The admins' calls: admins only, unknown ids not found, bad input refused, every
// change audited.
func TestAdministration(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, webhooks.Config{})
		rc := newReceiver(t)
		if _, _, err := d.hooks.Create(ctx, d.LiNa, webhooks.SubscriptionInput{Name: "x", URL: rc.URL, Events: []string{"ticket.created"}}); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("an agent creates: %v", err)
		}
		if _, err := d.hooks.Subscriptions(ctx, d.Chen); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("a supervisor lists: %v", err)
		}
		for _, in := range []webhooks.SubscriptionInput{
			{Name: "", URL: rc.URL, Events: []string{"ticket.created"}},
			{Name: "x", URL: "ftp://example.com/", Events: []string{"ticket.created"}},
			{Name: "x", URL: "https://user:pw@example.com/", Events: []string{"ticket.created"}},
			{Name: "x", URL: "https://example.com/", Events: nil},
			{Name: "x", URL: "https://example.com/", Events: []string{"ticket.deleted"}},
			{Name: strings.Repeat("x", 101), URL: "https://example.com/", Events: []string{"ticket.created"}},
			{Name: "C\x00RM", URL: "https://example.com/", Events: []string{"ticket.created"}}, // PostgreSQL: 500
			{Name: "CRM\nHotline 已暂停", URL: "https://example.com/", Events: []string{"ticket.created"}},
			{Name: "CRM\rx", URL: "https://example.com/", Events: []string{"ticket.created"}},
			{Name: "CRM\tx", URL: "https://example.com/", Events: []string{"ticket.created"}},
			{Name: "CRM\x1b[31m", URL: "https://example.com/", Events: []string{"ticket.created"}},
			{Name: "CRM\u0085x", URL: "https://example.com/", Events: []string{"ticket.created"}},
			{Name: "CRM\u2028x", URL: "https://example.com/", Events: []string{"ticket.created"}},
			{Name: "x", URL: "https://example.com/a\x00b", Events: []string{"ticket.created"}},
			{Name: "x", URL: "https://example.com/a\nb", Events: []string{"ticket.created"}},
			{Name: "x", URL: "https://example.com/a\u0085b", Events: []string{"ticket.created"}},
			{Name: "x", URL: "https://example.com/a\xffb", Events: []string{"ticket.created"}},
		} {
			if _, _, err := d.hooks.Create(ctx, d.Admin, in); !errors.Is(err, tickets.ErrInvalid) {
				t.Errorf("create %+v: %v, want invalid", in, err)
			}
		}
		sub, _ := d.subscribe(t, rc, "ticket.created")
		for name, err := range map[string]error{
			"subscription": func() error { _, err := d.hooks.Subscription(ctx, d.Admin, sub.ID+99); return err }(),
			"update": func() error {
				_, err := d.hooks.Update(ctx, d.Admin, sub.ID+99, webhooks.SubscriptionInput{Name: "x", URL: rc.URL, Events: []string{"ticket.created"}})
				return err
			}(),
			"delivery":  func() error { _, _, err := d.hooks.Delivery(ctx, d.Admin, 12345); return err }(),
			"redeliver": func() error { _, err := d.hooks.Redeliver(ctx, d.Admin, 12345); return err }(),
			"ping":      func() error { _, err := d.hooks.Ping(ctx, d.Admin, sub.ID+99); return err }(),
			"pause":     d.hooks.Pause(ctx, d.Admin, sub.ID+99),
		} {
			if !errors.Is(err, tickets.ErrNotFound) {
				t.Errorf("%s of an unknown id: %v", name, err)
			}
		}
		if _, err := d.hooks.Update(ctx, d.Admin, sub.ID, webhooks.SubscriptionInput{Name: "CRM\x00", URL: rc.URL, Events: []string{"ticket.created"}}); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("update to a name with NUL: %v, want invalid", err)
		}
		up, err := d.hooks.Update(ctx, d.Admin, sub.ID, webhooks.SubscriptionInput{Name: " 客服 CRM ", URL: rc.URL + "/v2", Events: []string{"message.sent", "message.sent", "ticket.created"}})
		if err != nil || up.Name != "客服 CRM" || len(up.Events) != 2 {
			t.Fatalf("update: %+v %v", up, err)
		}
		if _, err := d.hooks.RotateSecret(ctx, d.Admin, sub.ID); err != nil {
			t.Fatal(err)
		}
		if err := d.hooks.Pause(ctx, d.Admin, sub.ID); err != nil {
			t.Fatal(err)
		}
		if err := d.hooks.Resume(ctx, d.Admin, sub.ID); err != nil {
			t.Fatal(err)
		}
		if err := d.hooks.Delete(ctx, d.Admin, sub.ID); err != nil {
			t.Fatal(err)
		}
		if subs, _ := d.hooks.Subscriptions(ctx, d.Admin); len(subs) != 0 {
			t.Errorf("listed after delete: %+v", subs)
		}
		for _, kind := range []string{"webhook.created", "webhook.updated", "webhook.secret_rotated", "webhook.paused", "webhook.resumed", "webhook.deleted"} {
			if n := tickettest.CountEvents(t, db, kind); n != 1 {
				t.Errorf("%d %s events", n, kind)
			}
		}
		var data []string
		if err := db.NewSelect().Table("events").Column("data").Where("entity = 'webhook'").Scan(ctx, &data); err != nil {
			t.Fatal(err)
		}
		for _, x := range data {
			if strings.Contains(x, "whsec_") || strings.Contains(x, "token=") {
				t.Errorf("an audit event carries a secret: %s", x)
			}
		}
	})
}

// Without AllowPrivate, Hotline calls no address inside its network nor any that is not
// public: literal addresses are refused when the URL is set and by the dial-time guard,
// IPv6 forms that carry an IPv4 address (mapped, IPv4-compatible, SIIT, NAT64, 6to4,
// Teredo) judged by it; names are checked as they are dialled (a name that resolves to
// loopback is refused there, and the receiver gets nothing).
func TestPrivateAddressesRefused(t *testing.T) {
	db := tickettest.SQLite(t)
	clock := tickettest.NewClock(tickettest.T0)
	base := tickettest.NewDesk(t, tickettest.Service(db, clock), clock)
	d := &desk{Desk: base, hooks: webhooks.New(base.Svc, webhooks.Config{})}
	ctx := context.Background()
	for _, c := range []struct {
		url     string
		refused bool
	}{
		{"http://127.0.0.1/hook", true},
		{"http://127.1.2.3:8080/hook", true},
		{"http://10.0.0.5/hook", true},
		{"http://172.16.3.4/hook", true},
		{"http://192.168.1.1/hook", true},
		{"http://169.254.169.254/latest/meta-data/", true},
		{"http://100.64.0.1/hook", true},
		{"http://0.0.0.0/hook", true},
		{"http://224.0.0.1/hook", true},
		{"http://192.0.0.8/hook", true},       // IETF protocol assignments
		{"http://192.0.2.1/hook", true},       // documentation
		{"http://198.51.100.7/hook", true},    // documentation
		{"http://203.0.113.9/hook", true},     // documentation
		{"http://192.88.99.1/hook", true},     // 6to4 relay anycast
		{"http://198.18.0.1/hook", true},      // benchmarking
		{"http://198.19.255.254/hook", true},  // benchmarking
		{"http://240.0.0.1/hook", true},       // reserved
		{"http://255.255.255.255/hook", true}, // broadcast
		{"http://[::1]/hook", true},
		{"http://[::]/hook", true},
		{"http://[::ffff:127.0.0.1]/hook", true},
		{"http://[::ffff:a9fe:a9fe]/hook", true}, // mapped 169.254.169.254
		{"http://[::127.0.0.1]/hook", true},      // IPv4-compatible
		{"http://[::10.0.0.1]/hook", true},
		{"http://[::ffff:0:127.0.0.1]/hook", true}, // SIIT
		{"http://[::ffff:0:a00:1]/hook", true},
		{"http://[64:ff9b::127.0.0.1]/hook", true}, // NAT64
		{"http://[64:ff9b::a9fe:a9fe]/hook", true},
		{"http://[64:ff9b::c0a8:101]/hook", true},
		{"http://[64:ff9b:1::a00:1]/hook", true}, // local-use NAT64
		{"http://[64:ff9b:1:5db8:d8:2200::]/hook", true},
		{"http://[2002:7f00:1::1]/hook", true}, // 6to4 of 127.0.0.1
		{"http://[2002:a00:1::1]/hook", true},  // 6to4 of 10.0.0.1
		{"http://[2002:a9fe:a9fe::1]/hook", true},
		{"http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook", true}, // Teredo, client 127.0.0.1
		{"http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/hook", true}, // Teredo, client 10.0.0.1
		{"http://[2001:0:a00:1:8000:63bf:a247:27dd]/hook", true},     // Teredo, server 10.0.0.1
		{"http://[2001:2::1]/hook", true},                            // benchmarking
		{"http://[2001:db8::1]/hook", true},                          // documentation
		{"http://[3fff::1]/hook", true},                              // documentation
		{"http://[100::1]/hook", true},                               // discard-only
		{"http://[fec0::1]/hook", true},                              // site-local
		{"http://[fe80::1]/hook", true},
		{"http://[fe80::1%25eth0]/hook", true},
		{"http://[fd00::1]/hook", true},
		{"http://[ff02::1]/hook", true},
		{"https://93.184.216.34/hook", false},
		{"https://[2606:4700:4700::1111]/hook", false},
		{"https://[::ffff:93.184.216.34]/hook", false},
		{"https://[64:ff9b::5db8:d822]/hook", false},                   // NAT64 of 93.184.216.34
		{"https://[2002:5db8:d822::1]/hook", false},                    // 6to4 of 93.184.216.34
		{"https://[2001:0:4136:e378:8000:63bf:a247:27dd]/hook", false}, // Teredo, client 93.184.216.34
		{"https://crm.example.com/hook", false},
	} {
		_, _, err := d.hooks.Create(ctx, d.Admin, webhooks.SubscriptionInput{Name: "x", URL: c.url, Events: []string{"ticket.created"}})
		if refused := errors.Is(err, tickets.ErrInvalid); refused != c.refused || (err != nil && !refused) {
			t.Errorf("%s: %v, refused %v", c.url, err, c.refused)
		}
		u, err := url.Parse(c.url)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := netip.ParseAddr(u.Hostname()); err != nil {
			continue // a name: dialled addresses only
		}
		if err := webhooks.DialGuardForTest(net.JoinHostPort(u.Hostname(), "443")); (err != nil) != c.refused {
			t.Errorf("%s: the dial guard said %v, refused %v", c.url, err, c.refused)
		}
	}
	subs, _ := d.hooks.Subscriptions(ctx, d.Admin)
	for _, s := range subs {
		if err := d.hooks.Delete(ctx, d.Admin, s.ID); err != nil {
			t.Fatal(err)
		}
	}
	rc := newReceiver(t)
	port := rc.URL[strings.LastIndex(rc.URL, ":"):]
	if _, _, err := d.hooks.Create(ctx, d.Admin, webhooks.SubscriptionInput{Name: "x", URL: "http://localhost" + port + "/hook", Events: []string{"ticket.created"}}); err != nil {
		t.Fatal(err)
	}
	d.Ticket(t, "+8613800138000")
	d.run(t)
	if n := len(rc.received()); n != 0 {
		t.Fatalf("a receiver on loopback got %d posts", n)
	}
	x, as := onlyDelivery(t, d)
	if len(as) != 1 || !strings.Contains(as[0].Error, "refused") || x.State != webhooks.DeliveryPending {
		t.Fatalf("the refused attempt: %+v %+v", x, as)
	}
}

// Failures recorded at once by two workers pause the subscription once and tell each
// admin once: the pause is a guarded update, not a read then a write.
func TestPausedOnceUnderRacingWorkers(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, webhooks.Config{PauseAfterFailures: 2, PauseAfterSpan: time.Nanosecond})
		rc := newReceiver(t)
		rc.answer = func(int, received) (int, time.Duration) { return 500, 0 }
		sub, _ := d.subscribe(t, rc, "ticket.created")
		for i := range 8 {
			d.Ticket(t, fmt.Sprintf("+86138001380%02d", i))
		}
		if _, err := d.hooks.Collect(ctx); err != nil {
			t.Fatal(err)
		}
		d.Clock.Advance(time.Second)
		due, err := d.hooks.DueDeliveries(ctx, 0)
		if err != nil || len(due) != 8 {
			t.Fatalf("due: %d %v", len(due), err)
		}
		// One failure first, so that the run of failures spans time; then seven at once.
		if _, err := d.hooks.Send(ctx, due[0].ID); err != nil {
			t.Fatal(err)
		}
		d.Clock.Advance(time.Second)
		due = due[1:]
		var wg sync.WaitGroup
		errs := make([]error, len(due))
		for i, x := range due {
			wg.Add(1)
			go func() { defer wg.Done(); _, errs[i] = d.hooks.Send(ctx, x.ID) }()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		s, _ := d.hooks.Subscription(ctx, d.Admin, sub.ID)
		if s.State != webhooks.StatePaused || s.PausedReason != webhooks.PausedFailing {
			t.Fatalf("after 8 failures at once: %+v", s)
		}
		var told int
		if err := db.NewSelect().Table("notices").ColumnExpr("count(*)").Where("kind = ?", webhooks.KindPausedNotice).Scan(ctx, &told); err != nil || told != 1 {
			t.Errorf("the admin was told %d times (%v), want once", told, err)
		}
		if n := tickettest.CountEvents(t, db, "webhook.paused"); n != 1 {
			t.Errorf("%d webhook.paused events, want 1", n)
		}
	})
}
