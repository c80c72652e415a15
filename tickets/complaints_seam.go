package tickets

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// The seam between the core and complaints (package tickets/complaints): what the core's
// own transactions open, declared here and implemented there, and the few names the core
// shares with it (where a complaint came from, where it stands, its reference). The
// core knows nothing else of complaints; see tickets/layout_test.go.

// Complaints opens complaints inside the core's transactions, so that they commit or roll
// back with the change that raised them: intake opens one when the customer says they
// complain (投诉 / complaint, or the phone menu's complaint option), the sweep when a
// ticket misses a deadline its policy escalates to a complaint. Package tickets/complaints
// implements it; app wires it with Service.SetComplaints. Without one, nothing opens a
// complaint on its own (a breach is still recorded, with its action).
type Complaints interface {
	// OpenInTx opens in tx, as actor, a complaint about each ticket cs names (the first
	// request for a ticket counts), unless the ticket has one open already: a ticket has
	// at most one open complaint. Each is given to an officer, recorded on its ticket, and
	// its receipt is queued to the customer when they are told of such things. It returns
	// the complaints it opened, with what to hand to the job system once tx has committed.
	OpenInTx(ctx context.Context, tx Tx, actor Actor, cs []ComplaintRequest) ([]*OpenedComplaint, error)
}

// SetComplaints plugs in what opens complaints; call it before serving. nil unplugs it.
func (s *Service) SetComplaints(c Complaints) { s.complaints = c }

// ComplaintRequest asks Complaints to open a complaint about a ticket.
type ComplaintRequest struct {
	TicketID   int64
	Source     ComplaintSource
	Summary    string
	ReceivedAt time.Time // the decision deadline counts from here
}

// OpenedComplaint is a complaint Complaints opened in a core transaction, with what the
// core hands to the job system after the commit.
type OpenedComplaint struct {
	ID, TicketID int64
	Timers       []Timer // its warning and its decision deadline
	Receipt      int64   // the receipt queued to the customer; 0 when none was
}

// Ref is the complaint's reference, e.g. CP-000042.
func (c *OpenedComplaint) Ref() string { return FormatComplaintRef(c.ID) }

// openComplaints asks the Complaints, when one is plugged in, to open cs in tx.
func (s *Service) openComplaints(ctx context.Context, tx bun.IDB, actor Actor, cs []ComplaintRequest) ([]*OpenedComplaint, error) {
	if s.complaints == nil || len(cs) == 0 {
		return nil, nil
	}
	return s.complaints.OpenInTx(ctx, s.chapterTx(tx), actor, cs)
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

// ComplaintStatus is where a complaint stands: received → investigating → decided → closed.
type ComplaintStatus string

const (
	ComplaintReceived      ComplaintStatus = "received"
	ComplaintInvestigating ComplaintStatus = "investigating"
	ComplaintDecided       ComplaintStatus = "decided"
	ComplaintClosed        ComplaintStatus = "closed"
)

// Open reports whether a complaint in this status still waits for its decision.
func (st ComplaintStatus) Open() bool {
	return st == ComplaintReceived || st == ComplaintInvestigating
}
