// Package complaints handles formal complaints (投诉) about tickets: opening them, at most
// one open a ticket and each given to the complaint officer with the fewest; their decision
// deadline, 10 working days after receipt on the holiday calendar, with a warning two
// working days before it and escalation after it; one extension; the decision; and the
// officers' board. The customer is told of the receipt, the extension and the decision.
//
// It is a chapter beside the core (package tickets), which knows nothing of it but a
// seam, tickets.Complaints: Service implements it and app plugs it in with
// tickets.Service.SetComplaints. Through it the core opens complaints inside its own
// transactions, where they must commit or roll back with the change that raised them:
// intake's, when a customer writes 投诉 / complaint or picks the phone menu's complaint
// option, and the sweep's, when a ticket misses a deadline its policy escalates to a
// complaint. The core hands the complaints' timers and receipts to the job system after
// its commit, as it does its own.
//
// The complaints' deadlines are swept here, not through the seam: they are this package's
// rows, each warning and breach handled in a transaction of its own, so nothing of them
// has to share a core transaction. Service.Sweep runs its two stages with the core's stage
// runner (tickets.Service.RunSweep: batches, SKIP LOCKED on PostgreSQL, a failing stage
// alone), and jobs, which wakes deadlines, runs it after the tickets' sweep, as the
// complaint stages always ran after the tickets'. So the seam stays one method, the core
// has no complaint deadline to know, and dependencies point one way: jobs and app use
// complaints, complaints uses the core.
//
// Staff reach complaints through Service: the console and the API log, list, move,
// assign, decide and extend them here.
package complaints

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// Service opens and changes complaints. It is safe for concurrent use.
type Service struct {
	svc *tickets.Service
}

// New builds the complaints of svc: on its database, clock, calendar and scheduler. It
// does not plug itself in: app calls svc.SetComplaints with it, so that intake and the
// sweep open complaints.
func New(svc *tickets.Service) *Service { return &Service{svc: svc} }

var _ tickets.Complaints = (*Service)(nil)

var system = tickets.Actor{Kind: "system"}

var complaintNext = map[tickets.ComplaintStatus][]tickets.ComplaintStatus{
	tickets.ComplaintReceived:      {tickets.ComplaintInvestigating, tickets.ComplaintDecided},
	tickets.ComplaintInvestigating: {tickets.ComplaintDecided},
	tickets.ComplaintDecided:       {tickets.ComplaintClosed, tickets.ComplaintInvestigating},
	tickets.ComplaintClosed:        {},
}

// WorkingDays is how long a complaint may take: 10 working days after the day it was
// received.
const WorkingDays = 10

// warnDays is how many working days before its deadline an officer is warned.
const warnDays = 2

// Complaint is a formal complaint about a ticket, with its own decision deadline.
type Complaint struct {
	bun.BaseModel `bun:"table:complaints"`

	ID              int64                   `bun:",pk,autoincrement"`
	TicketID        int64                   `bun:",notnull"`
	Source          tickets.ComplaintSource `bun:",notnull"`
	Summary         string                  `bun:",notnull"`
	ReceivedAt      time.Time               `bun:",notnull"`
	DueAt           time.Time               `bun:",notnull"`
	ExtendedUntil   *time.Time
	ExtensionReason string    `bun:",notnull"`
	DeadlineAt      time.Time `bun:",notnull"` // DueAt, or ExtendedUntil once extended
	WarnAt          *time.Time
	OfficerID       *int64
	Status          tickets.ComplaintStatus `bun:",notnull"`
	Decision        string                  `bun:",notnull"`
	Outcome         string                  `bun:",notnull"`
	WarnedAt        *time.Time
	BreachedAt      *time.Time
	DecidedAt       *time.Time
	ClosedAt        *time.Time
	CreatedAt       time.Time `bun:",notnull"`
	UpdatedAt       time.Time `bun:",notnull"`

	Ticket  *tickets.Ticket `bun:"rel:belongs-to,join:ticket_id=id"`
	Officer *tickets.Agent  `bun:"rel:belongs-to,join:officer_id=id"`

	receipt int64 // the customer's receipt notice, to deliver after the commit
}

