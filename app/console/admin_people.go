package console

import (
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
)

var agentRoles = []tickets.Role{tickets.RoleAgent, tickets.RoleSupervisor, tickets.RoleComplaintOfficer, tickets.RoleAdmin}

// agentForm is an agent's settings as a form holds them.
type agentForm struct {
	Name, Email, Role, Locale string
	Team                      int64
	Capacity                  int
}

type agentsData struct {
	adminPage
	Agents    []*tickets.Agent
	Teams     []*tickets.Team
	TeamNames map[int64]string
	Roles     []tickets.Role
	New       agentForm
	Locks     map[int64]time.Time // agents locked out of signing in, until when
}

func (c *Console) teamNames(ctx *fiber.Ctx) ([]*tickets.Team, map[int64]string, error) {
	teams, err := c.svc.Teams(ctxOf(ctx))
	if err != nil {
		return nil, nil, err
	}
	names := make(map[int64]string, len(teams))
	for _, t := range teams {
		names[t.ID] = t.Name
	}
	return teams, names, nil
}

// adminAgents serves GET /admin/agents: everyone who signs in, active ones first, and
// the form that adds one.
func (c *Console) adminAgents(ctx *fiber.Ctx, a *tickets.Agent) error {
	return c.showAgents(ctx, a, nil, agentForm{Role: string(tickets.RoleAgent), Capacity: 10, Locale: "zh-CN"})
}

func (c *Console) showAgents(ctx *fiber.Ctx, a *tickets.Agent, r *refused, form agentForm) error {
	d := agentsData{adminPage: newAdminPage("agents"), Roles: agentRoles, New: form}
	status := r.set(&d.adminPage)
	var err error
	if d.Agents, err = c.svc.Agents(ctxOf(ctx), nil); err != nil {
		return err
	}
	slices.SortStableFunc(d.Agents, func(x, y *tickets.Agent) int {
		switch {
		case x.Active == y.Active:
			return 0
		case x.Active:
			return -1
		}
		return 1
	})
	if d.Teams, d.TeamNames, err = c.teamNames(ctx); err != nil {
		return err
	}
	if d.Locks, err = c.svc.LoginLocks(ctxOf(ctx), d.Agents); err != nil {
		return err
	}
	return c.renderStatus(ctx, status, "admin_agents", c.adminView(ctx, a, "admin.agents", d))
}

// createAgent serves POST /admin/agents.
func (c *Console) createAgent(ctx *fiber.Ctx, a *tickets.Agent) error {
	form := agentForm{Name: strings.TrimSpace(ctx.FormValue("name")), Email: strings.TrimSpace(ctx.FormValue("email")),
		Role: ctx.FormValue("role"), Locale: ctx.FormValue("locale")}
	retry := func(err error) error {
		if r, ok := refusal("new", err); ok {
			return c.showAgents(ctx, a, r, form)
		}
		return err
	}
	team, err := optionalTeam(ctx, a, "team")
	if err != nil {
		return retry(err)
	}
	if team != nil {
		form.Team = *team
	}
	if form.Capacity, err = optionalInt(ctx, a, "capacity", 10); err != nil {
		return retry(err)
	}
	if form.Locale != "zh-CN" && form.Locale != "en" {
		form.Locale = "zh-CN"
	}
	created, err := c.svc.CreateAgent(ctxOf(ctx), tickets.AgentActor(a), tickets.NewAgent{
		Email: form.Email, Name: form.Name, Role: tickets.Role(form.Role), TeamID: team,
		Capacity: form.Capacity, Password: ctx.FormValue("password"), Locale: form.Locale,
	})
	if err != nil {
		return retry(err)
	}
	return redirect(ctx, "/admin/agents", translate(langOf(ctx, a), "admin.agent.created", created.Name))
}

type agentData struct {
	adminPage
	Agent     *tickets.Agent
	Self      bool
	Form      agentForm
	Teams     []*tickets.Team
	TeamNames map[int64]string
	Roles     []tickets.Role
}

// adminAgent serves GET /admin/agents/:id: one agent's settings, password and access.
func (c *Console) adminAgent(ctx *fiber.Ctx, a *tickets.Agent) error {
	return c.showAgent(ctx, a, nil, nil)
}

