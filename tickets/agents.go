package tickets

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"golang.org/x/crypto/bcrypt"
)

const minPasswordLen = 10

func requireAdmin(actor Actor) error {
	if actor.Agent != nil && actor.Agent.Role != RoleAdmin {
		return forbiddenf("only admins manage agents and teams")
	}
	return nil
}

// RequireAdmin refuses, with an ErrForbidden, a change an agent who is not an admin asks
// for; the system passes. It is for the packages beside tickets whose changes are admins'
// alone, so that they refuse as the service does.
func RequireAdmin(actor Actor) error { return requireAdmin(actor) }

func (s *Service) agentByID(ctx context.Context, db bun.IDB, id int64) (*Agent, error) {
	a := new(Agent)
	if err := db.NewSelect().Model(a).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFoundf("agent %d not found", id)
		}
		return nil, fmt.Errorf("load agent %d: %w", id, err)
	}
	return a, nil
}

// NewAgent is a person who signs in to Hotline.
type NewAgent struct {
	Email    string
	Name     string
	Role     Role
	TeamID   *int64
	Capacity int // open tickets at once; 0 means 10
	Password string
	Locale   string
}

// CreateAgent adds an agent. Admins only (nil actor agent: the system, for the first admin).
func (s *Service) CreateAgent(ctx context.Context, actor Actor, in NewAgent) (*Agent, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	if in.Role == "" {
		in.Role = RoleAgent
	}
	if !in.Role.Valid() {
		return nil, invalidf("unknown role %q (agent, supervisor, complaint_officer, admin)", in.Role)
	}
	if in.Capacity == 0 {
		in.Capacity = 10
	}
	if in.Capacity < 0 || in.Capacity > 1000 {
		return nil, invalidf("capacity must be between 0 and 1000")
	}
	if in.Locale == "" {
		in.Locale = "zh-CN"
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		name = email
	}
	hash, err := s.hashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	now := s.now()
	a := &Agent{Email: email, Name: name, Role: in.Role, TeamID: in.TeamID, Capacity: in.Capacity, PasswordHash: hash, Locale: in.Locale, Active: true, CreatedAt: now, UpdatedAt: now}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if a.TeamID != nil {
			if _, err := s.teamByID(ctx, tx, *a.TeamID); err != nil {
				return err
			}
		}
		if _, err := tx.NewInsert().Model(a).Exec(ctx); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, "agent", a.ID, "agent.created", map[string]any{"email": email, "role": a.Role, "team_id": a.TeamID})
	})
	if isUniqueViolation(err) {
		return nil, conflictf("an agent with email %s already exists", email)
	}
	if err != nil {
		return nil, fmt.Errorf("create agent: %w", err)
	}
	return a, nil
}

// AgentUpdate changes some of an agent's settings; nil fields stay as they are.
type AgentUpdate struct {
	Name      *string
	Role      *Role
	TeamID    *int64
	ClearTeam bool
	Capacity  *int
	Password  *string
	Locale    *string
	Active    *bool
}

