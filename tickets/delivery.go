package tickets

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// refInText finds a ticket reference in text, e.g. "about HL-000123" or "[hl-123]".
var refInText = regexp.MustCompile(`(?i)\bHL-(\d{1,12})\b`)

// RefsIn lists the ticket ids a text names, in order.
func RefsIn(text string) []int64 {
	var ids []int64
	for _, m := range refInText.FindAllStringSubmatch(text, -1) {
		if id, ok := ParseRef(RefPrefix + m[1]); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// quotedTicket is the first ticket id a message's text names, or 0.
func quotedTicket(text string) int64 {
	if ids := RefsIn(text); len(ids) > 0 {
		return ids[0]
	}
	return 0
}

// OptOut records that a customer asked for no more messages on an identity (SMS STOP,
// 退订). It is idempotent.
func (s *Service) OptOut(ctx context.Context, kind IdentityKind, address string) error {
	_, err := s.setOptOut(ctx, kind, address, true, "")
	return err
}

// OptIn lifts an opt-out (a WeChat follow).
func (s *Service) OptIn(ctx context.Context, kind IdentityKind, address string) error {
	_, err := s.setOptOut(ctx, kind, address, false, "")
	return err
}

// Resubscribe lifts an opt-out if the address has one, and says whether it had: an SMS
// "YES" is an opt-in only from an opted-out number and an answer from anyone else. The
// conditional update decides, so two concurrent "YES" resubscribe once. messageID is the
// provider's id of the keyword's message: it is kept with the opt-in, so the provider's
// retry of that same message is answered as the resubscription again, not taken for a
// customer's "YES" on a ticket.
func (s *Service) Resubscribe(ctx context.Context, kind IdentityKind, address, messageID string) (bool, error) {
	return s.setOptOut(ctx, kind, address, false, messageID)
}

// AddressOptedOut reports whether an address has opted out (a customer never seen has not).
func (s *Service) AddressOptedOut(ctx context.Context, kind IdentityKind, address string) (bool, error) {
	value, err := normalizeIdentity(kind, address, s.cfg.DefaultCountry)
	if err != nil {
		return false, err
	}
	n, err := s.db.NewSelect().Table("customer_identities").
		Where("kind = ? AND value = ? AND opted_out_at IS NOT NULL", kind, value).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("check opt-out: %w", err)
	}
	return n > 0, nil
}

// setOptOut records an opt-out or its end and says whether it changed anything; an opt-in
// whose messageID already lifted the opt-out (a retry) counts as a change, recorded once.
func (s *Service) setOptOut(ctx context.Context, kind IdentityKind, address string, out bool, messageID string) (bool, error) {
	value, err := normalizeIdentity(kind, address, s.cfg.DefaultCountry)
	if err != nil {
		return false, err
	}
	changed := false
	err = s.inTx(ctx, func(tx bun.Tx) error {
		changed = false // the transaction may be retried
		c, err := s.customerFor(ctx, tx, kind, value, "", "")
		if err != nil {
			return err
		}
		q := tx.NewUpdate().Model((*Identity)(nil)).Where("kind = ? AND value = ?", kind, value)
		kindName := "customer.opted_in"
		if out {
			q = q.Set("opted_out_at = ?", s.now()).Where("opted_out_at IS NULL")
			kindName = "customer.opted_out"
		} else {
			q = q.Set("opted_out_at = NULL").Set("opt_in_message_id = NULLIF(?, '')", messageID).Where("opted_out_at IS NOT NULL")
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return fmt.Errorf("record opt-out: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if !out && messageID != "" {
				// Read after the update, so a first delivery still in flight has committed.
				retried, err := tx.NewSelect().Model((*Identity)(nil)).
					Where("kind = ? AND value = ? AND opt_in_message_id = ?", kind, value, messageID).Exists(ctx)
				if err != nil {
					return fmt.Errorf("check opt-in retry: %w", err)
				}
				changed = retried
			}
			return nil // already so
		}
		changed = true
		return s.record(ctx, tx, customerActor, "customer", c.ID, kindName, map[string]any{"kind": kind})
	})
	if err != nil {
		return false, err
	}
	return changed, nil
}

// optedOut reports whether the customer refuses messages on a channel.
func (s *Service) optedOut(ctx context.Context, db bun.IDB, customerID int64, ch Channel) (bool, error) {
	kind, ok := channelIdentity[ch]
	if !ok {
		return false, nil
	}
	n, err := db.NewSelect().Table("customer_identities").
		Where("customer_id = ? AND kind = ? AND opted_out_at IS NOT NULL", customerID, kind).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("check opt-out: %w", err)
	}
	return n > 0, nil
}

