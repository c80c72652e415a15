package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hotlinedesk/hotline/tickets/webhooks"
)

// Outbound webhooks (tickets/webhooks): a periodic sweep collects the audit trail's news
// into deliveries and enqueues a task for each delivery due, and the task makes one
// attempt. The deliveries, their next attempt and their claims are in the database, so
// a Redis flush or a restart loses nothing: the next sweep enqueues again what is due, and
// a claim a dead worker held lapses and is taken again.
const (
	TypeWebhookSweep   = "webhooks:sweep"   // collect, and enqueue what is due
	TypeWebhookDeliver = "webhooks:deliver" // one attempt of one delivery
	TypeWebhookPurge   = "webhooks:purge"   // remove deliveries kept long enough
)

// WebhookSweepEvery is how often the sweep runs: the longest a new event, a redelivery, a
// ping or a retry that came due waits for its task.
const WebhookSweepEvery = 5 * time.Second

// WebhookPurgeEvery is how often week-old deliveries are removed.
const WebhookPurgeEvery = time.Hour

// WebhookTaskUnique is how long a delivery's queued task keeps the sweep from queueing
// another for it. A task that ends (attempted or not) lifts the lock at once; one Asynq
// archives (it timed out, or its worker died) holds it no longer than this, after which
// the next sweep queues the delivery again.
const WebhookTaskUnique = time.Minute

type webhookPayload struct {
	DeliveryID int64 `json:"delivery_id"`
}

// Webhooks is the webhooks' tasks over the chapter.
type Webhooks struct {
	hooks  *webhooks.Service
	client *asynq.Client
	log    *slog.Logger
	unique time.Duration // WebhookTaskUnique; shorter in tests
}

// NewWebhooks builds the tasks; the sweep enqueues on b.
func NewWebhooks(hooks *webhooks.Service, b *Broker, log *slog.Logger) *Webhooks {
	if log == nil {
		log = slog.Default()
	}
	return &Webhooks{hooks: hooks, client: asynq.NewClient(b.Opt), log: log, unique: WebhookTaskUnique}
}

// Close releases the connection.
func (w *Webhooks) Close() error { return w.client.Close() }

// Register adds the tasks' handlers to mux.
func (w *Webhooks) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeWebhookSweep, w.sweep)
	mux.HandleFunc(TypeWebhookDeliver, w.deliver)
	mux.HandleFunc(TypeWebhookPurge, w.purge)
}

// RunWebhooks enqueues the sweep every interval and the purge every WebhookPurgeEvery
// until ctx ends (every worker process runs one; the interval's task id makes them
// enqueue each once).
func RunWebhooks(ctx context.Context, b *Broker, every time.Duration, log *slog.Logger) {
	go RunPeriodic(ctx, b, TypeWebhookPurge, WebhookPurgeEvery, log)
	RunPeriodic(ctx, b, TypeWebhookSweep, every, log)
}

func (w *Webhooks) sweep(ctx context.Context, _ *asynq.Task) error {
	n, err := w.hooks.Collect(ctx)
	if err != nil {
		return fmt.Errorf("collect webhook deliveries: %w", err)
	}
	if n > 0 {
		w.log.Debug("webhook deliveries collected", "deliveries", n)
	}
	due, err := w.hooks.DueDeliveries(ctx, 500)
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range due {
		payload, _ := json.Marshal(webhookPayload{DeliveryID: d.ID})
		// The database's claim makes one attempt of however many tasks; the uniqueness lock
		// (on the delivery's id) only keeps sweeps from piling tasks up while one waits.
		// Never a fixed task id: a task Asynq archived keeps its id for months, and every
		// later sweep's task under it would be refused, the delivery left pending for good
		// and, by the ticket's order, every later event of its ticket behind it.
		_, err := w.client.EnqueueContext(ctx, asynq.NewTask(TypeWebhookDeliver, payload),
			asynq.Unique(w.unique), asynq.Queue("default"), asynq.MaxRetry(0),
			asynq.Timeout(time.Minute), asynq.Retention(time.Minute))
		if err != nil && !errors.Is(err, asynq.ErrDuplicateTask) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("enqueue webhook deliveries: %w", err)
	}
	return nil
}

func (w *Webhooks) deliver(ctx context.Context, t *asynq.Task) error {
	var p webhookPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode webhook task: %v: %w", err, asynq.SkipRetry)
	}
	// Retries are the delivery's own (its next attempt in the database), never Asynq's:
	// a failure is logged, the task ends (lifting its uniqueness lock) and the sweep
	// queues the delivery once more.
	if _, err := w.hooks.Send(ctx, p.DeliveryID); err != nil {
		w.log.Warn("a webhook delivery could not be attempted; the sweep queues it again", "delivery", p.DeliveryID, "err", err)
	}
	return nil
}

func (w *Webhooks) purge(ctx context.Context, _ *asynq.Task) error {
	n, err := w.hooks.Purge(ctx)
	if n > 0 {
		w.log.Info("expired webhook deliveries removed", "deliveries", n)
	}
	return err
}
