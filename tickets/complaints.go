package tickets

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
)

// ComplaintStatus is where a complaint stands: received → investigating → decided → closed.
type ComplaintStatus string

const (
	ComplaintReceived      ComplaintStatus = "received"
	ComplaintInvestigating ComplaintStatus = "investigating"
	ComplaintDecided       ComplaintStatus = "decided"
	ComplaintClosed        ComplaintStatus = "closed"
)

var complaintNext = map[ComplaintStatus][]ComplaintStatus{
	ComplaintReceived:      {ComplaintInvestigating, ComplaintDecided},
	ComplaintInvestigating: {ComplaintDecided},
	ComplaintDecided:       {ComplaintClosed, ComplaintInvestigating},
	ComplaintClosed:        {},
}

// ComplaintSource says how a complaint came in.
type ComplaintSource string

const (
	SourceSLABreach ComplaintSource = "sla_breach" // a ticket missed its resolution deadline
	SourceCustomer  ComplaintSource = "customer"   // the customer said 投诉 / complaint
	SourceIVR       ComplaintSource = "ivr"        // the phone menu's complaint option
	SourceAPI       ComplaintSource = "api"        // logged by staff
	SourceRegulator ComplaintSource = "regulator"  // forwarded by the regulator
)

// ComplaintWorkingDays is how long a complaint may take: 10 working days after the day it
// was received.
const ComplaintWorkingDays = 10

// complaintWarnDays is how many working days before its deadline an officer is warned.
const complaintWarnDays = 2

// Complaint is a formal complaint about a ticket, with its own decision deadline.
type Complaint struct {
	bun.BaseModel `bun:"table:complaints"`

	ID              int64           `bun:",pk,autoincrement"`
	TicketID        int64           `bun:",notnull"`
	Source          ComplaintSource `bun:",notnull"`
	Summary         string          `bun:",notnull"`
	ReceivedAt      time.Time       `bun:",notnull"`
	DueAt           time.Time       `bun:",notnull"`
	ExtendedUntil   *time.Time
	ExtensionReason string    `bun:",notnull"`
	DeadlineAt      time.Time `bun:",notnull"` // DueAt, or ExtendedUntil once extended
	WarnAt          *time.Time
	OfficerID       *int64
	Status          ComplaintStatus `bun:",notnull"`
	Decision        string          `bun:",notnull"`
	Outcome         string          `bun:",notnull"`
	WarnedAt        *time.Time
	BreachedAt      *time.Time
	DecidedAt       *time.Time
	ClosedAt        *time.Time
	CreatedAt       time.Time `bun:",notnull"`
	UpdatedAt       time.Time `bun:",notnull"`

	Ticket  *Ticket `bun:"rel:belongs-to,join:ticket_id=id"`
	Officer *Agent  `bun:"rel:belongs-to,join:officer_id=id"`

	receipt int64 // the customer's receipt notice, to deliver after the commit
}

// ComplaintRefPrefix starts every complaint reference.
const ComplaintRefPrefix = "CP-"

// Ref is the complaint's reference, e.g. CP-000042.
func (c *Complaint) Ref() string { return fmt.Sprintf("%s%06d", ComplaintRefPrefix, c.ID) }

// Open reports whether the complaint still waits for a decision.
func (c *Complaint) Open() bool {
	return c.Status == ComplaintReceived || c.Status == ComplaintInvestigating
}

// Overdue reports whether the decision is late at now.
func (c *Complaint) Overdue(now time.Time) bool { return c.Open() && now.After(c.DeadlineAt) }

func parseComplaintRef(ref string) (int64, bool) {
	ref = strings.TrimSpace(ref)
	if len(ref) <= len(ComplaintRefPrefix) || !strings.EqualFold(ref[:len(ComplaintRefPrefix)], ComplaintRefPrefix) {
		return 0, false
	}
	id, err := strconv.ParseInt(ref[len(ComplaintRefPrefix):], 10, 64)
	return id, err == nil && id > 0
}

