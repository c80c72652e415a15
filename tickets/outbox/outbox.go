// Package outbox holds what Hotline tells staff through Slack, on its way out: the
// announcements collected from the audit trail for the teams' channels, and the staff
// notices sent as direct messages, each claimed by one worker and delivered once, then
// acknowledged with Slack's button.
//
// It is named for what it holds: two outboxes (Box), rows written in the transaction
// that decided to tell someone and delivered after the commit, whatever happens to the
// process in between. Not "slack": the Slack client and the message layout are package
// notifications', the posting is jobs' (jobs.Notifier); this package knows the rows and
// their states, not the wire. Not "notices": a staff notice is written by the core and
// the chapters in their own transactions (tickets.Tx.AddNotices), customers' notices are
// the core's too, and the announcements are no notices.
//
// What it keeps: the slack_announcements table, the Slack delivery record of each notice
// (slack_status and the columns beside it, delivered_at, acknowledged_at and _by), and
// the announcements' cursor over the audit trail with its list of event ids a late commit
// may still fill (settings slack.announce.*). The notices themselves, the audit trail and
// the tickets are the core's: it reads them, and writes them only through tickets.Tx (the
// notices it derives from assignments, its cursor, the audit event of an acknowledgement).
//
// It is a chapter beside the core (package tickets), which knows nothing of it; jobs
// collects and delivers through it, the Slack webhook acknowledges through it, and app
// builds one (New) for both.
package outbox

import "github.com/hotlinedesk/hotline/tickets"

// Service collects announcements and delivers and acknowledges what the outboxes hold. It
// is safe for concurrent use, and so are two processes' Services on one database: claims
// and the cursor are guarded in it.
type Service struct {
	svc *tickets.Service
}

// New builds the outboxes of svc: on its database, clock and logger.
func New(svc *tickets.Service) *Service { return &Service{svc: svc} }
