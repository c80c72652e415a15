package delivery

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// Delivering messages to customers: a queued message loaded with what its channel needs,
// one worker's claim to send it, the provider's reports (sent, delivered, failed,
// bounced), quiet hours, the reconciler's re-queue of messages whose send was lost, and
// messages looked up by their provider's id.

// Delivery is an outbound message with what its channel needs to send it.
type Delivery struct {
	Message  *tickets.Message
	Ticket   *tickets.Ticket
	To       string // the customer's address on the message's channel
	Locale   string
	OptedOut bool
	// ThreadIDs are the provider ids of the ticket's earlier messages on this channel,
	// oldest first: an email reply's References.
	ThreadIDs []string
	// ReplyTo is the provider id of the customer's last message on this channel: what an
	// email reply answers (In-Reply-To).
	ReplyTo string
	// Body is the text to send: the message's, with what only the customer may see filled
	// in by the core's Aftercare (an emailed survey's link; tickets.Service.OutgoingText).
	Body string
}

// Delivery loads a queued outbound message for sending; nil when it was sent already.
func (s *Service) Delivery(ctx context.Context, messageID int64) (*Delivery, error) {
	m := new(tickets.Message)
	err := s.db.NewSelect().Model(m).Where("id = ? AND direction = ?", messageID, tickets.DirectionOutbound).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tickets.NotFoundf("outbound message %d not found", messageID)
	}
	if err != nil {
		return nil, fmt.Errorf("load message: %w", err)
	}
	if m.DeliveryStatus != tickets.DeliveryQueued || m.ProviderMessageID != nil {
		return nil, nil
	}
	t, err := s.svc.TicketByID(ctx, m.TicketID)
	if err != nil {
		return nil, err
	}
	d := &Delivery{Message: m, Ticket: t}
	if d.Body, err = s.svc.OutgoingText(ctx, m); err != nil {
		return nil, err
	}
	kind, _ := tickets.ChannelIdentity(m.Channel)
	id := new(tickets.Identity)
	err = s.db.NewSelect().Model(id).Where("customer_id = ? AND kind = ?", t.CustomerID, kind).OrderExpr("id").Limit(1).Scan(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find customer's address: %w", err)
	}
	d.To, d.OptedOut = id.Value, id.OptedOutAt != nil
	if err := s.db.NewSelect().Table("customers").Column("locale").Where("id = ?", t.CustomerID).Scan(ctx, &d.Locale); err != nil {
		return nil, fmt.Errorf("load customer locale: %w", err)
	}
	if err := s.db.NewSelect().Table("messages").Column("provider_message_id").
		Where("ticket_id = ? AND channel = ? AND provider_message_id IS NOT NULL AND id <> ?", t.ID, m.Channel, m.ID).
		OrderExpr("id").Scan(ctx, &d.ThreadIDs); err != nil {
		return nil, fmt.Errorf("load thread: %w", err)
	}
	err = s.db.NewSelect().Table("messages").Column("provider_message_id").
		Where("ticket_id = ? AND channel = ? AND direction = ? AND provider_message_id IS NOT NULL", t.ID, m.Channel, tickets.DirectionInbound).
		OrderExpr("id DESC").Limit(1).Scan(ctx, &d.ReplyTo)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("load the message answered: %w", err)
	}
	return d, nil
}

// TicketOfMessage finds the ticket holding one of the provider message ids (an email's
// In-Reply-To and References), newest id first; 0 when none is known.
func (s *Service) TicketOfMessage(ctx context.Context, ch tickets.Channel, providerIDs []string) (int64, error) {
	for _, id := range providerIDs {
		var ticketID int64
		err := s.db.NewSelect().Table("messages").Column("ticket_id").
			Where("channel = ? AND provider_message_id = ?", ch, id).Limit(1).Scan(ctx, &ticketID)
		if err == nil {
			return ticketID, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("find message %s: %w", id, err)
		}
	}
	return 0, nil
}

