package admin

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
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

func (h *Handler) teamNames(ctx *fiber.Ctx) ([]*tickets.Team, map[int64]string, error) {
	teams, err := h.svc.Teams(ctx.UserContext())
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
func (h *Handler) adminAgents(ctx *fiber.Ctx, a *tickets.Agent) error {
	return h.showAgents(ctx, a, nil, agentForm{Role: string(tickets.RoleAgent), Capacity: 10, Locale: "zh-CN"})
}

func (h *Handler) showAgents(ctx *fiber.Ctx, a *tickets.Agent, r *refused, form agentForm) error {
	d := agentsData{adminPage: newAdminPage("agents"), Roles: agentRoles, New: form}
	status := r.set(&d.adminPage)
	var err error
	if d.Agents, err = h.svc.Agents(ctx.UserContext(), nil); err != nil {
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
	if d.Teams, d.TeamNames, err = h.teamNames(ctx); err != nil {
		return err
	}
	if d.Locks, err = h.doors.LoginLocks(ctx.UserContext(), d.Agents); err != nil {
		return err
	}
	return h.kit.RenderStatus(ctx, status, "admin_agents", h.adminView(ctx, a, "admin.agents", d))
}

// createAgent serves POST /admin/agents.
func (h *Handler) createAgent(ctx *fiber.Ctx, a *tickets.Agent) error {
	form := agentForm{Name: strings.TrimSpace(ctx.FormValue("name")), Email: strings.TrimSpace(ctx.FormValue("email")),
		Role: ctx.FormValue("role"), Locale: ctx.FormValue("locale")}
	retry := func(err error) error {
		if r, ok := refusal("new", err); ok {
			return h.showAgents(ctx, a, r, form)
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
	created, err := h.svc.CreateAgent(ctx.UserContext(), tickets.AgentActor(a), tickets.NewAgent{
		Email: form.Email, Name: form.Name, Role: tickets.Role(form.Role), TeamID: team,
		Capacity: form.Capacity, Password: ctx.FormValue("password"), Locale: form.Locale,
	})
	if err != nil {
		return retry(err)
	}
	return ui.Redirect(ctx, "/admin/agents", ui.T(ui.Lang(ctx, a), "admin.agent.created", created.Name))
}

type agentData struct {
	adminPage
	Agent     *tickets.Agent
	Self      bool
	Form      agentForm
	Teams     []*tickets.Team
	TeamNames map[int64]string
	Roles     []tickets.Role
	Sessions  []access.Session // the agent's live sessions, which the admin may end
	TOTP      bool             // whether they sign in with a second factor
}

// adminAgent serves GET /admin/agents/:id: one agent's settings, password and access.
func (h *Handler) adminAgent(ctx *fiber.Ctx, a *tickets.Agent) error {
	return h.showAgent(ctx, a, nil, nil)
}

func (h *Handler) showAgent(ctx *fiber.Ctx, a *tickets.Agent, r *refused, form *agentForm) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	ag, err := h.svc.Agent(ctx.UserContext(), id)
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
	if d.Teams, d.TeamNames, err = h.teamNames(ctx); err != nil {
		return err
	}
	if d.Sessions, err = h.doors.Sessions(ctx.UserContext(), tickets.AgentActor(a), ag.ID, ""); err != nil {
		return err
	}
	if d.TOTP, err = h.doors.TOTPOn(ctx.UserContext(), ag.ID); err != nil {
		return err
	}
	v := h.adminView(ctx, a, "admin.agents", d)
	v.Title = ag.Name + " · " + v.T("nav.admin")
	return h.kit.RenderStatus(ctx, status, "admin_agent", v)
}

// updateAgent serves POST /admin/agents/:id: name, role, team and capacity. Only what
// changed is sent, so the audit trail says what the admin changed.
func (h *Handler) updateAgent(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	ag, err := h.svc.Agent(ctx.UserContext(), id)
	if err != nil {
		return err
	}
	form := agentForm{Name: strings.TrimSpace(ctx.FormValue("name")), Role: ctx.FormValue("role"), Email: ag.Email}
	retry := func(err error) error {
		if r, ok := refusal("edit", err); ok {
			return h.showAgent(ctx, a, r, &form)
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
	lang := ui.Lang(ctx, a)
	if !changed {
		return ui.Redirect(ctx, "/admin/agents/"+ctx.Params("id"), ui.T(lang, "admin.nothing_changed"))
	}
	if _, err := h.svc.UpdateAgent(ctx.UserContext(), tickets.AgentActor(a), id, u); err != nil {
		return retry(err)
	}
	return ui.Redirect(ctx, "/admin/agents", ui.T(lang, "admin.agent.saved", form.Name))
}

// resetPassword serves POST /admin/agents/:id/password. The agent's sessions end.
func (h *Handler) resetPassword(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	retry := func(err error) error {
		if r, ok := refusal("password", err); ok {
			return h.showAgent(ctx, a, r, nil)
		}
		return err
	}
	pw := ctx.FormValue("password")
	if pw != ctx.FormValue("confirm") {
		return retry(badInput(ctx, a, "admin.agent.pw_mismatch"))
	}
	ag, err := h.svc.UpdateAgent(ctx.UserContext(), tickets.AgentActor(a), id, tickets.AgentUpdate{Password: &pw})
	if err != nil {
		return retry(err)
	}
	return ui.Redirect(ctx, "/admin/agents/"+ctx.Params("id"), ui.T(ui.Lang(ctx, a), "admin.agent.pw_reset", ag.Name))
}

// setAgentActive serves POST /admin/agents/:id/active (active=true|false). A deactivated
// agent keeps their history but can no longer sign in; their sessions end.
func (h *Handler) setAgentActive(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	active := ctx.FormValue("active") == "true"
	var ag *tickets.Agent
	if v := ctx.FormValue("active"); v != "true" && v != "false" {
		err = fiber.NewError(fiber.StatusBadRequest, "active must be true or false")
	} else {
		ag, err = h.svc.UpdateAgent(ctx.UserContext(), tickets.AgentActor(a), id, tickets.AgentUpdate{Active: &active})
	}
	if err != nil {
		if r, ok := refusal("active", err); ok {
			return h.showAgent(ctx, a, r, nil)
		}
		return err
	}
	key := "admin.agent.deactivated"
	if active {
		key = "admin.agent.reactivated"
	}
	return ui.Redirect(ctx, "/admin/agents", ui.T(ui.Lang(ctx, a), key, ag.Name))
}

// unlockAgent serves POST /admin/agents/:id/unlock: the admin lifts an agent's sign-in
// lock (too many failed sign-ins) before it ends by itself.
func (h *Handler) unlockAgent(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	ag, err := h.doors.UnlockAgent(ctx.UserContext(), tickets.AgentActor(a), id)
	if err != nil {
		if r, ok := refusal("unlock", err); ok {
			return h.showAgents(ctx, a, r, agentForm{Role: string(tickets.RoleAgent), Capacity: 10, Locale: "zh-CN"})
		}
		return err
	}
	return ui.Redirect(ctx, "/admin/agents", ui.T(ui.Lang(ctx, a), "admin.agent.unlocked", ag.Name))
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
func (h *Handler) adminTeams(ctx *fiber.Ctx, a *tickets.Agent) error {
	return h.showTeams(ctx, a, nil, "", 0, "")
}

func (h *Handler) showTeams(ctx *fiber.Ctx, a *tickets.Agent, r *refused, newName string, failed int64, typed string) error {
	d := teamsData{adminPage: newAdminPage("teams"), NewName: newName, Failed: failed}
	status := r.set(&d.adminPage)
	teams, err := h.svc.Teams(ctx.UserContext())
	if err != nil {
		return err
	}
	agents, err := h.svc.Agents(ctx.UserContext(), nil)
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
	return h.kit.RenderStatus(ctx, status, "admin_teams", h.adminView(ctx, a, "admin.teams", d))
}

// createTeam serves POST /admin/teams.
func (h *Handler) createTeam(ctx *fiber.Ctx, a *tickets.Agent) error {
	name := ctx.FormValue("name")
	t, err := h.svc.CreateTeam(ctx.UserContext(), tickets.AgentActor(a), name)
	if err != nil {
		if r, ok := refusal("new", err); ok {
			return h.showTeams(ctx, a, r, name, 0, "")
		}
		return err
	}
	return ui.Redirect(ctx, "/admin/teams", ui.T(ui.Lang(ctx, a), "admin.team.created", t.Name))
}

// renameTeam serves POST /admin/teams/:id.
func (h *Handler) renameTeam(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	name := ctx.FormValue("name")
	t, err := h.svc.RenameTeam(ctx.UserContext(), tickets.AgentActor(a), id, name)
	if err != nil {
		if r, ok := refusal("rename", err); ok {
			return h.showTeams(ctx, a, r, "", id, name)
		}
		return err
	}
	return ui.Redirect(ctx, "/admin/teams", ui.T(ui.Lang(ctx, a), "admin.team.renamed", t.Name))
}

// deleteTeam serves POST /admin/teams/:id/delete. The service refuses a team that still
// has agents or tickets, and the page says why.
func (h *Handler) deleteTeam(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	t, err := h.svc.Team(ctx.UserContext(), id)
	if err == nil {
		err = h.svc.DeleteTeam(ctx.UserContext(), tickets.AgentActor(a), id)
	}
	if err != nil {
		if r, ok := refusal("delete", err); ok {
			return h.showTeams(ctx, a, r, "", id, "")
		}
		return err
	}
	return ui.Redirect(ctx, "/admin/teams", ui.T(ui.Lang(ctx, a), "admin.team.deleted", t.Name))
}

// endAgentSession serves POST /admin/agents/:id/sessions/:sid/end: the admin signs one of
// an agent's sessions out (a lost phone, a shared computer).
func (h *Handler) endAgentSession(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	sid, err := pathID(ctx, a, "sid")
	if err != nil {
		return err
	}
	owner, err := h.doors.EndSession(ctx.UserContext(), tickets.AgentActor(a), sid)
	if err == nil && owner != id {
		err = fiber.NewError(fiber.StatusNotFound, ui.T(ui.Lang(ctx, a), "admin.not_found"))
	}
	if err != nil {
		return err
	}
	return ui.Redirect(ctx, fmt.Sprintf("/admin/agents/%d", id), ui.T(ui.Lang(ctx, a), "sessions.ended"))
}
