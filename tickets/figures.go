package tickets

import "context"

// MayReadAgentFigures enforces who may read the figures about one agent (their CSAT, their
// scorecard, their quality reviews): admins, supervisors of the agent's team, and the agent
// themself. Figures about people are for the people who manage them.
func (s *Service) MayReadAgentFigures(ctx context.Context, actor Actor, agentID int64) error {
	a := actor.Agent
	if a == nil {
		return forbiddenf("figures about an agent are for staff")
	}
	if a.Role == RoleAdmin || a.ID == agentID {
		return nil
	}
	if a.Role == RoleSupervisor {
		other, err := s.agentByID(ctx, s.db, agentID)
		if err != nil {
			return err
		}
		if other.TeamID != nil && a.InTeam(other.TeamID) {
			return nil
		}
	}
	return forbiddenf("only the agent, a supervisor of their team or an admin may read their figures")
}

// MayReadTeamFigures enforces who may read figures broken down by the agents of a team:
// admins and the team's supervisors.
func (s *Service) MayReadTeamFigures(actor Actor, teamID int64) error {
	a := actor.Agent
	if a == nil {
		return forbiddenf("figures about a team are for staff")
	}
	if a.Role == RoleAdmin || a.Role == RoleSupervisor && a.InTeam(&teamID) {
		return nil
	}
	return forbiddenf("only a supervisor of the team or an admin may read its agents' figures")
}
