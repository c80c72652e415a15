package admin_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func admAgent(t *testing.T, d *consoletest.Desk, id int64) *tickets.Agent {
	t.Helper()
	a, err := d.Service.Agent(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func admAgentByEmail(t *testing.T, d *consoletest.Desk, email string) *tickets.Agent {
	t.Helper()
	as, err := d.Service.Agents(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if a.Email == email {
			return a
		}
	}
	return nil
}

// An admin adds an agent, who can then sign in; a refused form comes back with the reason
// and what was typed, never the password.
func TestAdminAddsAnAgent(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	b := d.SignIn(d.Admin)
	r := b.Get("/admin/agents")
	consoletest.WantContains(t, r, "李娜 Li Na", "li@desk.test", "理赔服务 Claims", "投诉专员", `action="/admin/agents"`)

	r = b.Post("/admin/agents", url.Values{"name": {"赵敏 Zhao Min"}, "email": {"Zhao@Desk.test"}, "role": {"supervisor"},
		"team": {consoletest.ID(d.Other.ID)}, "capacity": {"6"}, "locale": {"en"}, "password": {"first password"}})
	consoletest.WantStatus(t, r, 303)
	consoletest.WantContains(t, b.Get(r.Location), "已添加坐席 赵敏 Zhao Min", "zhao@desk.test")
	zhao := admAgentByEmail(t, d, "zhao@desk.test")
	if zhao == nil || zhao.Role != tickets.RoleSupervisor || zhao.TeamID == nil || *zhao.TeamID != d.Other.ID || zhao.Capacity != 6 || zhao.Locale != "en" {
		t.Fatalf("created %+v", zhao)
	}
	if _, _, err := d.Access.Login(context.Background(), "zhao@desk.test", "first password"); err != nil {
		t.Errorf("the new agent cannot sign in: %v", err)
	}

	for _, c := range []struct {
		name   string
		form   url.Values
		status int
		reason string
	}{
		{"short password", url.Values{"email": {"short@desk.test"}, "password": {"short"}}, 400, "at least 10 characters"},
		{"taken email", url.Values{"email": {"li@desk.test"}, "password": {"long enough pw"}}, 409, "already exists"},
		{"bad email", url.Values{"email": {"not-an-email"}, "password": {"long enough pw"}}, 400, "email"},
		{"bad capacity", url.Values{"email": {"cap@desk.test"}, "capacity": {"lots"}, "password": {"long enough pw"}}, 400, "必须是整数"},
		{"capacity too high", url.Values{"email": {"cap@desk.test"}, "capacity": {"5000"}, "password": {"long enough pw"}}, 400, "between 0 and 1000"},
		{"bad role", url.Values{"email": {"role@desk.test"}, "role": {"boss"}, "password": {"long enough pw"}}, 400, "Unknown role"},
		{"no such team", url.Values{"email": {"team@desk.test"}, "team": {"999"}, "password": {"long enough pw"}}, 404, "Team 999 not found"},
	} {
		before := admEvents(t, d)
		c.form.Set("name", "Typed Name")
		r := b.Post("/admin/agents", c.form)
		if r.Status != c.status {
			t.Errorf("%s: status %d, want %d", c.name, r.Status, c.status)
		}
		consoletest.WantContains(t, r, c.reason, `value="Typed Name"`, `role="alert"`)
		consoletest.WantLacks(t, r, "long enough pw")
		if n := admEvents(t, d); n != before {
			t.Errorf("%s: the refused form recorded %d events", c.name, n-before)
		}
	}
}

// An admin changes an agent's name, role, team and capacity; only what changed is
// recorded.
func TestAdminEditsAnAgent(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	b := d.SignIn(d.Admin)
	path := "/admin/agents/" + consoletest.ID(d.Agent.ID)
	r := b.Get(path)
	consoletest.WantStatus(t, r, 200)
	consoletest.WantContains(t, r, `value="李娜 Li Na"`, `action="`+path+`/password"`, `name="active" value="false"`)

	r = b.Post(path, url.Values{"name": {"李娜"}, "role": {"supervisor"}, "team": {""}, "capacity": {"4"}})
	consoletest.WantStatus(t, r, 303)
	li := admAgent(t, d, d.Agent.ID)
	if li.Name != "李娜" || li.Role != tickets.RoleSupervisor || li.TeamID != nil || li.Capacity != 4 {
		t.Fatalf("after the edit: %+v", li)
	}
	r = b.Post(path, url.Values{"name": {"李娜"}, "role": {"supervisor"}, "team": {consoletest.ID(d.Other.ID)}, "capacity": {"4"}})
	consoletest.WantStatus(t, r, 303)
	if li = admAgent(t, d, d.Agent.ID); li.TeamID == nil || *li.TeamID != d.Other.ID {
		t.Errorf("team after the second edit: %v", li.TeamID)
	}
	var data string
	if err := d.Service.DB().NewSelect().Table("events").Column("data").Where("kind = 'agent.updated'").OrderExpr("id DESC").Limit(1).Scan(context.Background(), &data); err != nil {
		t.Fatal(err)
	}
	if data != `{"team_id":`+consoletest.ID(d.Other.ID)+`}` {
		t.Errorf("the audit event of a team move says %s", data)
	}

	// Saving the form unchanged changes nothing.
	before := admEvents(t, d)
	r = b.Post(path, url.Values{"name": {"李娜"}, "role": {"supervisor"}, "team": {consoletest.ID(d.Other.ID)}, "capacity": {"4"}})
	consoletest.WantStatus(t, r, 303)
	consoletest.WantContains(t, b.Get(r.Location), "没有改动")
	if n := admEvents(t, d); n != before {
		t.Errorf("an unchanged form recorded %d events", n-before)
	}

	for _, c := range []struct {
		name   string
		form   url.Values
		status int
		reason string
	}{
		{"empty name", url.Values{"name": {" "}, "role": {"agent"}}, 400, "Name cannot be empty"},
		{"bad capacity", url.Values{"name": {"李娜"}, "role": {"agent"}, "capacity": {"-1"}}, 400, "between 0 and 1000"},
		{"bad team", url.Values{"name": {"李娜"}, "role": {"agent"}, "team": {"abc"}}, 400, "请选择一个有效的团队"},
	} {
		r := b.Post(path, c.form)
		if r.Status != c.status {
			t.Errorf("%s: status %d, want %d", c.name, r.Status, c.status)
		}
		consoletest.WantContains(t, r, c.reason)
	}
	if n := admEvents(t, d); n != before {
		t.Errorf("refused edits recorded %d events", n-before)
	}

	// An admin cannot demote or deactivate themselves; the page says why.
	self := "/admin/agents/" + consoletest.ID(d.Admin.ID)
	consoletest.WantContains(t, b.Get(self), "这是您自己的账号")
	r = b.Post(self, url.Values{"name": {"Admin"}, "role": {"agent"}, "capacity": {"10"}})
	consoletest.WantStatus(t, r, 409)
	consoletest.WantContains(t, r, "cannot demote themselves")
	r = b.Post(self+"/active", url.Values{"active": {"false"}})
	consoletest.WantStatus(t, r, 409)
	consoletest.WantContains(t, r, "cannot deactivate themselves")
	if a := admAgent(t, d, d.Admin.ID); a.Role != tickets.RoleAdmin || !a.Active {
		t.Errorf("the admin demoted or deactivated themselves: %+v", a)
	}

	for _, missing := range []string{"/admin/agents/999", "/admin/agents/abc"} {
		if r := b.Get(missing); r.Status != 404 {
			t.Errorf("%s: %d", missing, r.Status)
		}
	}
}

// A password reset lets the agent in with the new password only and ends their
// sessions; deactivating locks them out, reactivating lets them back.
func TestAdminResetsPasswordsAndAccess(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	li := d.SignIn(d.Agent)
	b := d.SignIn(d.Admin)
	path := "/admin/agents/" + consoletest.ID(d.Agent.ID)

	r := b.Post(path+"/password", url.Values{"password": {"brand new password"}, "confirm": {"brand new pasword"}})
	consoletest.WantStatus(t, r, 400)
	consoletest.WantContains(t, r, "两次输入的密码不一致")
	r = b.Post(path+"/password", url.Values{"password": {"short"}, "confirm": {"short"}})
	consoletest.WantStatus(t, r, 400)
	consoletest.WantContains(t, r, "at least 10 characters")
	consoletest.WantLacks(t, r, `value="short"`)
	if res := li.Get("/queue"); res.Status != 200 {
		t.Fatalf("refused resets ended the agent's session: %d", res.Status)
	}

	r = b.Post(path+"/password", url.Values{"password": {"brand new password"}, "confirm": {"brand new password"}})
	consoletest.WantStatus(t, r, 303)
	if res := li.Get("/queue"); res.Status != 303 {
		t.Errorf("the agent's old session still works after a reset: %d", res.Status)
	}
	ctx := context.Background()
	if _, _, err := d.Access.Login(ctx, d.Agent.Email, consoletest.Password); err == nil {
		t.Error("the old password still works")
	}
	if _, _, err := d.Access.Login(ctx, d.Agent.Email, "brand new password"); err != nil {
		t.Errorf("the new password does not work: %v", err)
	}

	r = b.Post(path+"/active", url.Values{"active": {"false"}})
	consoletest.WantStatus(t, r, 303)
	r = b.Get(r.Location)
	consoletest.WantContains(t, r, "已停用 李娜 Li Na", `class="off" id="agent-`+consoletest.ID(d.Agent.ID)+`"`)
	if admAgent(t, d, d.Agent.ID).Active {
		t.Fatal("still active")
	}
	if _, _, err := d.Access.Login(ctx, d.Agent.Email, "brand new password"); err == nil {
		t.Error("a deactivated agent signs in")
	}
	consoletest.WantContains(t, b.Get(path), `name="active" value="true"`)
	r = b.Post(path+"/active", url.Values{"active": {"true"}})
	consoletest.WantStatus(t, r, 303)
	if !admAgent(t, d, d.Agent.ID).Active {
		t.Error("not reactivated")
	}
	r = b.Post(path+"/active", url.Values{"active": {"maybe"}})
	consoletest.WantStatus(t, r, 400)
	consoletest.WantContains(t, r, "true or false")
}

// Teams are listed with their members; an admin creates, renames and deletes them, and a
// team in use is not deleted, with the reason shown.
func TestAdminManagesTeams(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	b := d.SignIn(d.Admin)
	r := b.Get("/admin/teams")
	consoletest.WantContains(t, r, `value="理赔服务 Claims"`, "李娜 Li Na", "陈静 Chen Jing", "暂无成员")
	if body := r.Body; !admInOrder(body, `id="team-`+consoletest.ID(d.Team.ID)+`"`, "<b>3</b>") {
		t.Error("the claims team does not show 3 members")
	}

	r = b.Post("/admin/teams", url.Values{"name": {"  Health  "}})
	consoletest.WantStatus(t, r, 303)
	consoletest.WantContains(t, b.Get(r.Location), "已新建团队 Health")
	r = b.Post("/admin/teams", url.Values{"name": {"Motor"}})
	consoletest.WantStatus(t, r, 409)
	consoletest.WantContains(t, r, "already exists", `value="Motor"`)
	r = b.Post("/admin/teams", url.Values{"name": {""}})
	consoletest.WantStatus(t, r, 400)
	consoletest.WantContains(t, r, "1 to 100 characters")

	r = b.Post("/admin/teams/"+consoletest.ID(d.Other.ID), url.Values{"name": {"车险 Motor"}})
	consoletest.WantStatus(t, r, 303)
	if tm, _ := d.Service.Team(context.Background(), d.Other.ID); tm.Name != "车险 Motor" {
		t.Errorf("renamed to %q", tm.Name)
	}
	r = b.Post("/admin/teams/"+consoletest.ID(d.Other.ID), url.Values{"name": {"理赔服务 Claims"}})
	consoletest.WantStatus(t, r, 409)
	consoletest.WantContains(t, r, "already exists", `class="failed"`)

	before := admEvents(t, d)
	r = b.Post("/admin/teams/"+consoletest.ID(d.Team.ID)+"/delete", nil)
	consoletest.WantStatus(t, r, 409)
	consoletest.WantContains(t, r, "still has 3 agents")
	if _, err := d.Service.Team(context.Background(), d.Team.ID); err != nil {
		t.Errorf("a team in use was deleted: %v", err)
	}
	if n := admEvents(t, d); n != before {
		t.Errorf("a refused delete recorded %d events", n-before)
	}
	r = b.Post("/admin/teams/"+consoletest.ID(d.Other.ID)+"/delete", nil)
	consoletest.WantStatus(t, r, 303)
	consoletest.WantContains(t, b.Get(r.Location), "已删除团队 车险 Motor")
	if _, err := d.Service.Team(context.Background(), d.Other.ID); err == nil {
		t.Error("the empty team is still there")
	}
	r = b.Post("/admin/teams/999/delete", nil)
	consoletest.WantStatus(t, r, 404)
	consoletest.WantContains(t, r, "Team 999 not found")
}

// admInOrder reports whether s has the parts one after the other.
func admInOrder(s string, parts ...string) bool {
	for _, p := range parts {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

// An admin sees who is locked out and lifts the lock with a button; the audit trail says so.
func TestAdminUnlocksAnAgent(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	ctx := context.Background()
	for i := range 5 {
		d.Access.LoginFrom(ctx, fmt.Sprintf("192.0.2.%d", i+1), d.Agent.Email, "wrong password") //nolint:errcheck // locking on purpose
	}
	unlock := fmt.Sprintf(`action="/admin/agents/%d/unlock"`, d.Agent.ID)

	sup := d.SignIn(d.Super)
	consoletest.WantStatus(t, sup.Post(fmt.Sprintf("/admin/agents/%d/unlock", d.Agent.ID), nil), 403)

	admin := d.SignIn(d.Admin)
	r := admin.Get("/admin/agents")
	consoletest.WantContains(t, r, "已锁定至 11-25 09:31", unlock)
	if n := strings.Count(r.Body, "/unlock\""); n != 1 {
		t.Errorf("%d unlock buttons, want only the locked agent's", n)
	}
	if lr := d.Browser().Login(d.Agent.Email, consoletest.Password); lr.Status != 429 {
		t.Fatalf("the locked agent signed in: %d", lr.Status)
	}

	before := admEvents(t, d)
	r = admin.Post(fmt.Sprintf("/admin/agents/%d/unlock", d.Agent.ID), nil)
	consoletest.WantStatus(t, r, 303)
	r = admin.Get(r.Location)
	consoletest.WantContains(t, r, "已解除 李娜 Li Na 的登录锁定。")
	consoletest.WantLacks(t, r, unlock, "已锁定至")
	if n := admEvents(t, d); n != before+1 {
		t.Errorf("%d events recorded, want agent.unlocked", n-before)
	}
	if lr := d.Browser().Login(d.Agent.Email, consoletest.Password); lr.Status != 303 {
		t.Fatalf("the unlocked agent cannot sign in: %d", lr.Status)
	}

	// Unlocking again is refused with the reason, on the page.
	r = admin.Post(fmt.Sprintf("/admin/agents/%d/unlock", d.Agent.ID), url.Values{})
	consoletest.WantStatus(t, r, 409)
	consoletest.WantContains(t, r, "is not locked out", `role="alert"`)
}
