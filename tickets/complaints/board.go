package complaints

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// Outcomes are the outcomes a decision is recorded with: the complaint is upheld, partly
// upheld or not upheld. Decide stores whatever it is given; the console offers these.
var Outcomes = []string{"upheld", "partly_upheld", "not_upheld"}

// ValidOutcome reports whether o is one of Outcomes.
func ValidOutcome(o string) bool {
	for _, k := range Outcomes {
		if o == k {
			return true
		}
	}
	return false
}

// Card is a complaint as the officers' board shows it, with its time left counted in
// working days at the moment the board was read.
type Card struct {
	*Complaint
	DaysLeft int  // working days to the deadline (see tickets.Calendar.WorkingDaysLeft); negative once overdue
	Overdue  bool // still open after its deadline
	DueSoon  bool // open, not overdue, and within the warning period of 2 working days
	OnTime   bool // decided by its deadline
}

func (s *Service) card(c *Complaint, now time.Time) *Card {
	k := &Card{Complaint: c, DaysLeft: s.svc.Calendar().WorkingDaysLeft(now, c.DeadlineAt), Overdue: c.Overdue(now)}
	k.DueSoon = c.Open() && !k.Overdue && k.DaysLeft <= warnDays
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

// Board is the complaint officers' board: open complaints by status, overdue first then
// nearest deadline, and the recently decided ones, newest first.
type Board struct {
	Received      []*Card
	Investigating []*Card
	Decided       []*Card // decided or since closed, within the filter's window
	Overdue       int     // open complaints past their deadline
	DueSoon       int     // open complaints due within 2 working days
	More          bool    // more open complaints than the board shows
	DecidedSince  time.Time
}

// Board reads the board, with each complaint's ticket, customer and officer.
func (s *Service) Board(ctx context.Context, f BoardFilter) (*Board, error) {
	if f.DecidedDays <= 0 {
		f.DecidedDays = 30
	}
	if f.DecidedLimit <= 0 || f.DecidedLimit > 200 {
		f.DecidedLimit = 50
	}
	now := s.svc.Now()
	b := &Board{DecidedSince: now.AddDate(0, 0, -f.DecidedDays)}
	query := func(out *[]*Complaint) *bun.SelectQuery {
		q := s.svc.DB().NewSelect().Model(out).Relation("Ticket").Relation("Ticket.Customer").Relation("Officer")
		if f.OfficerID != nil {
			q = q.Where("complaint.officer_id = ?", *f.OfficerID)
		}
		return q
	}
	var open, decided []*Complaint
	if err := query(&open).Where("complaint.status IN (?)", bun.In([]tickets.ComplaintStatus{tickets.ComplaintReceived, tickets.ComplaintInvestigating})).
		OrderExpr("complaint.deadline_at, complaint.id").Limit(boardOpenLimit + 1).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list open complaints: %w", err)
	}
	if len(open) > boardOpenLimit {
		open, b.More = open[:boardOpenLimit], true
	}
	if err := query(&decided).Where("complaint.status IN (?)", bun.In([]tickets.ComplaintStatus{tickets.ComplaintDecided, tickets.ComplaintClosed})).
		Where("complaint.decided_at >= ?", b.DecidedSince).
		OrderExpr("complaint.decided_at DESC, complaint.id DESC").Limit(f.DecidedLimit).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list decided complaints: %w", err)
	}
	ts := make([]*tickets.Ticket, 0, len(open)+len(decided))
	for _, c := range append(append([]*Complaint{}, open...), decided...) {
		if c.Ticket != nil {
			ts = append(ts, c.Ticket)
		}
	}
	if err := s.svc.LoadIdentities(ctx, ts); err != nil {
		return nil, err
	}
	for _, c := range open {
		k := s.card(c, now)
		if k.Overdue {
			b.Overdue++
		} else if k.DueSoon {
			b.DueSoon++
		}
		if c.Status == tickets.ComplaintReceived {
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

// Detail is one complaint with what its page shows: its ticket and customer, its audit
// trail, who may be given it and where its status may move by hand.
type Detail struct {
	*Card
	Events   []*tickets.Event          // the complaint's own events, oldest first
	Handlers []*tickets.Agent          // active complaint officers, supervisors and admins, with their open complaints as Load
	Moves    []tickets.ComplaintStatus // statuses SetStatus accepts from here
}

// Detail loads a complaint's page.
func (s *Service) Detail(ctx context.Context, ref string) (*Detail, error) {
	id, ok := parseRef(ref)
	if !ok {
		return nil, tickets.NotFoundf("%q is not a complaint reference (expected e.g. CP-000042)", ref)
	}
	c := new(Complaint)
	err := s.svc.DB().NewSelect().Model(c).Relation("Ticket").Relation("Ticket.Customer").Relation("Officer").
		Where("complaint.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tickets.NotFoundf("complaint %s not found", strings.ToUpper(strings.TrimSpace(ref)))
	}
	if err != nil {
		return nil, fmt.Errorf("load complaint: %w", err)
	}
	if err := s.svc.LoadIdentities(ctx, []*tickets.Ticket{c.Ticket}); err != nil {
		return nil, err
	}
	d := &Detail{Card: s.card(c, s.svc.Now())}
	if d.Events, err = s.events(ctx, c); err != nil {
		return nil, err
	}
	if err := s.svc.DB().NewSelect().Model(&d.Handlers).
		ColumnExpr("agent.*").
		ColumnExpr("(SELECT COUNT(*) FROM complaints AS c WHERE c.officer_id = agent.id AND c.status IN ('received', 'investigating')) AS load").
		Where("agent.active AND agent.role <> ?", tickets.RoleAgent).
		OrderExpr("CASE WHEN agent.role = ? THEN 0 ELSE 1 END, agent.name, agent.id", tickets.RoleComplaintOfficer).
		Scan(ctx); err != nil {
		return nil, fmt.Errorf("list complaint handlers: %w", err)
	}
	for _, st := range complaintNext[c.Status] {
		if st != tickets.ComplaintDecided { // a decision is recorded with Decide
			d.Moves = append(d.Moves, st)
		}
	}
	return d, nil
}

// events is a complaint's audit trail: the complaint.* events recorded on its ticket that
// name it (a ticket may have had other complaints), and events recorded on the complaint
// itself.
func (s *Service) events(ctx context.Context, c *Complaint) ([]*tickets.Event, error) {
	var evs []*tickets.Event
	if err := s.svc.DB().NewSelect().Model(&evs).
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
