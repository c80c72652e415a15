package access_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

const liNaPW = "long enough password"

// code is the authenticator app's code for secret at the desk's time.
func (d *desk) code(t *testing.T, secret string) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, d.clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrol turns Li Na's second factor on and returns her secret and recovery codes.
func (d *desk) enrol(t *testing.T) (string, []string) {
	t.Helper()
	ctx := context.Background()
	e, err := d.svc.BeginTOTP(ctx, d.liNa.Agent)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := d.svc.ConfirmTOTP(ctx, d.liNa.Agent, d.code(t, e.Secret))
	if err != nil {
		t.Fatal(err)
	}
	return e.Secret, codes
}

func TestTOTPEnrolAndSignIn(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDeskWith(t, db, access.Config{SecretKey: "test key"})
		dev := access.Device{Client: "203.0.113.9", UserAgent: "Firefox"}

		// Begun but not confirmed: the password alone still signs in.
		e, err := d.svc.BeginTOTP(ctx, d.liNa.Agent)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(e.URL, "otpauth://totp/") || !strings.Contains(e.URL, "secret="+e.Secret) {
			t.Fatalf("enrolment URL %q", e.URL)
		}
		if again, _ := d.svc.BeginTOTP(ctx, d.liNa.Agent); again.Secret != e.Secret {
			t.Error("showing the enrol page again changed the secret already scanned")
		}
		var stored string
		if err := db.NewSelect().Table("agent_totp").Column("secret").Scan(ctx, &stored); err != nil || strings.Contains(stored, e.Secret) {
			t.Errorf("secret stored in clear: %q (%v)", stored, err)
		}
		if out, err := d.svc.SignIn(ctx, dev, "li.na@example.com", liNaPW); err != nil || out.Token == "" {
			t.Fatalf("before confirming: %+v %v", out, err)
		}
		if _, err := d.svc.ConfirmTOTP(ctx, d.liNa.Agent, "000000"); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("a wrong confirming code: %v", err)
		}
		codes, err := d.svc.ConfirmTOTP(ctx, d.liNa.Agent, d.code(t, e.Secret))
		if err != nil {
			t.Fatal(err)
		}
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes", len(codes))
		}
		if _, err := d.svc.BeginTOTP(ctx, d.liNa.Agent); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("enrolling twice: %v", err)
		}

		// Now the password leads to a pending sign-in, not a session.
		out, err := d.svc.SignIn(ctx, dev, "li.na@example.com", liNaPW)
		if err != nil || out.Token != "" || out.Pending == "" {
			t.Fatalf("password with 2FA on: %+v %v", out, err)
		}
		if _, err := d.svc.Authenticate(ctx, out.Pending); err == nil {
			t.Error("a pending sign-in works as a session")
		}
		if _, _, err := d.svc.LoginFrom(ctx, "", "li.na@example.com", liNaPW); !errors.Is(err, tickets.ErrUnauthorized) {
			t.Errorf("the API's password-only sign-in let a 2FA account in: %v", err)
		}
		if _, _, err := d.svc.VerifySecondFactor(ctx, dev, out.Pending, "123456"); !errors.Is(err, tickets.ErrUnauthorized) {
			t.Errorf("wrong code: %v", err)
		}
		d.clock.Advance(30 * time.Second)
		code := d.code(t, e.Secret)
		tok, a, err := d.svc.VerifySecondFactor(ctx, dev, out.Pending, code)
		if err != nil || a.ID != d.liNa.Agent.ID {
			t.Fatalf("right code: %v", err)
		}
		if _, err := d.svc.Authenticate(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if _, _, err := d.svc.VerifySecondFactor(ctx, dev, out.Pending, code); !errors.Is(err, tickets.ErrUnauthorized) {
			t.Errorf("a pending sign-in used twice: %v", err)
		}
		// Replay: the same code (same step) on a fresh pending sign-in is refused.
		out2, _ := d.svc.SignIn(ctx, dev, "li.na@example.com", liNaPW)
		if _, _, err := d.svc.VerifySecondFactor(ctx, dev, out2.Pending, code); !errors.Is(err, tickets.ErrUnauthorized) {
			t.Errorf("a code replayed within its window: %v", err)
		}
		// The next step's code works.
		d.clock.Advance(30 * time.Second)
		if _, _, err := d.svc.VerifySecondFactor(ctx, dev, out2.Pending, d.code(t, e.Secret)); err != nil {
			t.Errorf("next step's code: %v", err)
		}
		// A pending sign-in expires.
		out3, _ := d.svc.SignIn(ctx, dev, "li.na@example.com", liNaPW)
		d.clock.Advance(6 * time.Minute)
		if _, _, err := d.svc.VerifySecondFactor(ctx, dev, out3.Pending, d.code(t, e.Secret)); !errors.Is(err, tickets.ErrUnauthorized) {
			t.Errorf("an expired pending sign-in: %v", err)
		}
		// A recovery code, typed loosely, works once.
		out4, _ := d.svc.SignIn(ctx, dev, "li.na@example.com", liNaPW)
		if _, _, err := d.svc.VerifySecondFactor(ctx, dev, out4.Pending, " "+strings.ToUpper(codes[3])+" "); err != nil {
			t.Errorf("recovery code: %v", err)
		}
		out5, _ := d.svc.SignIn(ctx, dev, "li.na@example.com", liNaPW)
		if _, _, err := d.svc.VerifySecondFactor(ctx, dev, out5.Pending, codes[3]); !errors.Is(err, tickets.ErrUnauthorized) {
			t.Errorf("a recovery code used twice: %v", err)
		}
		// With the sealing key changed, the app's codes no longer work but recovery codes do.
		rekeyed := access.New(d.core, access.Config{SecretKey: "another key"})
		d.clock.Advance(time.Minute)
		out6, _ := rekeyed.SignIn(ctx, dev, "li.na@example.com", liNaPW)
		if _, _, err := rekeyed.VerifySecondFactor(ctx, dev, out6.Pending, d.code(t, e.Secret)); !errors.Is(err, tickets.ErrUnauthorized) {
			t.Errorf("a code under another key: %v", err)
		}
		if _, _, err := rekeyed.VerifySecondFactor(ctx, dev, out6.Pending, codes[5]); err != nil {
			t.Errorf("a recovery code under another key: %v", err)
		}
	})
}

