package reports

import (
	"context"
	"fmt"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
)

// KPI is the monthly figures an insurer reports: the promises kept (first response,
// resolution, complaint decision, each against its own deadline as Report counts them),
// the follow-up visits completed and satisfaction.
type KPI struct {
	Month time.Time // midnight of the month's first day in the desk's zone
	*Report
	FollowUps Share // visits due in the month, not cancelled: completed (at any time) of all
}

// MonthKPI computes the KPI of month (any time in it; its calendar month in the desk's
// zone), optionally for one team.
func (rd *Reader) MonthKPI(ctx context.Context, month time.Time, teamID *int64) (*KPI, error) {
	loc := rd.cal.Location()
	m := month.In(loc)
	from := time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, loc)
	to := from.AddDate(0, 1, 0)
	r, err := rd.Report(ctx, from, to, teamID)
	if err != nil {
		return nil, err
	}
	k := &KPI{Month: from, Report: r}
	team := ""
	args := []any{from.UTC(), to.UTC()}
	if teamID != nil {
		team, args = " AND f.team_id = ?", append(args, *teamID)
	}
	if err := rd.db.NewRaw(`SELECT COUNT(*), COUNT(f.completed_at) FROM followups AS f
WHERE f.due_at >= ? AND f.due_at < ? AND f.cancelled_at IS NULL`+team, args...).Scan(ctx, &k.FollowUps.Total, &k.FollowUps.Met); err != nil {
		return nil, fmt.Errorf("count follow-ups: %w", err)
	}
	return k, nil
}

// RegisterRow is one complaint of the complaints register.
type RegisterRow struct {
	ID         int64                   `bun:"id"`
	TicketID   int64                   `bun:"ticket_id"`
	Source     tickets.ComplaintSource `bun:"source"`
	Status     tickets.ComplaintStatus `bun:"status"`
	Summary    string                  `bun:"summary"`
	Customer   string                  `bun:"customer"`
	Team       string                  `bun:"team"`
	Officer    string                  `bun:"officer"`
	ReceivedAt time.Time               `bun:"received_at"`
	DeadlineAt time.Time               `bun:"deadline_at"`
	DecidedAt  *time.Time              `bun:"decided_at"`
	ClosedAt   *time.Time              `bun:"closed_at"`
	Decision   string                  `bun:"decision"`
	Outcome    string                  `bun:"outcome"`
}

// Ref is the complaint's reference.
func (r RegisterRow) Ref() string { return tickets.FormatComplaintRef(r.ID) }

// OnTime reports whether the decision came by its deadline; ok is false while undecided.
func (r RegisterRow) OnTime() (onTime, ok bool) {
	if r.DecidedAt == nil {
		return false, false
	}
	return !r.DecidedAt.After(r.DeadlineAt), true
}

// MaxRegisterPage bounds one page of the register.
const MaxRegisterPage = 500

// ComplaintRegister is one page of the complaints received in [from, to), oldest first,
// after the complaint afterID (0: from the start): an export pages through it rather than
// loading the register at once.
func (rd *Reader) ComplaintRegister(ctx context.Context, from, to time.Time, afterID int64, limit int) ([]RegisterRow, error) {
	if limit < 1 || limit > MaxRegisterPage {
		limit = MaxRegisterPage
	}
	var out []RegisterRow
	err := rd.db.NewRaw(`SELECT c.id, c.ticket_id, c.source, c.status, c.summary, COALESCE(cu.name, '') AS customer,
  COALESCE(tm.name, '') AS team, COALESCE(o.name, '') AS officer, c.received_at, c.deadline_at, c.decided_at, c.closed_at,
  c.decision, c.outcome
FROM complaints AS c
JOIN tickets AS t ON t.id = c.ticket_id
LEFT JOIN customers AS cu ON cu.id = t.customer_id
LEFT JOIN teams AS tm ON tm.id = t.team_id
LEFT JOIN agents AS o ON o.id = c.officer_id
WHERE c.received_at >= ? AND c.received_at < ? AND c.id > ?
ORDER BY c.id LIMIT ?`, from.UTC(), to.UTC(), afterID, limit).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("read the complaints register: %w", err)
	}
	return out, nil
}
