package tickets

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// batcher stores concurrent intakes together (group commit): a message that arrives
// while the batches already running fill the database's time waits for the next one, and
// each of its callers returns once its own message is committed. One transaction for many
// messages costs PostgreSQL about what one costs alone, so a desk flooded with texts keeps
// up; a message arriving alone is stored at once, as before.
//
// It also groups SQLite's logged contacts (contactBatch), whose commits would otherwise
// each sync the file in turn: In is what a caller hands over, Out what it gets back.
type batcher[In, Out any] struct {
	run   func(ctx context.Context, ins []In) ([]Out, []error)
	limit int // batches running at once
	max   int // messages a batch

	mu      sync.Mutex
	running int
	pending []*batchCall[In, Out]

	hooks batchHooks[In]
}

// batchHooks let tests step in at a batch's seams without sleeping; all nil outside tests.
type batchHooks[In any] struct {
	queued    func(waiting int)                      // a call joined the queue (b.mu held)
	started   func(ins []In)                         // a batch's transaction is about to begin
	committed func(ins []In)                         // a transaction of intakes committed
	lookup    func(ctx context.Context, in In) error // before reading back a stored message; an error fails the read
}

// intakeHooks are intake's batch hooks.
type intakeHooks = batchHooks[Inbound]

type batchCall[In, Out any] struct {
	ctx   context.Context
	in    In
	res   Out
	err   error
	done  chan struct{} // closed when res and err are set
	lead  chan struct{} // closed when this caller is to run batch
	batch []*batchCall[In, Out]
}

// batchTimeout bounds a batch's transaction, which outlives the caller that runs it.
const batchTimeout = time.Minute

func newBatcher[In, Out any](limit, size int, run func(ctx context.Context, ins []In) ([]Out, []error)) *batcher[In, Out] {
	return &batcher[In, Out]{run: run, limit: max(1, limit), max: max(1, size)}
}

// do stores in, in a batch of its own or with others, and returns its result. The
// caller's goroutine does the work when a batch is free to start: no goroutine runs in the
// background.
func (b *batcher[In, Out]) do(ctx context.Context, in In) (Out, error) {
	c := &batchCall[In, Out]{ctx: ctx, in: in, done: make(chan struct{}), lead: make(chan struct{})}
	b.mu.Lock()
	b.pending = append(b.pending, c)
	if b.hooks.queued != nil {
		b.hooks.queued(len(b.pending))
	}
	var batch []*batchCall[In, Out]
	if b.running < b.limit {
		b.running++
		batch = b.take()
	}
	b.mu.Unlock()
	for {
		if batch != nil {
			b.runBatch(batch)
			batch = nil
		}
		// A caller that gave up still waits: its message may be in a transaction already.
		select {
		case <-c.done:
			return c.res, c.err
		case <-c.lead:
			batch, c.lead = c.batch, nil // a caller leads once
		}
	}
}

// take removes the next batch from the front of the queue; b.mu is held.
func (b *batcher[In, Out]) take() []*batchCall[In, Out] {
	n := min(len(b.pending), b.max)
	calls := slices.Clone(b.pending[:n])
	b.pending = slices.Delete(b.pending, 0, n)
	return calls
}

// runBatch stores a batch, then hands the next one, if any is waiting, to its first
// caller.
func (b *batcher[In, Out]) runBatch(calls []*batchCall[In, Out]) {
	live := calls[:0:0]
	for _, c := range calls {
		if err := c.ctx.Err(); err != nil {
			c.err = err
			close(c.done)
			continue
		}
		live = append(live, c)
	}
	if len(live) > 0 {
		ins := make([]In, len(live))
		for i, c := range live {
			ins[i] = c.in
		}
		if b.hooks.started != nil {
			b.hooks.started(ins)
		}
		// The batch runs on for every caller once it has begun: a caller who gives up now
		// still has its message stored, and the others theirs.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(live[0].ctx), batchTimeout)
		res, errs := b.runSafely(ctx, ins)
		cancel()
		for i, c := range live {
			c.res, c.err = res[i], errs[i]
			close(c.done)
		}
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	b.running--
	if len(b.pending) > 0 {
		b.running++
		next := b.take()
		next[0].batch = next
		close(next[0].lead)
	}
}

// runSafely runs a batch; a panic becomes every caller's error, so that the callers waiting
// on the batch are answered and later batches still start.
func (b *batcher[In, Out]) runSafely(ctx context.Context, ins []In) (res []Out, errs []error) {
	defer func() {
		if p := recover(); p != nil {
			err := fmt.Errorf("intake failed: %v", p)
			res, errs = make([]Out, len(ins)), make([]error, len(ins))
			for i := range errs {
				errs[i] = err
			}
		}
	}()
	return b.run(ctx, ins)
}
