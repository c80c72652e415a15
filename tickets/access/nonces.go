package access

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
)

// MaxNonceBytes bounds a webhook nonce; WeChat's are numbers of about ten digits.
const MaxNonceBytes = 128

// ClaimNonce records that provider signed a request with nonce over body, and says whether
// the request may proceed: yes the first time, and for the provider's own retries of the
// same body; no when another body comes under a nonce seen within window, which is a
// captured signature carrying a body it never covered. The claim is the insert on the
// table's unique key, so it holds across every process sharing the database. window must
// cover the whole time a signed timestamp is accepted (both sides of now).
func (s *Service) ClaimNonce(ctx context.Context, provider, nonce string, body []byte, window time.Duration) (bool, error) {
	if nonce == "" || len(nonce) > MaxNonceBytes {
		return false, tickets.Invalidf("nonce is empty or longer than %d bytes", MaxNonceBytes)
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	now := s.now()
	expired := now.Add(-window)
	for range 2 {
		// A row older than the window is a nonce that came round again by chance: the new
		// request takes it over.
		res, err := s.db.NewRaw(`INSERT INTO webhook_nonces (provider, nonce, body_sha256, seen_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (provider, nonce) DO UPDATE SET body_sha256 = excluded.body_sha256, seen_at = excluded.seen_at
			WHERE webhook_nonces.seen_at < ?`, provider, nonce, hash, now, expired).Exec(ctx)
		if err != nil {
			return false, fmt.Errorf("claim %s nonce: %w", provider, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return false, fmt.Errorf("claim %s nonce: %w", provider, err)
		} else if n == 1 {
			s.forgetNonces(ctx, expired)
			return true, nil
		}
		var seen string
		err = s.db.NewRaw(`SELECT body_sha256 FROM webhook_nonces WHERE provider = ? AND nonce = ?`, provider, nonce).Scan(ctx, &seen)
		if errors.Is(err, sql.ErrNoRows) {
			continue // forgotten in between: claim it again
		}
		if err != nil {
			return false, fmt.Errorf("read %s nonce: %w", provider, err)
		}
		return subtle.ConstantTimeCompare([]byte(seen), []byte(hash)) == 1, nil
	}
	return false, fmt.Errorf("claim %s nonce: the row kept changing", provider)
}

// forgetNonces deletes, about once in 64 claims, the nonces whose window has passed, so
// that the table holds about one window's worth of requests at a time. A failure costs
// only space and is retried by a later claim.
func (s *Service) forgetNonces(ctx context.Context, before time.Time) {
	if rand.IntN(64) != 0 {
		return
	}
	if _, err := s.db.NewRaw(`DELETE FROM webhook_nonces WHERE seen_at < ?`, before).Exec(ctx); err != nil {
		s.log.Warn("forget old webhook nonces", "err", err)
	}
}
