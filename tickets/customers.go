package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// Customers and their identities: found or created for intake's messages (lockCustomers,
// many at once) and for a contact an agent logs (customerFor), another address linked to
// them (addIdentity), and an agent's edit of their details. Reading a customer is in
// queries.go, an opt-out in optout.go.

// identityKey is a customer identity.
type identityKey struct {
	kind  IdentityKind
	value string
}

// lockCustomers finds the customers who own the messages' identities and locks their rows,
// in id order. The customers it does not find are made up (fresh), to be written with the
// messages. Locking serialises
// concurrent intakes for one customer, so two messages arriving together thread into one
// ticket instead of opening two, and taking the locks in one order means two transactions
// never wait on each other in a circle. A concurrent intake that creates the same identity
// first makes this one's insert fail on the unique key, and the transaction is retried to
// find that customer.
func (s *Service) lockCustomers(ctx context.Context, tx bun.Tx, ins []Inbound, res []*IntakeResult, now time.Time) (owners map[identityKey]*Customer, fresh []*Customer, err error) {
	var keys [][]any
	for i, in := range ins {
		if res[i] == nil {
			keys = append(keys, []any{in.From, in.Address})
		}
	}
	owners = map[identityKey]*Customer{}
	if len(keys) == 0 {
		return owners, nil, nil
	}
	lock := ""
	if s.db.Dialect().Name() == dialect.PG {
		lock = " FOR UPDATE OF c" // SQLite's write transaction holds the whole file already
	}
	var found []foundIdentity
	if err := tx.NewRaw(`WITH k (kind, value) AS (VALUES ?)
		SELECT c.id, c.name, c.locale, c.tags, c.created_at, c.updated_at, i.kind AS identity_kind, i.value AS identity_value
		FROM k JOIN customer_identities AS i ON i.kind = k.kind AND i.value = k.value JOIN customers AS c ON c.id = i.customer_id
		ORDER BY c.id`+lock, valuesList(keys)).Scan(ctx, &found); err != nil {
		return nil, nil, fmt.Errorf("find customers: %w", err)
	}
	owners, fresh, learnt := ownersOf(ins, res, found, now)
	for _, c := range learnt {
		if c.locale {
			if _, err := tx.NewUpdate().Table("customers").Set("locale = ?", c.Locale).
				Where("id = ? AND locale = ''", c.ID).Exec(ctx); err != nil {
				return nil, nil, fmt.Errorf("set customer locale: %w", err)
			}
		}
		if c.name {
			if _, err := tx.NewUpdate().Model(c.Customer).Column("name").WherePK().Exec(ctx); err != nil {
				return nil, nil, fmt.Errorf("name customer: %w", err)
			}
		}
	}
	return owners, fresh, nil
}

// foundIdentity is a stored customer reached by one of the messages' identities.
type foundIdentity struct {
	ID                   int64
	Name, Locale, Tags   string
	CreatedAt, UpdatedAt time.Time
	IdentityKind         IdentityKind
	IdentityValue        string
}

// learntCustomer is a stored customer whose language or name a message told for the
// first time: the row is to be updated.
type learntCustomer struct {
	*Customer
	locale, name bool
}

// ownersOf gives each message the customer who owns its identity: one found, or one made
// up (fresh, to be written with the messages). A stored customer whose language is not
// known yet takes the one they write in, and one without a name the name the channel
// knows (learnt: the condition in the locale's update keeps whatever an agent or an
// earlier message set).
func ownersOf(ins []Inbound, res []*IntakeResult, found []foundIdentity, now time.Time) (owners map[identityKey]*Customer, fresh []*Customer, learnt []*learntCustomer) {
	owners = map[identityKey]*Customer{}
	byID := map[int64]*Customer{} // one customer reached by two identities is one Customer
	for _, f := range found {
		c := byID[f.ID]
		if c == nil {
			c = &Customer{ID: f.ID, Name: f.Name, Locale: f.Locale, Tags: f.Tags, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt}
			byID[f.ID] = c
		}
		owners[identityKey{f.IdentityKind, f.IdentityValue}] = c
	}
	changed := map[*Customer]*learntCustomer{}
	learn := func(c *Customer) *learntCustomer {
		l := changed[c]
		if l == nil {
			l = &learntCustomer{Customer: c}
			changed[c] = l
			learnt = append(learnt, l)
		}
		return l
	}
	for i, in := range ins {
		if res[i] != nil {
			continue
		}
		k := identityKey{in.From, in.Address}
		name := strings.TrimSpace(in.Name)
		if c := owners[k]; c != nil {
			if c.Locale == "" && in.Locale != "" {
				c.Locale = in.Locale
				if c.ID != 0 { // else created by an earlier message of this batch
					learn(c).locale = true
				}
			}
			if c.Name == "" && name != "" {
				c.Name = name
				if c.ID != 0 {
					learn(c).name = true
				}
			}
			continue
		}
		c := &Customer{Name: name, Locale: in.Locale, CreatedAt: now, UpdatedAt: now}
		id := newIdentity(0, in.From, in.Address, now)
		c.Identities = []*Identity{id}
		owners[k] = c
		fresh = append(fresh, c)
	}
	return owners, fresh, learnt
}