// channelIdentity is the identity a channel delivers to.
var channelIdentity = map[Channel]IdentityKind{
	ChannelSMS: IdentityPhone, ChannelPhone: IdentityPhone, ChannelWeChat: IdentityWeChat, ChannelEmail: IdentityEmail,
}

// Delivery is an outbound message with what its channel needs to send it.
type Delivery struct {
	Message  *Message
	Ticket   *Ticket
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
	// in by the Aftercare (an emailed survey's link).
	Body string
}

// Delivery loads a queued outbound message for sending; nil when it was sent already.
func (s *Service) Delivery(ctx context.Context, messageID int64) (*Delivery, error) {
	m := new(Message)
	err := s.db.NewSelect().Model(m).Where("id = ? AND direction = ?", messageID, DirectionOutbound).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFoundf("outbound message %d not found", messageID)
	}
	if err != nil {
		return nil, fmt.Errorf("load message: %w", err)
	}
	if m.DeliveryStatus != DeliveryQueued || m.ProviderMessageID != nil {
		return nil, nil
	}
	t, err := s.ticketByID(ctx, s.db, m.TicketID)
	if err != nil {
		return nil, err
	}
	d := &Delivery{Message: m, Ticket: t, Body: m.Body}
	if s.care != nil {
		if d.Body, err = s.care.Text(ctx, m); err != nil {
			return nil, err
		}
	}
	kind := channelIdentity[m.Channel]
	id := new(Identity)
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
		Where("ticket_id = ? AND channel = ? AND direction = ? AND provider_message_id IS NOT NULL", t.ID, m.Channel, DirectionInbound).
		OrderExpr("id DESC").Limit(1).Scan(ctx, &d.ReplyTo)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("load the message answered: %w", err)
	}
	return d, nil
}

