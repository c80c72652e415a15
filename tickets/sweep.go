package tickets

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// The sweep's stage runner: stages that handle what has come due in batches, each
// committing on its own, a burst shared by a few transactions on PostgreSQL. The tickets'
// stages (warnings and breaches) are package deadlines', the complaints' package
// complaints'; both run through RunSweep.

// sweepBatch is how many rows one sweep transaction handles.
const sweepBatch = 1000

// SweepBatch is how many rows one transaction of a sweep stage handles (see SweepStage).
const SweepBatch = sweepBatch

// SweepStage is one kind of work a sweep does, committed in transactions of its own: Run
// handles at most SweepBatch rows in one transaction and returns how many it handled (a
// full batch means more may wait). It must act only on rows still due when it writes, so
// that concurrent sweeps act once.
type SweepStage struct {
	Name string // in logs and errors, e.g. "resolution breaches"
	Run  func(context.Context) (int, error)
}

// RunSweep runs stages in turn and returns how many rows
// each handled. Each runs until it has handled what is due: after a full batch, on
// PostgreSQL, a few transactions at once share the rest (they take different rows: see
// SkipLocked). The stages fail alone: one that fails is logged and the others still run
// and commit; the errors are returned together afterwards, so the job is retried. When
// ctx ends, the stages not yet run wait for the next sweep.
func (s *Service) RunSweep(ctx context.Context, stages ...SweepStage) ([]int, error) {
	handled := make([]int, len(stages))
	var errs []error
	for i, st := range stages {
		if ctx.Err() != nil { // shutting down: what is left waits for the next sweep
			errs = append(errs, fmt.Errorf("sweep: %w", ctx.Err()))
			break
		}
		n, err := s.sweepStage(ctx, st)
		handled[i] = n
		if err != nil {
			s.log.ErrorContext(ctx, "sweep stage failed; the other stages go on", "stage", st.Name, "err", err)
			errs = append(errs, fmt.Errorf("sweep %s: %w", st.Name, err))
		}
	}
	return handled, errors.Join(errs...)
}

// sweepStage runs one stage until it has handled what is due.
func (s *Service) sweepStage(ctx context.Context, st SweepStage) (int, error) {
	n, err := st.Run(ctx)
	if err != nil || n < sweepBatch {
		return n, err
	}
	// A burst: on PostgreSQL the rest is shared by a few transactions at once, which
	// take different rows (SKIP LOCKED), so the database's cores all work on it.
	workers := 1
	if s.db.Dialect().Name() == dialect.PG {
		workers = sweepWorkers
	}
	var (
		mu    sync.Mutex
		errs  []error
		wg    sync.WaitGroup
		total = n
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, err := st.Run(ctx)
				mu.Lock()
				total += n
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
				if err != nil || n < sweepBatch {
					return
				}
			}
		}()
	}
	wg.Wait()
	return total, errors.Join(errs...)
}

// sweepWorkers is how many transactions share a burst of due deadlines.
const sweepWorkers = 4

// SkipLocked is the lock a sweep stage takes on the rows it selects to handle. It lets
// concurrent sweeps on PostgreSQL take different rows; SQLite has one writer at a time
// anyway. NO KEY UPDATE is the lock the sweep's own updates take (they change no key):
// unlike FOR UPDATE it lets another transaction insert a row referring to the ticket (a
// complaint, a message), whose foreign-key check takes KEY SHARE, so the sweep and a
// complaint being opened on the same ticket no longer deadlock.
func (s *Service) SkipLocked(q *bun.SelectQuery) *bun.SelectQuery {
	if s.db.Dialect().Name() == dialect.PG {
		return q.For("NO KEY UPDATE SKIP LOCKED")
	}
	return q
}
