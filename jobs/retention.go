package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hotlinedesk/hotline/tickets/privacy"
)

// TypeRetention erases what the retention policy says expired (tickets/privacy).
const TypeRetention = "privacy:retention"

// RetentionEvery is how often the retention task is enqueued. The run itself happens once
// per retention period (a day by default), claimed in the database: the hourly task only
// makes sure a restart or a lost task delays it an hour at most.
const RetentionEvery = time.Hour

// Retention is the retention task over the privacy chapter.
type Retention struct {
	p   *privacy.Service
	log *slog.Logger
}

// NewRetention builds the task.
func NewRetention(p *privacy.Service, log *slog.Logger) *Retention {
	if log == nil {
		log = slog.Default()
	}
	return &Retention{p: p, log: log}
}

// Register adds the task's handler to mux.
func (r *Retention) Register(mux *asynq.ServeMux) { mux.HandleFunc(TypeRetention, r.handle) }

// RunRetention enqueues the retention task every interval until ctx ends (every worker
// process runs one; the interval's task id makes them enqueue it once, and the period's
// row in retention_runs makes one of them run it).
func RunRetention(ctx context.Context, b *Broker, every time.Duration, log *slog.Logger) {
	RunPeriodic(ctx, b, TypeRetention, every, log)
}

func (r *Retention) handle(ctx context.Context, _ *asynq.Task) error {
	run, err := r.p.RunPeriod(ctx)
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	if run != nil {
		r.log.Debug("retention run", "period", run.Period, "messages", run.Messages, "attachments", run.Attachments,
			"recordings", run.Recordings, "customers", run.Customers)
	}
	return nil
}
