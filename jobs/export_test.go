package jobs

import (
	"context"
	"encoding/json"
	"time"

	"github.com/hibiken/asynq"
)

// SendForTest runs the send task of one message, as a worker picking it up would.
func (h *Handlers) SendForTest(ctx context.Context, messageID int64) error {
	payload, _ := json.Marshal(sendPayload{MessageID: messageID})
	return h.send(ctx, asynq.NewTask(TypeSend, payload))
}

// RedeliverForTest runs the reconciler's search for messages whose send task was lost.
func (h *Handlers) RedeliverForTest(ctx context.Context) error { return h.redeliver(ctx) }

// ReconcileForTest runs one round of the reconciler.
func (h *Handlers) ReconcileForTest(ctx context.Context) error { return h.reconcile(ctx, nil) }

// SetUniqueForTest shortens how long a queued delivery task keeps the sweep from queueing
// another for the same delivery (WebhookTaskUnique).
func (w *Webhooks) SetUniqueForTest(d time.Duration) { w.unique = d }