// Ref is the complaint's reference, e.g. CP-000042.
func (c *Complaint) Ref() string { return tickets.FormatComplaintRef(c.ID) }

// Open reports whether the complaint still waits for a decision.
func (c *Complaint) Open() bool { return c.Status.Open() }

// Overdue reports whether the decision is late at now.
func (c *Complaint) Overdue(now time.Time) bool { return c.Open() && now.After(c.DeadlineAt) }

func parseRef(ref string) (int64, bool) {
	ref = strings.TrimSpace(ref)
	if len(ref) <= len(tickets.ComplaintRefPrefix) || !strings.EqualFold(ref[:len(tickets.ComplaintRefPrefix)], tickets.ComplaintRefPrefix) {
		return 0, false
	}
	id, err := strconv.ParseInt(ref[len(tickets.ComplaintRefPrefix):], 10, 64)
	return id, err == nil && id > 0
}

// newComplaint builds a complaint received at `received`, due 10 working days later.
func (s *Service) newComplaint(ticketID int64, source tickets.ComplaintSource, summary string, received time.Time) *Complaint {
	now := s.svc.Now()
	cal := s.svc.Calendar()
	due := cal.AddWorkingDays(received, WorkingDays).UTC()
	warn := cal.WorkingDaysBefore(due, warnDays).UTC()
	return &Complaint{TicketID: ticketID, Source: source, Summary: summary, ReceivedAt: received, DueAt: due, DeadlineAt: due,
		WarnAt: &warn, Status: tickets.ComplaintReceived, CreatedAt: now, UpdatedAt: now}
}

// complaintOpen is the predicate of complaints_one_open_idx: a complaint waiting for its
// decision. The index allows one such complaint per ticket.
const complaintOpen = "status IN ('received', 'investigating')"

// OpenInTx opens complaints about tickets in the core's transaction tx (intake's, the
// sweep's): it is this package's side of the seam tickets.Complaints. A ticket that has an
// open complaint gets none.
func (s *Service) OpenInTx(ctx context.Context, tx tickets.Tx, actor tickets.Actor, reqs []tickets.ComplaintRequest) ([]*tickets.OpenedComplaint, error) {
	cs := make([]*Complaint, len(reqs))
	for i, r := range reqs {
		cs[i] = s.newComplaint(r.TicketID, r.Source, r.Summary, r.ReceivedAt)
	}
	opened, _, err := s.openOnce(ctx, tx, actor, cs)
	if err != nil {
		return nil, err
	}
	out := make([]*tickets.OpenedComplaint, len(opened))
	for i, c := range opened {
		out[i] = &tickets.OpenedComplaint{ID: c.ID, TicketID: c.TicketID, Timers: c.timers(), Receipt: c.receipt}
	}
	return out, nil
}

