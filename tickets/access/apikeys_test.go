package access_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// lastUsed reads key id's last use as stored.
func lastUsed(t *testing.T, db *bun.DB, id int64) time.Time {
	t.Helper()
	var at *time.Time
	if err := db.NewSelect().Table("api_keys").Column("last_used_at").Where("id = ?", id).Scan(context.Background(), &at); err != nil {
		t.Fatal(err)
	}
	if at == nil {
		return time.Time{}
	}
	return at.UTC()
}

func TestAPIKeys(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		key, k, err := d.svc.CreateKey(ctx, d.admin, " billing ", []string{"tickets:read", "reports", "reports"})
		if err != nil {
			t.Fatal(err)
		}
		if k.Name != "billing" || k.Scopes != "tickets:read reports" || !strings.HasPrefix(key, "hlk_") {
			t.Fatalf("key %q %+v", key, k)
		}
		var stored string
		if err := db.NewSelect().Table("api_keys").Column("secret_hash").Where("id = ?", k.ID).Scan(ctx, &stored); err != nil {
			t.Fatal(err)
		}
		if _, secret, _ := strings.Cut(key[4:], "_"); strings.Contains(stored, secret) || len(stored) != 64 {
			t.Errorf("stored %q: not a SHA-256 of the key", stored)
		}

		// Refused: people other than admins, unknown scopes, no scopes, a taken name.
		for _, c := range []struct {
			actor  tickets.Actor
			name   string
			scopes []string
			want   error
		}{
			{d.liNa, "x", []string{"reports"}, tickets.ErrForbidden},
			{d.admin, "x", []string{"root"}, tickets.ErrInvalid},
			{d.admin, "x", nil, tickets.ErrInvalid},
			{d.admin, "", []string{"reports"}, tickets.ErrInvalid},
			{d.admin, "billing", []string{"reports"}, tickets.ErrConflict},
		} {
			if _, _, err := d.svc.CreateKey(ctx, c.actor, c.name, c.scopes); !errors.Is(err, c.want) {
				t.Errorf("create %q %v as %s: %v, want %v", c.name, c.scopes, c.actor.Kind, err, c.want)
			}
		}

		// Forged keys: another secret, another id, not a key at all.
		for _, bad := range []string{"", "hlk_", "hlk_1", "hlk_x_y", key + "x", strings.Replace(key, "hlk_1_", "hlk_2_", 1), "hl_" + key[4:]} {
			if _, err := d.svc.AuthenticateKey(ctx, bad); !errors.Is(err, tickets.ErrUnauthorized) {
				t.Errorf("authenticate %q: %v", bad, err)
			}
		}

		// Last use is written at most once a minute.
		start := d.clock.Now().UTC()
		for _, step := range []struct {
			after time.Duration
			want  time.Time
		}{
			{0, start},
			{30 * time.Second, start},
			{29 * time.Second, start},
			{time.Second, start.Add(time.Minute)},
			{10 * time.Second, start.Add(time.Minute)},
		} {
			d.clock.Advance(step.after)
			got, err := d.svc.AuthenticateKey(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Has(access.ScopeReports) || got.Has(access.ScopeTicketsWrite) || got.Has(access.ScopeAdmin) {
				t.Errorf("scopes %q", got.Scopes)
			}
			if at := lastUsed(t, db, k.ID); !at.Equal(step.want) {
				t.Errorf("at %s last used %s, want %s", d.clock.Now().UTC(), at, step.want)
			}
		}

		// Revoked, the key is refused for good; its audit events name the admin.
		if err := d.svc.RevokeKey(ctx, d.liNa, k.ID); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("an agent revoked a key: %v", err)
		}
		if err := d.svc.RevokeKey(ctx, d.admin, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := d.svc.AuthenticateKey(ctx, key); !errors.Is(err, tickets.ErrUnauthorized) {
			t.Errorf("a revoked key: %v", err)
		}
		if err := d.svc.RevokeKey(ctx, d.admin, 999); !errors.Is(err, tickets.ErrNotFound) {
			t.Errorf("revoke an unknown key: %v", err)
		}
		for _, kind := range []string{"api_key.created", "api_key.revoked"} {
			if n := tickettest.CountEvents(t, db, kind); n != 1 {
				t.Errorf("%d %s events", n, kind)
			}
		}
	})
}

func FuzzAuthenticateKey(f *testing.F) {
	doors := access.New(tickettest.Service(tickettest.SQLite(f), tickettest.NewClock(tickettest.T0)), access.Config{})
	for _, s := range []string{"hlk_1_abc", "hlk_", "hlk_-1_x", "hlk_99999999999999999999_x", "hl_x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if _, err := doors.AuthenticateKey(context.Background(), key); !errors.Is(err, tickets.ErrUnauthorized) {
			t.Fatalf("%q: %v", key, err)
		}
	})
}
