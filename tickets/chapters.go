package tickets

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// The seam between the core and the chapters beside it (tickets/aftercare, ...): what the
// core calls inside its own transactions, declared here and implemented there, and the
// few things a chapter may do in a transaction (Tx). Dependencies point one way: the core
// knows the seam, never a chapter; see tickets/layout_test.go.

// Aftercare is what follows a resolution (the follow-up calls and the satisfaction
// survey), done in the same transaction as the core change that sets it off, so that it
// commits or rolls back with it. Package tickets/aftercare implements it; app wires it
// with Service.SetAftercare. Without one, nothing follows a resolution, no message is
// taken for a survey's answer, and outbound text is sent as stored.
type Aftercare interface {
	// Resolved runs as t is resolved, after the customer was told so: it schedules the
	// follow-up calls and starts the survey. It returns the ids of the messages it queued
	// to the customer, handed to the senders after the commit.
	Resolved(ctx context.Context, tx Tx, t *Ticket) (queued []int64, err error)
	// Reopened runs as t is reopened by actor: it cancels the calls still open.
	Reopened(ctx context.Context, tx Tx, t *Ticket, actor Actor) error
	// Answer runs in intake's transaction before in is taken for a new message: when in
	// answers the customer's open survey, it records the answer, stores the message on the
	// survey's ticket without reopening it, and returns the result (Answered), or the
	// Duplicate result of a retry (see Tx.Stored). It returns nil for any other message.
	Answer(ctx context.Context, tx Tx, in Inbound) (*IntakeResult, error)
	// Text is m's text as sent to the customer: what only they may see (an emailed
	// survey's link) filled in. It runs as the message is sent, outside any transaction.
	Text(ctx context.Context, m *Message) (string, error)
}

// SetAftercare plugs in what follows a resolution; call it before serving. nil unplugs it.
func (s *Service) SetAftercare(a Aftercare) { s.care = a }

// OutgoingText is m's text as sent to the customer: the Aftercare's (Aftercare.Text), or
// m's body when none is plugged in. The sender asks for it (tickets/delivery).
func (s *Service) OutgoingText(ctx context.Context, m *Message) (string, error) {
	if s.care == nil {
		return m.Body, nil
	}
	return s.care.Text(ctx, m)
}

// Tx is a transaction of the core's as a chapter works in it: bun.IDB for the chapter's
// own rows (and for reading the core's through its exported models), and the core's
// writes a chapter may add to it (audit events, messages, settings), which commit or roll
// back with the change that set them off. A chapter writes the core's rows only through
// these. The core hands one to its Aftercare; a chapter's own changes get one from
// Service.InTx.
type Tx struct {
	bun.IDB
	s *Service
}

// chapterTx is tx as the core hands it to a chapter.
func (s *Service) chapterTx(tx bun.IDB) Tx { return Tx{IDB: tx, s: s} }

// InTx runs fn in a transaction and retries it from the start when it lost a race with a
// concurrent writer, as the Service's own changes run; fn must be safe to run again. It
// is for the chapters' changes.
func (s *Service) InTx(ctx context.Context, fn func(tx Tx) error) error {
	return s.inTx(ctx, func(tx bun.Tx) error { return fn(s.chapterTx(tx)) })
}

// Event builds an audit event about entity (e.g. "ticket") entityID, made by actor and
// stamped with the service's time, for Record.
func (tx Tx) Event(actor Actor, entity string, entityID int64, kind string, data map[string]any) *Event {
	return tx.s.event(actor, entity, entityID, kind, data)
}

// Record appends audit events in the transaction, many rows a statement: a chapter's
// changes are audited as the core's are.
func (tx Tx) Record(ctx context.Context, evs ...*Event) error {
	return tx.s.insertEvents(ctx, tx.IDB, evs)
}

// AddMessage stores m on its ticket in the transaction: a customer's message, or one
// queued to them (DeliveryQueued), which is sent once the caller hands its id to the
// senders after the commit (or by the reconciler). Recording what it means is the
// caller's: "reply.queued" for a queued message, by the core's convention.
func (tx Tx) AddMessage(ctx context.Context, m *Message) error {
	return tx.s.insertMessage(ctx, tx.IDB, m, nil)
}

// NoticeChannel is where a message nobody writes by hand reaches t's customer: the
// channel they last wrote by, or SMS or email when WeChat's 48-hour window has closed
// (the fallback is recorded on the ticket); "" when nothing reaches them. The core's own
// notices go there too.
func (tx Tx) NoticeChannel(ctx context.Context, t *Ticket) (Channel, error) {
	return tx.s.noticeChannel(ctx, tx.IDB, t)
}

// Reachable is where a notice nobody writes by hand reaches t's customer (NoticeChannel),
// or, when nothing does, why not, in words for the audit trail: the channel is unknown,
// WeChat's window closed with no phone or email to fall back on, or the customer opted out
// of the channel. The chapters' notices (stages, surveys) ask it before they queue.
func (tx Tx) Reachable(ctx context.Context, t *Ticket) (ch Channel, skip string, err error) {
	if ch, err = tx.NoticeChannel(ctx, t); err != nil {
		return "", "", err
	}
	switch ch {
	case ChannelSMS, ChannelWeChat, ChannelEmail:
		out, err := tx.OptedOut(ctx, t.CustomerID, ch)
		if err != nil {
			return "", "", err
		}
		if out {
			return ch, fmt.Sprintf("the customer opted out of %s messages", ch), nil
		}
		return ch, "", nil
	case "":
		return "", "WeChat's 48-hour window has closed and the customer has no phone number or email address", nil
	default:
		return ch, fmt.Sprintf("the customer cannot be reached by %s", ch), nil
	}
}

