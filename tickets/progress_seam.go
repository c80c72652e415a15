package tickets

import (
	"context"

	"github.com/uptrace/bun"
)

// The seam between the core and the progress stages (package tickets/stages): what the
// core's intake calls when a customer sends files to a ticket (the documents they were
// asked for may have arrived), and the core change a chapter runs on one ticket (locked,
// with who may change it checked), in which it may move the ticket's status. The core
// knows nothing else of stages or documents; see tickets/layout_test.go.

// Progress is told, in intake's transaction, of a customer's message with attachments on
// a ticket that already existed, so that what it does (telling the agent their documents
// arrived) commits with the message. Package tickets/stages implements it; app wires it
// with Service.SetProgress. Without one, such a message is stored as any other (a
// pending ticket still goes back to open).
type Progress interface {
	DocumentsArrived(ctx context.Context, tx Tx, t *Ticket, m *Message, files int) error
}

// SetProgress plugs in what hears of documents arriving; call it before serving.
func (s *Service) SetProgress(p Progress) { s.progress = p }

// documentsArrived tells the Progress, when one is plugged in, of files on t.
func (s *Service) documentsArrived(ctx context.Context, tx bun.IDB, t *Ticket, m *Message, files int) error {
	if s.progress == nil || files == 0 {
		return nil
	}
	return s.progress.DocumentsArrived(ctx, s.chapterTx(tx), t, m, files)
}

// ChangeTicket runs a chapter's change to the ticket ref names as the core runs its own:
// the row locked for the transaction, the actor's right to change it checked, the ticket
// saved after fn (with what fn changed through Tx.SetStatus), its timers set after the
// commit and the messages fn queued (told) handed to the senders.
func (s *Service) ChangeTicket(ctx context.Context, actor Actor, ref string, fn func(tx Tx, t *Ticket) (told []int64, err error)) (*Ticket, error) {
	var told []int64
	t, err := s.change(ctx, actor, ref, func(tx bun.Tx, t *Ticket) error {
		var err error
		told, err = fn(s.chapterTx(tx), t)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.deliver(ctx, told...)
	return t, nil
}

// SetStatus moves t (loaded by ChangeTicket, which saves it) to status to as the core's
// SetStatus does, recording it and pausing or resuming its clock; it returns the ids of
// the messages the move queued to the customer.
func (tx Tx) SetStatus(ctx context.Context, actor Actor, t *Ticket, to Status, reason string) ([]int64, error) {
	return tx.s.transition(ctx, tx.IDB, t, to, actor, reason)
}
