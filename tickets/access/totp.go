package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// A local account's second factor: a TOTP secret (RFC 6238, 30-second steps, six digits)
// enrolled from the account page and confirmed with a code before it takes effect, ten
// recovery codes shown once, and the code asked for after the password. Every "once" is
// held by the database: a code's step by a guarded update of last_step, a recovery code
// and a pending sign-in by a guarded update of used_at.

const (
	totpPeriod  = 30
	totpSkew    = 1 // steps either side of now, for a phone's clock a little off
	recoveryN   = 10
	pendingTTL  = 5 * time.Minute
	pendingTOTP = "totp"
	pendingOIDC = "oidc"
	totpIssuer  = "Hotline"
)

// agentTOTP is an agent's second factor; Secret is sealed (see seal).
type agentTOTP struct {
	bun.BaseModel `bun:"table:agent_totp"`

	AgentID     int64  `bun:",pk"`
	Secret      string `bun:",notnull"`
	ConfirmedAt *time.Time
	LastStep    int64     `bun:",notnull"`
	CreatedAt   time.Time `bun:",notnull"`
}

type recoveryCode struct {
	bun.BaseModel `bun:"table:totp_recovery_codes"`

	ID        int64  `bun:",pk,autoincrement"`
	AgentID   int64  `bun:",notnull"`
	CodeHash  string `bun:",notnull"`
	UsedAt    *time.Time
	CreatedAt time.Time `bun:",notnull"`
}

// Enrolment is a second factor being set up: the secret as text, and the otpauth:// URL
// an authenticator app reads from a QR code. Neither may be logged.
type Enrolment struct {
	Secret string
	URL    string
}

// TOTPOn reports whether agent id has a confirmed second factor.
func (s *Service) TOTPOn(ctx context.Context, id int64) (bool, error) {
	n, err := s.db.NewSelect().Model((*agentTOTP)(nil)).Where("agent_id = ? AND confirmed_at IS NOT NULL", id).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("read second factor: %w", err)
	}
	return n > 0, nil
}

