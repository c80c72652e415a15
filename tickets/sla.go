package tickets

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// A ticket's deadlines: the SLA policy that matches it (or the defaults), its first
// response and resolution deadlines and warnings, counted in clock or working time from
// its SLA window, with the time it waited on the customer (the clock's pauses) added.

// BreachAction is what a missed deadline does.
type BreachAction string

const (
	BreachWarn      BreachAction = "warn"      // record it and tell the team's supervisors
	BreachEscalate  BreachAction = "escalate"  // also raise the priority one step
	BreachComplaint BreachAction = "complaint" // open a complaint with its own deadline
)

// Valid reports whether a is a known action.
func (a BreachAction) Valid() bool {
	return a == BreachWarn || a == BreachEscalate || a == BreachComplaint
}

// Policy is a service promise: how soon a matching ticket gets its first response and its
// resolution, counted in clock time or in working time, and what a breach does. Policies
// are tried in position order; empty match fields match anything.
type Policy struct {
	bun.BaseModel `bun:"table:sla_policies"`

	ID                   int64        `bun:",pk,autoincrement"`
	Position             int          `bun:",notnull"`
	Name                 string       `bun:",notnull"`
	Channel              Channel      `bun:",notnull"`
	Priority             Priority     `bun:",notnull"`
	Category             string       `bun:",notnull"`
	FirstResponseSeconds int64        `bun:",notnull"`
	ResolutionSeconds    int64        `bun:",notnull"`
	WorkingTime          bool         `bun:",notnull"`
	FirstResponseBreach  BreachAction `bun:",notnull"`
	ResolutionBreach     BreachAction `bun:",notnull"`
	CreatedAt            time.Time    `bun:",notnull"`
	UpdatedAt            time.Time    `bun:",notnull"`
}

func (p *Policy) matches(t *Ticket) bool {
	return (p.Channel == "" || p.Channel == t.Channel) &&
		(p.Priority == "" || p.Priority == t.Priority) &&
		(p.Category == "" || strings.EqualFold(p.Category, t.Category))
}

func (p *Policy) firstResponse() time.Duration {
	return time.Duration(p.FirstResponseSeconds) * time.Second
}
func (p *Policy) resolution() time.Duration { return time.Duration(p.ResolutionSeconds) * time.Second }

// SLADefaults apply when no stored policy matches a ticket.
type SLADefaults struct {
	FirstResponse      time.Duration // 24h
	EmailFirstResponse time.Duration // 48h
	Resolution         time.Duration // 48h
	// WarnAt are the fractions of a deadline's time after which the owner is warned.
	WarnAt []float64 // 0.75, 0.90
}

func (d *SLADefaults) fill() {
	if d.FirstResponse == 0 {
		d.FirstResponse = 24 * time.Hour
	}
	if d.EmailFirstResponse == 0 {
		d.EmailFirstResponse = max(48*time.Hour, d.FirstResponse)
	}
	if d.Resolution == 0 {
		d.Resolution = 48 * time.Hour
	}
	if d.WarnAt == nil {
		d.WarnAt = []float64{0.75, 0.90}
	}
}

// defaultPolicy is the built-in promise: first response in 24 hours (48 for email),
// resolution in 48, clock time; a late first response escalates, a late resolution becomes
// a complaint.
func (s *Service) defaultPolicy(t *Ticket) *Policy {
	d := s.cfg.SLA
	p := &Policy{Name: "default", FirstResponseSeconds: int64(d.FirstResponse / time.Second), ResolutionSeconds: int64(d.Resolution / time.Second),
		FirstResponseBreach: BreachEscalate, ResolutionBreach: BreachComplaint}
	if t.Channel == ChannelEmail {
		p.FirstResponseSeconds = int64(d.EmailFirstResponse / time.Second)
	}
	return p
}

// policyFor is the first policy of r matching t, else the default one.
func (s *Service) policyFor(r *ruleSet, t *Ticket) *Policy {
	for _, p := range r.policies {
		if p.matches(t) {
			return p
		}
	}
	return s.defaultPolicy(t)
}

// policyByID finds the policy a ticket recorded, for its breach actions.
func (s *Service) policyByID(ctx context.Context, db bun.IDB, t *Ticket) (*Policy, error) {
	if t.PolicyID != nil {
		r, err := s.loadRules(ctx, db)
		if err != nil {
			return nil, err
		}
		for _, p := range r.policies {
			if p.ID == *t.PolicyID {
				return p, nil
			}
		}
	}
	return s.defaultPolicy(t), nil
}

// after is start moved on by d, in clock or working time, plus the time the clock stood
// still.
func (s *Service) after(start time.Time, d time.Duration, working bool, pauses []pause) time.Time {
	if !working {
		for _, p := range pauses {
			d += p.end.Sub(p.start)
		}
		return start.Add(d).UTC()
	}
	for _, p := range pauses {
		d += s.cal.WorkingTimeBetween(p.start, p.end)
	}
	return s.cal.AddWorkingTime(start, d).UTC().Truncate(time.Microsecond)
}

type pause struct{ start, end time.Time }

