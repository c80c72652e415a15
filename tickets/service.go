package tickets

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// Config holds the service's settings.
type Config struct {
	// DefaultCountry is the calling code assumed for phone numbers written without one.
	DefaultCountry string
	// SLA is the promise kept when no stored policy matches.
	SLA SLADefaults
	// Calendar counts working days and hours; nil means Asia/Shanghai, 09:00–18:00.
	Calendar *Calendar
	// PasswordCost is the bcrypt cost; 0 means bcrypt's default. Tests lower it.
	PasswordCost int
	// ReopenWindow is how long after resolution a customer's message reopens the ticket
	// rather than opening a new one; 0 means 7 days, negative never.
	ReopenWindow time.Duration
	// Notices tells customers, on their channel and in their language, that their email or
	// WeChat message was received (with its reference), that their ticket is resolved, and
	// that their complaint is received. A complaint's decision and extension are always told.
	Notices bool
	// QuietHours holds back automated SMS notices of non-urgent tickets between these times
	// of day (calendar zone): [start, end), across midnight when start > end. Zero means
	// 21:00–08:00; equal start and end turn quiet hours off.
	QuietStart, QuietEnd time.Duration
	// IntakeBatches is how many intake transactions run at once; a message arriving while
	// they all run joins the next, with up to IntakeBatchSize others. Zero means 2 on
	// PostgreSQL (measured best: more, smaller batches cost more per message) and 1 on
	// SQLite, whose writers take turns anyway; and 64 messages.
	IntakeBatches, IntakeBatchSize int
	// FileGrace is how long a file in the store that no message uses is kept before the
	// sweep deletes it: more than a transaction's life (MaxTxAge) and an upload, since a
	// file is put before its message's transaction. Zero means DefaultFileGrace; less than
	// MinFileGrace is raised to it (with a warning).
	FileGrace time.Duration
}

// Service changes the domain. It is one type, with some 160 methods (83 exported),
// because it is the core's transaction boundary: every change to customers, tickets,
// messages and the audit trail is one transaction of the Service's with its audit event
// written in it (the work on tickets and messages through inTx, which retries a
// transaction that lost a race), and what the change hands on runs after the commit
// (timers and sends, through its Scheduler). One change often reaches across the groups
// below (a message that reopens a ticket and opens a complaint, a reply that meets a
// deadline, a resolution that tells the customer and starts the aftercare), so they share
// its transactions, clock, cached rules and calendar rather than being types of their
// own. Its methods are grouped by file:
//
//   - the Service and its transactions: service.go (Config, audit events), db.go,
//     prepared.go, and the seams the chapters work through: chapters.go (Tx, InTx,
//     Aftercare), complaints_seam.go, deadlines_seam.go (the tickets' deadline columns),
//     progress_seam.go (files arriving for tickets/stages, a chapter's ticket change),
//     trail.go (the audit trail read exactly once, for tickets/outbox and tickets/webhooks),
//     sealing.go (secrets encrypted at rest, for tickets/access and tickets/webhooks)
//   - customers' messages coming in: intake.go, intake_tx.go, intake_special.go,
//     customers.go, threading.go, messages.go, batch.go, writes.go, voicemail.go
//   - work on tickets: ticket_open.go, ticket_change.go, ticket_status.go,
//     ticket_assign.go, ticket_fields.go, replies.go, reply_files.go, routing.go
//   - deadlines as a ticket is written: sla.go, rules.go, calendar.go, timers.go,
//     deadlines_seam.go, and the sweep's stage runner, sweep.go (the sweep itself is
//     tickets/deadlines')
//   - telling customers and staff: templates.go (customers' notices worded and queued),
//     optout.go (the opt-out check), delivery_failure.go (a failed send's reason, told to
//     its author), media_links.go (signed links to a reply's files), notices.go (staff
//     notices written; tickets/outbox delivers them to Slack); tickets/delivery sends what
//     is queued to customers
//   - reading: queries.go, search.go, console.go, metrics.go
//   - staff: agents.go, teams.go, settings.go, and what the doors use of the core:
//     access_seam.go (ending an agent's sessions, reads, an agent's own new password)
//
// The chapters beside the core (tickets/complaints, tickets/aftercare, tickets/canned,
// tickets/outbox, tickets/deadlines, tickets/access, tickets/delivery, tickets/webhooks,
// tickets/reports)
// are packages of their own: their changes run in the Service's transactions through Tx
// (InTx), the core calls two of them inside its own through seams (Aftercare,
// Complaints), and reports only reads. Service is safe for concurrent use.
type Service struct {
	db        *bun.DB
	clock     Clock
	cfg       Config
	log       *slog.Logger
	cal       *Calendar
	rules     *rules
	scheduler Scheduler
	care      Aftercare // nil: nothing follows a resolution
	intakes   *batcher[Inbound, *IntakeResult]
	contacts  *batcher[contactCall, *TicketDetail] // SQLite's logged contacts (ticket_open.go)
	wordings  sync.Map                             // notice wording → its parsed template
	stmts     *statements
	pgw       *pgSessions // the write shapes PostgreSQL's sessions prepared (prepared_pg.go)
	// The reads of intake's plain path and of a logged contact, rendered once.
	plainRead   func() (pgStatement, error)
	contactRead func() pgStatement
	writers     writerGate // SQLite's write transactions, one at a time in arrival order (db.go)

	// complaints opens complaints in the core's transactions (SetComplaints); nil: none.
	complaints Complaints
	// progress hears of files a customer sends to a ticket (SetProgress); nil: nobody.
	progress Progress
	// files keeps files' bytes (SetFileStore); nil: the database keeps them.
	files FileStore
	// storeFileMet, in tests, runs when storeFile's insert met the file's row already.
	storeFileMet func(key string)
	// filesHeld, in tests, runs when a message's transaction has held its files (holdFiles).
	filesHeld func(keys []string)
}

