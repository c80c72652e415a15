package access

import (
	"context"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"github.com/hotlinedesk/hotline/tickets"
)

// ChangePassword changes the password of agent a, signed in with token from the client
// address client (or "" when unknown), who gives their current password: a wrong one is
// counted as a failed sign-in, against the same budgets (ErrForbidden, or a *Limited error
// once they are spent, as at the sign-in form), so a session left open does not let anyone
// guess it. The new one follows the rules of every password (ErrInvalid). Every other
// session of the agent ends in the transaction that changes it, with its audit event;
// this one stays.
func (s *Service) ChangePassword(ctx context.Context, client string, a *tickets.Agent, token, current, next string) error {
	var fromClient *claim
	if client != "" {
		var err error
		if fromClient, err = s.claimAttempt(ctx, &s.attempts.loginAddress, clientKey(client)); err != nil {
			return err
		}
	}
	account, err := s.claimAttempt(ctx, &s.attempts.loginAccount, a.Email)
	if err != nil {
		return err
	}
	stored, err := s.svc.Agent(ctx, a.ID) // the password as it is now, not as the session began
	if err != nil {
		return err
	}
	if !stored.Active {
		return tickets.Unauthorizedf("this account is deactivated")
	}
	if bcrypt.CompareHashAndPassword([]byte(stored.PasswordHash), []byte(current)) != nil {
		until, locked, err := s.failAttempt(ctx, account)
		if err != nil {
			return err
		}
		if locked {
			s.log.Warn("sign-in locked after wrong current passwords", "agent", a.ID, "until", until)
		}
		return tickets.Forbiddenf("the current password is wrong")
	}
	for _, c := range []*claim{account, fromClient} {
		if c != nil {
			if err := s.attemptSucceeded(ctx, c); err != nil {
				return err
			}
		}
	}
	hash, err := s.svc.HashPassword(next)
	if err != nil {
		return err
	}
	return s.svc.InTx(ctx, func(tx tickets.Tx) error {
		ok, err := tx.SetPasswordHash(ctx, a.ID, stored.PasswordHash, hash)
		if err != nil {
			return err
		}
		if !ok {
			return tickets.Conflictf("your password was changed meanwhile; sign in again with the new one")
		}
		res, err := tx.NewUpdate().Model((*apiToken)(nil)).
			Set("revoked_at = ?", s.now()).
			Where("agent_id = ? AND revoked_at IS NULL AND token_hash <> ?", a.ID, hashToken(token)).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("end other sessions: %w", err)
		}
		ended, _ := res.RowsAffected()
		return tx.Record(ctx, tx.Event(tickets.AgentActor(a), "agent", a.ID, "agent.password_changed", map[string]any{"sessions_ended": ended}))
	})
}
