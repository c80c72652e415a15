package console_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// An agent changes their own password on the account page, reached from the menu: each
// refusal shows the page again with the reason in their language and its status; a change
// signs out their other browser and keeps this one.
func TestChangeOwnPasswordPage(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		b := d.SignIn(d.Agent)
		other := d.SignIn(d.Agent) // the same agent on another computer
		consoletest.WantContains(t, b.Get("/queue"), `href="/account/password"`, "账号安全")
		page := b.Get("/account/password")
		consoletest.WantStatus(t, page, 200)
		consoletest.WantContains(t, page, "当前密码", "再次输入新密码", d.Agent.Email, `autocomplete="current-password"`)

		const fresh = "a brand new passphrase"
		for _, s := range []struct {
			name                      string
			current, next, confirm    string
			status                    int
			says                      string
			thisSession, otherSession int // what /queue answers each browser afterwards
		}{
			{"the two new passwords differ", consoletest.Password, fresh, fresh + "!", 400, "两次输入的新密码不一致", 200, 200},
			{"wrong current password", "not my password", fresh, fresh, 403, "当前密码不正确", 200, 200},
			{"new password too short", consoletest.Password, "short", "short", 400, "新密码至少需要 10 个字符", 200, 200},
			{"changed", consoletest.Password, fresh, fresh, 303, "", 200, 303},
		} {
			b.Get("/account/password")
			r := b.Post("/account/password", url.Values{"current": {s.current}, "password": {s.next}, "confirm": {s.confirm}})
			consoletest.WantStatus(t, r, s.status)
			if s.says != "" {
				consoletest.WantContains(t, r, s.says, `role="alert"`)
			}
			if got := b.Get("/queue").Status; got != s.thisSession {
				t.Errorf("%s: this browser's /queue answers %d, want %d", s.name, got, s.thisSession)
			}
			if got := other.Get("/queue").Status; got != s.otherSession {
				t.Errorf("%s: the other browser's /queue answers %d, want %d", s.name, got, s.otherSession)
			}
		}
		// The page says it was done; the new password signs in, the old one no longer does.
		b.Get("/account/password") // the flash was taken by /queue above: change again to see it
		r := b.Post("/account/password", url.Values{"current": {fresh}, "password": {"another passphrase"}, "confirm": {"another passphrase"}})
		consoletest.WantStatus(t, r, 303)
		consoletest.WantContains(t, b.Get(r.Location), "密码已修改")
		if lr := d.Browser().Login(d.Agent.Email, "another passphrase"); lr.Status != 303 {
			t.Errorf("the new password does not sign in: %d", lr.Status)
		}
		if lr := d.Browser().Login(d.Agent.Email, consoletest.Password); lr.Status != 401 {
			t.Errorf("the old password still signs in: %d", lr.Status)
		}
		if n := tickettest.CountEvents(t, db, "agent.password_changed"); n != 2 {
			t.Errorf("%d agent.password_changed events, want 2", n)
		}

		// In English, the page and its refusals are in English.
		en := "en-US"
		if _, err := d.Service.UpdateAgent(context.Background(), tickets.AgentActor(d.Agent2), d.Agent2.ID, tickets.AgentUpdate{Locale: &en}); err != nil {
			t.Fatal(err)
		}
		b2 := d.SignIn(d.Agent2)
		consoletest.WantContains(t, b2.Get("/account/password"), "Change your password", "Current password", "Password")
		r = b2.Post("/account/password", url.Values{"current": {"wrong"}, "password": {fresh}, "confirm": {fresh}})
		consoletest.WantStatus(t, r, 403)
		consoletest.WantContains(t, r, "The current password is wrong.")
		// A form without the session's token changes nothing.
		r = b2.PostRaw("/account/password", url.Values{"current": {consoletest.Password}, "password": {fresh}, "confirm": {fresh}})
		consoletest.WantStatus(t, r, 403)
		if lr := d.Browser().Login(d.Agent2.Email, consoletest.Password); lr.Status != 303 {
			t.Errorf("a form without its token changed the password: %d", lr.Status)
		}
	})
}