// Bounced records that a provider returned an outbound message as undeliverable (an email
// bounce naming the Message-ID Hotline sent). It reports whether the message was ours.
func (s *Service) Bounced(ctx context.Context, ch tickets.Channel, providerID, reason string) (bool, error) {
	var id int64
	err := s.db.NewSelect().Table("messages").Column("id").
		Where("channel = ? AND provider_message_id = ? AND direction = ?", ch, providerID, tickets.DirectionOutbound).Scan(ctx, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("find bounced message: %w", err)
	}
	return true, s.MarkFailed(ctx, id, reason)
}

// MarkSent records the provider's id and status for a message it accepted, with its
// "message.sent" event, once (as RecordSent, without a claim).
func (s *Service) MarkSent(ctx context.Context, messageID int64, providerID, status string) error {
	if status == "" || rankOf(status) < rankOf(tickets.DeliverySent) {
		status = tickets.DeliverySent
	}
	_, err := s.markSent(ctx, messageID, "", providerID, status)
	return err
}

// MarkFailed records that a message could not be sent, and why, on the ticket.
func (s *Service) MarkFailed(ctx context.Context, messageID int64, reason string) error {
	return s.markFailed(ctx, messageID, "", reason)
}

// markFailed is MarkFailed, under a send claim when claim is not empty: a holder whose
// lease lapsed and was taken over records nothing.
func (s *Service) markFailed(ctx context.Context, messageID int64, claim, reason string) error {
	return s.inTx(ctx, func(tx tickets.Tx) error {
		m := new(tickets.Message)
		if err := tx.NewSelect().Model(m).Where("id = ?", messageID).Scan(ctx); err != nil {
			return fmt.Errorf("load message: %w", err)
		}
		if rankOf(m.DeliveryStatus) >= rankOf(tickets.DeliveryFailed) {
			return nil
		}
		q := tx.NewUpdate().Model(m).
			Set("delivery_status = ?, delivery_error = ?, send_claim = NULL, send_claimed_until = NULL", tickets.DeliveryFailed, reason).WherePK().
			Where("delivery_status NOT IN (?)", bun.In(tickets.FinalStatuses())) // two reports race: one records
		if claim != "" {
			q = q.Where("send_claim = ?", claim)
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return fmt.Errorf("mark message failed: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // the claim lapsed, or a racing report recorded the failure first
		}
		return tx.DeliveryFailed(ctx, m, reason, map[string]any{"message_id": m.ID, "channel": m.Channel, "error": reason})
	})
}

// SendClaimTTL is how long a claim on an outgoing message holds: longer than a send task
// may run (30 s) and its result takes to record. A worker that dies mid-send leaves its
// claim; after this long the reconciler queues the message again and another worker may
// claim it, so a crash between the provider's acceptance and the record can send twice
// (at least once), but two live workers never both call the provider.
const SendClaimTTL = 2 * time.Minute

// ResendAfter is how long a queued message may wait past its time (its creation, the end
// of quiet hours, or its last re-queue) before the reconciler decides its send task was
// lost and queues it again.
const ResendAfter = 2 * time.Minute

// resendBatch bounds how many messages one reconciler run queues again.
const resendBatch = 1000

// SendClaim is one worker's right to call the provider for a message, until Until.
type SendClaim struct {
	MessageID int64
	Token     string
	Until     time.Time
}

// ClaimSend takes a queued outbound message for one send attempt. Only one caller wins: the
// claim is a conditional UPDATE, so the held task, the reconciler's task and a retry racing
// for one message call the provider once. nil means the message was sent or failed
// already, or another worker holds an unexpired claim on it.
func (s *Service) ClaimSend(ctx context.Context, messageID int64) (*SendClaim, error) {
	now := s.now().UTC()
	c := &SendClaim{MessageID: messageID, Token: randomToken(), Until: now.Add(SendClaimTTL)}
	res, err := s.db.NewUpdate().Model((*tickets.Message)(nil)).
		Set("send_claim = ?, send_claimed_until = ?", c.Token, c.Until).
		Where("id = ? AND direction = ? AND delivery_status = ? AND provider_message_id IS NULL", messageID, tickets.DirectionOutbound, tickets.DeliveryQueued).
		Where("send_claimed_until IS NULL OR send_claimed_until < ?", now).
		Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("claim message %d for sending: %w", messageID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, nil
	}
	return c, nil
}

// HoldSend releases a claim without sending: the message waits until until (the end of
// quiet hours), and the reconciler leaves it alone until a while after then.
func (s *Service) HoldSend(ctx context.Context, c *SendClaim, until time.Time) error {
	_, err := s.db.NewUpdate().Model((*tickets.Message)(nil)).
		Set("send_not_before = ?, send_claim = NULL, send_claimed_until = NULL", until.UTC()).
		Where("id = ? AND send_claim = ?", c.MessageID, c.Token).Exec(ctx)
	if err != nil {
		return fmt.Errorf("hold message %d: %w", c.MessageID, err)
	}
	return nil
}

// ReleaseSend gives a claim back after a passing failure, so that the task's retry (or
// another worker) may claim the message at once rather than after the lease.
func (s *Service) ReleaseSend(ctx context.Context, c *SendClaim) error {
	_, err := s.db.NewUpdate().Model((*tickets.Message)(nil)).
		Set("send_claim = NULL, send_claimed_until = NULL").
		Where("id = ? AND send_claim = ?", c.MessageID, c.Token).Exec(ctx)
	if err != nil {
		return fmt.Errorf("release message %d: %w", c.MessageID, err)
	}
	return nil
}

// RecordSent records, under the claim, the provider's id for a message it accepted, and
// the audit event "message.sent" in the same transaction (what outbound webhooks tell). It
// reports false when the claim had lapsed and another worker took the message over.
func (s *Service) RecordSent(ctx context.Context, c *SendClaim, providerID string) (bool, error) {
	return s.markSent(ctx, c.MessageID, c.Token, providerID, tickets.DeliverySent)
}

// markSent marks a message sent with status, under a send claim when claim is not empty,
// and records "message.sent" when it did: once, as a message gets its provider id once.
func (s *Service) markSent(ctx context.Context, messageID int64, claim, providerID, status string) (bool, error) {
	won := false
	err := s.inTx(ctx, func(tx tickets.Tx) error {
		won = false
		q := tx.NewUpdate().Model((*tickets.Message)(nil)).
			Set("provider_message_id = ?, delivery_status = ?, send_claim = NULL, send_claimed_until = NULL", providerID, status).
			Where("id = ? AND provider_message_id IS NULL", messageID)
		if claim != "" {
			q = q.Where("send_claim = ?", claim)
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return fmt.Errorf("mark message %d sent: %w", messageID, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil
		}
		won = true
		m := new(tickets.Message)
		if err := tx.NewSelect().Model(m).Column("ticket_id", "channel").Where("id = ?", messageID).Scan(ctx); err != nil {
			return fmt.Errorf("load message %d: %w", messageID, err)
		}
		return s.record(ctx, tx, systemActor, "ticket", m.TicketID, "message.sent", map[string]any{"message_id": messageID, "channel": m.Channel})
	})
	return won, err
}

// RecordSendFailed records, under the claim, that the message cannot be sent, and why.
func (s *Service) RecordSendFailed(ctx context.Context, c *SendClaim, reason string) error {
	return s.markFailed(ctx, c.MessageID, c.Token, reason)
}

// rankOf is a delivery status's place in the order statuses move forward in
// (tickets.DeliveryRank); an unknown one ranks with queued.
func rankOf(status string) int {
	r, _ := tickets.DeliveryRank(status)
	return r
}

func randomToken() string {
	b := make([]byte, 16)
	rand.Read(b) //nolint:errcheck // never fails
	return hex.EncodeToString(b)
}

// UpdateDelivery applies a provider's status report to the message it names. Statuses only
// move forward (queued → sent → delivered), since reports can arrive out of order; a
// failure is recorded on the ticket. It reports whether the message is known.
func (s *Service) UpdateDelivery(ctx context.Context, ch tickets.Channel, providerID, status, errorCode string) (bool, error) {
	status = strings.ToLower(strings.TrimSpace(status))
	rank, ok := tickets.DeliveryRank(status)
	if !ok {
		return false, tickets.Invalidf("unknown delivery status %q", status)
	}
	if providerID == "" || len(providerID) > tickets.MaxProviderIDBytes {
		return false, tickets.Invalidf("provider message id is empty or longer than %d bytes", tickets.MaxProviderIDBytes)
	}
	if len(errorCode) > 64 {
		return false, tickets.Invalidf("delivery error code is longer than 64 bytes")
	}
	known := false
	err := s.inTx(ctx, func(tx tickets.Tx) error {
		m := new(tickets.Message)
		err := tx.NewSelect().Model(m).Where("channel = ? AND provider_message_id = ? AND direction = ?", ch, providerID, tickets.DirectionOutbound).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("find message: %w", err)
		}
		known = true
		if rank <= rankOf(m.DeliveryStatus) {
			return nil
		}
		res, err := tx.NewUpdate().Model(m).Set("delivery_status = ?, delivery_error = ?", status, errorCode).WherePK().
			Where("delivery_status IN (?)", bun.In(tickets.StatusesBelow(rank))).Exec(ctx) // a racing report may have moved it on
		if err != nil {
			return fmt.Errorf("update delivery: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 && (status == tickets.DeliveryFailed || status == tickets.DeliveryUndelivered) {
			return tx.DeliveryFailed(ctx, m, errorCode, map[string]any{
				"message_id": m.ID, "channel": ch, "status": status, "error_code": errorCode})
		}
		return nil
	})
	return known, err
}

// UndeliveredMessages takes, for the reconciler, outbound messages still queued ResendAfter
// past their time and not claimed by a live worker: their send task was lost. A held
// message's time is the end of quiet hours, so the night's held notices are not queued
// again every run. The longest-waiting come first, and each one taken has its time moved
// to now, so that however many are stuck, each run reaches different ones and none
// starves; two reconcilers never take the same message in one round.
func (s *Service) UndeliveredMessages(ctx context.Context) ([]int64, error) {
	now := s.now().UTC()
	due := now.Add(-ResendAfter)
	var ids []int64
	err := s.db.NewRaw(`UPDATE messages SET send_not_before = ?
		WHERE id IN (SELECT id FROM messages
				WHERE direction = 'outbound' AND delivery_status = 'queued'
					AND COALESCE(send_not_before, created_at) <= ?
					AND (send_claimed_until IS NULL OR send_claimed_until < ?)
				ORDER BY COALESCE(send_not_before, created_at), id LIMIT ?)
			AND COALESCE(send_not_before, created_at) <= ?
		RETURNING id`, now, due, now, resendBatch, due).Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("find undelivered messages: %w", err)
	}
	slices.Sort(ids)
	return ids, nil
}

// HasMessage reports whether a provider's message id is already stored on a channel.
func (s *Service) HasMessage(ctx context.Context, ch tickets.Channel, providerID string) (bool, error) {
	n, err := s.db.NewSelect().Table("messages").Where("channel = ? AND provider_message_id = ?", ch, providerID).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("look up message: %w", err)
	}
	return n > 0, nil
}

// QuietUntil says whether a message must wait for the end of quiet hours, and until when:
// an SMS nobody wrote by hand (an acknowledgement, a survey, a notice) for a ticket that
// is not urgent, during the night in the calendar's zone.
func (s *Service) QuietUntil(d *Delivery) (time.Time, bool) {
	start, end := s.svc.QuietHours()
	if start == end || d.Message.Channel != tickets.ChannelSMS || d.Message.AuthorID != nil || d.Ticket.Priority == tickets.PriorityUrgent {
		return time.Time{}, false
	}
	// Wall-clock times, so that 08:00 is 08:00 on daylight-saving days too.
	until, quiet := s.svc.Calendar().NightEnd(s.now(), start, end)
	if !quiet {
		return time.Time{}, false
	}
	return until.UTC(), true
}
