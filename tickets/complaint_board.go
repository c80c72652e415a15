package tickets

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// ComplaintOutcomes are the outcomes a decision is recorded with: the complaint is upheld,
// partly upheld or not upheld. DecideComplaint stores whatever it is given; the console
// offers these.
var ComplaintOutcomes = []string{"upheld", "partly_upheld", "not_upheld"}

// ValidComplaintOutcome reports whether o is one of ComplaintOutcomes.
func ValidComplaintOutcome(o string) bool {
	for _, k := range ComplaintOutcomes {
		if o == k {
			return true
		}
	}
	return false
}

// CanHandleComplaints reports whether the agent may move, assign, decide and extend
// complaints: complaint officers, supervisors and admins may; plain agents may only read
// them. It is the rule changeComplaint enforces.
func (a *Agent) CanHandleComplaints() bool { return a != nil && a.Role != RoleAgent }

// maxCalendarDays bounds the day-by-day walks below: ten years.
const maxCalendarDays = 3660

// WorkingDaysLeft counts the working days from now to a deadline on the calendar, the way
// an officer says it: the working days after today up to and including the deadline's
// day, so 0 on the day a complaint falls due. Once the deadline's day is over it is the
// negative count of working days since then: -1 on the first working day after it.
// Statutory holidays do not count and make-up working days do.
func (c *Calendar) WorkingDaysLeft(now, deadline time.Time) int {
	today, last := c.dayStart(now), c.dayStart(deadline)
	sign, from, to := 1, today, last
	if today.After(last) {
		sign, from, to = -1, last, today
	}
	n := 0
	for day, guard := from.AddDate(0, 0, 1), 0; !day.After(to) && guard < maxCalendarDays; day, guard = day.AddDate(0, 0, 1), guard+1 {
		if c.IsWorkingDay(day) {
			n++
		}
	}
	return sign * n
}

// EndOfWorkingDay is the last second of a date written like 2026-12-18 in the calendar's
// zone, the moment a deadline set to that day falls, as AddWorkingDays gives it. A date
// that is not a working day is refused: a deadline falls on a working day.
func (c *Calendar) EndOfWorkingDay(date string) (time.Time, error) {
	day, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(date), c.loc)
	if err != nil {
		return time.Time{}, invalidf("%q is not a date like 2026-12-18", date)
	}
	if !c.IsWorkingDay(day) {
		return time.Time{}, invalidf("%s is not a working day (weekend or public holiday); choose a working day", day.Format(time.DateOnly))
	}
	return c.EndOfDay(day), nil
}

// ComplaintCard is a complaint as the officers' board shows it, with its time left counted
// in working days at the moment the board was read.
type ComplaintCard struct {
	*Complaint
	DaysLeft int  // working days to the deadline (see WorkingDaysLeft); negative once overdue
	Overdue  bool // still open after its deadline
	DueSoon  bool // open, not overdue, and within the warning period of 2 working days
	OnTime   bool // decided by its deadline
}

func (s *Service) card(c *Complaint, now time.Time) *ComplaintCard {
	k := &ComplaintCard{Complaint: c, DaysLeft: s.cal.WorkingDaysLeft(now, c.DeadlineAt), Overdue: c.Overdue(now)}
	k.DueSoon = c.Open() && !k.Overdue && k.DaysLeft <= complaintWarnDays
	k.OnTime = c.DecidedAt != nil && !c.DecidedAt.After(c.DeadlineAt)
	return k
}

// BoardFilter selects what the complaints board shows.
type BoardFilter struct {
	OfficerID    *int64 // only this officer's complaints
	DecidedDays  int    // decided complaints of the last this many days; 0 means 30
	DecidedLimit int    // at most this many decided complaints; 0 means 50
}

// boardOpenLimit bounds each open column; a desk with more open complaints sees the most
// urgent and is told there are more.
const boardOpenLimit = 500

// ComplaintBoard is the complaint officers' board: open complaints by status, overdue
// first then nearest deadline, and the recently decided ones, newest first.
type ComplaintBoard struct {
	Received      []*ComplaintCard
	Investigating []*ComplaintCard
	Decided       []*ComplaintCard // decided or since closed, within the filter's window
	Overdue       int              // open complaints past their deadline
	DueSoon       int              // open complaints due within 2 working days
	More          bool             // more open complaints than the board shows
	DecidedSince  time.Time
}

