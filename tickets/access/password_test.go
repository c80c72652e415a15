package access_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// Two sessions of one agent change the password from the same one at once: the database
// lets one change it; the other is refused (the password it gave is no longer current),
// and the winner's session is the only one left.
func TestChangePasswordRaceHasOneWinner(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		var tokens [2]string
		for i := range tokens {
			var err error
			if tokens[i], _, err = d.svc.Login(ctx, "li.na@example.com", rightPassword); err != nil {
				t.Fatal(err)
			}
		}
		var errs [2]error
		var wg sync.WaitGroup
		for i := range tokens {
			wg.Go(func() {
				errs[i] = d.svc.ChangePassword(ctx, "", d.liNa.Agent, tokens[i], rightPassword, fmt.Sprintf("new passphrase %d", i))
			})
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner < 0:
				winner = i
			case errors.Is(err, tickets.ErrConflict), errors.Is(err, tickets.ErrForbidden):
			default:
				t.Fatalf("change %d: %v, want one to win and the other refused", i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("neither change won: %v", errs)
		}
		if n := tickettest.CountEvents(t, db, "agent.password_changed"); n != 1 {
			t.Errorf("%d agent.password_changed events, want 1", n)
		}
		for i, tok := range tokens {
			if _, err := d.svc.Authenticate(ctx, tok); (err == nil) != (i == winner) {
				t.Errorf("session %d after the race: %v (winner %d)", i, err, winner)
			}
		}
		if _, _, err := d.svc.Login(ctx, "li.na@example.com", fmt.Sprintf("new passphrase %d", winner)); err != nil {
			t.Errorf("the winner's password does not sign in: %v", err)
		}
	})
}
