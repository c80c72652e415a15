// Package deadlines sweeps the tickets' deadlines and administers what they are counted
// by. The sweep settles the warnings before a ticket's first-response and resolution
// deadlines (75% and 90% of their time, by default) and handles their breaches as the
// ticket's SLA policy says: tell the team's supervisors, raise the priority a step, open a
// complaint. Admins edit the SLA policies and correct the working-day calendar here, and
// the open tickets an edit leaves stale are re-timed (ReapplyDeadlines).
//
// It is a chapter beside the core (package tickets). The core keeps what it needs to time
// a ticket as it writes one (matching a policy, the calendar's arithmetic, the clock's
// pauses, the timers) and the deadline columns on the tickets' rows; this package finds
// and changes those only through tickets.Tx (DueBreaches, RecordBreaches, DueWarnings,
// SettleWarnings, RetimeStale, PoliciesEdited), in the Service's transactions
// (tickets.Service.InTx), each with its audit events. A breach whose policy says
// "complaint" opens one in its own transaction through the core's seam
// (tickets.Tx.OpenComplaints), so this package knows nothing of complaints. The sweep's
// stages run with the core's stage runner (tickets.Service.RunSweep), as the complaints'
// do; jobs, which wakes deadlines, runs this sweep and then the complaints'.
package deadlines

import (
	"github.com/hotlinedesk/hotline/tickets"
)

// Service sweeps the tickets' deadlines and edits the policies and the calendar. It is
// safe for concurrent use.
type Service struct {
	svc *tickets.Service
}

// New builds the deadlines of svc: on its database, clock, calendar and scheduler.
func New(svc *tickets.Service) *Service { return &Service{svc: svc} }

var system = tickets.Actor{Kind: "system"}
