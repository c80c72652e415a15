package tickets

// SetStatementLimit bounds how many prepared statements svc keeps (tests only).
func SetStatementLimit(svc *Service, n int) { svc.stmts.max = n }

// RemainingGapsForTest runs remainingGaps over gaps given as [from, to, seen] triples.
func RemainingGapsForTest(gaps [][3]int64, found []int64, now int64) [][3]int64 {
	in := make([]trailGap, len(gaps))
	for i, g := range gaps {
		in[i] = trailGap{From: g[0], To: g[1], Seen: g[2]}
	}
	var out [][3]int64
	for _, g := range remainingGaps(in, found, now) {
		out = append(out, [3]int64{g.From, g.To, g.Seen})
	}
	return out
}

// GapWaitMillis is how long a missing event id is watched, in milliseconds.
var GapWaitMillis = TrailGapWait.Milliseconds()

// SetStoreFileMet makes svc call fn, inside the message's transaction, when keeping a file
// in the database finds the file's row there already (tests only).
func SetStoreFileMet(svc *Service, fn func(key string)) { svc.storeFileMet = fn }

// SetFilesHeld makes svc call fn, inside a message's transaction, once it has held the
// files its attachments put in the store (tests only).
func SetFilesHeld(svc *Service, fn func(keys []string)) { svc.filesHeld = fn }
