package access

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hotlinedesk/hotline/tickets"
)

// What admins decide of second factors: whether every password sign-in needs one (their
// setting, which the configuration may force on), and resetting an agent's second factor
// after a lost phone. Both are changed in one transaction with their audit event.

// requireTOTPKey is the settings row holding the admins' requirement: "on" or "off".
const requireTOTPKey = "access.require_2fa"

// TOTPRule is whether password sign-ins need a second factor, and who decided it.
type TOTPRule struct {
	Required bool // in effect now: Fixed or Saved
	Fixed    bool // forced on by the configuration (HOTLINE_REQUIRE_2FA): admins cannot turn it off
	Saved    bool // what admins saved in the console
}

// TOTPRule reads whether a second factor is required, and why.
func (s *Service) TOTPRule(ctx context.Context) (TOTPRule, error) {
	var v sql.NullString
	err := s.db.NewSelect().Table("settings").Column("value").Where("key = ?", requireTOTPKey).Scan(ctx, &v)
	if err != nil && !isNoRows(err) {
		return TOTPRule{}, fmt.Errorf("read the two-step sign-in requirement: %w", err)
	}
	r := TOTPRule{Fixed: s.cfg.RequireTOTP, Saved: v.String == "on"}
	r.Required = r.Fixed || r.Saved
	return r, nil
}

// TOTPRequired reports whether a second factor is required of password sign-ins now.
func (s *Service) TOTPRequired(ctx context.Context) (bool, error) {
	r, err := s.TOTPRule(ctx)
	return r.Required, err
}

// MustEnrol reports whether agent id must enrol a second factor before anything else:
// one is required and they have none. It is asked on every console page, so it reads
// both in one query.
func (s *Service) MustEnrol(ctx context.Context, id int64) (bool, error) {
	if s.cfg.RequireTOTP {
		on, err := s.TOTPOn(ctx, id)
		return !on, err
	}
	var saved sql.NullString
	var enrolled int
	err := s.db.NewRaw("SELECT (SELECT value FROM settings WHERE key = ?), "+
		"(SELECT count(*) FROM agent_totp WHERE agent_id = ? AND confirmed_at IS NOT NULL)", requireTOTPKey, id).
		Scan(ctx, &saved, &enrolled)
	if err != nil {
		return false, fmt.Errorf("read the two-step sign-in requirement: %w", err)
	}
	return saved.String == "on" && enrolled == 0, nil
}

// SetTOTPRequired saves the admins' requirement of a second factor, for admins only. It
// takes effect at once: turned on, every session of an agent without a second factor
// ends (but keep, the asker's own session token, which the console sends to enrol), so
// that no session begun with a password alone, the API's included, outlives it; each
// agent then signs in again and is sent to enrol. It returns how many sessions ended.
// Turning it off while the configuration forces it on is refused (ErrConflict); saving
// what is already saved changes nothing and records nothing.
func (s *Service) SetTOTPRequired(ctx context.Context, actor tickets.Actor, on bool, keep string) (int, error) {
	if actor.Agent == nil || actor.Agent.Role != tickets.RoleAdmin {
		return 0, tickets.Forbiddenf("only an admin may require two-step sign-in")
	}
	if !on && s.cfg.RequireTOTP {
		return 0, tickets.Conflictf("two-step sign-in is required by the configuration (HOTLINE_REQUIRE_2FA) and cannot be turned off here")
	}
	ended := 0
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		ended = 0
		// A guarded write: of two admins saving the same, one changes it and is recorded.
		var res sql.Result
		var err error
		if on {
			res, err = tx.ExecContext(ctx, "INSERT INTO settings (key, value, updated_at) VALUES (?, 'on', ?) "+
				"ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at WHERE settings.value <> 'on'",
				requireTOTPKey, s.now())
		} else {
			res, err = tx.ExecContext(ctx, "UPDATE settings SET value = 'off', updated_at = ? WHERE key = ? AND value <> 'off'",
				s.now(), requireTOTPKey)
		}
		if err != nil {
			return fmt.Errorf("store the two-step sign-in requirement: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		data := map[string]any{"required": on}
		if on {
			res, err := tx.NewUpdate().Model((*apiToken)(nil)).Set("revoked_at = ?", s.now()).
				Where("revoked_at IS NULL AND expires_at > ? AND token_hash <> ?", s.now(), hashToken(keep)).
				Where("agent_id NOT IN (SELECT agent_id FROM agent_totp WHERE confirmed_at IS NOT NULL)").
				Exec(ctx)
			if err != nil {
				return fmt.Errorf("end sessions without a second factor: %w", err)
			}
			n, _ := res.RowsAffected()
			ended = int(n)
			data["sessions_ended"] = ended
		}
		return tx.Record(ctx, tx.Event(actor, "settings", 0, "signin.totp_required", data))
	})
	if err != nil {
		return 0, err
	}
	return ended, nil
}

// TOTPCounts counts the active agents, and those of them with a second factor, for the
// admins deciding to require one.
func (s *Service) TOTPCounts(ctx context.Context) (enrolled, active int, err error) {
	err = s.db.NewRaw("SELECT count(*), count(t.agent_id) FROM agents a "+
		"LEFT JOIN agent_totp t ON t.agent_id = a.id AND t.confirmed_at IS NOT NULL WHERE a.active").
		Scan(ctx, &active, &enrolled)
	if err != nil {
		return 0, 0, fmt.Errorf("count second factors: %w", err)
	}
	return enrolled, active, nil
}

// ResetTOTP removes agent id's second factor and recovery codes, for an admin, when the
// agent lost their phone and their codes: every session of theirs ends and any sign-in
// awaiting their code is void, in the transaction that records agent.totp_reset. While a
// second factor is required they enrol again at their next sign-in. An admin cannot
// reset their own (ErrForbidden: they sign in with a recovery code, or another admin
// resets it), and an agent without a second factor has none to reset (ErrConflict).
func (s *Service) ResetTOTP(ctx context.Context, actor tickets.Actor, id int64) (*tickets.Agent, error) {
	if err := tickets.RequireAdmin(actor); err != nil {
		return nil, err
	}
	if actor.Agent != nil && actor.Agent.ID == id {
		return nil, tickets.Forbiddenf("an admin cannot reset their own two-step sign-in: sign in with a recovery code, or ask another admin")
	}
	var a *tickets.Agent
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		var err error
		if a, err = tx.Agent(ctx, id); err != nil {
			return err
		}
		// The delete is the claim: of two admins resetting at once, one finds the row.
		res, err := tx.NewDelete().Model((*agentTOTP)(nil)).Where("agent_id = ? AND confirmed_at IS NOT NULL", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("remove second factor: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return tickets.Conflictf("%s has no two-step sign-in to reset", a.Name)
		}
		if _, err := tx.NewDelete().Model((*recoveryCode)(nil)).Where("agent_id = ?", id).Exec(ctx); err != nil {
			return fmt.Errorf("remove recovery codes: %w", err)
		}
		if _, err := tx.NewUpdate().Model((*pendingSignIn)(nil)).Set("used_at = ?", s.now()).
			Where("agent_id = ? AND kind = ? AND used_at IS NULL", id, pendingTOTP).Exec(ctx); err != nil {
			return fmt.Errorf("void pending sign-ins: %w", err)
		}
		res, err = tx.NewUpdate().Model((*apiToken)(nil)).Set("revoked_at = ?", s.now()).
			Where("agent_id = ? AND revoked_at IS NULL", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		ended, _ := res.RowsAffected()
		return tx.Record(ctx, tx.Event(actor, "agent", id, "agent.totp_reset", map[string]any{"sessions_ended": ended}))
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}