// newComplaint builds a complaint received at `received`, due 10 working days later.
func (s *Service) newComplaint(ticketID int64, source ComplaintSource, summary string, received time.Time) *Complaint {
	now := s.now()
	due := s.cal.AddWorkingDays(received, ComplaintWorkingDays).UTC()
	warn := s.cal.WorkingDaysBefore(due, complaintWarnDays).UTC()
	return &Complaint{TicketID: ticketID, Source: source, Summary: summary, ReceivedAt: received, DueAt: due, DeadlineAt: due,
		WarnAt: &warn, Status: ComplaintReceived, CreatedAt: now, UpdatedAt: now}
}

// complaintOpen is the predicate of complaints_one_open_idx: a complaint waiting for its
// decision. The index allows one such complaint per ticket.
const complaintOpen = "status IN ('received', 'investigating')"

// openComplaints inserts complaints, gives each to the complaint officer with the fewest
// open ones, records the events and tells the officers and the customers. It returns the
// complaints it opened: a ticket that already has an open complaint gets none.
func (s *Service) openComplaints(ctx context.Context, tx bun.IDB, actor Actor, cs []*Complaint) ([]*Complaint, error) {
	opened, _, err := s.openComplaintsOnce(ctx, tx, actor, cs)
	return opened, err
}

// openComplaintsOnce opens complaints at most once per ticket and returns those it opened
// and, by ticket id, the open complaint each other ticket already had. The unique index
// complaints_one_open_idx holds the rule: the insert does nothing for a ticket whose open
// complaint a concurrent transaction committed first (PostgreSQL waits for it), and that
// complaint is read back instead, so the loser sends no receipt, assigns no officer,
// schedules no clock and writes no event.
func (s *Service) openComplaintsOnce(ctx context.Context, tx bun.IDB, actor Actor, cs []*Complaint) ([]*Complaint, map[int64]*Complaint, error) {
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
	existing, err := s.openComplaintsOf(ctx, tx, ids)
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

	var officers []*Agent
	if err := tx.NewSelect().Model(&officers).
		ColumnExpr("agent.*").
		ColumnExpr("(SELECT COUNT(*) FROM complaints AS c WHERE c.officer_id = agent.id AND c.status IN ('received', 'investigating')) AS load").
		Where("agent.role = ? AND agent.active", RoleComplaintOfficer).
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
		others, err := s.openComplaintsOf(ctx, tx, lost)
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
	evs := make([]*Event, 0, len(fresh))
	var notes []*Notice
	for _, c := range fresh {
		evs = append(evs, s.event(actor, "ticket", c.TicketID, "complaint.opened", map[string]any{
			"complaint": c.Ref(), "source": c.Source, "due_at": c.DueAt, "officer_id": c.OfficerID,
		}))
		if c.OfficerID != nil {
			notes = append(notes, &Notice{AgentID: *c.OfficerID, Kind: "complaint.assigned", TicketID: &c.TicketID, ComplaintID: &c.ID,
				Body: fmt.Sprintf("Complaint %s about %s is yours; decision due %s.", c.Ref(), FormatRef(c.TicketID), c.DueAt.In(s.cal.loc).Format("2006-01-02 15:04"))})
		}
	}
	if err := s.insertEvents(ctx, tx, evs); err != nil {
		return nil, nil, err
	}
	// The customer is told the complaint is received and when it will be decided.
	for _, c := range fresh {
		if !s.cfg.Notices {
			break
		}
		t, err := s.ticketByID(ctx, tx, c.TicketID)
		if err != nil {
			return nil, nil, err
		}
		if c.receipt, err = s.notify(ctx, tx, t, TemplateComplaintReceived, TemplateData{Complaint: c.Ref(), Due: c.DueAt.In(s.cal.loc).Format("2006-01-02")}); err != nil {
			return nil, nil, err
		}
	}
	if len(officers) == 0 {
		// Nobody handles complaints: the people who answer for the desk must know.
		admins, err := s.agentsWithRole(ctx, tx, RoleAdmin, nil)
		if err != nil {
			return nil, nil, err
		}
		for _, c := range fresh {
			for _, a := range admins {
				notes = append(notes, &Notice{AgentID: a, Kind: "complaint.unassigned", TicketID: &c.TicketID, ComplaintID: &c.ID,
					Body: fmt.Sprintf("Complaint %s about %s has no officer: there is no active complaint officer.", c.Ref(), FormatRef(c.TicketID))})
			}
		}
	}
	return fresh, existing, s.insertNotices(ctx, tx, notes)
}

