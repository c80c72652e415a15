package access_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// An admin requires a second factor from the database: it takes effect at once for every
// password sign-in, the sessions begun without one end (but the admin's own), saving it
// twice records it once, and only admins may.
func TestTOTPRequiredByAdmins(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		if r, err := d.svc.TOTPRule(ctx); err != nil || r.Required || r.Fixed || r.Saved {
			t.Fatalf("before any setting: %+v %v", r, err)
		}
		// Zhang Wei has a second factor, Li Na has not; both are signed in, and so is the admin.
		zw := d.zhangWei.Agent
		e, err := d.svc.BeginTOTP(ctx, zw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.svc.ConfirmTOTP(ctx, zw, d.code(t, e.Secret)); err != nil {
			t.Fatal(err)
		}
		liToken, _, err := d.svc.Login(ctx, "li.na@example.com", liNaPW)
		if err != nil {
			t.Fatal(err)
		}
		adminToken, _, err := d.svc.Login(ctx, d.admin.Agent.Email, "correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
		adminOther, _, err := d.svc.Login(ctx, d.admin.Agent.Email, "correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
		if must, err := d.svc.MustEnrol(ctx, d.liNa.Agent.ID); err != nil || must {
			t.Fatalf("not required yet, Li Na must enrol: %v %v", must, err)
		}

		if _, err := d.svc.SetTOTPRequired(ctx, d.liNa, true, liToken); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("an agent required two-step sign-in: %v", err)
		}
		ended, err := d.svc.SetTOTPRequired(ctx, d.admin, true, adminToken)
		if err != nil {
			t.Fatal(err)
		}
		// Li Na's session and the admin's other one end; the admin's own and Zhang Wei's stay.
		if ended != 2 {
			t.Errorf("%d sessions ended, want 2", ended)
		}
		if _, err := d.svc.Authenticate(ctx, liToken); !errors.Is(err, tickets.ErrUnauthorized) {
			t.Errorf("Li Na's password-only session outlived the requirement: %v", err)
		}
		if _, err := d.svc.Authenticate(ctx, adminOther); !errors.Is(err, tickets.ErrUnauthorized) {
			t.Errorf("the admin's other session outlived the requirement: %v", err)
		}
		if _, err := d.svc.Authenticate(ctx, adminToken); err != nil {
			t.Errorf("the admin's own session ended: %v", err)
		}
		if r, _ := d.svc.TOTPRule(ctx); !r.Required || !r.Saved || r.Fixed {
			t.Errorf("after saving: %+v", r)
		}
		for who, want := range map[int64]bool{d.liNa.Agent.ID: true, zw.ID: false, d.admin.Agent.ID: true} {
			if must, err := d.svc.MustEnrol(ctx, who); err != nil || must != want {
				t.Errorf("agent %d must enrol: %v (%v), want %v", who, must, err, want)
			}
		}
		// A password sign-in now says to enrol; the API's refuses.
		out, err := d.svc.SignIn(ctx, access.Device{}, "li.na@example.com", liNaPW)
		if err != nil || !out.MustEnrol {
			t.Errorf("sign-in while required: %+v %v", out, err)
		}
		if _, _, err := d.svc.LoginFrom(ctx, "", "li.na@example.com", liNaPW); !errors.Is(err, tickets.ErrUnauthorized) {
			t.Errorf("the API's sign-in while required: %v", err)
		}
		// Saved again: nothing changes and nothing is recorded.
		if n, err := d.svc.SetTOTPRequired(ctx, d.admin, true, adminToken); err != nil || n != 0 {
			t.Errorf("saved twice: %d ended, %v", n, err)
		}
		if n := tickettest.CountEvents(t, db, "signin.totp_required"); n != 1 {
			t.Errorf("%d signin.totp_required events, want 1", n)
		}
		// Off: Li Na's next sign-in is a plain one, and her session lasts.
		if _, err := d.svc.SetTOTPRequired(ctx, d.admin, false, adminToken); err != nil {
			t.Fatal(err)
		}
		out, err = d.svc.SignIn(ctx, access.Device{}, "li.na@example.com", liNaPW)
		if err != nil || out.MustEnrol || out.Token == "" {
			t.Errorf("sign-in once off: %+v %v", out, err)
		}
		if n := tickettest.CountEvents(t, db, "signin.totp_required"); n != 2 {
			t.Errorf("%d signin.totp_required events, want 2", n)
		}
		if _, err := d.svc.SetTOTPRequired(ctx, d.admin, false, adminToken); err != nil {
			t.Fatal(err)
		}
		if n := tickettest.CountEvents(t, db, "signin.totp_required"); n != 2 {
			t.Errorf("turned off twice: %d events, want 2", n)
		}
	})
}