// TicketOfMessage finds the ticket holding one of the provider message ids (an email's
// In-Reply-To and References), newest id first; 0 when none is known.
func (s *Service) TicketOfMessage(ctx context.Context, ch Channel, providerIDs []string) (int64, error) {
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
func (s *Service) Bounced(ctx context.Context, ch Channel, providerID, reason string) (bool, error) {
	var id int64
	err := s.db.NewSelect().Table("messages").Column("id").
		Where("channel = ? AND provider_message_id = ? AND direction = ?", ch, providerID, DirectionOutbound).Scan(ctx, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("find bounced message: %w", err)
	}
	return true, s.MarkFailed(ctx, id, reason)
}

// MarkSent records the provider's id and status for a message it accepted.
func (s *Service) MarkSent(ctx context.Context, messageID int64, providerID, status string) error {
	if status == "" || deliveryRank[status] < deliveryRank[DeliverySent] {
		status = DeliverySent
	}
	_, err := s.db.NewUpdate().Model((*Message)(nil)).
		Set("provider_message_id = ?, delivery_status = ?, send_claim = NULL, send_claimed_until = NULL", providerID, status).
		Where("id = ? AND provider_message_id IS NULL", messageID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark message sent: %w", err)
	}
	return nil
}

// MarkFailed records that a message could not be sent, and why, on the ticket.
func (s *Service) MarkFailed(ctx context.Context, messageID int64, reason string) error {
	return s.markFailed(ctx, messageID, "", reason)
}

// markFailed is MarkFailed, under a send claim when claim is not empty: a holder whose
// lease lapsed and was taken over records nothing.
func (s *Service) markFailed(ctx context.Context, messageID int64, claim, reason string) error {
	return s.inTx(ctx, func(tx bun.Tx) error {
		m := new(Message)
		if err := tx.NewSelect().Model(m).Where("id = ?", messageID).Scan(ctx); err != nil {
			return fmt.Errorf("load message: %w", err)
		}
		if deliveryRank[m.DeliveryStatus] >= deliveryRank[DeliveryFailed] {
			return nil
		}
		q := tx.NewUpdate().Model(m).
			Set("delivery_status = ?, delivery_error = ?, send_claim = NULL, send_claimed_until = NULL", DeliveryFailed, reason).WherePK()
		if claim != "" {
			q = q.Where("send_claim = ?", claim)
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return fmt.Errorf("mark message failed: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // the claim lapsed and another worker has the message
		}
		return s.record(ctx, tx, systemActor, "ticket", m.TicketID, "delivery.failed", map[string]any{"message_id": m.ID, "channel": m.Channel, "error": reason})
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
	res, err := s.db.NewUpdate().Model((*Message)(nil)).
		Set("send_claim = ?, send_claimed_until = ?", c.Token, c.Until).
		Where("id = ? AND direction = ? AND delivery_status = ? AND provider_message_id IS NULL", messageID, DirectionOutbound, DeliveryQueued).
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
	_, err := s.db.NewUpdate().Model((*Message)(nil)).
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
	_, err := s.db.NewUpdate().Model((*Message)(nil)).
		Set("send_claim = NULL, send_claimed_until = NULL").
		Where("id = ? AND send_claim = ?", c.MessageID, c.Token).Exec(ctx)
	if err != nil {
		return fmt.Errorf("release message %d: %w", c.MessageID, err)
	}
	return nil
}

// RecordSent records, under the claim, the provider's id for a message it accepted. It
// reports false when the claim had lapsed and another worker took the message over.
func (s *Service) RecordSent(ctx context.Context, c *SendClaim, providerID string) (bool, error) {
	res, err := s.db.NewUpdate().Model((*Message)(nil)).
		Set("provider_message_id = ?, delivery_status = ?, send_claim = NULL, send_claimed_until = NULL", providerID, DeliverySent).
		Where("id = ? AND send_claim = ? AND provider_message_id IS NULL", c.MessageID, c.Token).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("mark message %d sent: %w", c.MessageID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RecordSendFailed records, under the claim, that the message cannot be sent, and why.
func (s *Service) RecordSendFailed(ctx context.Context, c *SendClaim, reason string) error {
	return s.markFailed(ctx, c.MessageID, c.Token, reason)
}

func randomToken() string {
	b := make([]byte, 16)
	rand.Read(b) //nolint:errcheck // never fails
	return hex.EncodeToString(b)
}

// UpdateDelivery applies a provider's status report to the message it names. Statuses only
// move forward (queued → sent → delivered), since reports can arrive out of order; a
// failure is recorded on the ticket. It reports whether the message is known.
func (s *Service) UpdateDelivery(ctx context.Context, ch Channel, providerID, status, errorCode string) (bool, error) {
	status = strings.ToLower(strings.TrimSpace(status))
	rank, ok := deliveryRank[status]
	if !ok {
		return false, invalidf("unknown delivery status %q", status)
	}
	if providerID == "" || len(providerID) > MaxProviderIDBytes {
		return false, invalidf("provider message id is empty or longer than %d bytes", MaxProviderIDBytes)
	}
	if len(errorCode) > 64 {
		return false, invalidf("delivery error code is longer than 64 bytes")
	}
	known := false
	err := s.inTx(ctx, func(tx bun.Tx) error {
		m := new(Message)
		err := tx.NewSelect().Model(m).Where("channel = ? AND provider_message_id = ? AND direction = ?", ch, providerID, DirectionOutbound).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("find message: %w", err)
		}
		known = true
		if rank <= deliveryRank[m.DeliveryStatus] {
			return nil
		}
		if _, err := tx.NewUpdate().Model(m).Set("delivery_status = ?, delivery_error = ?", status, errorCode).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update delivery: %w", err)
		}
		if status == DeliveryFailed || status == DeliveryUndelivered {
			return s.record(ctx, tx, systemActor, "ticket", m.TicketID, "delivery.failed", map[string]any{
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

// Setting reads a value Hotline keeps for itself, creating it with make() the first time;
// concurrent first calls agree on one value.
func (s *Service) Setting(ctx context.Context, key string, make func() string) (string, error) {
	return s.setting(ctx, s.db, key, make)
}

// setting is Setting inside a transaction (SQLite has one writer: a second connection would
// wait on the transaction's own lock).
func (s *Service) setting(ctx context.Context, db bun.IDB, key string, make func() string) (string, error) {
	var v string
	err := db.NewSelect().Table("settings").Column("value").Where("key = ?", key).Scan(ctx, &v)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("read setting %s: %w", key, err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
		key, make(), s.now()); err != nil {
		return "", fmt.Errorf("store setting %s: %w", key, err)
	}
	return s.setting(ctx, db, key, make)
}

// HasMessage reports whether a provider's message id is already stored on a channel.
func (s *Service) HasMessage(ctx context.Context, ch Channel, providerID string) (bool, error) {
	n, err := s.db.NewSelect().Table("messages").Where("channel = ? AND provider_message_id = ?", ch, providerID).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("look up message: %w", err)
	}
	return n > 0, nil
}

// CallerStatus is a ticket's status told to the caller whose phone it belongs to, with its
// complaint still waiting for a decision (or nil): nil when the ticket is not theirs, so
// the phone menu never reads out someone else's ticket.
func (s *Service) CallerStatus(ctx context.Context, ticketID int64, phone string) (*Ticket, *ComplaintStatusView, error) {
	phone, err := NormalizePhone(phone, s.cfg.DefaultCountry)
	if err != nil {
		return nil, nil, err
	}
	t := new(Ticket)
	err = s.db.NewSelect().Model(t).
		Where("id = ? AND customer_id = (SELECT customer_id FROM customer_identities WHERE kind = 'phone' AND value = ?)", ticketID, phone).
		Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("find caller's ticket: %w", err)
	}
	c, err := s.complaintView(ctx, t.ID, true)
	if err != nil {
		return t, nil, err
	}
	return t, c, nil
}

// PutSetting stores a value Hotline keeps for itself (an IMAP cursor, say).
func (s *Service) PutSetting(ctx context.Context, key, value string) error {
	_, err := s.db.ExecContext(ctx, "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at",
		key, value, s.now())
	if err != nil {
		return fmt.Errorf("store setting %s: %w", key, err)
	}
	return nil
}

// QuietUntil says whether a message must wait for the end of quiet hours, and until when:
// an SMS nobody wrote by hand (an acknowledgement, a survey, a notice) for a ticket that
// is not urgent, during the night in the calendar's zone.
func (s *Service) QuietUntil(d *Delivery) (time.Time, bool) {
	start, end := s.cfg.QuietStart, s.cfg.QuietEnd
	if start == end || d.Message.Channel != ChannelSMS || d.Message.AuthorID != nil || d.Ticket.Priority == PriorityUrgent {
		return time.Time{}, false
	}
	// Wall-clock times, so that 08:00 is 08:00 on daylight-saving days too.
	until, quiet := s.cal.NightEnd(s.now(), start, end)
	if !quiet {
		return time.Time{}, false
	}
	return until.UTC(), true
}
