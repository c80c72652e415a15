package tickets

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
)

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

// rules caches policies and routing rules: every new ticket needs them, and they change
// rarely. Edits in this process are seen at once; other processes' within rulesMaxAge.
type rules struct {
	mu         sync.Mutex
	set        *ruleSet
	setGen     uint64    // gen when set was read
	gen        uint64    // bumped by every edit in this process
	loaded     time.Time // when set was read, if no edit came since
	refreshing bool      // a caller is reading set again
}

// ruleSet is one reading of the rules; it is never changed once read.
type ruleSet struct {
	gen      int64 // the policies' generation (sla_state), read before them: theirs is no older
	policies []*Policy
	routing  []*RoutingRule
	wordings map[string]string // admins' notice wordings by key/locale
}

const rulesMaxAge = 30 * time.Second

// loadRules returns the rules, reading them again through db (the caller's transaction,
// when it has one) once they are older than rulesMaxAge or an edit made them wrong. No lock
// is held while the database is read, and no caller waits for another's reading: callers
// in transactions each hold a pooled connection, and if they all waited for one caller
// that needed another connection, none would ever move again. While one caller refreshes
// rules that are merely old, the others use them as they are.
func (s *Service) loadRules(ctx context.Context, db bun.IDB) (*ruleSet, error) {
	r := s.rules
	r.mu.Lock()
	cached, valid := r.set, r.set != nil && r.setGen == r.gen
	if valid && (time.Since(r.loaded) < rulesMaxAge || r.refreshing) {
		r.mu.Unlock()
		return cached, nil
	}
	r.refreshing = true
	gen := r.gen
	r.mu.Unlock()

	next, err := readRules(ctx, db)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refreshing = false
	if err != nil {
		return nil, err
	}
	if r.set == nil || gen >= r.setGen {
		r.set, r.setGen = next, gen
		if gen == r.gen {
			r.loaded = time.Now()
		}
	}
	return next, nil
}

func readRules(ctx context.Context, db bun.IDB) (*ruleSet, error) {
	// The generation first: should an edit commit between the two reads, the policies are
	// newer than the generation that tickets get stamped with, and they are re-timed once
	// more, never the other way round.
	gen, err := slaGeneration(ctx, db)
	if err != nil {
		return nil, err
	}
	var ps []*Policy
	if err := db.NewSelect().Model(&ps).OrderExpr("position, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load SLA policies: %w", err)
	}
	var rs []*RoutingRule
	if err := db.NewSelect().Model(&rs).Where("active").OrderExpr("position, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load routing rules: %w", err)
	}
	var ts []*MessageTemplate
	if err := db.NewSelect().Model(&ts).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load notice wordings: %w", err)
	}
	wordings := make(map[string]string, len(ts))
	for _, t := range ts {
		wordings[t.Key+"/"+t.Locale] = t.Body
	}
	return &ruleSet{gen: gen, policies: ps, routing: rs, wordings: wordings}, nil
}

// slaGeneration is the generation of the SLA policies: how many edits they have had.
func slaGeneration(ctx context.Context, db bun.IDB) (int64, error) {
	var gen int64
	if err := db.NewSelect().Table("sla_state").Column("generation").Where("id = 1").Scan(ctx, &gen); err != nil {
		return 0, fmt.Errorf("read SLA policy generation: %w", err)
	}
	return gen, nil
}

// bumpSLAGeneration marks every open ticket's deadlines as worked out under older policies
// (or an older calendar). It runs in the transaction that edits them, so an edit that
// commits has always made the tickets stale, and the update's row lock orders concurrent
// edits.
func bumpSLAGeneration(ctx context.Context, tx bun.IDB) error {
	if _, err := tx.NewUpdate().Table("sla_state").Set("generation = generation + 1").Where("id = 1").Exec(ctx); err != nil {
		return fmt.Errorf("bump SLA policy generation: %w", err)
	}
	return nil
}