// openOnce opens complaints at most once per ticket and returns those it opened and, by
// ticket id, the open complaint each other ticket already had: each opened is given to
// the complaint officer with the fewest open ones, its opening recorded and the officers
// and the customer told. The unique index complaints_one_open_idx holds the rule: the
// insert does nothing for a ticket whose open complaint a concurrent transaction committed
// first (PostgreSQL waits for it), and that complaint is read back instead, so the loser
// sends no receipt, assigns no officer, schedules no clock and writes no event.
func (s *Service) openOnce(ctx context.Context, tx tickets.Tx, actor tickets.Actor, cs []*Complaint) ([]*Complaint, map[int64]*Complaint, error) {
	if len(cs) == 0 {
		return nil, nil, nil
	}
	// One candidate per ticket, in ticket order: concurrent batches then take the index's
	// entries in the same order and cannot deadlock.
	byTicket := make(map[int64]*Complaint, len(cs))
	var want []*Complaint
	for _, c := range cs {
		if byTicket[c.TicketID] == nil {
			byTicket[c.TicketID] = c
			want = append(want, c)
		}
	}
	slices.SortFunc(want, func(a, b *Complaint) int { return cmp.Compare(a.TicketID, b.TicketID) })
	ids := make([]int64, len(want))
	for i, c := range want {
		ids[i] = c.TicketID
	}
	// Tickets whose open complaint is already committed are known before anything is
	// inserted, so no complaint number is used up on them. This read is not the guard: the
	// insert below is.
	existing, err := openOf(ctx, tx, ids)
	if err != nil {
		return nil, nil, err
	}
	var fresh []*Complaint
	for _, c := range want {
		if existing[c.TicketID] == nil {
			fresh = append(fresh, c)
		}
	}
	if len(fresh) == 0 {
		return nil, existing, nil
	}

	var officers []*tickets.Agent
	if err := tx.NewSelect().Model(&officers).
		ColumnExpr("agent.*").
		ColumnExpr("(SELECT COUNT(*) FROM complaints AS c WHERE c.officer_id = agent.id AND c.status IN ('received', 'investigating')) AS load").
		Where("agent.role = ? AND agent.active", tickets.RoleComplaintOfficer).
		OrderExpr("load, agent.id").Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("find complaint officers: %w", err)
	}
	for _, c := range fresh {
		if len(officers) == 0 {
			break
		}
		least := officers[0]
		for _, o := range officers[1:] {
			if o.Load < least.Load {
				least = o
			}
		}
		c.OfficerID = &least.ID
		least.Load++
	}
	// RETURNING lists only the rows inserted, in no promised order: they are matched to
	// the candidates by ticket.
	var newIDs, newTickets []int64
	if err := tx.NewInsert().Model(&fresh).
		On("CONFLICT (ticket_id) WHERE "+complaintOpen+" DO NOTHING").
		Returning("id, ticket_id").Scan(ctx, &newIDs, &newTickets); err != nil {
		return nil, nil, fmt.Errorf("open complaints: %w", err)
	}
	won := make(map[int64]int64, len(newIDs))
	for i, id := range newIDs {
		won[newTickets[i]] = id
	}
	var lost []int64
	for _, c := range fresh {
		if id, ok := won[c.TicketID]; ok {
			c.ID = id
		} else {
			lost = append(lost, c.TicketID)
		}
	}
	if len(lost) > 0 {
		// A concurrent opener committed first: its complaint is the ticket's.
		others, err := openOf(ctx, tx, lost)
		if err != nil {
			return nil, nil, err
		}
		if existing == nil {
			existing = map[int64]*Complaint{}
		}
		maps.Copy(existing, others)
		fresh = slices.DeleteFunc(fresh, func(c *Complaint) bool { return c.ID == 0 })
		if len(fresh) == 0 {
			return nil, existing, nil
		}
	}
	loc := s.svc.Calendar().Location()
	evs := make([]*tickets.Event, 0, len(fresh))
	var notes []*tickets.Notice
	for _, c := range fresh {
		evs = append(evs, tx.Event(actor, "ticket", c.TicketID, "complaint.opened", map[string]any{
			"complaint": c.Ref(), "source": c.Source, "due_at": c.DueAt, "officer_id": c.OfficerID,
		}))
		if c.OfficerID != nil {
			notes = append(notes, &tickets.Notice{AgentID: *c.OfficerID, Kind: "complaint.assigned", TicketID: &c.TicketID, ComplaintID: &c.ID,
				Body: fmt.Sprintf("Complaint %s about %s is yours; decision due %s.", c.Ref(), tickets.FormatRef(c.TicketID), c.DueAt.In(loc).Format("2006-01-02 15:04"))})
		}
	}
	if err := tx.Record(ctx, evs...); err != nil {
		return nil, nil, err
	}
	// The customer is told the complaint is received and when it will be decided.
	for _, c := range fresh {
		if !s.svc.CustomerNotices() {
			break
		}
		t, err := tx.Ticket(ctx, c.TicketID)
		if err != nil {
			return nil, nil, err
		}
		if c.receipt, err = tx.Notify(ctx, t, tickets.TemplateComplaintReceived, tickets.TemplateData{Complaint: c.Ref(), Due: c.DueAt.In(loc).Format("2006-01-02")}); err != nil {
			return nil, nil, err
		}
	}
	if len(officers) == 0 {
		// Nobody handles complaints: the people who answer for the desk must know.
		admins, err := tx.AgentsWithRole(ctx, tickets.RoleAdmin, nil)
		if err != nil {
			return nil, nil, err
		}
		for _, c := range fresh {
			for _, a := range admins {
				notes = append(notes, &tickets.Notice{AgentID: a, Kind: "complaint.unassigned", TicketID: &c.TicketID, ComplaintID: &c.ID,
					Body: fmt.Sprintf("Complaint %s about %s has no officer: there is no active complaint officer.", c.Ref(), tickets.FormatRef(c.TicketID))})
			}
		}
	}
	return fresh, existing, tx.AddNotices(ctx, notes)
}

