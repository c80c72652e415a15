package admin_test

import (
	"context"
	"net/url"
	"regexp"
	"testing"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// An admin makes a key from the console: it is shown once, listed without its secret, and
// revoked with a button; a refused form keeps what was typed.
func TestAdminKeys(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	b := d.SignIn(d.Admin)
	b.Post("/settings/language", url.Values{"lang": {"en"}})
	consoletest.WantContains(t, b.Get("/admin/keys"), "No API keys yet.", "Read tickets")

	r := b.Post("/admin/keys", url.Values{"name": {"crm"}, "scope": {"nonsense"}})
	consoletest.WantStatus(t, r, 400)
	consoletest.WantContains(t, r, `value="crm"`, `role="alert"`)

	r = b.Post("/admin/keys", url.Values{"name": {"crm"}, "scope": {"tickets:read", "reports"}})
	consoletest.WantStatus(t, r, 201)
	key := regexp.MustCompile(`hlk_[0-9]+_[A-Za-z0-9_-]{40,}`).FindString(r.Body)
	if key == "" {
		t.Fatalf("the new key is not on the page:\n%s", consoletest.Clip(r.Body))
	}
	if _, err := d.Access.AuthenticateKey(context.Background(), key); err != nil {
		t.Fatalf("the key shown does not work: %v", err)
	}
	list := b.Get("/admin/keys")
	consoletest.WantContains(t, list, "crm", "tickets:read reports", "Revoke")
	consoletest.WantLacks(t, list, key[6:])

	r = b.Post("/admin/keys/1/revoke", url.Values{})
	consoletest.WantStatus(t, r, 303)
	consoletest.WantContains(t, b.Get(r.Location), "Revoked the key.", "Revoked")
	if _, err := d.Access.AuthenticateKey(context.Background(), key); err == nil {
		t.Error("a revoked key still works")
	}
}