// TicketPause is one stretch of waiting on the customer.
type TicketPause struct {
	bun.BaseModel `bun:"table:ticket_pauses"`

	ID        int64     `bun:",pk,autoincrement"`
	TicketID  int64     `bun:",notnull"`
	StartedAt time.Time `bun:",notnull"`
	EndedAt   *time.Time
}

// slaStart is when the current SLA window began.
func (t *Ticket) slaStart() time.Time {
	if t.SLAStartedAt != nil {
		return *t.SLAStartedAt
	}
	return t.CreatedAt
}

// applyDeadlines matches a ticket's policy and sets its deadlines and next warnings from
// its SLA window and the pauses in it. Deadlines already met or breached keep their record.
func (s *Service) applyDeadlines(ctx context.Context, db bun.IDB, t *Ticket) error {
	r, err := s.loadRules(ctx, db)
	if err != nil {
		return err
	}
	return s.applyRules(ctx, db, t, r)
}

// applyRules is applyDeadlines with the rules given. The ticket keeps the rules' generation:
// rules this process cached before another's edit leave it stale, to be re-timed.
func (s *Service) applyRules(ctx context.Context, db bun.IDB, t *Ticket, r *ruleSet) error {
	p := s.policyFor(r, t)
	t.SLAGeneration = r.gen
	var err error
	t.PolicyID = nil
	if p.ID != 0 {
		t.PolicyID = &p.ID
	}
	start := t.slaStart()
	t.SLAStartedAt = &start
	var pauses []pause
	if t.ID != 0 {
		if pauses, err = s.pausesOf(ctx, db, t); err != nil {
			return err
		}
	}

	// The first response is owed from the customer's first contact: reopening a ticket
	// nobody answered does not restart that clock.
	if t.FirstRespondedAt == nil && t.FirstResponseBreachedAt == nil {
		due := s.after(t.CreatedAt, p.firstResponse(), p.WorkingTime, nil)
		t.FirstResponseDueAt = &due
		t.FirstResponseWarnAt = s.nextWarn(t.CreatedAt, p.firstResponse(), p.WorkingTime, nil, t.FirstResponseWarned)
	} else {
		t.FirstResponseWarnAt = nil
	}
	if t.ResolvedAt == nil && t.ResolutionBreachedAt == nil {
		due := s.after(start, p.resolution(), p.WorkingTime, pauses)
		t.ResolutionDueAt = &due
		t.ResolutionWarnAt = nil
		if t.PausedAt == nil {
			t.ResolutionWarnAt = s.nextWarn(start, p.resolution(), p.WorkingTime, pauses, t.ResolutionWarned)
		}
	} else {
		t.ResolutionWarnAt = nil
	}
	t.refreshNextDue()
	return nil
}

// nextWarn is when the next warning falls due, after `warned` of them were given.
func (s *Service) nextWarn(start time.Time, d time.Duration, working bool, pauses []pause, warned int) *time.Time {
	if warned >= len(s.cfg.SLA.WarnAt) {
		return nil
	}
	at := s.after(start, time.Duration(float64(d)*s.cfg.SLA.WarnAt[warned]), working, pauses)
	return &at
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
	if t.ResolvedAt == nil && t.PausedAt == nil && t.ResolutionDueAt != nil && t.ResolutionDueAt.Before(t.NextDueAt) {
		t.NextDueAt = *t.ResolutionDueAt
	}
}

// pauseClock stops the resolution clock while the ticket waits on the customer.
func (s *Service) pauseClock(ctx context.Context, tx bun.IDB, t *Ticket, now time.Time) error {
	t.PausedAt = &now
	t.ResolutionWarnAt = nil
	if _, err := tx.NewInsert().Model(&TicketPause{TicketID: t.ID, StartedAt: now}).Exec(ctx); err != nil {
		return fmt.Errorf("record pause: %w", err)
	}
	return nil
}

// resumeClock ends the pause and moves the resolution deadline by its length.
func (s *Service) resumeClock(ctx context.Context, tx bun.IDB, t *Ticket, now time.Time) (time.Duration, error) {
	if t.PausedAt == nil {
		return 0, nil
	}
	paused := now.Sub(*t.PausedAt)
	if _, err := tx.NewUpdate().Model((*TicketPause)(nil)).Set("ended_at = ?", now).
		Where("ticket_id = ? AND ended_at IS NULL", t.ID).Exec(ctx); err != nil {
		return 0, fmt.Errorf("end pause: %w", err)
	}
	t.PausedAt = nil
	return paused, s.applyDeadlines(ctx, tx, t)
}

func (s *Service) pausesOf(ctx context.Context, db bun.IDB, t *Ticket) ([]pause, error) {
	var rows []*TicketPause
	if err := db.NewSelect().Model(&rows).Where("ticket_id = ? AND started_at >= ? AND ended_at IS NOT NULL", t.ID, t.slaStart()).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load pauses: %w", err)
	}
	out := make([]pause, len(rows))
	for i, r := range rows {
		out[i] = pause{r.StartedAt, *r.EndedAt}
	}
	return out, nil
}
