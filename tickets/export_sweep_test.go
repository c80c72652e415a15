package tickets

// SweepBatch is how many rows one sweep transaction handles, so tests can make bursts of
// several batches (tests only).
const SweepBatch = sweepBatch
