package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hotlinedesk/hotline/tickets"
)

// TypeSweepFiles deletes from the file store the files no message uses (orphans of
// messages whose transaction failed after their files were put, files retention freed that
// were touched again, objects left without a row), older than the grace period.
const TypeSweepFiles = "files:sweep"

// SweepFilesEvery is how often the file sweep is enqueued.
const SweepFilesEvery = 15 * time.Minute

// maxSweepBatches bounds one run: the next run goes on.
const maxSweepBatches = 100

// FileSweep is the file sweep task over the core.
type FileSweep struct {
	svc *tickets.Service
	log *slog.Logger
}

// NewFileSweep builds the task.
func NewFileSweep(svc *tickets.Service, log *slog.Logger) *FileSweep {
	if log == nil {
		log = slog.Default()
	}
	return &FileSweep{svc: svc, log: log}
}

// Register adds the task's handler to mux.
func (f *FileSweep) Register(mux *asynq.ServeMux) { mux.HandleFunc(TypeSweepFiles, f.handle) }

// RunFileSweep enqueues the file sweep every interval until ctx ends; the interval's task
// id makes the worker processes enqueue it once.
func RunFileSweep(ctx context.Context, b *Broker, every time.Duration, log *slog.Logger) {
	RunPeriodic(ctx, b, TypeSweepFiles, every, log)
}

func (f *FileSweep) handle(ctx context.Context, _ *asynq.Task) error {
	n, err := f.Sweep(ctx)
	if n > 0 {
		f.log.Info("orphan files swept", "files", n)
	}
	return err
}

// Sweep deletes orphan files in bounded batches (tickets.FileSweepBatch each, at most
// maxSweepBatches), then objects the store holds without a row; it returns how many.
func (f *FileSweep) Sweep(ctx context.Context) (int, error) {
	if f.svc.FileStore() == nil {
		return 0, nil
	}
	total := 0
	for range maxSweepBatches {
		n, err := f.svc.SweepFiles(ctx, tickets.FileSweepBatch)
		total += n
		if err != nil {
			return total, fmt.Errorf("sweep files: %w", err)
		}
		if n < tickets.FileSweepBatch {
			break
		}
	}
	n, err := f.svc.SweepStrayObjects(ctx)
	total += n
	if err != nil {
		return total, fmt.Errorf("sweep stray files: %w", err)
	}
	return total, nil
}
