package tickets_test

import (
	"testing"

	"github.com/hotlinedesk/hotline/tickets"
)

// FuzzRemainingGaps: the ids a reader of the audit trail watches for late commits after a run are
// exactly those they watched, less the ids that appeared and the gaps older than the
// longest transaction; nothing found is watched again and nothing still missing is lost.
func FuzzRemainingGaps(f *testing.F) {
	f.Add([]byte{3, 2, 0, 1, 5, 1, 1}, []byte{0, 4, 9}, uint16(10))
	f.Add([]byte{1, 0, 2, 9, 0, 1, 200}, []byte{1, 1, 1, 2}, uint16(0))
	f.Add([]byte{}, []byte{5}, uint16(3))
	f.Fuzz(func(t *testing.T, shape, picks []byte, ageSteps uint16) {
		// Gaps ascending and apart, each from a (distance, length, age) triple.
		var gaps [][3]int64
		next := int64(1)
		for i := 0; i+2 < len(shape) && len(gaps) < 50; i += 3 {
			from := next + int64(shape[i])
			to := from + int64(shape[i+1]%64)
			seen := int64(shape[i+2]) * 10_000
			gaps = append(gaps, [3]int64{from, to, seen})
			next = to + 2
		}
		var ids []int64
		for g := range gaps {
			for id := gaps[g][0]; id <= gaps[g][1]; id++ {
				ids = append(ids, id)
			}
		}
		// Found: a subset of the watched ids, ascending, picked by the bits of picks.
		var found []int64
		foundSet := map[int64]bool{}
		for i, id := range ids {
			if len(picks) > 0 && picks[i%len(picks)]>>(uint(i/len(picks))%8)&1 == 1 {
				found = append(found, id)
				foundSet[id] = true
			}
		}
		now := int64(ageSteps) * 1_000
		kept := map[int64]bool{}
		prevTo := int64(-1)
		for _, g := range tickets.RemainingGapsForTest(gaps, found, now) {
			if g[0] > g[1] || g[0] <= prevTo {
				t.Fatalf("gap %v empty or out of order after %d", g, prevTo)
			}
			if now-g[2] > tickets.GapWaitMillis {
				t.Fatalf("gap %v kept past the longest transaction (now %d)", g, now)
			}
			prevTo = g[1]
			for id := g[0]; id <= g[1]; id++ {
				if foundSet[id] {
					t.Fatalf("id %d found but still watched", id)
				}
				kept[id] = true
			}
		}
		for _, g := range gaps {
			for id := g[0]; id <= g[1]; id++ {
				want := !foundSet[id] && now-g[2] <= tickets.GapWaitMillis
				if kept[id] != want {
					t.Fatalf("id %d of gap %v: watched %v, want %v", id, g, kept[id], want)
				}
			}
		}
		if len(kept) > len(ids) {
			t.Fatalf("watching %d ids, more than the %d given", len(kept), len(ids))
		}
	})
}