// With the configuration requiring it, admins cannot turn it off, and it holds whatever
// they saved.
func TestTOTPRequiredFixedByConfiguration(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDeskWith(t, db, access.Config{RequireTOTP: true})
		r, err := d.svc.TOTPRule(ctx)
		if err != nil || !r.Required || !r.Fixed || r.Saved {
			t.Fatalf("fixed by configuration: %+v %v", r, err)
		}
		if _, err := d.svc.SetTOTPRequired(ctx, d.admin, false, ""); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("turned off against the configuration: %v", err)
		}
		if must, err := d.svc.MustEnrol(ctx, d.liNa.Agent.ID); err != nil || !must {
			t.Errorf("Li Na must enrol: %v %v", must, err)
		}
	})
}

// Two admins saving the requirement at once: one change, one audit event.
func TestTOTPRequiredRace(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		other := d.Agent(t, "second.admin@example.com", tickets.RoleAdmin, d.Claims)
		var wg sync.WaitGroup
		for _, who := range []tickets.Actor{d.admin, other, d.admin, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := d.svc.SetTOTPRequired(ctx, who, true, ""); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if n := tickettest.CountEvents(t, db, "signin.totp_required"); n != 1 {
			t.Errorf("%d signin.totp_required events for one change, want 1", n)
		}
	})
}

// An admin resets the second factor of an agent who lost their phone: the secret and
// recovery codes go, every session ends, a sign-in awaiting her code is void, the audit
// trail records it once; she signs in with her password alone (or is sent to enrol when
// it is required). Not an admin's own, not by an agent, not twice.
func TestResetTOTP(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		_, codes := d.enrol(t)
		pending, err := d.svc.SignIn(ctx, access.Device{}, "li.na@example.com", liNaPW)
		if err != nil || pending.Pending == "" {
			t.Fatalf("enrolled sign-in: %+v %v", pending, err)
		}
		token, _, err := d.svc.VerifySecondFactor(ctx, access.Device{}, pending.Pending, codes[0])
		if err != nil {
			t.Fatal(err)
		}
		waiting, err := d.svc.SignIn(ctx, access.Device{}, "li.na@example.com", liNaPW)
		if err != nil {
			t.Fatal(err)
		}
		li := d.liNa.Agent.ID

		if _, err := d.svc.ResetTOTP(ctx, d.zhangWei, li); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("an agent reset a colleague's second factor: %v", err)
		}
		if _, err := d.svc.ResetTOTP(ctx, d.admin, d.admin.Agent.ID); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("an admin reset their own: %v", err)
		}
		if _, err := d.svc.ResetTOTP(ctx, d.admin, d.zhangWei.Agent.ID); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("reset of an agent without one: %v", err)
		}
		if _, err := d.svc.ResetTOTP(ctx, d.admin, 999999); !errors.Is(err, tickets.ErrNotFound) {
			t.Errorf("reset of no one: %v", err)
		}
		a, err := d.svc.ResetTOTP(ctx, d.admin, li)
		if err != nil || a.ID != li {
			t.Fatalf("reset: %v %v", a, err)
		}
		if on, _ := d.svc.TOTPOn(ctx, li); on {
			t.Error("still on after the reset")
		}
		for _, table := range []string{"agent_totp", "totp_recovery_codes"} {
			if n, err := db.NewSelect().Table(table).Where("agent_id = ?", li).Count(ctx); err != nil || n != 0 {
				t.Errorf("%d rows left in %s (%v)", n, table, err)
			}
		}
		if _, err := d.svc.Authenticate(ctx, token); !errors.Is(err, tickets.ErrUnauthorized) {
			t.Errorf("her session outlived the reset: %v", err)
		}
		if _, _, err := d.svc.VerifySecondFactor(ctx, access.Device{}, waiting.Pending, codes[1]); !errors.Is(err, tickets.ErrUnauthorized) {
			t.Errorf("a sign-in begun before the reset finished with a recovery code: %v", err)
		}
		if n := tickettest.CountEvents(t, db, "agent.totp_reset"); n != 1 {
			t.Errorf("%d agent.totp_reset events, want 1", n)
		}
		if _, err := d.svc.ResetTOTP(ctx, d.admin, li); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("reset twice: %v", err)
		}
		out, err := d.svc.SignIn(ctx, access.Device{}, "li.na@example.com", liNaPW)
		if err != nil || out.Token == "" || out.Pending != "" || out.MustEnrol {
			t.Errorf("signing in after the reset: %+v %v", out, err)
		}
		if _, err := d.svc.SetTOTPRequired(ctx, d.admin, true, ""); err != nil {
			t.Fatal(err)
		}
		if out, err := d.svc.SignIn(ctx, access.Device{}, "li.na@example.com", liNaPW); err != nil || !out.MustEnrol {
			t.Errorf("signing in after the reset, required: %+v %v", out, err)
		}
		// She enrols again, with a new secret.
		d.enrol(t)
	})
}

