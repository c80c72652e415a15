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
// and issues a bearer token. Every door that signs agents in comes here, so they share one
// budget of failures, kept in the database for all processes: per client address, and per
// email from any address, whose failures lock it for a while (with a *Limited error, also
// for the right password: otherwise the lock would protect nothing). Emails with no agent
// are counted and locked the same way and take as long, so that neither the answer nor
// its timing tells whether an account exists.
func (s *Service) LoginFrom(ctx context.Context, client, email, password string) (string, *tickets.Agent, error) {
	wrong := tickets.Unauthorizedf("wrong email or password")
	var fromClient *claim
	if client != "" {
		var err error
		if fromClient, err = s.claimAttempt(ctx, &s.attempts.loginAddress, clientKey(client)); err != nil {
			return "", nil, err
		}
	}
	addr, err := tickets.NormalizeEmail(email)
	if err != nil { // no account has it: only the address's budget counts it
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password)) //nolint:errcheck // timing only
		return "", nil, wrong
	}
	// Rows for emails with no agent are bounded by the address budget claimed above.
	account, err := s.claimAttempt(ctx, &s.attempts.loginAccount, addr)
	if err != nil {
		return "", nil, err
	}
	a := new(tickets.Agent)
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
	err = s.svc.InTx(ctx, func(tx tickets.Tx) error {
		row.ID = 0 // a retry inserts afresh
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return err
		}
		return tx.Record(ctx, tx.Event(tickets.AgentActor(a), "agent", a.ID, "agent.login", nil))
	})
	if err != nil {
		return "", nil, fmt.Errorf("store token: %w", err)
	}
	return token, a, nil
}

// apiToken is a session: a bearer token's hash, its agent and how long it lasts.
type apiToken struct {
	bun.BaseModel `bun:"table:api_tokens"`

	ID        int64     `bun:",pk,autoincrement"`
	AgentID   int64     `bun:",notnull"`
	TokenHash string    `bun:",notnull"`
	CreatedAt time.Time `bun:",notnull"`
	ExpiresAt time.Time `bun:",notnull"`
	RevokedAt *time.Time
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Authenticate returns the active agent a bearer token belongs to.
func (s *Service) Authenticate(ctx context.Context, token string) (*tickets.Agent, error) {
	denied := tickets.Unauthorizedf("missing, expired or revoked token")
	if !strings.HasPrefix(token, "hl_") {
		return nil, denied
	}
	a := new(tickets.Agent)
	p := s.svc.Prepared()
	err := s.db.NewSelect().Model(a).
		Where("id = (SELECT agent_id FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL AND expires_at > ?)", p.Arg(hashToken(token)), p.Arg(s.now())).
		Where("active").
		Conn(p.Conn()).
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
