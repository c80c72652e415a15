package console_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The console's sign-in form and the API's are two doors to one account: failures at either
// count against one budget, per account and per address.
func TestConsoleAndAPIShareOneLoginBudget(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		steps := []struct {
			door, email, pw string
			status          int
			says            string
		}{
			{"console", d.Agent.Email, "wrong password 1", 401, "邮箱或密码错误"},
			{"api", d.Agent.Email, "wrong password 2", 401, "wrong email or password"},
			{"console", d.Agent.Email, "wrong password 3", 401, "邮箱或密码错误"},
			{"api", d.Agent.Email, "wrong password 4", 401, "wrong email or password"},
			{"console", d.Agent.Email, "wrong password 5", 401, "邮箱或密码错误"},
			// Five failures across both doors lock the account at both, for the right password too.
			{"console", d.Agent.Email, consoletest.Password, 429, "该账号登录失败次数过多，已暂时锁定：请 1 分钟后再试，或请管理员解锁。"},
			{"api", d.Agent.Email, consoletest.Password, 429, "locked: try again in 1 minute"},
			// Other accounts still sign in from this address.
			{"console", d.Agent2.Email, consoletest.Password, 303, ""},
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
			}{"api", d.Super.Email, consoletest.Password, 429, "too many failed sign-ins from your address"},
			struct {
				door, email, pw string
				status          int
				says            string
			}{"console", d.Super.Email, consoletest.Password, 429, "此地址登录失败次数过多"})
		for i, s := range steps {
			var status int
			var body string
			if s.door == "console" {
				r := d.Browser().Login(s.email, s.pw)
				status, body = r.Status, r.Body
			} else {
				status, body = d.APILogin(t, s.email, s.pw)
			}
			if status != s.status || !strings.Contains(body, s.says) {
				t.Fatalf("step %d (%s, %s): %d, want %d saying %q:\n%s", i+1, s.door, s.email, status, s.status, s.says, consoletest.Clip(body))
			}
		}
	})
}
