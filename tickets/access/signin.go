package access

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
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"golang.org/x/crypto/bcrypt"

	"github.com/hotlinedesk/hotline/tickets"
)

// Signing agents in and out: a password checked against the failure budgets
// (attempts.go), and the bearer token issued, checked and revoked.

// dummyHash is compared against when the email is unknown, so a failed login takes as long
// whether or not the account exists.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("hotline-no-such-agent"), bcrypt.DefaultCost)

// Login checks an agent's email and password and issues a bearer token, for callers that
// know no client address (commands, tests): only the account's budget of failures applies.
func (s *Service) Login(ctx context.Context, email, password string) (string, *tickets.Agent, error) {
	return s.LoginFrom(ctx, "", email, password)
}

// LoginFrom checks an agent's email and password, tried from the client address client,
// and issues a bearer token: SignIn for callers that cannot ask for a second factor (the
// API). An account with one, or without one while admins require it, is refused here.
func (s *Service) LoginFrom(ctx context.Context, client, email, password string) (string, *tickets.Agent, error) {
	out, err := s.SignIn(ctx, Device{Client: client}, email, password)
	if err != nil {
		return "", nil, err
	}
	if out.Pending != "" || out.MustEnrol {
		if out.Token != "" {
			if err := s.Logout(ctx, out.Token); err != nil {
				return "", nil, err
			}
		}
		return "", nil, tickets.Unauthorizedf("this account signs in with a second factor: use the console")
	}
	return out.Token, out.Agent, nil
}

// Device is who is signing in: the client address their failures are counted under ("" when
// unknown) and their browser's user agent, which their sessions list shows.
type Device struct {
	Client, UserAgent string
}

// SignedIn is what a correct password leads to: a session (Token) or, for an account
// with a second factor, a short-lived pending sign-in awaiting its code (Pending, for
// SecondFactor). MustEnrol says that admins require a second factor this agent has not
// set up: the console sends them to enrol before anything else.
type SignedIn struct {
	Token     string
	Pending   string
	Agent     *tickets.Agent
	MustEnrol bool
}

// SignIn checks an agent's email and password, tried from dev. Every door that signs
// agents in by password comes here, so they share one budget of failures, kept in the
// database for all processes: per client address, and per email from any address, whose
// failures lock it for a while (with a *Limited error, also for the right password:
// otherwise the lock would protect nothing). Emails with no agent are counted and locked
// the same way and take as long, so that neither the answer nor its timing tells whether
// an account exists. With local passwords off (Config.PasswordsOff), only the break-glass
// admin's password is accepted.
func (s *Service) SignIn(ctx context.Context, dev Device, email, password string) (SignedIn, error) {
	wrong := tickets.Unauthorizedf("wrong email or password")
	var fromClient *claim
	if dev.Client != "" {
		var err error
		if fromClient, err = s.claimAttempt(ctx, &s.attempts.loginAddress, clientKey(dev.Client)); err != nil {
			return SignedIn{}, err
		}
	}
	addr, err := tickets.NormalizeEmail(email)
	if err != nil { // no account has it: only the address's budget counts it
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password)) //nolint:errcheck // timing only
		return SignedIn{}, wrong
	}
	if s.cfg.PasswordsOff && addr != s.cfg.BreakGlass {
		return SignedIn{}, ErrPasswordsOff
	}
	// Rows for emails with no agent are bounded by the address budget claimed above.
	account, err := s.claimAttempt(ctx, &s.attempts.loginAccount, addr)
	if err != nil {
		return SignedIn{}, err
	}
	a := new(tickets.Agent)
	err = s.db.NewSelect().Model(a).Where("email = ?", addr).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		a = nil
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password)) //nolint:errcheck // timing only
	case err != nil:
		return SignedIn{}, fmt.Errorf("find agent: %w", err)
	case bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(password)) != nil || !a.Active:
		a = nil
	}
	if a == nil {
		until, locked, err := s.failAttempt(ctx, account)
		if err != nil {
			return SignedIn{}, err
		}
		if locked {
			s.log.Warn("sign-in locked after repeated failures", "until", until)
		}
		return SignedIn{}, wrong
	}
	if err := s.attemptSucceeded(ctx, account); err != nil {
		return SignedIn{}, err
	}
	if fromClient != nil {
		if err := s.attemptSucceeded(ctx, fromClient); err != nil {
			return SignedIn{}, err
		}
	}
	on, err := s.TOTPOn(ctx, a.ID)
	if err != nil {
		return SignedIn{}, err
	}
	if on {
		pending, err := s.startPending(ctx, pendingTOTP, a.ID, "", pendingTTL)
		if err != nil {
			return SignedIn{}, err
		}
		return SignedIn{Pending: pending, Agent: a}, nil
	}
	required, err := s.TOTPRequired(ctx)
	if err != nil {
		return SignedIn{}, err
	}
	token, err := s.issue(ctx, a, dev, "agent.login", nil, nil)
	if err != nil {
		return SignedIn{}, err
	}
	return SignedIn{Token: token, Agent: a, MustEnrol: required}, nil
}

