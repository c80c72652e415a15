package privacy

// SetBatch makes s's retention transactions take n rows at most, so tests see batches.
func SetBatch(s *Service, n int) { s.batch = n }