// ComplaintBoard reads the board, with each complaint's ticket, customer and officer.
func (s *Service) ComplaintBoard(ctx context.Context, f BoardFilter) (*ComplaintBoard, error) {
	if f.DecidedDays <= 0 {
		f.DecidedDays = 30
	}
	if f.DecidedLimit <= 0 || f.DecidedLimit > 200 {
		f.DecidedLimit = 50
	}
	now := s.now()
	b := &ComplaintBoard{DecidedSince: now.AddDate(0, 0, -f.DecidedDays)}
	query := func(out *[]*Complaint) *bun.SelectQuery {
		q := s.db.NewSelect().Model(out).Relation("Ticket").Relation("Ticket.Customer").Relation("Officer")
		if f.OfficerID != nil {
			q = q.Where("complaint.officer_id = ?", *f.OfficerID)
		}
		return q
	}
	var open, decided []*Complaint
	if err := query(&open).Where("complaint.status IN (?)", bun.In([]ComplaintStatus{ComplaintReceived, ComplaintInvestigating})).
		OrderExpr("complaint.deadline_at, complaint.id").Limit(boardOpenLimit + 1).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list open complaints: %w", err)
	}
	if len(open) > boardOpenLimit {
		open, b.More = open[:boardOpenLimit], true
	}
	if err := query(&decided).Where("complaint.status IN (?)", bun.In([]ComplaintStatus{ComplaintDecided, ComplaintClosed})).
		Where("complaint.decided_at >= ?", b.DecidedSince).
		OrderExpr("complaint.decided_at DESC, complaint.id DESC").Limit(f.DecidedLimit).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list decided complaints: %w", err)
	}
	ts := make([]*Ticket, 0, len(open)+len(decided))
	for _, c := range append(append([]*Complaint{}, open...), decided...) {
		if c.Ticket != nil {
			ts = append(ts, c.Ticket)
		}
	}
	if err := s.loadIdentities(ctx, ts); err != nil {
		return nil, err
	}
	for _, c := range open {
		k := s.card(c, now)
		if k.Overdue {
			b.Overdue++
		} else if k.DueSoon {
			b.DueSoon++
		}
		if c.Status == ComplaintReceived {
			b.Received = append(b.Received, k)
		} else {
			b.Investigating = append(b.Investigating, k)
		}
	}
	for _, c := range decided {
		b.Decided = append(b.Decided, s.card(c, now))
	}
	return b, nil
}

// ComplaintDetail is one complaint with what its page shows: its ticket and customer, its
// audit trail, who may be given it and where its status may move by hand.
type ComplaintDetail struct {
	*ComplaintCard
	Events   []*Event          // the complaint's own events, oldest first
	Handlers []*Agent          // active complaint officers, supervisors and admins, with their open complaints as Load
	Moves    []ComplaintStatus // statuses SetComplaintStatus accepts from here
}

// ComplaintDetail loads a complaint's page.
func (s *Service) ComplaintDetail(ctx context.Context, ref string) (*ComplaintDetail, error) {
	id, ok := parseComplaintRef(ref)
	if !ok {
		return nil, notFoundf("%q is not a complaint reference (expected e.g. CP-000042)", ref)
	}
	c := new(Complaint)
	err := s.db.NewSelect().Model(c).Relation("Ticket").Relation("Ticket.Customer").Relation("Officer").
		Where("complaint.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFoundf("complaint %s not found", strings.ToUpper(strings.TrimSpace(ref)))
	}
	if err != nil {
		return nil, fmt.Errorf("load complaint: %w", err)
	}
	if err := s.loadIdentities(ctx, []*Ticket{c.Ticket}); err != nil {
		return nil, err
	}
	d := &ComplaintDetail{ComplaintCard: s.card(c, s.now())}
	if d.Events, err = s.complaintEvents(ctx, c); err != nil {
		return nil, err
	}
	if err := s.db.NewSelect().Model(&d.Handlers).
		ColumnExpr("agent.*").
		ColumnExpr("(SELECT COUNT(*) FROM complaints AS c WHERE c.officer_id = agent.id AND c.status IN ('received', 'investigating')) AS load").
		Where("agent.active AND agent.role <> ?", RoleAgent).
		OrderExpr("CASE WHEN agent.role = ? THEN 0 ELSE 1 END, agent.name, agent.id", RoleComplaintOfficer).
		Scan(ctx); err != nil {
		return nil, fmt.Errorf("list complaint handlers: %w", err)
	}
	for _, st := range complaintNext[c.Status] {
		if st != ComplaintDecided { // a decision is recorded with DecideComplaint
			d.Moves = append(d.Moves, st)
		}
	}
	return d, nil
}

// complaintEvents is a complaint's audit trail: the complaint.* events recorded on its
// ticket that name it (a ticket may have had other complaints), and events recorded on the
// complaint itself.
func (s *Service) complaintEvents(ctx context.Context, c *Complaint) ([]*Event, error) {
	var evs []*Event
	if err := s.db.NewSelect().Model(&evs).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("entity = 'ticket' AND entity_id = ? AND kind LIKE 'complaint.%'", c.TicketID).
				WhereOr("entity = 'complaint' AND entity_id = ?", c.ID)
		}).
		OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load complaint events: %w", err)
	}
	out := evs[:0]
	for _, e := range evs {
		if e.Entity == "ticket" {
			var data struct {
				Complaint string `json:"complaint"`
			}
			if json.Unmarshal([]byte(e.Data), &data) != nil || data.Complaint != c.Ref() {
				continue
			}
		}
		out = append(out, e)
	}
	return out, nil
}
