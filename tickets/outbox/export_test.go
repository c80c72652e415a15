package outbox

// RemainingGapsForTest runs remainingGaps over gaps given as [from, to, seen] triples.
func RemainingGapsForTest(gaps [][3]int64, found []int64, now int64) [][3]int64 {
	in := make([]idGap, len(gaps))
	for i, g := range gaps {
		in[i] = idGap{From: g[0], To: g[1], Seen: g[2]}
	}
	var out [][3]int64
	for _, g := range remainingGaps(in, found, now) {
		out = append(out, [3]int64{g.From, g.To, g.Seen})
	}
	return out
}

// GapWaitMillis is how long a missing event id is watched, in milliseconds.
var GapWaitMillis = gapWait.Milliseconds()