func (c *Console) showAgent(ctx *fiber.Ctx, a *tickets.Agent, r *refused, form *agentForm) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	ag, err := c.svc.Agent(ctxOf(ctx), id)
	if err != nil {
		return err
	}
	d := agentData{adminPage: newAdminPage("agents"), Agent: ag, Self: ag.ID == a.ID, Roles: agentRoles}
	status := r.set(&d.adminPage)
	if form != nil {
		d.Form = *form
	} else {
		d.Form = agentForm{Name: ag.Name, Email: ag.Email, Role: string(ag.Role), Capacity: ag.Capacity, Locale: ag.Locale}
		if ag.TeamID != nil {
			d.Form.Team = *ag.TeamID
		}
	}
	if d.Teams, d.TeamNames, err = c.teamNames(ctx); err != nil {
		return err
	}
	v := c.adminView(ctx, a, "admin.agents", d)
	v.Title = ag.Name + " · " + v.T("nav.admin")
	return c.renderStatus(ctx, status, "admin_agent", v)
}

// updateAgent serves POST /admin/agents/:id: name, role, team and capacity. Only what
// changed is sent, so the audit trail says what the admin changed.
func (c *Console) updateAgent(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	ag, err := c.svc.Agent(ctxOf(ctx), id)
	if err != nil {
		return err
	}
	form := agentForm{Name: strings.TrimSpace(ctx.FormValue("name")), Role: ctx.FormValue("role"), Email: ag.Email}
	retry := func(err error) error {
		if r, ok := refusal("edit", err); ok {
			return c.showAgent(ctx, a, r, &form)
		}
		return err
	}
	team, err := optionalTeam(ctx, a, "team")
	if err != nil {
		return retry(err)
	}
	if team != nil {
		form.Team = *team
	}
	if form.Capacity, err = optionalInt(ctx, a, "capacity", ag.Capacity); err != nil {
		return retry(err)
	}
	var u tickets.AgentUpdate
	changed := false
	if form.Name != ag.Name {
		u.Name, changed = &form.Name, true
	}
	if role := tickets.Role(form.Role); role != ag.Role {
		u.Role, changed = &role, true
	}
	switch {
	case team == nil && ag.TeamID != nil:
		u.ClearTeam, changed = true, true
	case team != nil && (ag.TeamID == nil || *ag.TeamID != *team):
		u.TeamID, changed = team, true
	}
	if form.Capacity != ag.Capacity {
		u.Capacity, changed = &form.Capacity, true
	}
	lang := langOf(ctx, a)
	if !changed {
		return redirect(ctx, "/admin/agents/"+ctx.Params("id"), translate(lang, "admin.nothing_changed"))
	}
	if _, err := c.svc.UpdateAgent(ctxOf(ctx), tickets.AgentActor(a), id, u); err != nil {
		return retry(err)
	}
	return redirect(ctx, "/admin/agents", translate(lang, "admin.agent.saved", form.Name))
}

// resetPassword serves POST /admin/agents/:id/password. The agent's sessions end.
func (c *Console) resetPassword(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	retry := func(err error) error {
		if r, ok := refusal("password", err); ok {
			return c.showAgent(ctx, a, r, nil)
		}
		return err
	}
	pw := ctx.FormValue("password")
	if pw != ctx.FormValue("confirm") {
		return retry(badInput(ctx, a, "admin.agent.pw_mismatch"))
	}
	ag, err := c.svc.UpdateAgent(ctxOf(ctx), tickets.AgentActor(a), id, tickets.AgentUpdate{Password: &pw})
	if err != nil {
		return retry(err)
	}
	return redirect(ctx, "/admin/agents/"+ctx.Params("id"), translate(langOf(ctx, a), "admin.agent.pw_reset", ag.Name))
}

// setAgentActive serves POST /admin/agents/:id/active (active=true|false). A deactivated
// agent keeps their history but can no longer sign in; their sessions end.
func (c *Console) setAgentActive(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	active := ctx.FormValue("active") == "true"
	var ag *tickets.Agent
	if v := ctx.FormValue("active"); v != "true" && v != "false" {
		err = fiber.NewError(fiber.StatusBadRequest, "active must be true or false")
	} else {
		ag, err = c.svc.UpdateAgent(ctxOf(ctx), tickets.AgentActor(a), id, tickets.AgentUpdate{Active: &active})
	}
	if err != nil {
		if r, ok := refusal("active", err); ok {
			return c.showAgent(ctx, a, r, nil)
		}
		return err
	}
	key := "admin.agent.deactivated"
	if active {
		key = "admin.agent.reactivated"
	}
	return redirect(ctx, "/admin/agents", translate(langOf(ctx, a), key, ag.Name))
}