// NewService builds a Service over an open, migrated database.
func NewService(db *bun.DB, clock Clock, cfg Config, log *slog.Logger) *Service {
	if clock == nil {
		clock = SystemClock{}
	}
	cfg.SLA.fill()
	if cfg.QuietStart == 0 && cfg.QuietEnd == 0 {
		cfg.QuietStart, cfg.QuietEnd = 21*time.Hour, 8*time.Hour
	}
	if cfg.ReopenWindow == 0 {
		cfg.ReopenWindow = 7 * 24 * time.Hour
	}
	if log == nil {
		log = slog.Default()
	}
	cal := cfg.Calendar
	if cal == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("CST", 8*3600)
		}
		cal = NewCalendar(loc, 9*time.Hour, 18*time.Hour, log)
	}
	if cfg.IntakeBatches <= 0 {
		cfg.IntakeBatches = 2
		if db.Dialect().Name() != dialect.PG {
			cfg.IntakeBatches = 1
		}
	}
	if cfg.FileGrace <= 0 {
		cfg.FileGrace = DefaultFileGrace
	} else if cfg.FileGrace < MinFileGrace {
		log.Warn("file grace period too short: raised to the minimum", "asked", cfg.FileGrace.String(), "minimum", MinFileGrace.String())
		cfg.FileGrace = MinFileGrace
	}
	if cfg.IntakeBatchSize <= 0 {
		cfg.IntakeBatchSize = 64
	}
	s := &Service{db: db, clock: clock, cfg: cfg, log: log, cal: cal, rules: &rules{}, stmts: newStatements(db.DB), writers: newWriterGate(db)}
	if db.Dialect().Name() == dialect.PG {
		s.pgw = newPGSessions(log)
		s.plainRead = sync.OnceValues(s.plainReadStatement)
		s.contactRead = sync.OnceValue(s.contactReadStatement)
	}
	s.intakes = newBatcher(cfg.IntakeBatches, cfg.IntakeBatchSize, s.intakeBatch)
	if db.Dialect().Name() != dialect.PG {
		// Only SQLite batches logged contacts (it has one writer); PostgreSQL logs each in
		// a transaction of its own (ticket_open.go).
		s.contacts = newBatcher(1, cfg.IntakeBatchSize, s.contactBatch)
	}
	return s
}

// now is the clock's time in UTC at the precision PostgreSQL stores.
func (s *Service) now() time.Time {
	return s.clock.Now().UTC().Truncate(time.Microsecond)
}

// Logger is the service's logger, for the chapters' warnings.
func (s *Service) Logger() *slog.Logger { return s.log }

// Now is the service's time as it stamps rows: the clock's time in UTC at the precision
// PostgreSQL stores. Readers outside the package compare against those stamps with it.
func (s *Service) Now() time.Time { return s.now() }

// QuietHours are the times of day (calendar zone) between which automated SMS notices of
// non-urgent tickets are held back, [start, end) (Config.QuietStart, QuietEnd); equal
// means never. tickets/delivery holds them.
func (s *Service) QuietHours() (start, end time.Duration) { return s.cfg.QuietStart, s.cfg.QuietEnd }

// Actor is who makes a change: an agent, the customer, or the system itself.
type Actor struct {
	Agent *Agent // nil for the customer and the system
	Kind  string // "agent", "customer", "system"
}

// AgentActor is a change made by a signed-in agent.
func AgentActor(a *Agent) Actor { return Actor{Agent: a, Kind: "agent"} }

// KeyActor is a change made by another system through an API key called name. It carries
// an agent of role with no id, so that role checks read as for people, while the audit
// trail names the key and no row takes it for an author or assignee.
func KeyActor(name string, role Role) Actor {
	return Actor{Agent: &Agent{Name: name, Email: name, Role: role, Locale: "en", Active: true}, Kind: "apikey"}
}

// agentID is the agent who acts, for author and assignee columns: nil unless a person.
func (a Actor) agentID() *int64 {
	if a.Kind != "agent" || a.Agent == nil {
		return nil
	}
	return &a.Agent.ID
}

var (
	customerActor = Actor{Kind: "customer"}
	systemActor   = Actor{Kind: "system"}
)

// event builds an audit event.
func (s *Service) event(actor Actor, entity string, entityID int64, kind string, data map[string]any) *Event {
	ev := &Event{Entity: entity, EntityID: entityID, Kind: kind, ActorKind: actor.Kind, Actor: actor.Kind, Data: "{}", CreatedAt: s.now()}
	switch {
	case actor.Kind == "apikey" && actor.Agent != nil:
		ev.Actor = actor.Agent.Name
	case actor.Agent != nil:
		ev.ActorID = &actor.Agent.ID
		ev.Actor = actor.Agent.Email
	}
	if len(data) > 0 {
		if b, err := json.Marshal(data); err == nil {
			ev.Data = string(b)
		}
	}
	return ev
}

// record appends an audit event inside tx.
func (s *Service) record(ctx context.Context, tx bun.IDB, actor Actor, entity string, entityID int64, kind string, data map[string]any) error {
	return s.insertEvents(ctx, tx, []*Event{s.event(actor, entity, entityID, kind, data)})
}

// insertEvents appends audit events inside tx, many rows a statement.
func (s *Service) insertEvents(ctx context.Context, tx bun.IDB, evs []*Event) error {
	for start := 0; start < len(evs); start += 1000 {
		batch := evs[start:min(start+1000, len(evs))]
		if _, err := tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
			return fmt.Errorf("record %s events: %w", batch[0].Kind, err)
		}
	}
	return nil
}