// Wrong codes spend the account's budget of failed sign-ins, as wrong passwords do.
func TestTOTPWrongCodesLock(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		secret, _ := d.enrol(t)
		out, err := d.svc.SignIn(ctx, access.Device{}, "li.na@example.com", liNaPW)
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			d.svc.VerifySecondFactor(ctx, access.Device{}, out.Pending, "000000") //nolint:errcheck
		}
		d.clock.Advance(30 * time.Second)
		var limited *tickets.Limited
		if _, _, err := d.svc.VerifySecondFactor(ctx, access.Device{}, out.Pending, d.code(t, secret)); !errors.As(err, &limited) {
			t.Errorf("after five wrong codes the right one: %v", err)
		}
	})
}

// Two sign-ins racing with one recovery code, or one TOTP code: exactly one gets in.
func TestSecondFactorOnceRaced(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		// A budget the losers' failures do not spend: this is about the codes alone.
		d := newDeskWith(t, db, access.Config{Limits: access.AttemptLimits{LoginsPerAccount: 100}})
		secret, codes := d.enrol(t)
		d.clock.Advance(30 * time.Second)
		for _, c := range []struct{ name, code string }{{"recovery", codes[0]}, {"totp", d.code(t, secret)}} {
			const n = 6
			pend := make([]string, n)
			for i := range pend {
				out, err := d.svc.SignIn(ctx, access.Device{}, "li.na@example.com", liNaPW)
				if err != nil {
					t.Fatal(err)
				}
				pend[i] = out.Pending
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			ok := 0
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, _, err := d.svc.VerifySecondFactor(ctx, access.Device{}, pend[i], c.code); err == nil {
						mu.Lock()
						ok++
						mu.Unlock()
					} else if !errors.Is(err, tickets.ErrUnauthorized) {
						t.Errorf("%s: %v", c.name, err)
					}
				}()
			}
			wg.Wait()
			if ok != 1 {
				t.Errorf("%s code: %d sign-ins got in, want 1", c.name, ok)
			}
		}
	})
}

// Admins requiring a second factor: a password sign-in without one says to enrol.
func TestTOTPRequired(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDeskWith(t, db, access.Config{RequireTOTP: true})
		out, err := d.svc.SignIn(ctx, access.Device{}, "li.na@example.com", liNaPW)
		if err != nil || !out.MustEnrol || out.Token == "" {
			t.Fatalf("required, not enrolled: %+v %v", out, err)
		}
		d.enrol(t)
		out, err = d.svc.SignIn(ctx, access.Device{}, "li.na@example.com", liNaPW)
		if err != nil || out.MustEnrol || out.Pending == "" {
			t.Fatalf("required, enrolled: %+v %v", out, err)
		}
	})
}