// customerFor finds the customer who owns an identity, creating both when it is new. A
// concurrent intake that creates the same identity first makes the insert fail on the
// unique key, and the transaction is retried to find that customer.
func (s *Service) customerFor(ctx context.Context, tx bun.IDB, kind IdentityKind, value, name, locale string) (*Customer, error) {
	c := new(Customer)
	err := tx.NewSelect().Model(c).
		Where("id = (SELECT customer_id FROM customer_identities WHERE kind = ? AND value = ?)", kind, value).
		Scan(ctx)
	if err == nil {
		if c.Name == "" && name != "" {
			c.Name = name
			if _, err := tx.NewUpdate().Model(c).Column("name").WherePK().Exec(ctx); err != nil {
				return nil, fmt.Errorf("name customer: %w", err)
			}
		}
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find customer: %w", err)
	}
	now := s.now()
	c = &Customer{Name: strings.TrimSpace(name), Locale: locale, CreatedAt: now, UpdatedAt: now}
	if _, err := tx.NewInsert().Model(c).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create customer: %w", err)
	}
	id := newIdentity(c.ID, kind, value, now)
	if _, err := tx.NewInsert().Model(id).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create customer identity: %w", err)
	}
	c.Identities = []*Identity{id}
	return c, nil
}

// newIdentity is an identity about to be stored, with what searching for it needs.
func newIdentity(customerID int64, kind IdentityKind, value string, now time.Time) *Identity {
	id := &Identity{CustomerID: customerID, Kind: kind, Value: value, CreatedAt: now}
	if kind == IdentityPhone {
		id.DigitsReversed = reverseDigits(value)
	}
	return id
}

// addIdentity links another way of reaching a customer, unless it already belongs to
// someone.
func (s *Service) addIdentity(ctx context.Context, tx bun.IDB, c *Customer, kind IdentityKind, value string) error {
	n, err := tx.NewSelect().Table("customer_identities").Where("kind = ? AND value = ?", kind, value).Count(ctx)
	if err != nil {
		return fmt.Errorf("check identity: %w", err)
	}
	if n > 0 {
		return nil
	}
	id := newIdentity(c.ID, kind, value, s.now())
	if _, err := tx.NewInsert().Model(id).Exec(ctx); err != nil {
		return fmt.Errorf("add identity: %w", err)
	}
	return nil
}

// The longest name and tag list a customer may be given.
const (
	maxCustomerName = 200
	maxCustomerTags = 500
)

// CustomerUpdate changes a customer's details; nil fields stay as they are.
type CustomerUpdate struct {
	Name   *string
	Locale *string
	Tags   *string // comma-separated, e.g. "vip"; routing rules match on them
}

// UpdateCustomer changes a customer's name, language or tags.
func (s *Service) UpdateCustomer(ctx context.Context, actor Actor, id int64, in CustomerUpdate) (*CustomerDetail, error) {
	if actor.Agent == nil {
		return nil, forbiddenf("only staff change customer details")
	}
	for _, f := range []struct {
		what string
		v    *string
		max  int
	}{{"name", in.Name, maxCustomerName}, {"tags", in.Tags, maxCustomerTags}, {"language", in.Locale, maxLocaleBytes}} {
		if f.v != nil && len(*f.v) > f.max {
			return nil, invalidf("%s is %d bytes, more than the %d allowed", f.what, len(*f.v), f.max)
		}
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		c := new(Customer)
		if err := tx.NewSelect().Model(c).Where("id = ?", id).Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return notFoundf("customer %d not found", id)
			}
			return fmt.Errorf("load customer: %w", err)
		}
		changed := map[string]any{}
		if in.Name != nil {
			c.Name, changed["name"] = strings.TrimSpace(*in.Name), strings.TrimSpace(*in.Name)
		}
		if in.Locale != nil {
			c.Locale, changed["locale"] = strings.TrimSpace(*in.Locale), strings.TrimSpace(*in.Locale)
		}
		if in.Tags != nil {
			tags := strings.Join(splitList(strings.ToLower(*in.Tags)), ",")
			c.Tags, changed["tags"] = tags, tags
		}
		if len(changed) == 0 {
			return invalidf("nothing to change")
		}
		c.UpdatedAt = s.now()
		if _, err := tx.NewUpdate().Model(c).Column("name", "locale", "tags", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("save customer: %w", err)
		}
		return s.record(ctx, tx, actor, "customer", id, "customer.updated", changed)
	})
	if err != nil {
		return nil, err
	}
	return s.Customer(ctx, id)
}
