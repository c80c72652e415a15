package access

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// Budgets of failed attempts, as *Limited names the one that ran out.
const (
	LimitLoginAddress    = "login.address"    // failed sign-ins from one client address
	LimitLoginAccount    = "login.account"    // failed sign-ins for one email, from anywhere
	LimitStatusClient    = "status.client"    // wrong status-page lookups from one client
	LimitStatusReference = "status.reference" // wrong checks of one ticket reference, from anywhere
)

// AttemptLimits bounds guessing at the sign-in forms and the status page. The counts are
// kept in the database, so every process shares them. Zero values mean the defaults.
type AttemptLimits struct {
	// LoginsPerAddress is how many failed sign-ins a client address may make a minute: 10.
	LoginsPerAddress int
	// LoginsPerAccount is how many failed sign-ins for one email, from any addresses, lock
	// it (5, within LoginAccountWindow, 1 hour). The first lock lasts LoginLock (1 minute),
	// each further one twice as long, up to LoginLockMax (15 minutes).
	LoginsPerAccount                     int
	LoginAccountWindow, LoginLock        time.Duration
	LoginLockMax                         time.Duration
	StatusPerClient                      int           // wrong status lookups a client may make a minute: 10
	StatusPerReference                   int           // wrong checks of one reference that lock it: 5 …
	StatusReferenceWindow, StatusRefLock time.Duration // … within 15 minutes, for 15 minutes
}

// attemptRule is one budget: at most max failures per window for one key. With a lock,
// reaching max locks the key for lock (doubling with each lock, up to maxLock); without
// one, attempts over max are refused until the window ends.
type attemptRule struct {
	scope         string
	max           int
	window        time.Duration
	lock, maxLock time.Duration
	keep          time.Duration // how long a row is remembered after its window starts
	refusal       string        // what a refused person reads; %s is how long to wait
}

// attempts holds the service's budgets and when it next prunes forgotten rows.
type attempts struct {
	loginAddress, loginAccount, statusClient, statusReference attemptRule
	nextPrune                                                 atomic.Int64 // Unix ms
}

// pruneEvery is how often a process deletes rows whose time has passed; they are ignored
// until then, so this only bounds the table's size.
const pruneEvery = 10 * time.Minute

// strikeMemory is how long a lock counts towards the length of the next one.
const strikeMemory = 24 * time.Hour

func newAttempts(l AttemptLimits) *attempts {
	or := func(v, def int) int {
		if v <= 0 {
			return def
		}
		return v
	}
	orD := func(v, def time.Duration) time.Duration {
		if v <= 0 {
			return def
		}
		return v
	}
	lock := orD(l.LoginLock, time.Minute)
	refLock := orD(l.StatusRefLock, 15*time.Minute)
	a := &attempts{
		loginAddress: attemptRule{scope: LimitLoginAddress, max: or(l.LoginsPerAddress, 10), window: time.Minute,
			refusal: "too many failed sign-ins from your address; try again in %s"},
		loginAccount: attemptRule{scope: LimitLoginAccount, max: or(l.LoginsPerAccount, 5), window: orD(l.LoginAccountWindow, time.Hour),
			lock: lock, maxLock: max(lock, orD(l.LoginLockMax, 15*time.Minute)),
			refusal: "too many failed sign-ins for this account; it is locked: try again in %s, or ask an admin to unlock it"},
		statusClient: attemptRule{scope: LimitStatusClient, max: or(l.StatusPerClient, 10), window: time.Minute,
			refusal: "too many wrong lookups; try again in %s"},
		statusReference: attemptRule{scope: LimitStatusReference, max: or(l.StatusPerReference, 5), window: orD(l.StatusReferenceWindow, 15*time.Minute),
			lock: refLock, maxLock: refLock,
			refusal: "this reference was checked wrongly too often; try again in %s or contact us"},
	}
	for _, r := range []*attemptRule{&a.loginAddress, &a.loginAccount, &a.statusClient, &a.statusReference} {
		r.keep = r.window
		if r.lock > 0 {
			r.keep = max(r.window, r.maxLock, strikeMemory)
		}
	}
	return a
}

// clientKey is the key a client address is counted under: an IPv4 address as it is, an
// IPv6 address by its /64, which one subscriber usually holds whole (counting each address
// would give them 2^64 budgets).
func clientKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Unmap().Is4() {
		return addr
	}
	p, err := ip.Prefix(64)
	if err != nil {
		return addr
	}
	return p.String()
}

