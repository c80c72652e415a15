package tickets

import (
	"context"
	"fmt"
	"time"
)

// Kinds of deadline in DeadlineStats.
const (
	KindFirstResponse = "first_response"
	KindResolution    = "resolution"
	KindComplaint     = "complaint"
)

// DeadlineKinds lists the kinds DeadlineStats counts.
var DeadlineKinds = []string{KindFirstResponse, KindResolution, KindComplaint}

// DeadlineStats is what monitoring watches: deadlines about to fall due, deadlines already
// past that no sweep has handled yet (the workers are behind or down), and open tickets
// whose deadline was missed.
type DeadlineStats struct {
	DueSoon      map[string]int // by kind: due after now and within the window, still waiting
	Overdue      map[string]int // by kind: due at or before now, not yet recorded as breached
	OpenBreached int            // new, open or pending tickets with a missed deadline
}

// DeadlineStats counts deadlines in one statement. Each count is a range of one partial
// index (the sweep's own, and tickets_open_breached_idx), so it costs what is due or
// breached, not the size of the desk.
func (s *Service) DeadlineStats(ctx context.Context, within time.Duration) (*DeadlineStats, error) {
	now := s.now()
	soon := now.Add(within)
	var row struct {
		FirstSoon, FirstOver, ResSoon, ResOver, ComplaintSoon, ComplaintOver, OpenBreached int
	}
	count := func(table, waiting, due string) string {
		return fmt.Sprintf("(SELECT COUNT(*) FROM %s WHERE %s AND %s > ?0 AND %s <= ?1), (SELECT COUNT(*) FROM %s WHERE %s AND %s <= ?0)",
			table, waiting, due, due, table, waiting, due)
	}
	err := s.db.NewRaw("SELECT "+
		count("tickets", FirstResponseClock.waiting, FirstResponseClock.due)+", "+
		count("tickets", ResolutionClock.waiting, ResolutionClock.due)+", "+
		count("complaints", complaintWaiting, "deadline_at")+", "+
		"(SELECT COUNT(*) FROM tickets WHERE "+openBreached+")", now, soon).
		Scan(ctx, &row.FirstSoon, &row.FirstOver, &row.ResSoon, &row.ResOver, &row.ComplaintSoon, &row.ComplaintOver, &row.OpenBreached)
	if err != nil {
		return nil, fmt.Errorf("count deadlines: %w", err)
	}
	return &DeadlineStats{
		DueSoon:      map[string]int{KindFirstResponse: row.FirstSoon, KindResolution: row.ResSoon, KindComplaint: row.ComplaintSoon},
		Overdue:      map[string]int{KindFirstResponse: row.FirstOver, KindResolution: row.ResOver, KindComplaint: row.ComplaintOver},
		OpenBreached: row.OpenBreached,
	}, nil
}

// complaintWaiting is the predicate of complaints_deadline_idx: not yet decided or breached.
const complaintWaiting = "breached_at IS NULL AND decided_at IS NULL"

// openBreached is the predicate of tickets_open_breached_idx.
const openBreached = "status IN ('new', 'open', 'pending') AND (first_response_breached_at IS NOT NULL OR resolution_breached_at IS NOT NULL)"