// openOf reads the open complaint of each of the tickets that has one.
func openOf(ctx context.Context, tx bun.IDB, ticketIDs []int64) (map[int64]*Complaint, error) {
	var open []*Complaint
	if err := tx.NewSelect().Model(&open).Where("ticket_id IN (?) AND "+complaintOpen, bun.In(ticketIDs)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("find open complaints: %w", err)
	}
	if len(open) == 0 {
		return nil, nil
	}
	out := make(map[int64]*Complaint, len(open))
	for _, c := range open {
		out[c.TicketID] = c
	}
	return out, nil
}

// NewComplaint is a complaint logged by staff: about an existing ticket, or from a customer
// who has none yet.
type NewComplaint struct {
	TicketRef  string
	Source     tickets.ComplaintSource // customer, ivr, api (default) or regulator
	Summary    string
	ReceivedAt time.Time         // zero means now; may be in the past for a letter or call logged late
	Customer   tickets.NewTicket // used when TicketRef is empty
}

// Open logs a complaint received directly. A ticket has one open complaint at a time: when
// it already has one, Open changes nothing and returns that complaint with an error that
// is ErrConflict.
func (s *Service) Open(ctx context.Context, actor tickets.Actor, in NewComplaint) (*Complaint, error) {
	if actor.Agent == nil {
		return nil, tickets.Forbiddenf("only staff log complaints")
	}
	if in.Source == "" {
		in.Source = tickets.SourceAPI
	}
	switch in.Source {
	case tickets.SourceCustomer, tickets.SourceIVR, tickets.SourceAPI, tickets.SourceRegulator:
	default:
		return nil, tickets.Invalidf("source must be customer, ivr, api or regulator, not %q", in.Source)
	}
	now := s.svc.Now()
	received := in.ReceivedAt.UTC().Truncate(time.Microsecond)
	if in.ReceivedAt.IsZero() {
		received = now
	}
	if received.After(now) {
		return nil, tickets.Invalidf("received_at is in the future")
	}
	summary := strings.TrimSpace(in.Summary)
	if summary == "" {
		return nil, tickets.Invalidf("say what the complaint is about in a summary")
	}
	ref := in.TicketRef
	if ref == "" {
		if in.Customer.Subject == "" {
			in.Customer.Subject = "投诉 Complaint: " + summary
		}
		if in.Customer.Body == "" {
			in.Customer.Body = summary
		}
		t, err := s.svc.CreateTicket(ctx, actor, in.Customer)
		if err != nil {
			return nil, err
		}
		ref = t.Ref()
	}
	id, ok := tickets.ParseRef(ref)
	if !ok {
		return nil, tickets.NotFoundf("%q is not a ticket reference (expected e.g. %s)", ref, tickets.FormatRef(123))
	}
	var opened []*Complaint
	var existing *Complaint
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		opened, existing = nil, nil
		if _, err := tx.Ticket(ctx, id); err != nil {
			return err
		}
		var others map[int64]*Complaint
		var err error
		opened, others, err = s.openOnce(ctx, tx, actor, []*Complaint{s.newComplaint(id, in.Source, summary, received)})
		existing = others[id]
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(opened) == 0 {
		if existing == nil { // decided between the insert and the read: rare enough to ask again
			return nil, tickets.Conflictf("%s already had an open complaint; try again", tickets.FormatRef(id))
		}
		c, err := s.Complaint(ctx, existing.Ref())
		if err != nil {
			return nil, err
		}
		return c, tickets.Conflictf("%s already has an open complaint, %s", tickets.FormatRef(id), c.Ref())
	}
	s.svc.Schedule(ctx, opened[0].timers())
	s.svc.Deliver(ctx, opened[0].receipt)
	return s.Complaint(ctx, opened[0].Ref())
}

