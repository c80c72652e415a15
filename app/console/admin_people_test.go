package console_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func admAgent(t *testing.T, d *desk, id int64) *tickets.Agent {
	t.Helper()
	a, err := d.svc.Agent(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func admAgentByEmail(t *testing.T, d *desk, email string) *tickets.Agent {
	t.Helper()
	as, err := d.svc.Agents(context.Background(), nil)
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
	d := newDesk(t, tickettest.SQLite(t))
	b := d.signIn(d.admin)
	r := b.get("/admin/agents")
	wantContains(t, r, "李娜 Li Na", "li@desk.test", "理赔服务 Claims", "投诉专员", `action="/admin/agents"`)

	r = b.post("/admin/agents", url.Values{"name": {"赵敏 Zhao Min"}, "email": {"Zhao@Desk.test"}, "role": {"supervisor"},
		"team": {itoa64(d.other.ID)}, "capacity": {"6"}, "locale": {"en"}, "password": {"first password"}})
	wantStatus(t, r, 303)
	wantContains(t, b.get(r.location), "已添加坐席 赵敏 Zhao Min", "zhao@desk.test")
	zhao := admAgentByEmail(t, d, "zhao@desk.test")
	if zhao == nil || zhao.Role != tickets.RoleSupervisor || zhao.TeamID == nil || *zhao.TeamID != d.other.ID || zhao.Capacity != 6 || zhao.Locale != "en" {
		t.Fatalf("created %+v", zhao)
	}
	if _, _, err := d.svc.Login(context.Background(), "zhao@desk.test", "first password"); err != nil {
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
		r := b.post("/admin/agents", c.form)
		if r.status != c.status {
			t.Errorf("%s: status %d, want %d", c.name, r.status, c.status)
		}
		wantContains(t, r, c.reason, `value="Typed Name"`, `role="alert"`)
		wantLacks(t, r, "long enough pw")
		if n := admEvents(t, d); n != before {
			t.Errorf("%s: the refused form recorded %d events", c.name, n-before)
		}
	}
}

// An admin changes an agent's name, role, team and capacity; only what changed is
// recorded.
func TestAdminEditsAnAgent(t *testing.T) {
	d := newDesk(t, tickettest.SQLite(t))
	b := d.signIn(d.admin)
	path := "/admin/agents/" + itoa64(d.agent.ID)
	r := b.get(path)
	wantStatus(t, r, 200)
	wantContains(t, r, `value="李娜 Li Na"`, `action="`+path+`/password"`, `name="active" value="false"`)

	r = b.post(path, url.Values{"name": {"李娜"}, "role": {"supervisor"}, "team": {""}, "capacity": {"4"}})
	wantStatus(t, r, 303)
	li := admAgent(t, d, d.agent.ID)
	if li.Name != "李娜" || li.Role != tickets.RoleSupervisor || li.TeamID != nil || li.Capacity != 4 {
		t.Fatalf("after the edit: %+v", li)
	}
	r = b.post(path, url.Values{"name": {"李娜"}, "role": {"supervisor"}, "team": {itoa64(d.other.ID)}, "capacity": {"4"}})
	wantStatus(t, r, 303)
	if li = admAgent(t, d, d.agent.ID); li.TeamID == nil || *li.TeamID != d.other.ID {
		t.Errorf("team after the second edit: %v", li.TeamID)
	}
	var data string
	if err := d.svc.DB().NewSelect().Table("events").Column("data").Where("kind = 'agent.updated'").OrderExpr("id DESC").Limit(1).Scan(context.Background(), &data); err != nil {
		t.Fatal(err)
	}
	if data != `{"team_id":`+itoa64(d.other.ID)+`}` {
		t.Errorf("the audit event of a team move says %s", data)
	}

	// Saving the form unchanged changes nothing.
	before := admEvents(t, d)
	r = b.post(path, url.Values{"name": {"李娜"}, "role": {"supervisor"}, "team": {itoa64(d.other.ID)}, "capacity": {"4"}})
	wantStatus(t, r, 303)
	wantContains(t, b.get(r.location), "没有改动")
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
		r := b.post(path, c.form)
		if r.status != c.status {
			t.Errorf("%s: status %d, want %d", c.name, r.status, c.status)
		}
		wantContains(t, r, c.reason)
	}
	if n := admEvents(t, d); n != before {
		t.Errorf("refused edits recorded %d events", n-before)
	}

	// An admin cannot demote or deactivate themselves; the page says why.
	self := "/admin/agents/" + itoa64(d.admin.ID)
	wantContains(t, b.get(self), "这是您自己的账号")
	r = b.post(self, url.Values{"name": {"Admin"}, "role": {"agent"}, "capacity": {"10"}})
	wantStatus(t, r, 409)
	wantContains(t, r, "cannot demote themselves")
	r = b.post(self+"/active", url.Values{"active": {"false"}})
	wantStatus(t, r, 409)
	wantContains(t, r, "cannot deactivate themselves")
	if a := admAgent(t, d, d.admin.ID); a.Role != tickets.RoleAdmin || !a.Active {
		t.Errorf("the admin demoted or deactivated themselves: %+v", a)
	}

	for _, missing := range []string{"/admin/agents/999", "/admin/agents/abc"} {
		if r := b.get(missing); r.status != 404 {
			t.Errorf("%s: %d", missing, r.status)
		}
	}
}

// A password reset lets the agent in with the new password only and ends their
// sessions; deactivating locks them out, reactivating lets them back.
func TestAdminResetsPasswordsAndAccess(t *testing.T) {
	d := newDesk(t, tickettest.SQLite(t))
	li := d.signIn(d.agent)
	b := d.signIn(d.admin)
	path := "/admin/agents/" + itoa64(d.agent.ID)

	r := b.post(path+"/password", url.Values{"password": {"brand new password"}, "confirm": {"brand new pasword"}})
	wantStatus(t, r, 400)
	wantContains(t, r, "两次输入的密码不一致")
	r = b.post(path+"/password", url.Values{"password": {"short"}, "confirm": {"short"}})
	wantStatus(t, r, 400)
	wantContains(t, r, "at least 10 characters")
	wantLacks(t, r, `value="short"`)
	if res := li.get("/queue"); res.status != 200 {
		t.Fatalf("refused resets ended the agent's session: %d", res.status)
	}

	r = b.post(path+"/password", url.Values{"password": {"brand new password"}, "confirm": {"brand new password"}})
	wantStatus(t, r, 303)
	if res := li.get("/queue"); res.status != 303 {
		t.Errorf("the agent's old session still works after a reset: %d", res.status)
	}
	ctx := context.Background()
	if _, _, err := d.svc.Login(ctx, d.agent.Email, password); err == nil {
		t.Error("the old password still works")
	}
	if _, _, err := d.svc.Login(ctx, d.agent.Email, "brand new password"); err != nil {
		t.Errorf("the new password does not work: %v", err)
	}

	r = b.post(path+"/active", url.Values{"active": {"false"}})
	wantStatus(t, r, 303)
	r = b.get(r.location)
	wantContains(t, r, "已停用 李娜 Li Na", `class="off" id="agent-`+itoa64(d.agent.ID)+`"`)
	if admAgent(t, d, d.agent.ID).Active {
		t.Fatal("still active")
	}
	if _, _, err := d.svc.Login(ctx, d.agent.Email, "brand new password"); err == nil {
		t.Error("a deactivated agent signs in")
	}
	wantContains(t, b.get(path), `name="active" value="true"`)
	r = b.post(path+"/active", url.Values{"active": {"true"}})
	wantStatus(t, r, 303)
	if !admAgent(t, d, d.agent.ID).Active {
		t.Error("not reactivated")
	}
	r = b.post(path+"/active", url.Values{"active": {"maybe"}})
	wantStatus(t, r, 400)
	wantContains(t, r, "true or false")
}

// Teams are listed with their members; an admin creates, renames and deletes them, and a
// team in use is not deleted, with the reason shown.
func TestAdminManagesTeams(t *testing.T) {
	d := newDesk(t, tickettest.SQLite(t))
	b := d.signIn(d.admin)
	r := b.get("/admin/teams")
	wantContains(t, r, `value="理赔服务 Claims"`, "李娜 Li Na", "陈静 Chen Jing", "暂无成员")
	if body := r.body; !admInOrder(body, `id="team-`+itoa64(d.team.ID)+`"`, "<b>3</b>") {
		t.Error("the claims team does not show 3 members")
	}

	r = b.post("/admin/teams", url.Values{"name": {"  Health  "}})
	wantStatus(t, r, 303)
	wantContains(t, b.get(r.location), "已新建团队 Health")
	r = b.post("/admin/teams", url.Values{"name": {"Motor"}})
	wantStatus(t, r, 409)
	wantContains(t, r, "already exists", `value="Motor"`)
	r = b.post("/admin/teams", url.Values{"name": {""}})
	wantStatus(t, r, 400)
	wantContains(t, r, "1 to 100 characters")

	r = b.post("/admin/teams/"+itoa64(d.other.ID), url.Values{"name": {"车险 Motor"}})
	wantStatus(t, r, 303)
	if tm, _ := d.svc.Team(context.Background(), d.other.ID); tm.Name != "车险 Motor" {
		t.Errorf("renamed to %q", tm.Name)
	}
	r = b.post("/admin/teams/"+itoa64(d.other.ID), url.Values{"name": {"理赔服务 Claims"}})
	wantStatus(t, r, 409)
	wantContains(t, r, "already exists", `class="failed"`)

	before := admEvents(t, d)
	r = b.post("/admin/teams/"+itoa64(d.team.ID)+"/delete", nil)
	wantStatus(t, r, 409)
	wantContains(t, r, "still has 3 agents")
	if _, err := d.svc.Team(context.Background(), d.team.ID); err != nil {
		t.Errorf("a team in use was deleted: %v", err)
	}
	if n := admEvents(t, d); n != before {
		t.Errorf("a refused delete recorded %d events", n-before)
	}
	r = b.post("/admin/teams/"+itoa64(d.other.ID)+"/delete", nil)
	wantStatus(t, r, 303)
	wantContains(t, b.get(r.location), "已删除团队 车险 Motor")
	if _, err := d.svc.Team(context.Background(), d.other.ID); err == nil {
		t.Error("the empty team is still there")
	}
	r = b.post("/admin/teams/999/delete", nil)
	wantStatus(t, r, 404)
	wantContains(t, r, "Team 999 not found")
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
