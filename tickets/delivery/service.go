// Package delivery holds what happens to Hotline's messages to customers after the
// transaction that queued them: a queued message loaded with what its channel needs, one
// worker's claim to send it and the outcome recorded under that claim, the providers'
// status reports and bounces, quiet hours, the reconciler's re-queue of messages whose
// send task was lost, messages looked up by their provider's id; the customers' opt-outs
// (SMS STOP, 退订, a WeChat unfollow) and their end; and the administration of the
// notices' wordings.
//
// It is named for what it holds: the delivery of a message, from queued to sent,
// delivered or failed, and what decides whether and how it may be delivered. Not
// "sending": the sending itself is the channels' (channels.Sender), called by jobs; this
// package keeps the rows' states, not the wire. Not "notices": staff notices are the
// core's and tickets/outbox's, and customers' notices are worded and queued by the core.
//
// What it keeps: the delivery columns of outbound messages (delivery_status,
// delivery_error, provider_message_id once sent, send_claim, send_claimed_until,
// send_not_before), the opt-out columns of customer identities (opted_out_at,
// opt_in_message_id), and the admins' wordings (message_templates). The messages, the
// identities and the audit trail are the core's: it writes their columns above through its
// own queries on the core's exported models, its audit events and the customers an
// opt-out creates through tickets.Tx. The core queues messages (queued), checks opt-outs
// inside its own transactions (tickets.Tx.OptedOut) and words its notices from the
// wordings (tickets.Service.Notice); it knows nothing of this package.
//
// It is a chapter beside the core (package tickets): jobs sends and re-queues through
// it, the providers' webhooks (app/webhooks) report statuses, bounces, STOP and START
// through it, and the API and the console's admin pages change the wordings through it.
// Each builds one with New.
package delivery

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// Service delivers and records what the core queued to customers. It is safe for
// concurrent use, and so are two processes' Services on one database: claims are guarded
// in it.
type Service struct {
	svc *tickets.Service
	db  *bun.DB
}

// New builds the delivery of svc: on its database, clock, calendar and quiet hours.
func New(svc *tickets.Service) *Service { return &Service{svc: svc, db: svc.DB()} }

var (
	systemActor   = tickets.Actor{Kind: "system"}
	customerActor = tickets.Actor{Kind: "customer"}
)

// now is the core's time, as it stamps rows.
func (s *Service) now() time.Time { return s.svc.Now() }

// inTx runs fn in one of the core's transactions, retried after a lost race
// (tickets.Service.InTx).
func (s *Service) inTx(ctx context.Context, fn func(tx tickets.Tx) error) error {
	return s.svc.InTx(ctx, fn)
}

// record appends an audit event in tx.
func (s *Service) record(ctx context.Context, tx tickets.Tx, actor tickets.Actor, entity string, entityID int64, kind string, data map[string]any) error {
	return tx.Record(ctx, tx.Event(actor, entity, entityID, kind, data))
}
