package tickets

import "github.com/uptrace/bun"

// SweepBatch is how many rows one sweep transaction handles, so tests can make bursts of
// several batches (tests only).
const SweepBatch = sweepBatch

// SkipLocked is the lock the sweeps take on the rows they handle (tests only).
func (s *Service) SkipLocked(q *bun.SelectQuery) *bun.SelectQuery { return s.skipLocked(q) }
