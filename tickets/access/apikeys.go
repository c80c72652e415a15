package access

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// API keys let other systems in, apart from people: named, scoped, shown once as
// hlk_<id>_<secret>, kept as the SHA-256 of the whole key, revocable, and stamped with when
// they were last used (at most once a minute, not a write per request).

// Scope is what an API key may do.
type Scope string

// The scopes an admin may grant a key.
const (
	ScopeTicketsRead  Scope = "tickets:read"  // read tickets, customers, attachments, teams
	ScopeTicketsWrite Scope = "tickets:write" // open, reply to, assign and move tickets
	ScopeComplaints   Scope = "complaints"    // read and work formal complaints
	ScopeReports      Scope = "reports"       // read the figures and exports
	ScopeAdmin        Scope = "admin"         // agents, teams, policies, rules, templates
)

// Scopes lists every scope, in the order pages show them.
var Scopes = []Scope{ScopeTicketsRead, ScopeTicketsWrite, ScopeComplaints, ScopeReports, ScopeAdmin}

// keyPrefix starts every API key; sign-in tokens start with "hl_".
const keyPrefix = "hlk_"

// keyUseEvery is how often a key's last use is written at most.
const keyUseEvery = time.Minute

// MaxKeyName bounds a key's name.
const MaxKeyName = 80

// APIKey is a key as admins see it: never its secret.
type APIKey struct {
	bun.BaseModel `bun:"table:api_keys"`

	ID         int64     `bun:",pk,autoincrement"`
	Name       string    `bun:",notnull"`
	SecretHash string    `bun:",notnull" json:"-"`
	Scopes     string    `bun:",notnull"` // space-separated
	CreatedBy  *int64    `json:"-"`
	CreatedAt  time.Time `bun:",notnull"`
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// Has says whether the key was granted scope. admin grants every scope.
func (k *APIKey) Has(scope Scope) bool {
	granted := strings.Fields(k.Scopes)
	return slices.Contains(granted, string(scope)) || slices.Contains(granted, string(ScopeAdmin))
}

// Actor is the key as the author of a change: the audit trail names it. Role checks in
// the core read an admin key as an admin and any other as a supervisor; the routes' scopes
// are what bound a key.
func (k *APIKey) Actor() tickets.Actor {
	role := tickets.RoleSupervisor
	if k.Has(ScopeAdmin) {
		role = tickets.RoleAdmin
	}
	return tickets.KeyActor(k.Name, role)
}

// parseScopes checks and normalises the scopes an admin asks for.
func parseScopes(in []string) (string, error) {
	var out []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(Scopes, Scope(s)) {
			return "", tickets.Invalidf("unknown scope %q", s)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return "", tickets.Invalidf("a key needs at least one scope")
	}
	return strings.Join(out, " "), nil
}

// CreateKey makes a key called name with scopes, for admins only, and returns it with the
// key itself, which is shown this once and never stored.
func (s *Service) CreateKey(ctx context.Context, actor tickets.Actor, name string, scopes []string) (string, *APIKey, error) {
	if err := tickets.RequireAdmin(actor); err != nil {
		return "", nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > MaxKeyName {
		return "", nil, tickets.Invalidf("a key needs a name of at most %d bytes", MaxKeyName)
	}
	sc, err := parseScopes(scopes)
	if err != nil {
		return "", nil, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, fmt.Errorf("make key: %w", err)
	}
	secret := base64.RawURLEncoding.EncodeToString(raw)
	k := &APIKey{Name: name, Scopes: sc, CreatedAt: s.now()}
	if actor.Kind == "agent" && actor.Agent != nil {
		k.CreatedBy = &actor.Agent.ID
	}
	var key string
	err = s.svc.InTx(ctx, func(tx tickets.Tx) error {
		k.ID = 0
		k.SecretHash = "pending" // the hash covers the id, known only after the insert
		if _, err := tx.NewInsert().Model(k).Exec(ctx); err != nil {
			if tickets.IsUniqueViolation(err) {
				return tickets.Conflictf("a key called %q exists", name)
			}
			return fmt.Errorf("insert key: %w", err)
		}
		key = keyPrefix + strconv.FormatInt(k.ID, 10) + "_" + secret
		k.SecretHash = hashToken(key)
		if _, err := tx.NewUpdate().Model(k).Column("secret_hash").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("store key hash: %w", err)
		}
		return tx.Record(ctx, tx.Event(actor, "api_key", k.ID, "api_key.created", map[string]any{"name": name, "scopes": sc}))
	})
	if err != nil {
		return "", nil, err
	}
	return key, k, nil
}

// Keys lists every key, newest first, for admins.
func (s *Service) Keys(ctx context.Context, actor tickets.Actor) ([]*APIKey, error) {
	if err := tickets.RequireAdmin(actor); err != nil {
		return nil, err
	}
	var ks []*APIKey
	if err := s.db.NewSelect().Model(&ks).OrderExpr("id DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return ks, nil
}

// RevokeKey ends key id for good, for admins. Revoking a revoked key changes nothing.
func (s *Service) RevokeKey(ctx context.Context, actor tickets.Actor, id int64) error {
	if err := tickets.RequireAdmin(actor); err != nil {
		return err
	}
	return s.svc.InTx(ctx, func(tx tickets.Tx) error {
		res, err := tx.NewUpdate().Table("api_keys").Set("revoked_at = ?", s.now()).
			Where("id = ? AND revoked_at IS NULL", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("revoke key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var exists int
			if err := tx.NewRaw("SELECT count(*) FROM api_keys WHERE id = ?", id).Scan(ctx, &exists); err != nil {
				return fmt.Errorf("find key: %w", err)
			}
			if exists == 0 {
				return tickets.NotFoundf("no key %d", id)
			}
			return nil
		}
		return tx.Record(ctx, tx.Event(actor, "api_key", id, "api_key.revoked", nil))
	})
}

// IsKey says whether token looks like an API key rather than a sign-in token.
func IsKey(token string) bool { return strings.HasPrefix(token, keyPrefix) }

// AuthenticateKey checks an API key: known by its id, its hash compared in constant time,
// not revoked. Its last use is stamped when the stamp is a minute old or more, by a
// guarded update, so a busy key costs one write a minute whatever the number of processes.
func (s *Service) AuthenticateKey(ctx context.Context, key string) (*APIKey, error) {
	// Made only when refused: the refusal formats its reason.
	denied := func() error { return tickets.Unauthorizedf("missing or revoked API key") }
	rest, ok := strings.CutPrefix(key, keyPrefix)
	if !ok || len(key) > 200 {
		return nil, denied()
	}
	idText, _, ok := strings.Cut(rest, "_")
	id, err := strconv.ParseInt(idText, 10, 64)
	if !ok || err != nil || id <= 0 {
		return nil, denied()
	}
	k := new(APIKey)
	err = s.db.NewSelect().Model(k).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, denied()
	}
	if err != nil {
		return nil, fmt.Errorf("check key: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(k.SecretHash), []byte(hashToken(key))) != 1 || k.RevokedAt != nil {
		return nil, denied()
	}
	now := s.now()
	if k.LastUsedAt == nil || !now.Before(k.LastUsedAt.Add(keyUseEvery)) {
		if _, err := s.db.NewUpdate().Table("api_keys").Set("last_used_at = ?", now).
			Where("id = ? AND (last_used_at IS NULL OR last_used_at <= ?)", id, now.Add(-keyUseEvery)).Exec(ctx); err != nil {
			s.log.Warn("stamp API key use", "key", k.ID, "err", err)
		} else {
			k.LastUsedAt = &now
		}
	}
	return k, nil
}
