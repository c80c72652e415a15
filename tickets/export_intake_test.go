package tickets

import "context"

// IntakeHooks are the seams of intake batches a test may step in at: Queued when a call
// joins the queue (with the queue's length), Started as a batch's transaction is about to
// begin, Committed after it commits, and Lookup before a stored message is read back after
// the commit (an error fails the read).
type IntakeHooks struct {
	Queued    func(waiting int)
	Started   func(ins []Inbound)
	Committed func(ins []Inbound)
	Lookup    func(ctx context.Context, in Inbound) error
}

// SetIntakeHooks plugs h into svc's intake batches; set it before intakes run.
func SetIntakeHooks(svc *Service, h IntakeHooks) {
	svc.intakes.hooks = intakeHooks{queued: h.Queued, started: h.Started, committed: h.Committed, lookup: h.Lookup}
}