// timers lists a complaint's wake-ups: its warning and its deadline.
func (c *Complaint) timers() []tickets.Timer {
	if !c.Open() || c.BreachedAt != nil {
		return nil
	}
	out := []tickets.Timer{{Kind: timerDeadline, ID: c.ID, At: c.DeadlineAt, Due: c.DeadlineAt}}
	if c.WarnAt != nil {
		out = append(out, tickets.Timer{Kind: timerWarning, ID: c.ID, At: *c.WarnAt, Due: c.DeadlineAt})
	}
	return out
}

// Complaint returns one complaint with its ticket and officer.
func (s *Service) Complaint(ctx context.Context, ref string) (*Complaint, error) {
	id, ok := parseRef(ref)
	if !ok {
		return nil, tickets.NotFoundf("%q is not a complaint reference (expected e.g. CP-000042)", ref)
	}
	c := new(Complaint)
	err := s.svc.DB().NewSelect().Model(c).Relation("Ticket").Relation("Officer").Where("complaint.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tickets.NotFoundf("complaint %s not found", ref)
	}
	if err != nil {
		return nil, fmt.Errorf("load complaint: %w", err)
	}
	return c, nil
}

// Filter selects complaints for the officers' board.
type Filter struct {
	Statuses  []tickets.ComplaintStatus
	OfficerID *int64
	Overdue   bool
	DueBefore *time.Time
	TicketID  int64
	Limit     int
}

// Complaints lists complaints, nearest deadline first.
func (s *Service) Complaints(ctx context.Context, f Filter) ([]*Complaint, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	var cs []*Complaint
	q := s.svc.DB().NewSelect().Model(&cs).Relation("Ticket").Relation("Officer").
		OrderExpr("complaint.deadline_at, complaint.id").Limit(f.Limit)
	for _, st := range f.Statuses {
		if _, ok := complaintNext[st]; !ok {
			return nil, tickets.Invalidf("unknown complaint status %q (received, investigating, decided, closed)", st)
		}
	}
	if len(f.Statuses) > 0 {
		q = q.Where("complaint.status IN (?)", bun.In(f.Statuses))
	}
	if f.OfficerID != nil {
		q = q.Where("complaint.officer_id = ?", *f.OfficerID)
	}
	if f.Overdue {
		q = q.Where("complaint.status IN ('received', 'investigating') AND complaint.deadline_at < ?", s.svc.Now())
	}
	if f.DueBefore != nil {
		q = q.Where("complaint.deadline_at < ?", f.DueBefore.UTC())
	}
	if f.TicketID != 0 {
		q = q.Where("complaint.ticket_id = ?", f.TicketID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list complaints: %w", err)
	}
	return cs, nil
}

// OfCustomer lists a customer's complaints across all their tickets, newest first (at
// most 50): what an agent sees of them beside a ticket.
func (s *Service) OfCustomer(ctx context.Context, customerID int64) ([]*Complaint, error) {
	var cs []*Complaint
	if err := s.svc.DB().NewSelect().Model(&cs).
		Where("complaint.ticket_id IN (?)", s.svc.DB().NewSelect().TableExpr("tickets").Column("id").Where("customer_id = ?", customerID)).
		OrderExpr("complaint.id DESC").Limit(50).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load customer's complaints: %w", err)
	}
	return cs, nil
}
