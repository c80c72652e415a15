package tickets

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
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

func (s *Service) teamByID(ctx context.Context, db bun.IDB, id int64) (*Team, error) {
	t := new(Team)
	if err := db.NewSelect().Model(t).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFoundf("team %d not found", id)
		}
		return nil, fmt.Errorf("load team %d: %w", id, err)
	}
	return t, nil
}

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

// AgentByID loads an agent from db (a transaction, or Service.DB), or ErrNotFound.
func (s *Service) AgentByID(ctx context.Context, db bun.IDB, id int64) (*Agent, error) {
	return s.agentByID(ctx, db, id)
}

// Team returns one team.
func (s *Service) Team(ctx context.Context, id int64) (*Team, error) {
	return s.teamByID(ctx, s.db, id)
}

// Teams lists all teams by name.
func (s *Service) Teams(ctx context.Context) ([]*Team, error) {
	var ts []*Team
	if err := s.db.NewSelect().Model(&ts).OrderExpr("name").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	return ts, nil
}

func cleanTeamName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return "", invalidf("a team needs a name of 1 to 100 characters")
	}
	return name, nil
}

// CreateTeam adds a team. Admins only.
func (s *Service) CreateTeam(ctx context.Context, actor Actor, name string) (*Team, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	name, err := cleanTeamName(name)
	if err != nil {
		return nil, err
	}
	now := s.now()
	t := &Team{Name: name, CreatedAt: now, UpdatedAt: now}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(t).Exec(ctx); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, "team", t.ID, "team.created", map[string]any{"name": name})
	})
	if isUniqueViolation(err) {
		return nil, conflictf("a team named %q already exists", name)
	}
	if err != nil {
		return nil, fmt.Errorf("create team: %w", err)
	}
	return t, nil
}

// RenameTeam changes a team's name. Admins only.
func (s *Service) RenameTeam(ctx context.Context, actor Actor, id int64, name string) (*Team, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	name, err := cleanTeamName(name)
	if err != nil {
		return nil, err
	}
	var t *Team
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if t, err = s.teamByID(ctx, tx, id); err != nil {
			return err
		}
		from := t.Name
		t.Name, t.UpdatedAt = name, s.now()
		if _, err := tx.NewUpdate().Model(t).Column("name", "updated_at").WherePK().Exec(ctx); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, "team", t.ID, "team.renamed", map[string]any{"from": from, "to": name})
	})
	if isUniqueViolation(err) {
		return nil, conflictf("a team named %q already exists", name)
	}
	if err != nil {
		return nil, fmt.Errorf("rename team: %w", err)
	}
	return t, nil
}

// DeleteTeam removes a team that has no agents and no tickets. Admins only.
func (s *Service) DeleteTeam(ctx context.Context, actor Actor, id int64) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		t, err := s.teamByID(ctx, tx, id)
		if err != nil {
			return err
		}
		for table, where := range map[string]string{"agents": "team_id = ? AND active", "tickets": "team_id = ?"} {
			n, err := tx.NewSelect().Table(table).Where(where, id).Count(ctx)
			if err != nil {
				return fmt.Errorf("count team %s: %w", table, err)
			}
			if n > 0 {
				return conflictf("team %q still has %d %s; move them first", t.Name, n, table)
			}
		}
		// Deactivated agents keep their history, not their team.
		if _, err := tx.NewUpdate().Table("agents").Set("team_id = NULL").Where("team_id = ? AND NOT active", id).Exec(ctx); err != nil {
			return fmt.Errorf("release deactivated agents: %w", err)
		}
		if _, err := tx.NewDelete().Model(t).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("delete team: %w", err)
		}
		return s.record(ctx, tx, actor, "team", id, "team.deleted", map[string]any{"name": t.Name})
	})
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

// dummyHash is compared against when the email is unknown, so a failed login takes as long
// whether or not the account exists.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("hotline-no-such-agent"), bcrypt.DefaultCost)

// Login checks an agent's email and password and issues a bearer token, for callers that
// know no client address (commands, tests): only the account's budget of failures applies.
func (s *Service) Login(ctx context.Context, email, password string) (string, *Agent, error) {
	return s.LoginFrom(ctx, "", email, password)
}

