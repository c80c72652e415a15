package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// An agent changes their own password with the current one: a wrong current password is
// refused and counted like a failed sign-in, a weak new one is refused, and on success
// every other session of theirs ends while the one that asked stays signed in.
func TestChangeOwnPassword(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		email := e.agents["agent1"].Email
		other := login(t, e.app, email, password) // agent1's second session, on another device
		const fresh = "a brand new passphrase"
		// works says whether each token still opens the API.
		works := func(tokens ...string) string {
			var out []string
			for _, tok := range tokens {
				status, _ := do(t, e.app, "GET", "/api/v1/me", tok, nil)
				out = append(out, fmt.Sprint(status))
			}
			return strings.Join(out, " ")
		}
		signIn := func(pw string) int {
			status, _ := do(t, e.app, "POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": pw})
			return status
		}
		steps := []struct {
			name   string
			token  string
			body   any
			status int
			says   string // in the error
			// afterwards: this session, the other one, another agent's; old and new password
			sessions  string
			old, next int
			events    int // agent.password_changed
		}{
			{"no token", "", map[string]string{"current_password": password, "new_password": fresh},
				401, "sign in first", "200 200 200", 200, 401, 0},
			{"fields missing", e.tok["agent1"], map[string]string{"new_password": fresh},
				400, "current_password and new_password are required", "200 200 200", 200, 401, 0},
			{"not JSON", e.tok["agent1"], "current=x",
				400, "", "200 200 200", 200, 401, 0},
			{"wrong current password", e.tok["agent1"], map[string]string{"current_password": "not my password", "new_password": fresh},
				403, "the current password is wrong", "200 200 200", 200, 401, 0},
			{"new password too short", e.tok["agent1"], map[string]string{"current_password": password, "new_password": "short"},
				400, "at least 10 characters", "200 200 200", 200, 401, 0},
			{"new password over bcrypt's 72 bytes", e.tok["agent1"], map[string]string{"current_password": password, "new_password": strings.Repeat("密", 25)},
				400, "at most 72 bytes", "200 200 200", 200, 401, 0},
			{"changed", e.tok["agent1"], map[string]string{"current_password": password, "new_password": fresh},
				204, "", "200 401 200", 401, 200, 1},
			{"the old password is no longer current", e.tok["agent1"], map[string]string{"current_password": password, "new_password": "yet another passphrase"},
				403, "the current password is wrong", "200 401 200", 401, 200, 1},
		}
		for _, s := range steps {
			status, js := do(t, e.app, "POST", "/api/v1/me/password", s.token, s.body)
			if status != s.status || !strings.Contains(getS(js, "error"), s.says) {
				t.Errorf("%s: %d %v, want %d saying %q", s.name, status, js, s.status, s.says)
			}
			if got := works(e.tok["agent1"], other, e.tok["agent2"]); got != s.sessions {
				t.Errorf("%s: sessions (this, other, another agent's) answer %s, want %s", s.name, got, s.sessions)
			}
			if n := tickettest.CountEvents(t, db, "agent.password_changed"); n != s.events {
				t.Errorf("%s: %d agent.password_changed events, want %d", s.name, n, s.events)
			}
			if s.name == "changed" || s.name == "no token" {
				if got, want := fmt.Sprint(signIn(password), " ", signIn(fresh)), fmt.Sprint(s.old, " ", s.next); got != want {
					t.Errorf("%s: signing in with the old and the new password: %s, want %s", s.name, got, want)
				}
			}
		}
	})
}

// Wrong current passwords spend the account's budget of failed sign-ins: once it is spent
// the account is locked, at the sign-in form too, and the answer says when to try again.
func TestChangeOwnPasswordCountsFailures(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		wrong := map[string]string{"current_password": "a guess at it", "new_password": "a brand new passphrase"}
		var got []int
		for range 6 {
			status, _ := e.do(t, "POST", "/api/v1/me/password", "agent2", wrong)
			got = append(got, status)
		}
		if fmt.Sprint(got) != "[403 403 403 403 403 429]" {
			t.Errorf("wrong current passwords: %v, want 5 × 403 then 429", got)
		}
		right := map[string]string{"current_password": password, "new_password": "a brand new passphrase"}
		status, h, js := doFull(t, e.app, "POST", "/api/v1/me/password", e.tok["agent2"], right)
		if status != 429 || h.Get("Retry-After") == "" || !strings.Contains(getS(js, "error"), "locked") {
			t.Errorf("right password while locked: %d %v, Retry-After %q; want 429 saying locked", status, js, h.Get("Retry-After"))
		}
		status, js = do(t, e.app, "POST", "/api/v1/auth/login", "", map[string]string{"email": e.agents["agent2"].Email, "password": password})
		wantStatus(t, status, js, 429)
		if status, js := e.do(t, "GET", "/api/v1/me", "agent2", nil); status != 200 {
			t.Errorf("the session that guessed ended: %d %v", status, js)
		}
	})
}
