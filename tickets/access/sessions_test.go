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

func TestSessionsListAndEnd(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		phone, err := d.svc.SignIn(ctx, access.Device{Client: "203.0.113.9", UserAgent: "Mobile Safari"}, "li.na@example.com", liNaPW)
		if err != nil {
			t.Fatal(err)
		}
		d.clock.Advance(5 * 60e9)
		desktop, _ := d.svc.SignIn(ctx, access.Device{Client: "2001:db8:1:2::9", UserAgent: "Firefox"}, "li.na@example.com", liNaPW)
		if _, err := d.svc.Authenticate(ctx, desktop.Token); err != nil {
			t.Fatal(err)
		}
		list, err := d.svc.Sessions(ctx, d.liNa, d.liNa.Agent.ID, desktop.Token)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].UserAgent != "Firefox" || !list[0].Current || list[1].Current {
			t.Fatalf("sessions %+v", list)
		}
		if list[0].Client != "2001:db8::*" || list[1].Client != "203.0.*.*" {
			t.Errorf("addresses shown %q, %q", list[0].Client, list[1].Client)
		}
		if list[0].LastSeenAt == nil || list[1].LastSeenAt != nil {
			t.Errorf("last seen %v, %v", list[0].LastSeenAt, list[1].LastSeenAt)
		}

		// Another agent neither sees nor ends them.
		if _, err := d.svc.Sessions(ctx, d.zhangWei, d.liNa.Agent.ID, ""); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("another agent lists them: %v", err)
		}
		if _, err := d.svc.EndSession(ctx, d.zhangWei, list[1].ID); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("another agent ends one: %v", err)
		}
		// Li Na ends her phone's session from her desktop.
		if _, err := d.svc.EndSession(ctx, d.liNa, list[1].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := d.svc.Authenticate(ctx, phone.Token); !errors.Is(err, tickets.ErrUnauthorized) {
			t.Error("an ended session still works")
		}
		if _, err := d.svc.EndSession(ctx, d.liNa, list[1].ID); !errors.Is(err, tickets.ErrNotFound) {
			t.Errorf("ending it twice: %v", err)
		}
		// An admin ends anyone's.
		if _, err := d.svc.Sessions(ctx, d.admin, d.liNa.Agent.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := d.svc.EndSession(ctx, d.admin, list[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := d.svc.Authenticate(ctx, desktop.Token); !errors.Is(err, tickets.ErrUnauthorized) {
			t.Error("a session an admin ended still works")
		}
	})
}

func TestPasswordsOffBreakGlass(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDeskWith(t, db, access.Config{PasswordsOff: true, BreakGlass: " Admin@Example.com"})
		if _, err := d.svc.SignIn(ctx, access.Device{}, "li.na@example.com", liNaPW); !errors.Is(err, access.ErrPasswordsOff) {
			t.Errorf("a normal agent's password with passwords off: %v", err)
		}
		if out, err := d.svc.SignIn(ctx, access.Device{}, "admin@example.com", "correct horse battery"); err != nil || out.Token == "" {
			t.Errorf("the break-glass admin: %v", err)
		}
	})
}

// FuzzMaskIP: whatever address a proxy reports, the masked form never shows it whole.
func FuzzMaskIP(f *testing.F) {
	for _, s := range []string{"203.0.113.9", "2001:db8::1", "::ffff:10.1.2.3", "", "not an ip", "fe80::1%eth0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		m := access.MaskIP(addr)
		if m != "" && (m == addr || !strings.HasSuffix(m, "*")) {
			t.Errorf("MaskIP(%q) = %q", addr, m)
		}
	})
}

// A session's last-seen time is written when a minute has passed since the last, not on
// every request: the requests between only read it.
func TestSessionLastSeenOnceAMinute(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		out, err := d.svc.SignIn(ctx, access.Device{UserAgent: "Firefox"}, "li.na@example.com", liNaPW)
		if err != nil {
			t.Fatal(err)
		}
		seen := func() time.Time {
			t.Helper()
			list, err := d.svc.Sessions(ctx, d.liNa, d.liNa.Agent.ID, out.Token)
			if err != nil || len(list) != 1 || list[0].LastSeenAt == nil {
				t.Fatalf("sessions %+v, %v", list, err)
			}
			return list[0].LastSeenAt.UTC()
		}
		auth := func() {
			t.Helper()
			if a, err := d.svc.Authenticate(ctx, out.Token); err != nil || a.ID != d.liNa.Agent.ID || a.Email != "li.na@example.com" {
				t.Fatalf("authenticate: %+v, %v", a, err)
			}
		}
		auth()
		first := d.clock.Now().UTC().Truncate(time.Microsecond)
		if got := seen(); !got.Equal(first) {
			t.Fatalf("last seen %v, want %v", got, first)
		}
		d.clock.Advance(59 * time.Second)
		auth()
		if got := seen(); !got.Equal(first) {
			t.Errorf("last seen moved to %v within the minute", got)
		}
		d.clock.Advance(2 * time.Second)
		auth()
		if got, want := seen(), d.clock.Now().UTC().Truncate(time.Microsecond); !got.Equal(want) {
			t.Errorf("last seen %v after a minute, want %v", got, want)
		}
	})
}