// attemptSubject is the stored key: a hash, so the table names no email or address.
func attemptSubject(scope, key string) string {
	sum := sha256.Sum256([]byte("hotline attempts\x00" + scope + "\x00" + key))
	return hex.EncodeToString(sum[:16])
}

// claim is a failure counted in advance for an attempt under way: counting before the
// check, in one statement, keeps concurrent attempts within the budget. The attempt then
// ends with failAttempt or attemptSucceeded.
type claim struct {
	rule    *attemptRule
	subject string
	window  int64 // the window it was counted in (Unix ms)
}

// claimAttempt counts an attempt against rule's budget for key, or refuses it with a
// *Limited error when the budget is spent or the key is locked.
func (s *Service) claimAttempt(ctx context.Context, r *attemptRule, key string) (*claim, error) {
	now := s.now()
	s.pruneAttempts(ctx, now)
	ms := now.UnixMilli()
	subject := attemptSubject(r.scope, key)
	cutoff := ms - r.window.Milliseconds() // a window that started at or before this is over
	expires := ms + r.keep.Milliseconds()
	var failures int
	var windowStart, lockedUntil int64
	// While locked nothing changes; a window that is over starts afresh with this attempt.
	err := s.db.NewRaw(`INSERT INTO attempt_limits AS a (scope, subject, window_start, failures, strikes, locked_until, expires_at)
VALUES (?, ?, ?, 1, 0, 0, ?)
ON CONFLICT (scope, subject) DO UPDATE SET
	failures = CASE WHEN a.locked_until > ? THEN a.failures WHEN a.window_start <= ? THEN 1 ELSE a.failures + 1 END,
	strikes = CASE WHEN a.expires_at <= ? THEN 0 ELSE a.strikes END,
	window_start = CASE WHEN a.locked_until <= ? AND a.window_start <= ? THEN ? ELSE a.window_start END,
	expires_at = CASE WHEN a.locked_until <= ? AND a.window_start <= ? THEN ? ELSE a.expires_at END
RETURNING failures, window_start, locked_until`,
		r.scope, subject, ms, expires,
		ms, cutoff,
		ms,
		ms, cutoff, ms,
		ms, cutoff, expires,
	).Scan(ctx, &failures, &windowStart, &lockedUntil)
	if err != nil {
		return nil, fmt.Errorf("count attempt (%s): %w", r.scope, err)
	}
	switch {
	case lockedUntil > ms:
		return nil, r.refuse(time.Duration(lockedUntil-ms) * time.Millisecond)
	case failures > r.max && r.lock > 0:
		// Attempts under way at once spent the budget; the one that fails locks the key.
		return nil, r.refuse(r.lock)
	case failures > r.max:
		return nil, r.refuse(time.Duration(windowStart-cutoff) * time.Millisecond)
	}
	return &claim{rule: r, subject: subject, window: windowStart}, nil
}

func (r *attemptRule) refuse(wait time.Duration) *tickets.Limited {
	wait = max(wait, time.Second)
	return tickets.NewLimited(r.scope, wait, fmt.Sprintf(r.refusal, waitWords(wait)))
}

// waitWords says how long to wait, rounded up: "40 seconds", "1 minute", "15 minutes".
func waitWords(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d seconds", int(math.Ceil(d.Seconds())))
	}
	if m := int(math.Ceil(d.Minutes())); m > 1 {
		return fmt.Sprintf("%d minutes", m)
	}
	return "1 minute"
}

// failAttempt ends a claimed attempt that failed: it stays counted, and the failure that
// spends a locking budget locks the key. It says until when, if this failure locked it.
func (s *Service) failAttempt(ctx context.Context, c *claim) (time.Time, bool, error) {
	r := c.rule
	if r.lock <= 0 {
		return time.Time{}, false, nil
	}
	ms := s.now().UnixMilli()
	doublings := 0 // locks after which the next one is the longest
	for r.lock<<doublings < r.maxLock && doublings < 30 {
		doublings++
	}
	var until int64
	err := s.db.NewRaw(`UPDATE attempt_limits SET
	locked_until = ? + CASE WHEN strikes >= ? THEN CAST(? AS BIGINT) ELSE CAST(? AS BIGINT) * (1 << strikes) END,
	strikes = strikes + 1, failures = 0, window_start = ?, expires_at = ?
WHERE scope = ? AND subject = ? AND failures >= ? AND locked_until <= ?
RETURNING locked_until`,
		ms, doublings, r.maxLock.Milliseconds(), r.lock.Milliseconds(),
		ms, ms+r.keep.Milliseconds(),
		r.scope, c.subject, r.max, ms,
	).Scan(ctx, &until)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("record failed attempt (%s): %w", r.scope, err)
	}
	return time.UnixMilli(until).UTC(), true, nil
}

