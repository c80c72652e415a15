package access_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// A token or API key that opens nothing is refused as unauthorized, with the same reason
// whatever is wrong with it.
func TestCredentialRefusals(t *testing.T) {
	d := newDesk(t, tickettest.SQLite(t))
	ctx := context.Background()
	cases := []struct {
		name   string
		check  func() error
		reason string
	}{
		{"token of another shape", func() error { _, err := d.svc.Authenticate(ctx, "bearer-x"); return err }, "missing, expired or revoked token"},
		{"unknown token", func() error { _, err := d.svc.Authenticate(ctx, "hl_unknown"); return err }, "missing, expired or revoked token"},
		{"key of another shape", func() error { _, err := d.svc.AuthenticateKey(ctx, "hlk_x"); return err }, "missing or revoked API key"},
		{"unknown key", func() error { _, err := d.svc.AuthenticateKey(ctx, "hlk_99_secret"); return err }, "missing or revoked API key"},
	}
	for _, tc := range cases {
		err := tc.check()
		if !errors.Is(err, tickets.ErrUnauthorized) || tickets.Reason(err) != tc.reason {
			t.Errorf("%s: %v (reason %q), want unauthorized: %s", tc.name, err, tickets.Reason(err), tc.reason)
		}
	}
}