// UpdateAgent changes an agent. Deactivating one revokes their tokens. Admins only, except
// that agents may change their own name, password and language.
func (s *Service) UpdateAgent(ctx context.Context, actor Actor, id int64, in AgentUpdate) (*Agent, error) {
	self := actor.Agent != nil && actor.Agent.ID == id
	adminOnly := in.Role != nil || in.TeamID != nil || in.ClearTeam || in.Capacity != nil || in.Active != nil
	if !self || adminOnly {
		if err := requireAdmin(actor); err != nil {
			return nil, err
		}
	}
	var a *Agent
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if a, err = s.agentByID(ctx, tx, id); err != nil {
			return err
		}
		changed := map[string]any{}
		if in.Name != nil {
			n := strings.TrimSpace(*in.Name)
			if n == "" {
				return invalidf("name cannot be empty")
			}
			a.Name, changed["name"] = n, n
		}
		if in.Role != nil {
			if !in.Role.Valid() {
				return invalidf("unknown role %q (agent, supervisor, complaint_officer, admin)", *in.Role)
			}
			if self && *in.Role != RoleAdmin {
				return conflictf("admins cannot demote themselves; ask another admin")
			}
			a.Role, changed["role"] = *in.Role, *in.Role
		}
		if in.TeamID != nil {
			if _, err := s.teamByID(ctx, tx, *in.TeamID); err != nil {
				return err
			}
			a.TeamID, changed["team_id"] = in.TeamID, *in.TeamID
		}
		if in.ClearTeam {
			a.TeamID, changed["team_id"] = nil, nil
		}
		if in.Capacity != nil {
			if *in.Capacity < 0 || *in.Capacity > 1000 {
				return invalidf("capacity must be between 0 and 1000")
			}
			a.Capacity, changed["capacity"] = *in.Capacity, *in.Capacity
		}
		if in.Locale != nil {
			a.Locale, changed["locale"] = *in.Locale, *in.Locale
		}
		if in.Password != nil {
			if a.PasswordHash, err = s.hashPassword(*in.Password); err != nil {
				return err
			}
			changed["password"] = "changed"
		}
		if in.Active != nil {
			if self && !*in.Active {
				return conflictf("admins cannot deactivate themselves")
			}
			a.Active, changed["active"] = *in.Active, *in.Active
		}
		if len(changed) == 0 {
			return invalidf("nothing to change")
		}
		a.UpdatedAt = s.now()
		if _, err := tx.NewUpdate().Model(a).WherePK().ExcludeColumn("id", "email", "created_at").Exec(ctx); err != nil {
			return fmt.Errorf("save agent: %w", err)
		}
		if !a.Active || in.Password != nil {
			if err := s.revokeTokens(ctx, tx, a.ID); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, actor, "agent", a.ID, "agent.updated", changed)
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Agent returns one agent.
func (s *Service) Agent(ctx context.Context, id int64) (*Agent, error) {
	return s.agentByID(ctx, s.db, id)
}

// Agents lists agents, optionally of one team, by name.
func (s *Service) Agents(ctx context.Context, teamID *int64) ([]*Agent, error) {
	var as []*Agent
	q := s.db.NewSelect().Model(&as).OrderExpr("name, id")
	if teamID != nil {
		q = q.Where("team_id = ?", *teamID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	return as, nil
}

// AgentByEmail finds an agent by email address (Slack tells who clicked by their email).
func (s *Service) AgentByEmail(ctx context.Context, email string) (*Agent, error) {
	addr, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	a := new(Agent)
	err = s.db.NewSelect().Model(a).Where("email = ?", addr).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFoundf("no agent has the address %s", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("find agent: %w", err)
	}
	return a, nil
}

func (s *Service) hashPassword(pw string) (string, error) {
	if utf8.RuneCountInString(pw) < minPasswordLen {
		return "", invalidf("a password needs at least %d characters", minPasswordLen)
	}
	if len(pw) > 72 { // bcrypt's limit
		return "", invalidf("a password may have at most 72 bytes")
	}
	cost := s.cfg.PasswordCost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// EnsureAdmin creates the first admin when there are no agents at all. With an empty
// password it generates one and returns it, to be shown once.
func (s *Service) EnsureAdmin(ctx context.Context, email, password string) (created bool, generated string, err error) {
	n, err := s.db.NewSelect().Model((*Agent)(nil)).Count(ctx)
	if err != nil {
		return false, "", fmt.Errorf("count agents: %w", err)
	}
	if n > 0 {
		return false, "", nil
	}
	if email == "" {
		email = "admin@hotline.local"
	}
	if password == "" {
		raw := make([]byte, 12)
		if _, err := rand.Read(raw); err != nil {
			return false, "", fmt.Errorf("generate password: %w", err)
		}
		password = base64.RawURLEncoding.EncodeToString(raw)
		generated = password
	}
	_, err = s.CreateAgent(ctx, systemActor, NewAgent{Email: email, Name: "Administrator", Role: RoleAdmin, Password: password})
	if errors.Is(err, ErrConflict) { // another process created it first
		return false, "", nil
	}
	if err != nil {
		return false, "", fmt.Errorf("create first admin: %w", err)
	}
	return true, generated, nil
}
