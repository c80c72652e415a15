// Package access holds Hotline's doors: who may come in, and what a door tells whoever
// knocks. Staff sign in (a password checked against budgets of failures) and get a bearer
// token, checked on every request and revoked on sign-out; an agent changes their own
// password with the current one, ending their other sessions; the budgets of failed
// sign-ins and status-page lookups are counted in the database, so that every process
// shares them, and an admin can lift an agent's lock; a webhook's signed nonce is claimed once, so a
// captured signature cannot carry another body; and customers ask where their tickets
// stand (状态 / STATUS by SMS or WeChat, the phone menu, the status page), told only what
// is theirs.
//
// It is named for what it holds: access to the desk, for staff, providers and customers
// alike: second factors (totp.go; what admins decide of them, totp_admin.go) and single
// sign-on (sso.go) too.
//
// What it keeps: the api_tokens (sessions), attempt_limits, webhook_nonces, agent_totp,
// totp_recovery_codes and sign_in_pending tables, and one settings row (the admins'
// requirement of a second factor). Agents and
// their passwords, tickets and their customers are the core's: it reads them, and writes
// them only through tickets.Tx (the audit events of a sign-in and an unlock, an agent's own
// new password). The core revokes an agent's tokens itself when an admin deactivates them
// or sets their password, in that change's transaction, so that no wiring can leave a
// deactivated agent signed in.
//
// It is a chapter beside the core (package tickets), which knows nothing of it; app
// builds one (New) for the API, the console, the webhooks and the status page.
package access

import (
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// Config holds the doors' settings.
type Config struct {
	// TokenTTL is how long a login token lasts; 0 means 30 days.
	TokenTTL time.Duration
	// Limits bounds failed sign-ins and status-page lookups, counted in the database.
	Limits AttemptLimits
	// RequireTOTP sends agents without a second factor to enrol one after a password
	// sign-in (HOTLINE_REQUIRE_2FA), whatever admins save (SetTOTPRequired): set, the
	// requirement is fixed on.
	RequireTOTP bool
	// SecretKey seals TOTP secrets at rest (AES-256-GCM over a SHA-256 of it,
	// HOTLINE_SECRET_KEY); empty stores them unsealed, still never logged.
	SecretKey string
	// PasswordsOff refuses password sign-ins (single sign-on only) except for the
	// break-glass admin BreakGlass, an email (HOTLINE_PASSWORDS_OFF, HOTLINE_BREAK_GLASS_EMAIL).
	PasswordsOff bool
	BreakGlass   string
	// SSO is the OpenID Connect provider agents may sign in with; nil: none.
	SSO *SSOConfig
}

// Service signs staff in and out, counts failed attempts, claims webhook nonces and answers
// customers' status questions. It is safe for concurrent use, and so are two processes'
// Services on one database: every count and claim is held in it.
type Service struct {
	svc      *tickets.Service
	db       *bun.DB // svc's
	log      *slog.Logger
	cfg      Config
	attempts *attempts
	sso      *sso // nil: no single sign-on
}

// New builds the doors of svc: on its database, clock and logger.
func New(svc *tickets.Service, cfg Config) *Service {
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = 30 * 24 * time.Hour
	}
	if e, err := tickets.NormalizeEmail(cfg.BreakGlass); err == nil {
		cfg.BreakGlass = e
	} else {
		cfg.BreakGlass = ""
	}
	s := &Service{svc: svc, db: svc.DB(), log: svc.Logger(), cfg: cfg, attempts: newAttempts(cfg.Limits)}
	if cfg.SSO != nil {
		s.sso = &sso{cfg: *cfg.SSO}
	}
	return s
}

// now is the service's time, as the core stamps rows.
func (s *Service) now() time.Time { return s.svc.Now() }