// BeginTOTP starts (or shows again) agent a's enrolment. An agent who already has a
// confirmed second factor is refused (ErrConflict).
func (s *Service) BeginTOTP(ctx context.Context, a *tickets.Agent) (Enrolment, error) {
	row := new(agentTOTP)
	err := s.db.NewSelect().Model(row).Where("agent_id = ?", a.ID).Scan(ctx)
	switch {
	case err == nil && row.ConfirmedAt != nil:
		return Enrolment{}, tickets.Conflictf("two-factor sign-in is already on")
	case err == nil:
		secret, err := s.open(row.Secret)
		if err != nil {
			return Enrolment{}, err
		}
		return s.enrolment(a, secret), nil
	case !errors.Is(err, sql.ErrNoRows):
		return Enrolment{}, fmt.Errorf("read second factor: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: a.Email, Period: totpPeriod, SecretSize: 20})
	if err != nil {
		return Enrolment{}, fmt.Errorf("make secret: %w", err)
	}
	sealed, err := s.seal(key.Secret())
	if err != nil {
		return Enrolment{}, err
	}
	// Of two first visits at once, one row wins and both show it.
	_, err = s.db.NewInsert().Model(&agentTOTP{AgentID: a.ID, Secret: sealed, CreatedAt: s.now()}).
		On("CONFLICT (agent_id) DO NOTHING").Exec(ctx)
	if err != nil {
		return Enrolment{}, fmt.Errorf("store secret: %w", err)
	}
	return s.BeginTOTP(ctx, a)
}

func (s *Service) enrolment(a *tickets.Agent, secret string) Enrolment {
	k, _ := otp.NewKeyFromURL(fmt.Sprintf("otpauth://totp/%s:%s?secret=%s&issuer=%s&period=%d",
		totpIssuer, a.Email, secret, totpIssuer, totpPeriod))
	return Enrolment{Secret: secret, URL: k.URL()}
}

// ConfirmTOTP turns agent a's enrolment on with a code from their app, and returns their
// ten recovery codes, which are stored hashed and never shown again.
func (s *Service) ConfirmTOTP(ctx context.Context, a *tickets.Agent, code string) ([]string, error) {
	row := new(agentTOTP)
	if err := s.db.NewSelect().Model(row).Where("agent_id = ?", a.ID).Scan(ctx); errors.Is(err, sql.ErrNoRows) {
		return nil, tickets.Conflictf("start two-factor sign-in from the account page first")
	} else if err != nil {
		return nil, fmt.Errorf("read second factor: %w", err)
	}
	if row.ConfirmedAt != nil {
		return nil, tickets.Conflictf("two-factor sign-in is already on")
	}
	secret, err := s.open(row.Secret)
	if err != nil {
		return nil, err
	}
	step, ok := s.matchStep(secret, code)
	if !ok {
		return nil, tickets.Invalidf("the code is wrong or has expired")
	}
	codes := make([]string, recoveryN)
	for i := range codes {
		codes[i] = newRecoveryCode()
	}
	now := s.now()
	err = s.svc.InTx(ctx, func(tx tickets.Tx) error {
		res, err := tx.NewUpdate().Model((*agentTOTP)(nil)).
			Set("confirmed_at = ?", now).Set("last_step = ?", step).
			Where("agent_id = ? AND confirmed_at IS NULL", a.ID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("confirm second factor: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return tickets.Conflictf("two-factor sign-in is already on")
		}
		if _, err := tx.NewDelete().Model((*recoveryCode)(nil)).Where("agent_id = ?", a.ID).Exec(ctx); err != nil {
			return fmt.Errorf("forget old recovery codes: %w", err)
		}
		rows := make([]recoveryCode, len(codes))
		for i, c := range codes {
			rows[i] = recoveryCode{AgentID: a.ID, CodeHash: hashRecovery(c), CreatedAt: now}
		}
		if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
			return fmt.Errorf("store recovery codes: %w", err)
		}
		return tx.Record(ctx, tx.Event(tickets.AgentActor(a), "agent", a.ID, "agent.totp_on", nil))
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// VerifySecondFactor finishes a pending sign-in (SignedIn.Pending) with a code from the
// agent's app, or one of their recovery codes, and starts their session. A wrong code
// counts against the account's budget of failed sign-ins, as a wrong password does; a
// code whose step was already used (or an earlier one), a used recovery code and a used
// or expired pending sign-in are refused (ErrUnauthorized).
func (s *Service) VerifySecondFactor(ctx context.Context, dev Device, pending, code string) (string, *tickets.Agent, error) {
	expired := tickets.Unauthorizedf("this sign-in has expired; enter your password again")
	p, err := s.peekPending(ctx, pendingTOTP, pending)
	if err != nil {
		return "", nil, err
	}
	if p == nil || p.AgentID == nil {
		return "", nil, expired
	}
	a, err := s.svc.Agent(ctx, *p.AgentID)
	if err != nil {
		return "", nil, err
	}
	account, err := s.claimAttempt(ctx, &s.attempts.loginAccount, a.Email)
	if err != nil {
		return "", nil, err
	}
	row := new(agentTOTP)
	if err := s.db.NewSelect().Model(row).Where("agent_id = ? AND confirmed_at IS NOT NULL", a.ID).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, expired
		}
		return "", nil, fmt.Errorf("read second factor: %w", err)
	}
	secret, err := s.open(row.Secret)
	if err != nil { // the key changed: recovery codes still let the agent in
		s.log.Error("second factor unreadable; only recovery codes work", "agent", a.ID, "err", err)
		secret = ""
	}
	wrong := tickets.Unauthorizedf("the code is wrong, expired or already used")
	step, isTOTP := s.matchStep(secret, code)
	recovery := hashRecovery(normalRecovery(code))
	if !isTOTP && !looksRecovery(code) {
		return "", nil, s.failCode(ctx, account, wrong)
	}
	used := false
	data := map[string]any{"second_factor": "totp"}
	if !isTOTP {
		data["second_factor"] = "recovery_code"
	}
	token, err := s.issue(ctx, a, dev, "agent.login", data, func(tx tickets.Tx) error {
		var res sql.Result
		var err error
		if isTOTP {
			res, err = tx.NewUpdate().Model((*agentTOTP)(nil)).Set("last_step = ?", step).
				Where("agent_id = ? AND last_step < ? AND confirmed_at IS NOT NULL", a.ID, step).Exec(ctx)
		} else {
			res, err = tx.NewUpdate().Model((*recoveryCode)(nil)).Set("used_at = ?", s.now()).
				Where("agent_id = ? AND code_hash = ? AND used_at IS NULL", a.ID, recovery).Exec(ctx)
		}
		if err != nil {
			return fmt.Errorf("use code: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			used = true
			return wrong
		}
		return s.claimPending(ctx, tx, p.ID, expired)
	})
	if used {
		return "", nil, s.failCode(ctx, account, wrong)
	}
	if err != nil {
		return "", nil, err
	}
	if err := s.attemptSucceeded(ctx, account); err != nil {
		return "", nil, err
	}
	return token, a, nil
}

// failCode counts a wrong second factor against the account's budget and returns wrong.
func (s *Service) failCode(ctx context.Context, account *claim, wrong error) error {
	until, locked, err := s.failAttempt(ctx, account)
	if err != nil {
		return err
	}
	if locked {
		s.log.Warn("sign-in locked after wrong second factors", "until", until)
	}
	return wrong
}

// matchStep finds the step within the skew whose code is code.
func (s *Service) matchStep(secret, code string) (int64, bool) {
	code = strings.TrimSpace(code)
	if len(code) != 6 || secret == "" {
		return 0, false
	}
	now := s.now()
	for d := -totpSkew; d <= totpSkew; d++ {
		t := now.Add(time.Duration(d*totpPeriod) * time.Second)
		want, err := totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return t.Unix() / totpPeriod, true
		}
	}
	return 0, false
}

// newRecoveryCode is ten base32 characters in two groups: xxxxx-xxxxx.
func newRecoveryCode() string {
	b := make([]byte, 7)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	c := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:10]
	return c[:5] + "-" + c[5:]
}

func normalRecovery(code string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ':
			return -1
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return r
	}, code)
}

func looksRecovery(code string) bool { n := normalRecovery(code); return len(n) == 10 }

func hashRecovery(code string) string {
	sum := sha256.Sum256([]byte("hotline recovery\x00" + normalRecovery(code)))
	return fmt.Sprintf("%x", sum)
}

// seal encrypts a TOTP secret with the configured key, or marks it unsealed without one.
func (s *Service) seal(secret string) (string, error) {
	return tickets.NewSealer(s.cfg.SecretKey, "hotline totp").Seal(secret)
}

func (s *Service) open(stored string) (string, error) {
	return tickets.NewSealer(s.cfg.SecretKey, "hotline totp").Open(stored)
}