// unlockAgent serves POST /admin/agents/:id/unlock: the admin lifts an agent's sign-in
// lock (too many failed sign-ins) before it ends by itself.
func (c *Console) unlockAgent(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	ag, err := c.svc.UnlockAgent(ctxOf(ctx), tickets.AgentActor(a), id)
	if err != nil {
		if r, ok := refusal("unlock", err); ok {
			return c.showAgents(ctx, a, r, agentForm{Role: string(tickets.RoleAgent), Capacity: 10, Locale: "zh-CN"})
		}
		return err
	}
	return redirect(ctx, "/admin/agents", translate(langOf(ctx, a), "admin.agent.unlocked", ag.Name))
}

// teamRow is a team with the agents in it.
type teamRow struct {
	*tickets.Team
	Members []string // active agents' names
	Name    string   // the name in the rename field: the team's, or what was typed
}

type teamsData struct {
	adminPage
	Teams   []teamRow
	NewName string
	Failed  int64 // the team whose form was refused
}

// adminTeams serves GET /admin/teams.
func (c *Console) adminTeams(ctx *fiber.Ctx, a *tickets.Agent) error {
	return c.showTeams(ctx, a, nil, "", 0, "")
}

func (c *Console) showTeams(ctx *fiber.Ctx, a *tickets.Agent, r *refused, newName string, failed int64, typed string) error {
	d := teamsData{adminPage: newAdminPage("teams"), NewName: newName, Failed: failed}
	status := r.set(&d.adminPage)
	teams, err := c.svc.Teams(ctxOf(ctx))
	if err != nil {
		return err
	}
	agents, err := c.svc.Agents(ctxOf(ctx), nil)
	if err != nil {
		return err
	}
	members := map[int64][]string{}
	for _, ag := range agents {
		if ag.Active && ag.TeamID != nil {
			members[*ag.TeamID] = append(members[*ag.TeamID], ag.Name)
		}
	}
	for _, t := range teams {
		row := teamRow{Team: t, Members: members[t.ID], Name: t.Name}
		if t.ID == failed && typed != "" {
			row.Name = typed
		}
		d.Teams = append(d.Teams, row)
	}
	return c.renderStatus(ctx, status, "admin_teams", c.adminView(ctx, a, "admin.teams", d))
}

// createTeam serves POST /admin/teams.
func (c *Console) createTeam(ctx *fiber.Ctx, a *tickets.Agent) error {
	name := ctx.FormValue("name")
	t, err := c.svc.CreateTeam(ctxOf(ctx), tickets.AgentActor(a), name)
	if err != nil {
		if r, ok := refusal("new", err); ok {
			return c.showTeams(ctx, a, r, name, 0, "")
		}
		return err
	}
	return redirect(ctx, "/admin/teams", translate(langOf(ctx, a), "admin.team.created", t.Name))
}

// renameTeam serves POST /admin/teams/:id.
func (c *Console) renameTeam(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	name := ctx.FormValue("name")
	t, err := c.svc.RenameTeam(ctxOf(ctx), tickets.AgentActor(a), id, name)
	if err != nil {
		if r, ok := refusal("rename", err); ok {
			return c.showTeams(ctx, a, r, "", id, name)
		}
		return err
	}
	return redirect(ctx, "/admin/teams", translate(langOf(ctx, a), "admin.team.renamed", t.Name))
}

// deleteTeam serves POST /admin/teams/:id/delete. The service refuses a team that still
// has agents or tickets, and the page says why.
func (c *Console) deleteTeam(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	t, err := c.svc.Team(ctxOf(ctx), id)
	if err == nil {
		err = c.svc.DeleteTeam(ctxOf(ctx), tickets.AgentActor(a), id)
	}
	if err != nil {
		if r, ok := refusal("delete", err); ok {
			return c.showTeams(ctx, a, r, "", id, "")
		}
		return err
	}
	return redirect(ctx, "/admin/teams", translate(langOf(ctx, a), "admin.team.deleted", t.Name))
}