// ErrPasswordsOff refuses a password sign-in while local passwords are off (single
// sign-on only) for anyone but the break-glass admin.
var ErrPasswordsOff = tickets.Forbiddenf("passwords are off: sign in with single sign-on")

// issue starts a session of a from dev, with its audit event (action, data), in one
// transaction with before (when not nil), whose error ends it.
func (s *Service) issue(ctx context.Context, a *tickets.Agent, dev Device, action string, data map[string]any, before func(tickets.Tx) error) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("make token: %w", err)
	}
	token := "hl_" + base64.RawURLEncoding.EncodeToString(raw)
	now := s.now()
	row := &apiToken{AgentID: a.ID, TokenHash: hashToken(token), CreatedAt: now, ExpiresAt: now.Add(s.cfg.TokenTTL),
		UserAgent: clip(dev.UserAgent, 300), ClientIP: clip(dev.Client, 64)}
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		if before != nil {
			if err := before(tx); err != nil {
				return err
			}
		}
		row.ID = 0 // a retry inserts afresh
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return fmt.Errorf("store token: %w", err)
		}
		return tx.Record(ctx, tx.Event(tickets.AgentActor(a), "agent", a.ID, action, data))
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// clip bounds an outside value before it is stored, on a rune boundary.
func clip(v string, n int) string {
	if len(v) <= n {
		return v
	}
	v = v[:n]
	for len(v) > 0 && !utf8.ValidString(v) {
		v = v[:len(v)-1]
	}
	return v
}

// apiToken is a session: a bearer token's hash, its agent and how long it lasts.
type apiToken struct {
	bun.BaseModel `bun:"table:api_tokens"`

	ID         int64     `bun:",pk,autoincrement"`
	AgentID    int64     `bun:",notnull"`
	TokenHash  string    `bun:",notnull"`
	CreatedAt  time.Time `bun:",notnull"`
	ExpiresAt  time.Time `bun:",notnull"`
	RevokedAt  *time.Time
	UserAgent  string `bun:",notnull"`
	ClientIP   string `bun:"client_ip,notnull"`
	LastSeenAt *time.Time
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Authenticate returns the active agent a bearer token belongs to.
func (s *Service) Authenticate(ctx context.Context, token string) (*tickets.Agent, error) {
	// Made only when refused: the refusal formats its reason.
	denied := func() error { return tickets.Unauthorizedf("missing, expired or revoked token") }
	if !strings.HasPrefix(token, "hl_") {
		return nil, denied()
	}
	// The agent and when the session was last seen, in one read: the stamp below is
	// written only when it is due, not tried on every request (a write that finds nothing
	// to change still takes SQLite's one writer's lock, and a round trip on PostgreSQL).
	var row struct {
		tickets.Agent `bun:",extend"`
		TokenSeenAt   *time.Time `bun:"token_seen_at,scanonly"`
	}
	p := s.svc.Prepared()
	err := s.db.NewSelect().Model(&row).
		ColumnExpr("agent.*").ColumnExpr("tok.last_seen_at AS token_seen_at").
		Join("JOIN api_tokens AS tok ON tok.agent_id = agent.id").
		Where("tok.token_hash = ? AND tok.revoked_at IS NULL AND tok.expires_at > ?", p.Arg(hashToken(token)), p.Arg(s.now())).
		Where("agent.active").
		Conn(p.Conn()).
		Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, denied()
	}
	if err != nil {
		return nil, fmt.Errorf("check token: %w", err)
	}
	a := &row.Agent
	// Last seen, for the sessions list: written at most once a minute per session, and
	// prepared like the check above. The condition stays in the UPDATE: requests racing
	// past the read above stamp it once.
	now := s.now()
	if row.TokenSeenAt != nil && row.TokenSeenAt.After(now.Add(-time.Minute)) {
		return a, nil
	}
	p = s.svc.Prepared()
	_, err = s.db.NewUpdate().Model((*apiToken)(nil)).
		Set("last_seen_at = ?", p.Arg(now)).
		Where("token_hash = ? AND (last_seen_at IS NULL OR last_seen_at < ?)", p.Arg(hashToken(token)), p.Arg(now.Add(-time.Minute))).
		Conn(p.Conn()).
		Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("stamp session: %w", err)
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
