package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// apiLogin signs in through the JSON API of the same desk, answering its status and reason.
func (d *desk) apiLogin(t *testing.T, email, pw string) (int, string) {
	t.Helper()
	raw, _ := json.Marshal(map[string]string{"email": email, "password": pw})
	req := httptest.NewRequest("POST", "/api/v1/auth/login", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	res, err := d.app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// The console's sign-in form and the API's are two doors to one account: failures at either
// count against one budget, per account and per address.
func TestConsoleAndAPIShareOneLoginBudget(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db)
		steps := []struct {
			door, email, pw string
			status          int
			says            string
		}{
			{"console", d.agent.Email, "wrong password 1", 401, "邮箱或密码错误"},
			{"api", d.agent.Email, "wrong password 2", 401, "wrong email or password"},
			{"console", d.agent.Email, "wrong password 3", 401, "邮箱或密码错误"},
			{"api", d.agent.Email, "wrong password 4", 401, "wrong email or password"},
			{"console", d.agent.Email, "wrong password 5", 401, "邮箱或密码错误"},
			// Five failures across both doors lock the account at both, for the right password too.
			{"console", d.agent.Email, password, 429, "该账号登录失败次数过多，已暂时锁定：请 1 分钟后再试，或请管理员解锁。"},
			{"api", d.agent.Email, password, 429, "locked: try again in 1 minute"},
			// Other accounts still sign in from this address.
			{"console", d.agent2.Email, password, 303, ""},
		}
		// Attempts at a locked account count as failures of the address too: three more for
		// other emails spend its ten a minute, across both doors.
		for i := range 3 {
			door := []string{"console", "api"}[i%2]
			steps = append(steps, struct {
				door, email, pw string
				status          int
				says            string
			}{door, fmt.Sprintf("guess%d@desk.test", i), "wrong password", 401, ""})
		}
		steps = append(steps,
			struct {
				door, email, pw string
				status          int
				says            string
			}{"api", d.super.Email, password, 429, "too many failed sign-ins from your address"},
			struct {
				door, email, pw string
				status          int
				says            string
			}{"console", d.super.Email, password, 429, "此地址登录失败次数过多"})
		for i, s := range steps {
			var status int
			var body string
			if s.door == "console" {
				r := d.browser().login(s.email, s.pw)
				status, body = r.status, r.body
			} else {
				status, body = d.apiLogin(t, s.email, s.pw)
			}
			if status != s.status || !strings.Contains(body, s.says) {
				t.Fatalf("step %d (%s, %s): %d, want %d saying %q:\n%s", i+1, s.door, s.email, status, s.status, s.says, clip(body))
			}
		}
	})
}

// An admin sees who is locked out and lifts the lock with a button; the audit trail says so.
func TestAdminUnlocksAnAgent(t *testing.T) {
	d := newDesk(t, tickettest.SQLite(t))
	ctx := context.Background()
	for i := range 5 {
		d.svc.LoginFrom(ctx, fmt.Sprintf("192.0.2.%d", i+1), d.agent.Email, "wrong password") //nolint:errcheck // locking on purpose
	}
	unlock := fmt.Sprintf(`action="/admin/agents/%d/unlock"`, d.agent.ID)

	sup := d.signIn(d.super)
	wantStatus(t, sup.post(fmt.Sprintf("/admin/agents/%d/unlock", d.agent.ID), nil), 403)

	admin := d.signIn(d.admin)
	r := admin.get("/admin/agents")
	wantContains(t, r, "已锁定至 11-25 09:31", unlock)
	if n := strings.Count(r.body, "/unlock\""); n != 1 {
		t.Errorf("%d unlock buttons, want only the locked agent's", n)
	}
	if lr := d.browser().login(d.agent.Email, password); lr.status != 429 {
		t.Fatalf("the locked agent signed in: %d", lr.status)
	}

	before := admEvents(t, d)
	r = admin.post(fmt.Sprintf("/admin/agents/%d/unlock", d.agent.ID), nil)
	wantStatus(t, r, 303)
	r = admin.get(r.location)
	wantContains(t, r, "已解除 李娜 Li Na 的登录锁定。")
	wantLacks(t, r, unlock, "已锁定至")
	if n := admEvents(t, d); n != before+1 {
		t.Errorf("%d events recorded, want agent.unlocked", n-before)
	}
	if lr := d.browser().login(d.agent.Email, password); lr.status != 303 {
		t.Fatalf("the unlocked agent cannot sign in: %d", lr.status)
	}

	// Unlocking again is refused with the reason, on the page.
	r = admin.post(fmt.Sprintf("/admin/agents/%d/unlock", d.agent.ID), url.Values{})
	wantStatus(t, r, 409)
	wantContains(t, r, "is not locked out", `role="alert"`)
}
