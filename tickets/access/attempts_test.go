package access_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

const rightPassword = "long enough password"

// limitedBy is the budget that refused err, or "" when it is no such refusal.
func limitedBy(err error) (string, time.Duration) {
	var l *tickets.Limited
	if errors.As(err, &l) && errors.Is(err, tickets.ErrTooMany) {
		return l.Scope, l.Retry
	}
	return "", 0
}

// outcome words a sign-in's result the way its user notices it: signed in, wrong, or
// refused for too many failures (and by which budget).
func outcome(err error) string {
	if scope, _ := limitedBy(err); scope != "" {
		return "429 " + scope
	}
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, tickets.ErrUnauthorized):
		return "401"
	case errors.Is(err, tickets.ErrNotFound):
		return "404"
	}
	return err.Error()
}

func TestLoginLocksAnAccountGuessedFromManyAddresses(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		login := func(i int, email, pw string) string {
			_, _, err := d.svc.LoginFrom(ctx, fmt.Sprintf("10.0.%d.%d", i/250, i%250+1), email, pw)
			return outcome(err)
		}
		for _, email := range []string{"li.na@example.com", "nobody@example.com"} { // known or not, the same answers
			t.Run(email, func(t *testing.T) {
				var got []string
				for i := range 200 {
					got = append(got, login(i, email, fmt.Sprintf("guess number %d", i)))
				}
				for i, g := range got {
					want := "401"
					if i >= 5 {
						want = "429 login.account"
					}
					if g != want {
						t.Fatalf("wrong password %d from its own address: %s, want %s (all: %v)", i+1, g, want, got[:10])
					}
				}
			})
		}

		// The lock holds against the right password, says when it ends, and ends by itself.
		_, _, err := d.svc.LoginFrom(ctx, "192.0.2.1", "li.na@example.com", rightPassword)
		if scope, retry := limitedBy(err); scope != access.LimitLoginAccount || retry <= 0 || retry > time.Minute ||
			!strings.Contains(tickets.Reason(err), "try again in 1 minute") {
			t.Fatalf("right password while locked: %v (%s, retry %s), want the lock with when to retry", err, scope, retry)
		}
		d.clock.Advance(61 * time.Second)
		if got := login(1000, "li.na@example.com", rightPassword); got != "ok" {
			t.Fatalf("right password after the lock ended: %s", got)
		}

		// Signing in forgets the failures: four more are still answered as wrong.
		for i := range 4 {
			if got := login(2000+i, "li.na@example.com", "wrong again!!"); got != "401" {
				t.Fatalf("failure %d after a successful sign-in: %s, want 401", i+1, got)
			}
		}
	})
}

func TestLoginLockDoublesAndAdminLiftsIt(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		lockOut := func() {
			t.Helper()
			for i := range 5 {
				if _, _, err := d.svc.LoginFrom(ctx, fmt.Sprintf("198.51.100.%d", i+1), "zhang.wei@example.com", "not the password"); outcome(err) != "401" {
					t.Fatalf("failure %d: %v", i+1, err)
				}
			}
		}
		right := func() string {
			_, _, err := d.svc.LoginFrom(ctx, "192.0.2.9", "zhang.wei@example.com", rightPassword)
			return outcome(err)
		}
		// Each lock lasts twice the one before (1, 2, 4, 8 minutes), and no more than 15.
		for _, lasts := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute} {
			lockOut()
			d.clock.Advance(lasts - time.Second)
			if got := right(); got != "429 login.account" {
				t.Fatalf("right password a second before a %s lock ends: %s", lasts, got)
			}
			d.clock.Advance(time.Second)
		}
		if got := right(); got != "ok" {
			t.Fatalf("right password after the last lock: %s", got)
		}

		// An admin lifts a lock at once, on the record; only admins, and only a lock.
		lockOut()
		agents, _ := d.core.Agents(ctx, nil)
		locks, err := d.svc.LoginLocks(ctx, agents)
		if err != nil || len(locks) != 1 || locks[d.zhangWei.Agent.ID].IsZero() {
			t.Fatalf("locks shown to the admin: %v %v, want zhang.wei's", locks, err)
		}
		if _, err := d.svc.UnlockAgent(ctx, d.liNa, d.zhangWei.Agent.ID); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("an agent unlocked a colleague: %v", err)
		}
		if got := right(); got != "429 login.account" {
			t.Fatalf("before the admin unlocks: %s", got)
		}
		if _, err := d.svc.UnlockAgent(ctx, d.admin, d.zhangWei.Agent.ID); err != nil {
			t.Fatal(err)
		}
		if got := right(); got != "ok" {
			t.Fatalf("right password after the admin unlocked: %s", got)
		}
		if _, err := d.svc.UnlockAgent(ctx, d.admin, d.zhangWei.Agent.ID); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("unlocking an agent who is not locked: %v, want a conflict", err)
		}
		var n int
		n, err = db.NewSelect().Table("events").Where("entity = 'agent' AND entity_id = ? AND kind = 'agent.unlocked'", d.zhangWei.Agent.ID).Count(ctx)
		if err != nil || n != 1 {
			t.Errorf("%d agent.unlocked events (%v), want 1", n, err)
		}
	})
}

