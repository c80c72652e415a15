// Package tickets is Hotline's domain: customers and their identities, teams and agents,
// tickets, messages and the audit trail, and the Service that changes them. Every change
// happens in one database transaction together with its audit event.
package tickets

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"
)

// Config holds the service's settings.
type Config struct {
	// DefaultCountry is the calling code assumed for phone numbers written without one.
	DefaultCountry string
	// Deadlines computes a new ticket's deadlines; nil means DefaultDeadlines.
	Deadlines func(t *Ticket) Deadlines
	// TokenTTL is how long a login token lasts.
	TokenTTL time.Duration
	// PasswordCost is the bcrypt cost; 0 means bcrypt's default. Tests lower it.
	PasswordCost int
}

// Deadlines are the promises made to a customer when a ticket opens.
type Deadlines struct {
	FirstResponse time.Duration
	Resolution    time.Duration
}

// DefaultDeadlines are the service standards: a first response within 24 hours (48 for
// email) and a resolution within 48 hours.
func DefaultDeadlines(t *Ticket) Deadlines {
	d := Deadlines{FirstResponse: 24 * time.Hour, Resolution: 48 * time.Hour}
	if t.Channel == ChannelEmail {
		d.FirstResponse = 48 * time.Hour
	}
	return d
}

// Service changes the domain. It is safe for concurrent use.
type Service struct {
	db    *bun.DB
	clock Clock
	cfg   Config
	log   *slog.Logger
}

// NewService builds a Service over an open, migrated database.
func NewService(db *bun.DB, clock Clock, cfg Config, log *slog.Logger) *Service {
	if clock == nil {
		clock = SystemClock{}
	}
	if cfg.Deadlines == nil {
		cfg.Deadlines = DefaultDeadlines
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = 30 * 24 * time.Hour
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{db: db, clock: clock, cfg: cfg, log: log}
}

// now is the clock's time in UTC at the precision PostgreSQL stores.
func (s *Service) now() time.Time {
	return s.clock.Now().UTC().Truncate(time.Microsecond)
}

// noDeadline sorts after every real deadline in the queues.
var noDeadline = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// refreshNextDue recomputes the earliest open deadline, the queue order.
func (t *Ticket) refreshNextDue() {
	t.NextDueAt = noDeadline
	if !t.Status.Active() {
		return
	}
	if t.FirstRespondedAt == nil && t.FirstResponseDueAt != nil && t.FirstResponseDueAt.Before(t.NextDueAt) {
		t.NextDueAt = *t.FirstResponseDueAt
	}
	if t.ResolvedAt == nil && t.ResolutionDueAt != nil && t.ResolutionDueAt.Before(t.NextDueAt) {
		t.NextDueAt = *t.ResolutionDueAt
	}
}

// Actor is who makes a change: an agent, the customer, or the system itself.
type Actor struct {
	Agent *Agent // nil for the customer and the system
	Kind  string // "agent", "customer", "system"
}

// AgentActor is a change made by a signed-in agent.
func AgentActor(a *Agent) Actor { return Actor{Agent: a, Kind: "agent"} }

var (
	customerActor = Actor{Kind: "customer"}
	systemActor   = Actor{Kind: "system"}
)

// record appends an audit event inside tx.
func (s *Service) record(ctx context.Context, tx bun.IDB, actor Actor, entity string, entityID int64, kind string, data map[string]any) error {
	ev := &Event{Entity: entity, EntityID: entityID, Kind: kind, ActorKind: actor.Kind, Actor: actor.Kind, Data: "{}", CreatedAt: s.now()}
	if actor.Agent != nil {
		ev.ActorID = &actor.Agent.ID
		ev.Actor = actor.Agent.Email
	}
	if len(data) > 0 {
		b, err := json.Marshal(data)
		if err != nil {
			return fmt.Errorf("encode event %s: %w", kind, err)
		}
		ev.Data = string(b)
	}
	if _, err := tx.NewInsert().Model(ev).Exec(ctx); err != nil {
		return fmt.Errorf("record event %s: %w", kind, err)
	}
	return nil
}