// Two admins resetting the same agent at once: one reset, one event, the other refused.
func TestResetTOTPRace(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		d.enrol(t)
		other := d.Agent(t, "second.admin@example.com", tickets.RoleAdmin, d.Claims)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, refused := 0, 0
		for _, who := range []tickets.Actor{d.admin, other, d.admin, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := d.svc.ResetTOTP(ctx, who, d.liNa.Agent.ID)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, tickets.ErrConflict):
					refused++
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if ok != 1 || refused != 3 {
			t.Errorf("%d resets, %d refused; want 1 and 3", ok, refused)
		}
		if n := tickettest.CountEvents(t, db, "agent.totp_reset"); n != 1 {
			t.Errorf("%d agent.totp_reset events, want 1", n)
		}
	})
}

// The counts the admin page shows: active agents, and those with a second factor.
func TestTOTPCounts(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		enrolled, active, err := d.svc.TOTPCounts(ctx)
		if err != nil || enrolled != 0 || active == 0 {
			t.Fatalf("before: %d of %d (%v)", enrolled, active, err)
		}
		d.enrol(t)
		if e2, a2, err := d.svc.TOTPCounts(ctx); err != nil || e2 != 1 || a2 != active {
			t.Errorf("after Li Na enrolled: %d of %d (%v), want 1 of %d", e2, a2, err, active)
		}
	})
}

// BenchmarkMustEnrol is the read every console page makes: the admins' requirement and the
// agent's enrolment, in one query.
func BenchmarkMustEnrol(b *testing.B) {
	for name, open := range map[string]func(testing.TB) *bun.DB{"sqlite": tickettest.SQLite, "postgres": tickettest.Postgres} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			clock := tickettest.NewClock(tickettest.T0)
			td := tickettest.NewDesk(b, tickettest.Service(open(b), clock), clock)
			svc := access.New(td.Svc, access.Config{})
			if _, err := svc.SetTOTPRequired(ctx, td.Admin, true, ""); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if must, err := svc.MustEnrol(ctx, td.LiNa.Agent.ID); err != nil || !must {
					b.Fatal(must, err)
				}
			}
		})
	}
}