// OptedOut reports whether the customer refuses messages on a channel.
func (tx Tx) OptedOut(ctx context.Context, customerID int64, ch Channel) (bool, error) {
	return tx.s.optedOut(ctx, tx.IDB, customerID, ch)
}

// Customer finds the customer who owns an identity (its value normalised, see
// Service.NormalizeIdentity), creating both when it is new, in the transaction: an opt-out
// from an address never seen is kept for its first message. A concurrent transaction that
// creates the same identity first makes this one fail on the unique key, and InTx's retry
// finds that customer.
func (tx Tx) Customer(ctx context.Context, kind IdentityKind, value string) (*Customer, error) {
	return tx.s.customerFor(ctx, tx.IDB, kind, value, "", "")
}

// Setting is Service.Setting in the transaction (on SQLite a second connection would
// wait on the transaction's own lock).
func (tx Tx) Setting(ctx context.Context, key string, make func() string) (string, error) {
	return tx.s.setting(ctx, tx.IDB, key, make)
}

// Stored is the Duplicate result of a message whose provider id is stored already (a
// retried webhook: it changes nothing), or nil when in is new or has no provider id. A
// chapter that takes a message in intake asks first, as the core does.
func (tx Tx) Stored(ctx context.Context, in Inbound) (*IntakeResult, error) {
	return tx.s.stored(ctx, tx.IDB, in)
}

// Ticket loads ticket id in the transaction, or ErrNotFound.
func (tx Tx) Ticket(ctx context.Context, id int64) (*Ticket, error) {
	return tx.s.ticketByID(ctx, tx.IDB, id)
}

// Agent loads agent id in the transaction, or ErrNotFound.
func (tx Tx) Agent(ctx context.Context, id int64) (*Agent, error) {
	return tx.s.agentByID(ctx, tx.IDB, id)
}

// AgentsWithRole lists the ids of the active agents of a role, of one team when team is
// not nil, in id order.
func (tx Tx) AgentsWithRole(ctx context.Context, role Role, team *int64) ([]int64, error) {
	return tx.s.agentsWithRole(ctx, tx.IDB, role, team)
}

// AddNotices tells members of staff something in the transaction, many rows a statement:
// the notices are stamped with the service's time and delivered (Slack, email) after the
// commit, never lost nor sent twice.
func (tx Tx) AddNotices(ctx context.Context, ns []*Notice) error {
	return tx.s.insertNotices(ctx, tx.IDB, ns)
}

// AddNoticeOnce tells a member of staff something derived from an audit event (n's
// SourceEventID) in the transaction, once: n is stamped with the service's time and
// stored unless a notice from that event is stored already. It reports whether it was
// stored. It is for the chapters that read the audit trail (tickets/outbox).
func (tx Tx) AddNoticeOnce(ctx context.Context, n *Notice) (bool, error) {
	n.CreatedAt = tx.s.now()
	res, err := tx.NewInsert().Model(n).On("CONFLICT DO NOTHING").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store notice: %w", err)
	}
	k, _ := res.RowsAffected()
	return k > 0, nil
}

// UpdateSetting changes setting key to value in the transaction, only while it still
// holds was when was is not nil, and reports whether it did: a chapter's cursor, moved
// by one run and not by another that moved it first. The error is the database's, for
// the chapter to say what it was doing.
func (tx Tx) UpdateSetting(ctx context.Context, key, value string, was *string) (bool, error) {
	q := tx.NewUpdate().Table("settings").Set("value = ?, updated_at = ?", value, tx.s.now()).Where("key = ?", key)
	if was != nil {
		q = q.Where("value = ?", *was)
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Notify queues a notice to t's customer on their notice channel (see NoticeChannel),
// worded from the template key in their language with data, and returns the message's id
// to hand to Service.Deliver after the commit (0 when nothing reaches them: the message
// is kept, marked failed, so an agent knows to call).
func (tx Tx) Notify(ctx context.Context, t *Ticket, key string, data TemplateData) (int64, error) {
	return tx.s.notify(ctx, tx.IDB, t, key, data)
}

// DeliveryFailed records that message m was not delivered (raw: the provider's reason or
// code) and tells its author, in the transaction whose conditional update marked it
// failed; the caller records it only when that update won, so it happens once per message.
func (tx Tx) DeliveryFailed(ctx context.Context, m *Message, raw string, data map[string]any) error {
	return tx.s.deliveryFailed(ctx, tx.IDB, m, raw, data)
}

// MayChange refuses (ErrForbidden) an actor who may not work t (the assignee, a
// supervisor of its team or of the assignee's, while unassigned an agent of its team, an
// admin): what a chapter's rule "those who may work the ticket" asks.
func (tx Tx) MayChange(ctx context.Context, actor Actor, t *Ticket) error {
	return tx.s.mayChange(ctx, tx.IDB, actor, t)
}
