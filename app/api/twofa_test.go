package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// enrolTOTP turns on agent id's second factor, as the console's account page does.
func (e *env) enrolTOTP(t *testing.T, id int64) {
	t.Helper()
	ctx := context.Background()
	doors := access.New(e.svc, access.Config{})
	a, err := e.svc.Agent(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	en, err := doors.BeginTOTP(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCodeCustom(en.Secret, e.clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := doors.ConfirmTOTP(ctx, a, code); err != nil {
		t.Fatal(err)
	}
}

// POST /agents/:id/2fa/reset: an admin (or an admin key) resets an agent's second factor,
// whose sessions end; not a supervisor, not the admin's own, not one that is not on.
func TestResetTwoFactorAPI(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		e.enrolTOTP(t, e.id("agent1"))
		reset := func(id int64) string { return fmt.Sprintf("/api/v1/agents/%d/2fa/reset", id) }

		status, js := e.do(t, "POST", reset(e.id("agent1")), "sup1", nil)
		wantStatus(t, status, js, http.StatusForbidden)
		status, js = e.do(t, "POST", reset(e.id("admin")), "admin", nil)
		wantStatus(t, status, js, http.StatusForbidden)
		status, js = e.do(t, "POST", reset(e.id("agent2")), "admin", nil)
		wantStatus(t, status, js, http.StatusConflict)
		status, js = e.do(t, "POST", reset(999999), "admin", nil)
		wantStatus(t, status, js, http.StatusNotFound)
		status, js = e.do(t, "POST", "/api/v1/agents/abc/2fa/reset", "admin", nil)
		if status != http.StatusBadRequest && status != http.StatusNotFound {
			t.Errorf("a bad id: %d %v", status, js)
		}

		status, js = e.do(t, "POST", reset(e.id("agent1")), "admin", nil)
		wantStatus(t, status, js, http.StatusOK)
		if getN(js, "id") != e.id("agent1") {
			t.Errorf("answered %v, want agent1", js)
		}
		status, js = e.do(t, "GET", "/api/v1/me", "agent1", nil)
		wantStatus(t, status, js, http.StatusUnauthorized)
		if n := tickettest.CountEvents(t, db, "agent.totp_reset"); n != 1 {
			t.Errorf("%d agent.totp_reset events, want 1", n)
		}
		// With no second factor now, the API's password sign-in lets her in again.
		e.tok["agent1"] = login(t, e.app, e.agents["agent1"].Email, password)
		status, js = e.do(t, "POST", reset(e.id("agent1")), "admin", nil)
		wantStatus(t, status, js, http.StatusConflict)

		// An admin key may reset one too; a key without the admin scope may not.
		e.enrolTOTP(t, e.id("agent2"))
		e.tok["ops"] = e.newKey(t, "ops", access.ScopeAdmin)
		e.tok["crm"] = e.newKey(t, "crm", access.ScopeTicketsWrite)
		status, js = e.do(t, "POST", reset(e.id("agent2")), "crm", nil)
		wantStatus(t, status, js, http.StatusForbidden)
		status, js = e.do(t, "POST", reset(e.id("agent2")), "ops", nil)
		wantStatus(t, status, js, http.StatusOK)
		var actorKind string
		if err := db.NewSelect().Table("events").Column("actor_kind").Where("kind = 'agent.totp_reset' AND entity_id = ?", e.id("agent2")).
			Scan(context.Background(), &actorKind); err != nil {
			t.Fatal(err)
		}
		if actorKind != "apikey" {
			t.Errorf("the key's reset is recorded as %q", actorKind)
		}
	})
}
