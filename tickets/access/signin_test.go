package access_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func TestLoginTokens(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		token, a, err := d.svc.Login(ctx, " Li.Na@Example.com ", "long enough password")
		if err != nil {
			t.Fatal(err)
		}
		if a.ID != d.liNa.Agent.ID {
			t.Fatalf("logged in as %s", a.Email)
		}
		if got, err := d.svc.Authenticate(ctx, token); err != nil || got.ID != a.ID {
			t.Fatalf("authenticate: %v", err)
		}
		var stored string
		if err := db.NewSelect().Table("api_tokens").Column("token_hash").Limit(1).Scan(ctx, &stored); err != nil || stored == token {
			t.Errorf("token stored in clear (%v)", err)
		}

		for _, c := range []struct{ email, pw string }{
			{"li.na@example.com", "wrong password!!"},
			{"nobody@example.com", "long enough password"},
			{"not an email", "long enough password"},
		} {
			if _, _, err := d.svc.Login(ctx, c.email, c.pw); !errors.Is(err, tickets.ErrUnauthorized) {
				t.Errorf("login %s/%s: %v", c.email, c.pw, err)
			}
		}
		for _, bad := range []string{"", "hl_", "hl_forged", token + "x"} {
			if _, err := d.svc.Authenticate(ctx, bad); !errors.Is(err, tickets.ErrUnauthorized) {
				t.Errorf("authenticate %q: %v", bad, err)
			}
		}

		// Logout revokes only that token.
		other, _, _ := d.svc.Login(ctx, "li.na@example.com", "long enough password")
		if err := d.svc.Logout(ctx, token); err != nil {
			t.Fatal(err)
		}
		if _, err := d.svc.Authenticate(ctx, token); !errors.Is(err, tickets.ErrUnauthorized) {
			t.Error("a logged-out token still works")
		}
		if _, err := d.svc.Authenticate(ctx, other); err != nil {
			t.Errorf("the agent's other session was revoked too: %v", err)
		}
		// Tokens expire.
		d.clock.Advance(31 * 24 * time.Hour)
		if _, err := d.svc.Authenticate(ctx, other); !errors.Is(err, tickets.ErrUnauthorized) {
			t.Error("a 31-day-old token still works")
		}
		// Deactivating an agent ends every session and further logins.
		fresh, _, _ := d.svc.Login(ctx, "li.na@example.com", "long enough password")
		off := false
		if _, err := d.core.UpdateAgent(ctx, d.admin, d.liNa.Agent.ID, tickets.AgentUpdate{Active: &off}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.svc.Authenticate(ctx, fresh); !errors.Is(err, tickets.ErrUnauthorized) {
			t.Error("a deactivated agent's token still works")
		}
		if _, _, err := d.svc.Login(ctx, "li.na@example.com", "long enough password"); !errors.Is(err, tickets.ErrUnauthorized) {
			t.Error("a deactivated agent can log in")
		}
	})
}