// forgetRules makes every later loadRules read the rules again.
func (s *Service) forgetRules() {
	s.rules.mu.Lock()
	s.rules.gen++
	s.rules.loaded = time.Time{}
	s.rules.mu.Unlock()
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

// Timer wakes the system at a deadline or warning. Its id is deterministic, so scheduling
// it twice is harmless, and a moved deadline gets a new id while the old timer finds
// nothing to do.
type Timer struct {
	Kind string    // "first", "first-warn1", "resolution", "complaint", "complaint-warn", ...
	ID   int64     // the ticket's or the complaint's
	At   time.Time // when to wake
	Due  time.Time // the deadline it serves
}

// TaskID is the timer's deterministic id, sla:<kind>:<id>:<due unix>.
func (tm Timer) TaskID() string {
	return fmt.Sprintf("sla:%s:%d:%d", tm.Kind, tm.ID, tm.Due.Unix())
}

// Scheduler hands work to the job system after a commit: timers that wake deadlines, and
// outbound messages to deliver. The database stays the truth: a timer or a send lost with
// Redis is found again by the reconciler.
type Scheduler interface {
	Schedule(ctx context.Context, timers []Timer) error
	Deliver(ctx context.Context, messageIDs []int64) error
}

// timers lists the wake-ups a ticket's open deadlines need.
func (t *Ticket) timers() []Timer {
	var out []Timer
	if !t.Status.Active() {
		return out
	}
	if t.FirstRespondedAt == nil && t.FirstResponseBreachedAt == nil && t.FirstResponseDueAt != nil {
		out = append(out, Timer{Kind: "first", ID: t.ID, At: *t.FirstResponseDueAt, Due: *t.FirstResponseDueAt})
		if t.FirstResponseWarnAt != nil {
			out = append(out, Timer{Kind: fmt.Sprintf("first-warn%d", t.FirstResponseWarned+1), ID: t.ID, At: *t.FirstResponseWarnAt, Due: *t.FirstResponseDueAt})
		}
	}
	if t.ResolvedAt == nil && t.ResolutionBreachedAt == nil && t.PausedAt == nil && t.ResolutionDueAt != nil {
		out = append(out, Timer{Kind: "resolution", ID: t.ID, At: *t.ResolutionDueAt, Due: *t.ResolutionDueAt})
		if t.ResolutionWarnAt != nil {
			out = append(out, Timer{Kind: fmt.Sprintf("resolution-warn%d", t.ResolutionWarned+1), ID: t.ID, At: *t.ResolutionWarnAt, Due: *t.ResolutionDueAt})
		}
	}
	return out
}

// schedule hands timers to the scheduler after a commit. A failure is logged, not
// returned: the change is stored, and the reconciler will find the deadline.
func (s *Service) schedule(ctx context.Context, timers []Timer) {
	if s.scheduler == nil || len(timers) == 0 {
		return
	}
	if err := s.scheduler.Schedule(ctx, timers); err != nil {
		s.log.Warn("could not schedule deadline timers; the reconciler will catch them", "timers", len(timers), "err", err)
	}
}

// deliver hands queued outbound messages to the senders after a commit.
func (s *Service) deliver(ctx context.Context, ids ...int64) {
	ids = slices.DeleteFunc(ids, func(id int64) bool { return id == 0 })
	if s.scheduler == nil || len(ids) == 0 {
		return
	}
	if err := s.scheduler.Deliver(ctx, ids); err != nil {
		s.log.Warn("could not queue messages for delivery; the reconciler will", "messages", len(ids), "err", err)
	}
}

// Schedule hands timers to the job system once the change that set them has committed,
// as the service does with its own: a failure is logged, not returned, since the
// reconciler finds the deadline anyway.
func (s *Service) Schedule(ctx context.Context, timers []Timer) { s.schedule(ctx, timers) }

// Deliver hands messages queued to customers to the senders once their transaction has
// committed, as the service does with its own; ids of 0 are skipped. A failure is logged:
// the reconciler sends what is left queued.
func (s *Service) Deliver(ctx context.Context, ids ...int64) { s.deliver(ctx, ids...) }

// SetScheduler plugs in the job system that wakes deadlines and sends messages.
func (s *Service) SetScheduler(sch Scheduler) { s.scheduler = sch }

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

// ReapplyTimer is the timer kind that asks a worker to run ReapplyDeadlines.
const ReapplyTimer = "reapply"

// reapplyBatch is how many tickets one re-apply transaction re-times.
const reapplyBatch = 500

// policiesChanged re-times open tickets after a policy edit (which bumped the generation in
// its transaction): in a job when a scheduler is plugged in, else at once. The job's id
// names the generation, so each edit gets its own job, even two in one second while the
// first one's job runs; a job lost with Redis is the reconciler's, which re-applies while
// any open ticket is stale.
func (s *Service) policiesChanged(ctx context.Context) {
	s.forgetRules()
	if s.scheduler == nil {
		if _, err := s.ReapplyDeadlines(ctx); err != nil {
			s.log.Warn("could not re-time open tickets after a policy change; the reconciler will", "err", err)
		}
		return
	}
	gen, err := slaGeneration(ctx, s.db)
	if err != nil {
		s.log.Warn("could not schedule the re-timing of open tickets; the reconciler will", "err", err)
		return
	}
	now := s.now()
	s.schedule(ctx, []Timer{{Kind: ReapplyTimer, ID: gen, At: now, Due: now}})
}

// Reapplied is what a re-apply did.
type Reapplied struct {
	Retimed int // open tickets whose deadlines or policy changed
	Busy    int // stale open tickets other transactions held; a later run (the reconciler's) takes them
}

// ReapplyDeadlines matches every stale open ticket (timed under older policies) against the
// current policies again, in batches, until none is left that it can take; it moves the
// deadlines that changed and stamps each ticket with the generation it was timed under.
// Tickets another transaction holds are skipped, not passed: they stay stale, and the next
// run takes them. With nothing stale it costs one index probe.
func (s *Service) ReapplyDeadlines(ctx context.Context) (Reapplied, error) {
	var res Reapplied
	stale, err := s.staleTickets(ctx)
	if err != nil || stale == 0 {
		return res, err
	}
	s.forgetRules()
	// The edit may have been to the calendar, in another process.
	if err := s.LoadCalendar(ctx); err != nil {
		return res, err
	}
	for {
		var timers []Timer
		taken, retimed := 0, 0
		err := s.inTx(ctx, func(tx bun.Tx) error {
			timers, taken, retimed = nil, 0, 0
			gen, err := slaGeneration(ctx, tx)
			if err != nil {
				return err
			}
			var batch []*Ticket
			q := tx.NewSelect().Model(&batch).Where("sla_generation < ? AND status IN ('new', 'open', 'pending')", gen).OrderExpr("id").Limit(reapplyBatch)
			if err := s.SkipLocked(q).Scan(ctx); err != nil {
				return fmt.Errorf("load stale open tickets: %w", err)
			}
			if taken = len(batch); taken == 0 {
				return nil
			}
			// Read afresh, not from the cache: the edit may have come from another process.
			r, err := readRules(ctx, tx)
			if err != nil {
				return err
			}
			var evs []*Event
			var current []int64
			for _, t := range batch {
				before := *t
				if err := s.applyRules(ctx, tx, t, r); err != nil {
					return err
				}
				if sameTime(before.FirstResponseDueAt, t.FirstResponseDueAt) && sameTime(before.ResolutionDueAt, t.ResolutionDueAt) && sameID(before.PolicyID, t.PolicyID) {
					current = append(current, t.ID)
					continue
				}
				if _, err := tx.NewUpdate().Model(t).WherePK().ExcludeColumn("id", "created_at").Exec(ctx); err != nil {
					return fmt.Errorf("re-time ticket: %w", err)
				}
				evs = append(evs, s.event(systemActor, "ticket", t.ID, "sla.policy_applied", map[string]any{
					"policy_id": t.PolicyID, "first_response_due_at": t.FirstResponseDueAt, "resolution_due_at": t.ResolutionDueAt}))
				timers = append(timers, t.timers()...)
				retimed++
			}
			if len(current) > 0 { // unchanged by the edit: only the generation moves
				if _, err := tx.NewUpdate().Table("tickets").Set("sla_generation = ?", r.gen).Where("id IN (?)", bun.In(current)).Exec(ctx); err != nil {
					return fmt.Errorf("stamp re-applied tickets: %w", err)
				}
			}
			return s.insertEvents(ctx, tx, evs)
		})
		if err != nil {
			return res, err
		}
		s.schedule(ctx, timers)
		res.Retimed += retimed
		if taken == 0 {
			break
		}
	}
	res.Busy, err = s.staleTickets(ctx)
	return res, err
}

// staleTickets counts the open tickets timed under older policies than the current ones.
func (s *Service) staleTickets(ctx context.Context) (int, error) {
	n, err := s.db.NewSelect().Table("tickets").
		Where("sla_generation < (SELECT generation FROM sla_state WHERE id = 1) AND status IN ('new', 'open', 'pending')").
		Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count stale open tickets: %w", err)
	}
	return n, nil
}

func sameTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}