func TestLoginLimitPerAddress(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		from := func(client, email, pw string) string {
			_, _, err := d.svc.LoginFrom(ctx, client, email, pw)
			return outcome(err)
		}
		// A busy office behind one address signs in many times: successes spend nothing.
		for i := range 15 {
			if got := from("203.0.113.7", "chen@example.com", rightPassword); got != "ok" {
				t.Fatalf("sign-in %d from the office: %s", i+1, got)
			}
		}
		// Ten failures a minute from one address, each for another email (so no account
		// locks); then even a right password from it waits for the minute to end.
		for i := range 10 {
			if got := from("203.0.113.66", fmt.Sprintf("user%d@example.com", i), "guess"); got != "401" {
				t.Fatalf("failure %d: %s", i+1, got)
			}
		}
		if got := from("203.0.113.66", "chen@example.com", rightPassword); got != "429 login.address" {
			t.Fatalf("11th attempt from the address: %s, want 429 login.address", got)
		}
		if got := from("203.0.113.7", "chen@example.com", rightPassword); got != "ok" {
			t.Fatalf("another address: %s", got)
		}
		// An IPv6 subscriber holds a whole /64: hopping between its addresses is one budget.
		for i := range 10 {
			if got := from(fmt.Sprintf("2001:db8:1:2::%x", i+1), fmt.Sprintf("v6user%d@example.com", i), "guess"); got != "401" {
				t.Fatalf("IPv6 failure %d: %s", i+1, got)
			}
		}
		if got := from("2001:db8:1:2:ffff::1", "chen@example.com", rightPassword); got != "429 login.address" {
			t.Fatalf("another address of the same /64: %s, want 429 login.address", got)
		}
		if got := from("2001:db8:1:3::1", "chen@example.com", rightPassword); got != "ok" {
			t.Fatalf("another /64: %s", got)
		}
		d.clock.Advance(time.Minute)
		if got := from("203.0.113.66", "chen@example.com", rightPassword); got != "ok" {
			t.Fatalf("the next minute: %s", got)
		}
		// The stored keys name no email and no address.
		var subjects []string
		if err := db.NewSelect().Table("attempt_limits").Column("subject").Scan(ctx, &subjects); err != nil || len(subjects) == 0 {
			t.Fatalf("stored keys: %v %v", subjects, err)
		}
		for _, s := range subjects {
			if strings.Contains(s, "@") || strings.Contains(s, "203.0.113") {
				t.Errorf("stored key %q names a person", s)
			}
		}
	})
}

// Attempts at once cannot outrun the budget: each is counted before its password is
// checked, so at most five of many simultaneous guesses are ever tried.
func TestLoginConcurrentGuessesStayWithinBudget(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		var mu sync.Mutex
		counts := map[string]int{}
		var wg sync.WaitGroup
		for i := range 30 {
			wg.Go(func() {
				_, _, err := d.svc.LoginFrom(ctx, fmt.Sprintf("10.9.0.%d", i+1), "wang@example.com", fmt.Sprintf("guess %d", i))
				mu.Lock()
				counts[outcome(err)]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if counts["401"] > 5 || counts["401"]+counts["429 login.account"] != 30 {
			t.Errorf("outcomes of 30 simultaneous guesses: %v, want at most 5 tried", counts)
		}
	})
}

func TestStatusLookupsLockAReference(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		target := d.ticket(t, "+8613800138000")
		other := d.ticket(t, "+8613900139000")
		lookup := func(client, ref, check string) string {
			_, err := d.svc.PublicStatusFrom(ctx, client, ref, check)
			return outcome(err)
		}
		// Forty addresses guess the four digits of one reference, in order.
		var got []string
		for i := range 40 {
			got = append(got, lookup(fmt.Sprintf("10.1.0.%d", i+1), target.Ref(), fmt.Sprintf("%04d", i)))
		}
		for i, g := range got {
			want := "404"
			if i >= 5 {
				want = "429 status.reference"
			}
			if g != want {
				t.Fatalf("guess %d: %s, want %s (all: %v)", i+1, g, want, got)
			}
		}
		_, err := d.svc.PublicStatusFrom(ctx, "10.2.0.1", target.Ref(), "8000")
		if scope, retry := limitedBy(err); scope != access.LimitStatusReference || retry != 15*time.Minute {
			t.Fatalf("the right digits while locked: %v (retry %s), want the reference's lock for 15 minutes", err, retry)
		}
		// Another reference is unaffected, from the same addresses.
		if g := lookup("10.1.0.1", other.Ref(), "9000"); g != "ok" {
			t.Errorf("another reference: %s", g)
		}
		// The same reference written another way is the same reference.
		if g := lookup("10.2.0.2", strings.ToLower(target.Ref()), "8000"); g != "429 status.reference" {
			t.Errorf("the locked reference in lower case: %s", g)
		}
		d.clock.Advance(15 * time.Minute)
		if g := lookup("10.2.0.3", target.Ref(), "8000"); g != "ok" {
			t.Errorf("after the lock: %s", g)
		}

		// One client's wrong lookups are limited too, whatever references they try.
		for i := range 10 {
			if g := lookup("10.3.0.1", tickets.FormatRef(int64(100+i)), "1234"); g != "404" {
				t.Fatalf("wrong lookup %d from one client: %s", i+1, g)
			}
		}
		if g := lookup("10.3.0.1", other.Ref(), "9000"); g != "429 status.client" {
			t.Errorf("11th lookup in a minute from one client: %s", g)
		}
	})
}

func TestAttemptRowsArePruned(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		for i := range 20 {
			d.svc.LoginFrom(ctx, fmt.Sprintf("10.4.0.%d", i+1), fmt.Sprintf("u%d@example.com", i), "guess") //nolint:errcheck // only the rows matter
		}
		count := func() int {
			n, err := db.NewSelect().Table("attempt_limits").Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(); n != 40 {
			t.Fatalf("%d rows after 20 failures from 20 addresses for 20 emails, want 40", n)
		}
		d.clock.Advance(25 * time.Hour)
		d.svc.LoginFrom(ctx, "10.4.1.1", "late@example.com", "guess") //nolint:errcheck // only the rows matter
		if n := count(); n != 2 {
			t.Errorf("%d rows a day later, want only the new attempt's 2", n)
		}
	})
}