// openComplaintsOf reads the open complaint of each of the tickets that has one.
func (s *Service) openComplaintsOf(ctx context.Context, tx bun.IDB, ticketIDs []int64) (map[int64]*Complaint, error) {
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
	Source     ComplaintSource // customer, ivr, api (default) or regulator
	Summary    string
	ReceivedAt time.Time // zero means now; may be in the past for a letter or call logged late
	Customer   NewTicket // used when TicketRef is empty
}

// OpenComplaint logs a complaint received directly. A ticket has one open complaint at a
// time: when it already has one, OpenComplaint changes nothing and returns that complaint
// with an error that is ErrConflict.
func (s *Service) OpenComplaint(ctx context.Context, actor Actor, in NewComplaint) (*Complaint, error) {
	if actor.Agent == nil {
		return nil, forbiddenf("only staff log complaints")
	}
	if in.Source == "" {
		in.Source = SourceAPI
	}
	switch in.Source {
	case SourceCustomer, SourceIVR, SourceAPI, SourceRegulator:
	default:
		return nil, invalidf("source must be customer, ivr, api or regulator, not %q", in.Source)
	}
	now := s.now()
	received := in.ReceivedAt.UTC().Truncate(time.Microsecond)
	if in.ReceivedAt.IsZero() {
		received = now
	}
	if received.After(now) {
		return nil, invalidf("received_at is in the future")
	}
	summary := strings.TrimSpace(in.Summary)
	if summary == "" {
		return nil, invalidf("say what the complaint is about in a summary")
	}
	ref := in.TicketRef
	if ref == "" {
		if in.Customer.Subject == "" {
			in.Customer.Subject = "投诉 Complaint: " + summary
		}
		if in.Customer.Body == "" {
			in.Customer.Body = summary
		}
		t, err := s.CreateTicket(ctx, actor, in.Customer)
		if err != nil {
			return nil, err
		}
		ref = t.Ref()
	}
	id, ok := ParseRef(ref)
	if !ok {
		return nil, notFoundf("%q is not a ticket reference (expected e.g. %s)", ref, FormatRef(123))
	}
	var opened []*Complaint
	var existing *Complaint
	err := s.inTx(ctx, func(tx bun.Tx) error {
		opened, existing = nil, nil
		if _, err := s.ticketByID(ctx, tx, id); err != nil {
			return err
		}
		var others map[int64]*Complaint
		var err error
		opened, others, err = s.openComplaintsOnce(ctx, tx, actor, []*Complaint{s.newComplaint(id, in.Source, summary, received)})
		existing = others[id]
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(opened) == 0 {
		if existing == nil { // decided between the insert and the read: rare enough to ask again
			return nil, conflictf("%s already had an open complaint; try again", FormatRef(id))
		}
		c, err := s.Complaint(ctx, existing.Ref())
		if err != nil {
			return nil, err
		}
		return c, conflictf("%s already has an open complaint, %s", FormatRef(id), c.Ref())
	}
	s.schedule(ctx, opened[0].timers())
	s.deliver(ctx, opened[0].receipt)
	return s.Complaint(ctx, opened[0].Ref())
}

// timers lists a complaint's wake-ups: its warning and its deadline.
func (c *Complaint) timers() []Timer {
	if !c.Open() || c.BreachedAt != nil {
		return nil
	}
	out := []Timer{{Kind: "complaint", ID: c.ID, At: c.DeadlineAt, Due: c.DeadlineAt}}
	if c.WarnAt != nil {
		out = append(out, Timer{Kind: "complaint-warn", ID: c.ID, At: *c.WarnAt, Due: c.DeadlineAt})
	}
	return out
}

// Complaint returns one complaint with its ticket and officer.
func (s *Service) Complaint(ctx context.Context, ref string) (*Complaint, error) {
	id, ok := parseComplaintRef(ref)
	if !ok {
		return nil, notFoundf("%q is not a complaint reference (expected e.g. CP-000042)", ref)
	}
	c := new(Complaint)
	err := s.db.NewSelect().Model(c).Relation("Ticket").Relation("Officer").Where("complaint.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFoundf("complaint %s not found", ref)
	}
	if err != nil {
		return nil, fmt.Errorf("load complaint: %w", err)
	}
	return c, nil
}

// ComplaintFilter selects complaints for the officers' board.
type ComplaintFilter struct {
	Statuses  []ComplaintStatus
	OfficerID *int64
	Overdue   bool
	DueBefore *time.Time
	TicketID  int64
	Limit     int
}

// Complaints lists complaints, nearest deadline first.
func (s *Service) Complaints(ctx context.Context, f ComplaintFilter) ([]*Complaint, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	var cs []*Complaint
	q := s.db.NewSelect().Model(&cs).Relation("Ticket").Relation("Officer").
		OrderExpr("complaint.deadline_at, complaint.id").Limit(f.Limit)
	for _, st := range f.Statuses {
		if _, ok := complaintNext[st]; !ok {
			return nil, invalidf("unknown complaint status %q (received, investigating, decided, closed)", st)
		}
	}
	if len(f.Statuses) > 0 {
		q = q.Where("complaint.status IN (?)", bun.In(f.Statuses))
	}
	if f.OfficerID != nil {
		q = q.Where("complaint.officer_id = ?", *f.OfficerID)
	}
	if f.Overdue {
		q = q.Where("complaint.status IN ('received', 'investigating') AND complaint.deadline_at < ?", s.now())
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

// changeComplaint locks a complaint, checks the actor may handle it, and runs fn in one
// transaction: complaint officers, supervisors and admins may.
func (s *Service) changeComplaint(ctx context.Context, actor Actor, ref string, fn func(tx bun.Tx, c *Complaint) error) (*Complaint, error) {
	id, ok := parseComplaintRef(ref)
	if !ok {
		return nil, notFoundf("%q is not a complaint reference (expected e.g. CP-000042)", ref)
	}
	if a := actor.Agent; a != nil && a.Role == RoleAgent {
		return nil, forbiddenf("complaints are handled by complaint officers, supervisors and admins")
	}
	var c *Complaint
	err := s.inTx(ctx, func(tx bun.Tx) error {
		res, err := tx.NewUpdate().Table("complaints").Set("updated_at = ?", s.now()).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("lock complaint: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFoundf("complaint %s not found", ref)
		}
		c = new(Complaint)
		if err := tx.NewSelect().Model(c).Where("id = ?", id).Scan(ctx); err != nil {
			return fmt.Errorf("load complaint: %w", err)
		}
		if err := fn(tx, c); err != nil {
			return err
		}
		c.UpdatedAt = s.now()
		_, err = tx.NewUpdate().Model(c).WherePK().ExcludeColumn("id", "created_at").Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.schedule(ctx, c.timers())
	return s.Complaint(ctx, c.Ref())
}

// SetComplaintStatus moves a complaint along received → investigating → decided → closed.
func (s *Service) SetComplaintStatus(ctx context.Context, actor Actor, ref string, to ComplaintStatus, reason string) (*Complaint, error) {
	if _, ok := complaintNext[to]; !ok {
		return nil, invalidf("unknown complaint status %q (received, investigating, decided, closed)", to)
	}
	if to == ComplaintDecided {
		return nil, invalidf("record a decision to decide a complaint")
	}
	return s.changeComplaint(ctx, actor, ref, func(tx bun.Tx, c *Complaint) error {
		allowed := false
		for _, next := range complaintNext[c.Status] {
			allowed = allowed || next == to
		}
		if !allowed {
			return conflictf("%s cannot go from %s to %s", c.Ref(), c.Status, to)
		}
		from := c.Status
		if !c.Open() && to == ComplaintInvestigating {
			// Reopening a decided complaint: complaints_one_open_idx allows one open complaint
			// a ticket, so one opened since must be decided first. (A concurrent opener makes
			// the update below fail on the index; the retry then finds its complaint here.)
			others, err := s.openComplaintsOf(ctx, tx, []int64{c.TicketID})
			if err != nil {
				return err
			}
			if o := others[c.TicketID]; o != nil {
				return conflictf("%s already has an open complaint, %s; decide it before reopening %s", FormatRef(c.TicketID), o.Ref(), c.Ref())
			}
		}
		c.Status = to
		if to == ComplaintClosed {
			now := s.now()
			c.ClosedAt = &now
		}
		return s.record(ctx, tx, actor, "ticket", c.TicketID, "complaint.status_changed", map[string]any{"complaint": c.Ref(), "from": from, "to": to, "reason": strings.TrimSpace(reason)})
	})
}

// AssignComplaint gives a complaint to an officer.
func (s *Service) AssignComplaint(ctx context.Context, actor Actor, ref string, officerID int64) (*Complaint, error) {
	return s.changeComplaint(ctx, actor, ref, func(tx bun.Tx, c *Complaint) error {
		o, err := s.agentByID(ctx, tx, officerID)
		if err != nil {
			return err
		}
		if !o.Active || o.Role == RoleAgent {
			return conflictf("%s cannot handle complaints", o.Email)
		}
		from := c.OfficerID
		c.OfficerID = &o.ID
		if err := s.insertNotices(ctx, tx, []*Notice{{AgentID: o.ID, Kind: "complaint.assigned", TicketID: &c.TicketID, ComplaintID: &c.ID,
			Body: fmt.Sprintf("Complaint %s is yours; decision due %s.", c.Ref(), c.DeadlineAt.In(s.cal.loc).Format("2006-01-02 15:04"))}}); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, "ticket", c.TicketID, "complaint.assigned", map[string]any{"complaint": c.Ref(), "from": from, "to": o.ID})
	})
}

// DecideComplaint records the decision and its outcome (e.g. upheld, partly upheld, not
// upheld) and tells the customer on their channel.
func (s *Service) DecideComplaint(ctx context.Context, actor Actor, ref, decision, outcome string) (*Complaint, error) {
	decision, outcome = strings.TrimSpace(decision), strings.TrimSpace(outcome)
	if decision == "" || outcome == "" {
		return nil, invalidf("a decision needs its text and an outcome")
	}
	var told int64
	defer func() { s.deliver(ctx, told) }()
	return s.changeComplaint(ctx, actor, ref, func(tx bun.Tx, c *Complaint) error {
		if !c.Open() {
			return conflictf("%s is already %s", c.Ref(), c.Status)
		}
		now := s.now()
		c.Status, c.Decision, c.Outcome, c.DecidedAt, c.WarnAt = ComplaintDecided, decision, outcome, &now, nil
		t, err := s.ticketByID(ctx, tx, c.TicketID)
		if err != nil {
			return err
		}
		if told, err = s.notify(ctx, tx, t, TemplateComplaintDecided, TemplateData{Complaint: c.Ref(), Decision: decision}); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, "ticket", c.TicketID, "complaint.decided", map[string]any{
			"complaint": c.Ref(), "outcome": outcome, "on_time": !now.After(c.DeadlineAt)})
	})
}

// ExtendComplaint moves a complaint's deadline once, to a later time, with a reason; the
// customer is told.
func (s *Service) ExtendComplaint(ctx context.Context, actor Actor, ref string, until time.Time, reason string) (*Complaint, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, invalidf("an extension needs a reason")
	}
	var told int64
	defer func() { s.deliver(ctx, told) }()
	return s.changeComplaint(ctx, actor, ref, func(tx bun.Tx, c *Complaint) error {
		if !c.Open() {
			return conflictf("%s is %s; only an open complaint can be extended", c.Ref(), c.Status)
		}
		if c.ExtendedUntil != nil {
			return conflictf("%s was already extended once, to %s", c.Ref(), c.ExtendedUntil.In(s.cal.loc).Format("2006-01-02"))
		}
		until = until.UTC().Truncate(time.Microsecond)
		if !until.After(c.DueAt) {
			return invalidf("the new deadline must be after the current one (%s)", c.DueAt.In(s.cal.loc).Format(time.RFC3339))
		}
		warn := s.cal.WorkingDaysBefore(until, complaintWarnDays).UTC()
		c.ExtendedUntil, c.ExtensionReason, c.DeadlineAt = &until, reason, until
		c.WarnAt, c.WarnedAt, c.BreachedAt = &warn, nil, nil
		t, err := s.ticketByID(ctx, tx, c.TicketID)
		if err != nil {
			return err
		}
		if told, err = s.notify(ctx, tx, t, TemplateComplaintExtended, TemplateData{Complaint: c.Ref(), Due: until.In(s.cal.loc).Format("2006-01-02"), Reason: reason}); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, "ticket", c.TicketID, "complaint.extended", map[string]any{
			"complaint": c.Ref(), "from": c.DueAt, "to": until, "reason": reason})
	})
}

// tellCustomer queues a message to the customer on the ticket's notice channel and returns
// its id, to be handed to the sender after the commit (0 when nothing can reach them).
func (s *Service) tellCustomer(ctx context.Context, tx bun.IDB, t *Ticket, body string) (int64, error) {
	ch, err := s.noticeChannel(ctx, tx, t)
	if err != nil {
		return 0, err
	}
	m := &Message{TicketID: t.ID, Direction: DirectionOutbound, Channel: ch, Body: body, DeliveryStatus: DeliveryQueued, CreatedAt: s.now()}
	if ch == "" { // kept, visibly undelivered, so the agent knows to call
		m.Channel, m.DeliveryStatus, m.DeliveryError = ChannelWeChat, DeliveryFailed, "not sent: WeChat's 48-hour window has closed and the customer has no phone number or email address"
	}
	if err := s.insertMessage(ctx, tx, m, nil); err != nil {
		return 0, err
	}
	if ch == "" {
		return 0, s.record(ctx, tx, systemActor, "ticket", t.ID, "delivery.failed", map[string]any{"message_id": m.ID, "error": m.DeliveryError})
	}
	return m.ID, s.record(ctx, tx, systemActor, "ticket", t.ID, "reply.queued", map[string]any{"message_id": m.ID, "channel": ch})
}

// noticeChannel is where a message nobody writes by hand goes: the customer's reply
// channel, or SMS or email when WeChat's 48-hour window has closed (the fallback is
// recorded on the ticket); "" when nothing reaches them.
func (s *Service) noticeChannel(ctx context.Context, tx bun.IDB, t *Ticket) (Channel, error) {
	ch, err := s.replyChannel(ctx, tx, t)
	if err != nil || ch != ChannelWeChat {
		return ch, err
	}
	closed := s.wechatWindowOpen(ctx, tx, t.CustomerID)
	if closed == nil {
		return ch, nil
	}
	for _, alt := range []Channel{ChannelSMS, ChannelEmail} {
		if s.canReach(ctx, tx, t.CustomerID, alt) == nil {
			return alt, s.record(ctx, tx, systemActor, "ticket", t.ID, "notice.fallback", map[string]any{"from": ChannelWeChat, "to": alt, "reason": "WeChat's 48-hour window has closed"})
		}
	}
	return "", nil
}

// complaintKeywords in a customer's message open a complaint.
var complaintKeywords = []string{"投诉", "complaint", "complain"}

func mentionsComplaint(text string) bool {
	lower := strings.ToLower(text)
	for _, k := range complaintKeywords {
		if strings.Contains(lower, k) {
			return true
		}
	}
	return false
}