// attemptSucceeded ends a claimed attempt that succeeded: a locking budget starts afresh
// (a customer who finally typed the right digits, an agent who remembered the password),
// and in a client's budget the attempt no longer counts, so a busy office behind one
// address spends it only on mistakes.
func (s *Service) attemptSucceeded(ctx context.Context, c *claim) error {
	if c.rule.lock <= 0 {
		_, err := s.db.NewUpdate().TableExpr("attempt_limits").Set("failures = failures - 1").
			Where("scope = ? AND subject = ? AND window_start = ? AND failures > 0", c.rule.scope, c.subject, c.window).Exec(ctx)
		if err != nil {
			return fmt.Errorf("uncount attempt (%s): %w", c.rule.scope, err)
		}
		return nil
	}
	_, err := s.db.NewDelete().TableExpr("attempt_limits").Where("scope = ? AND subject = ?", c.rule.scope, c.subject).Exec(ctx)
	if err != nil {
		return fmt.Errorf("reset attempts (%s): %w", c.rule.scope, err)
	}
	return nil
}

// pruneAttempts deletes rows whose time has passed, at most once per pruneEvery in each
// process: one index range delete.
func (s *Service) pruneAttempts(ctx context.Context, now time.Time) {
	next := s.attempts.nextPrune.Load()
	if now.UnixMilli() < next || !s.attempts.nextPrune.CompareAndSwap(next, now.Add(pruneEvery).UnixMilli()) {
		return
	}
	if _, err := s.db.NewDelete().TableExpr("attempt_limits").Where("expires_at < ?", now.UnixMilli()).Exec(ctx); err != nil {
		s.log.Warn("could not prune attempt counts", "err", err)
	}
}

// LoginLocks says until when each of these agents is locked out of signing in, for those
// locked now.
func (s *Service) LoginLocks(ctx context.Context, agents []*tickets.Agent) (map[int64]time.Time, error) {
	bySubject := make(map[string]int64, len(agents))
	for _, a := range agents {
		bySubject[attemptSubject(LimitLoginAccount, a.Email)] = a.ID
	}
	out := map[int64]time.Time{}
	if len(bySubject) == 0 {
		return out, nil
	}
	subjects := make([]string, 0, len(bySubject))
	for sub := range bySubject {
		subjects = append(subjects, sub)
	}
	var rows []struct {
		Subject     string `bun:"subject"`
		LockedUntil int64  `bun:"locked_until"`
	}
	err := s.db.NewSelect().TableExpr("attempt_limits").Column("subject", "locked_until").
		Where("scope = ? AND subject IN (?) AND locked_until > ?", LimitLoginAccount, bun.In(subjects), s.now().UnixMilli()).
		Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("read sign-in locks: %w", err)
	}
	for _, r := range rows {
		out[bySubject[r.Subject]] = time.UnixMilli(r.LockedUntil).UTC()
	}
	return out, nil
}

// UnlockAgent lifts an agent's sign-in lock and forgets their failed sign-ins, so they can
// sign in at once. Admins only.
func (s *Service) UnlockAgent(ctx context.Context, actor tickets.Actor, id int64) (*tickets.Agent, error) {
	if err := tickets.RequireAdmin(actor); err != nil {
		return nil, err
	}
	var a *tickets.Agent
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		var err error
		if a, err = tx.Agent(ctx, id); err != nil {
			return err
		}
		var until []int64
		err = tx.NewRaw("DELETE FROM attempt_limits WHERE scope = ? AND subject = ? AND (locked_until > ? OR failures > 0) RETURNING locked_until",
			LimitLoginAccount, attemptSubject(LimitLoginAccount, a.Email), s.now().UnixMilli()).Scan(ctx, &until)
		if err != nil {
			return fmt.Errorf("unlock agent: %w", err)
		}
		if len(until) == 0 {
			return tickets.Conflictf("%s is not locked out and has no failed sign-ins to forget", a.Name)
		}
		data := map[string]any{}
		if ms := until[0]; ms > s.now().UnixMilli() {
			data["locked_until"] = time.UnixMilli(ms).UTC()
		}
		return tx.Record(ctx, tx.Event(actor, "agent", a.ID, "agent.unlocked", data))
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}