// LoginFrom checks an agent's email and password, tried from the client address client,
// and issues a bearer token. Every door that signs agents in comes here, so they share one
// budget of failures, kept in the database for all processes: per client address, and per
// email from any address, whose failures lock it for a while (with a *Limited error, also
// for the right password: otherwise the lock would protect nothing). Emails with no agent
// are counted and locked the same way and take as long, so that neither the answer nor
// its timing tells whether an account exists.
func (s *Service) LoginFrom(ctx context.Context, client, email, password string) (string, *Agent, error) {
	wrong := newError(ErrUnauthorized, "wrong email or password")
	var fromClient *claim
	if client != "" {
		var err error
		if fromClient, err = s.claimAttempt(ctx, &s.attempts.loginAddress, clientKey(client)); err != nil {
			return "", nil, err
		}
	}
	addr, err := NormalizeEmail(email)
	if err != nil { // no account has it: only the address's budget counts it
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password)) //nolint:errcheck // timing only
		return "", nil, wrong
	}
	// Rows for emails with no agent are bounded by the address budget claimed above.
	account, err := s.claimAttempt(ctx, &s.attempts.loginAccount, addr)
	if err != nil {
		return "", nil, err
	}
	a := new(Agent)
	err = s.db.NewSelect().Model(a).Where("email = ?", addr).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		a = nil
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password)) //nolint:errcheck // timing only
	case err != nil:
		return "", nil, fmt.Errorf("find agent: %w", err)
	case bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(password)) != nil || !a.Active:
		a = nil
	}
	if a == nil {
		until, locked, err := s.failAttempt(ctx, account)
		if err != nil {
			return "", nil, err
		}
		if locked {
			s.log.Warn("sign-in locked after repeated failures", "until", until)
		}
		return "", nil, wrong
	}
	if err := s.attemptSucceeded(ctx, account); err != nil {
		return "", nil, err
	}
	if fromClient != nil {
		if err := s.attemptSucceeded(ctx, fromClient); err != nil {
			return "", nil, err
		}
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, fmt.Errorf("make token: %w", err)
	}
	token := "hl_" + base64.RawURLEncoding.EncodeToString(raw)
	now := s.now()
	row := &apiToken{AgentID: a.ID, TokenHash: hashToken(token), CreatedAt: now, ExpiresAt: now.Add(s.cfg.TokenTTL)}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return err
		}
		return s.record(ctx, tx, AgentActor(a), "agent", a.ID, "agent.login", nil)
	})
	if err != nil {
		return "", nil, fmt.Errorf("store token: %w", err)
	}
	return token, a, nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Authenticate returns the active agent a bearer token belongs to.
func (s *Service) Authenticate(ctx context.Context, token string) (*Agent, error) {
	denied := newError(ErrUnauthorized, "missing, expired or revoked token")
	if !strings.HasPrefix(token, "hl_") {
		return nil, denied
	}
	a := new(Agent)
	p := s.params()
	err := s.db.NewSelect().Model(a).
		Where("id = (SELECT agent_id FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL AND expires_at > ?)", p.add(hashToken(token)), p.add(s.now())).
		Where("active").
		Conn(p.conn()).
		Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, denied
	}
	if err != nil {
		return nil, fmt.Errorf("check token: %w", err)
	}
	return a, nil
}

// Logout revokes one token.
func (s *Service) Logout(ctx context.Context, token string) error {
	_, err := s.db.NewUpdate().Model((*apiToken)(nil)).
		Set("revoked_at = ?", s.now()).
		Where("token_hash = ? AND revoked_at IS NULL", hashToken(token)).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

func (s *Service) revokeTokens(ctx context.Context, tx bun.IDB, agentID int64) error {
	_, err := tx.NewUpdate().Model((*apiToken)(nil)).
		Set("revoked_at = ?", s.now()).
		Where("agent_id = ? AND revoked_at IS NULL", agentID).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke tokens: %w", err)
	}
	return nil
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
