package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hotlinedesk/hotline/channels"
	"github.com/hotlinedesk/hotline/tickets"
)

// TypeSend delivers one outbound message through its channel's sender.
const TypeSend = "message:send"

type sendPayload struct {
	MessageID int64 `json:"message_id"`
}

// redeliverAfter is how long a queued message may wait before the reconciler decides its
// send task was lost.
const redeliverAfter = 2 * time.Minute

// send hands a queued message to its channel. The message was stored first (queued); a
// provider's refusal is recorded on it and on the ticket, and a passing failure is retried.
func (h *Handlers) send(ctx context.Context, t *asynq.Task) error {
	var p sendPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode send task: %v: %w", err, asynq.SkipRetry)
	}
	d, err := h.svc.Delivery(ctx, p.MessageID)
	if err != nil || d == nil { // nil: sent already
		return err
	}
	if d.OptedOut {
		return h.svc.MarkFailed(ctx, p.MessageID, fmt.Sprintf("not sent: the customer opted out of %s messages", d.Message.Channel))
	}
	if until, quiet := h.svc.QuietUntil(d); quiet && h.sched != nil {
		h.log.Info("notice held for the end of quiet hours", "message", d.Message.ID, "until", until)
		return h.sched.DeliverAt(ctx, d.Message.ID, until)
	}
	sender, ok := h.senders[d.Message.Channel]
	if !ok {
		return h.svc.MarkFailed(ctx, p.MessageID, fmt.Sprintf("not sent: no %s provider is configured", d.Message.Channel))
	}
	out := channels.Outbound{MessageID: d.Message.ID, To: d.To, Body: d.Body, Subject: d.Ticket.Subject, Ref: d.Ticket.Ref(),
		InReplyTo: d.ReplyTo, References: d.ThreadIDs}
	providerID, err := sender.Send(ctx, out)
	if channels.IsPermanent(err) {
		return h.svc.MarkFailed(ctx, p.MessageID, err.Error())
	}
	if err != nil {
		retried, _ := asynq.GetRetryCount(ctx)
		if most, ok := asynq.GetMaxRetry(ctx); ok && retried >= most {
			return h.svc.MarkFailed(ctx, p.MessageID, "gave up after retries: "+err.Error())
		}
		return err
	}
	return h.svc.MarkSent(ctx, p.MessageID, providerID, tickets.DeliverySent)
}

// redeliver queues messages whose send task was lost again.
func (h *Handlers) redeliver(ctx context.Context) error {
	ids, err := h.svc.UndeliveredMessages(ctx, redeliverAfter)
	if err != nil || len(ids) == 0 || h.sched == nil {
		return err
	}
	return h.sched.Deliver(ctx, ids)
}
