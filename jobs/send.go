package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/hotlinedesk/hotline/channels"
)

// TypeSend delivers one outbound message through its channel's sender.
const TypeSend = "message:send"

type sendPayload struct {
	MessageID int64 `json:"message_id"`
}

// send hands a queued message to its channel. The message was stored first (queued), and is
// claimed in the database before its provider is called: the held task, the reconciler's
// task and a retry may all run for one message, at once on different workers, and only the
// claim's holder sends it and records the outcome. A provider's refusal is recorded on the
// message and on the ticket, and a passing failure gives the claim back and is retried.
func (h *Handlers) send(ctx context.Context, t *asynq.Task) error {
	var p sendPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode send task: %v: %w", err, asynq.SkipRetry)
	}
	claim, err := h.delivery.ClaimSend(ctx, p.MessageID)
	if err != nil || claim == nil { // nil: sent, failed, or another worker is sending it
		return err
	}
	// Outcomes are recorded even when the task is being cancelled: the send may have happened.
	rec := context.WithoutCancel(ctx)
	d, err := h.delivery.Delivery(ctx, p.MessageID)
	if err != nil || d == nil {
		return errors.Join(err, h.delivery.ReleaseSend(rec, claim))
	}
	if d.OptedOut {
		return h.delivery.RecordSendFailed(rec, claim, fmt.Sprintf("not sent: the customer opted out of %s messages", d.Message.Channel))
	}
	if until, quiet := h.delivery.QuietUntil(d); quiet && h.sched != nil {
		// Recorded before the task is queued: if queueing fails, the reconciler finds the
		// message after until, and not before.
		if err := h.delivery.HoldSend(rec, claim, until); err != nil {
			return err
		}
		h.log.Info("notice held for the end of quiet hours", "message", d.Message.ID, "until", until)
		return h.sched.DeliverAt(ctx, d.Message.ID, until)
	}
	sender, ok := h.senders[d.Message.Channel]
	if !ok {
		return h.delivery.RecordSendFailed(rec, claim, fmt.Sprintf("not sent: no %s provider is configured", d.Message.Channel))
	}
	files, err := h.outgoingFiles(ctx, d.Message)
	if err != nil {
		return errors.Join(err, h.delivery.ReleaseSend(rec, claim))
	}
	out := channels.Outbound{MessageID: d.Message.ID, To: d.To, Body: d.Body, Subject: d.Ticket.Subject, Ref: d.Ticket.Ref(),
		InReplyTo: d.ReplyTo, References: d.ThreadIDs, Files: files}
	providerID, err := sender.Send(ctx, out)
	if channels.IsPermanent(err) {
		return h.delivery.RecordSendFailed(rec, claim, err.Error())
	}
	if err != nil {
		retried, _ := asynq.GetRetryCount(ctx)
		if most, ok := asynq.GetMaxRetry(ctx); ok && retried >= most {
			return h.delivery.RecordSendFailed(rec, claim, "gave up after retries: "+err.Error())
		}
		return errors.Join(err, h.delivery.ReleaseSend(rec, claim))
	}
	recorded, err := h.delivery.RecordSent(rec, claim, providerID)
	if err == nil && !recorded {
		h.log.Warn("a send finished after its claim lapsed; another worker took the message over",
			"message", d.Message.ID, "channel", d.Message.Channel)
	}
	return err
}

// redeliver queues again the messages whose send task was lost.
func (h *Handlers) redeliver(ctx context.Context) error {
	if h.sched == nil {
		return nil
	}
	ids, err := h.delivery.UndeliveredMessages(ctx)
	if err != nil || len(ids) == 0 {
		return err
	}
	return h.sched.Deliver(ctx, ids)
}
