package access

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// pendingSignIn is a sign-in half done: a password checked and a second factor awaited, or
// a single sign-on round trip begun. It is found by its token's hash and claimed once.
type pendingSignIn struct {
	bun.BaseModel `bun:"table:sign_in_pending"`

	ID        int64  `bun:",pk,autoincrement"`
	TokenHash string `bun:",notnull"`
	Kind      string `bun:",notnull"`
	AgentID   *int64
	Data      string    `bun:",notnull"`
	CreatedAt time.Time `bun:",notnull"`
	ExpiresAt time.Time `bun:",notnull"`
	UsedAt    *time.Time
}

// startPending stores a pending sign-in of kind and returns its token.
func (s *Service) startPending(ctx context.Context, kind string, agentID int64, data string, ttl time.Duration) (string, error) {
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("make pending sign-in: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := s.now()
	row := &pendingSignIn{TokenHash: hashToken(token), Kind: kind, Data: data, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if agentID != 0 {
		row.AgentID = &agentID
	}
	if _, err := s.db.NewInsert().Model(row).Exec(ctx); err != nil {
		return "", fmt.Errorf("store pending sign-in: %w", err)
	}
	// Rows past their time are only clutter: drop them now and then.
	if _, err := s.db.NewDelete().Model((*pendingSignIn)(nil)).Where("expires_at < ?", now.Add(-time.Hour)).Exec(ctx); err != nil {
		s.log.Warn("could not prune pending sign-ins", "err", err)
	}
	return token, nil
}

// peekPending finds an unused, unexpired pending sign-in of kind by its token; nil when
// there is none.
func (s *Service) peekPending(ctx context.Context, kind, token string) (*pendingSignIn, error) {
	if token == "" || len(token) > 100 {
		return nil, nil
	}
	p := new(pendingSignIn)
	err := s.db.NewSelect().Model(p).
		Where("token_hash = ? AND kind = ? AND used_at IS NULL AND expires_at > ?", hashToken(token), kind, s.now()).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read pending sign-in: %w", err)
	}
	return p, nil
}

// claimPending marks pending sign-in id used in tx; refused (gone) when another claimed it.
func (s *Service) claimPending(ctx context.Context, tx tickets.Tx, id int64, gone error) error {
	res, err := tx.NewUpdate().Model((*pendingSignIn)(nil)).Set("used_at = ?", s.now()).
		Where("id = ? AND used_at IS NULL AND expires_at > ?", id, s.now()).Exec(ctx)
	if err != nil {
		return fmt.Errorf("claim pending sign-in: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return gone
	}
	return nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
