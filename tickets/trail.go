package tickets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// Reading the audit trail exactly once, for the chapters that turn its news into rows to
// deliver after the commit (tickets/outbox's Slack announcements, tickets/webhooks'
// deliveries): a cursor over event ids kept in settings and moved in the same transaction
// as the rows written, guarded, and the ids a late commit may still fill watched until it
// no longer can.

// TrailReader names one reader of the audit trail: its cursor and what it reads.
type TrailReader struct {
	// Key is the setting holding the last event id read. Key+".start" holds where the
	// first read starts: a migration stores the end of the trail then, so that what happens
	// before any worker runs is still read while an upgraded install's history is not; the
	// end of the trail now is only the fallback for a setting removed by hand. Key+".gaps"
	// holds the ids missing below the cursor (see ReadTrail).
	Key string
	// Entity and Kinds are the events read: about Entity ("ticket"), of one of Kinds.
	Entity string
	Kinds  []string
}

// errTrailCursorMoved: another run advanced the cursor first; read again from there.
var errTrailCursorMoved = errors.New("audit trail cursor moved")

// TrailGapWait is how long an audit event id missing below a cursor is watched for a late
// commit: MaxTxAge (no transaction of the core's stays open longer), plus room for a
// statement still running at the deadline, the commit itself, and the clocks of two
// worker processes disagreeing.
const TrailGapWait = MaxTxAge + time.Minute

// trailScan is how many audit event ids a batch steps over at most.
const trailScan = 2000

// ReadTrail hands the reader's events since its last call to fn, in event id order, in
// the transaction that moves its cursor past them, exactly once: two overlapping calls
// never both take the same events (the cursor's move is guarded; the loser reads again
// from where the winner left it). fn writes what the events call for and returns how many
// rows; it must be safe to run again (the transaction may be retried), and its rows should
// be keyed by event, so that an event read twice (see below) is still acted on once.
// ReadTrail returns the rows fn wrote in all.
func (s *Service) ReadTrail(ctx context.Context, r TrailReader, fn func(ctx context.Context, tx Tx, evs []*Event) (int, error)) (int, error) {
	var last int64
	if err := s.db.NewSelect().Table("events").ColumnExpr("COALESCE(MAX(id), 0)").Scan(ctx, &last); err != nil {
		return 0, fmt.Errorf("find the end of the audit trail: %w", err)
	}
	start, err := s.Setting(ctx, r.Key+".start", func() string { return strconv.FormatInt(last, 10) })
	if err != nil {
		return 0, err
	}
	if _, err := s.Setting(ctx, r.Key, func() string { return start }); err != nil {
		return 0, err
	}
	if _, err := s.Setting(ctx, r.Key+".gaps", func() string { return "[]" }); err != nil {
		return 0, err
	}
	total := 0
	for i := range 100 { // at most 100 batches a call; the next call goes on
		n, more, err := s.readTrailBatch(ctx, r, i == 0, fn)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
	return total, nil
}

// trailGap is a run of event ids missing from the trail when the cursor passed them, first
// seen missing at Seen (Unix milliseconds).
type trailGap struct {
	From, To int64
	Seen     int64
}

// readTrailBatch steps the cursor over the next event ids and hands fn what the reader
// reads of them; when reread (a call's first batch: the later ones follow within
// milliseconds) it first looks again at the ids that were missing when the cursor passed
// them.
//
// Event ids are handed out at insert, not at commit: a transaction that commits after a
// later one shows an event below the cursor. Re-reading a fixed number of ids below the
// cursor loses such an event when more than that many are written meanwhile, so instead
// each batch records the ids it stepped over that were not there (in settings, moved with
// the cursor) and later batches read just those again. A missing id either commits later
// or never: its transaction began before the id after it was visible, and transactions end
// within MaxTxAge, so after TrailGapWait an id still missing was rolled back and is
// forgotten. This holds on both databases without reading anything but ids (PostgreSQL
// sequences and SQLite's AUTOINCREMENT hand ids out in increasing order; SQLite, with one
// writer, leaves gaps only where a transaction rolled back), and costs one range read of
// ids per batch however many events a burst writes.
func (s *Service) readTrailBatch(ctx context.Context, r TrailReader, reread bool, fn func(ctx context.Context, tx Tx, evs []*Event) (int, error)) (written int, more bool, err error) {
	gapsKey := r.Key + ".gaps"
	for attempt := 0; attempt < MaxTxAttempts; attempt++ {
		written, more = 0, false
		// Taken before the trail is read: an id missing from these reads was handed out
		// before the id after it was committed, so before now.
		seen := s.Now().UnixMilli()
		err = s.InTx(ctx, func(tx Tx) error {
			var cur, gapsText string
			if err := tx.NewSelect().Table("settings").Column("value").Where("key = ?", r.Key).Scan(ctx, &cur); err != nil {
				return fmt.Errorf("read the cursor %s: %w", r.Key, err)
			}
			after, err := strconv.ParseInt(cur, 10, 64)
			if err != nil {
				return fmt.Errorf("the cursor %s %q: %w", r.Key, cur, err)
			}
			if err := tx.NewSelect().Table("settings").Column("value").Where("key = ?", gapsKey).Scan(ctx, &gapsText); err != nil {
				return fmt.Errorf("read %s: %w", gapsKey, err)
			}
			var gaps []trailGap
			if err := json.Unmarshal([]byte(gapsText), &gaps); err != nil {
				return fmt.Errorf("%s %q: %w", gapsKey, gapsText, err)
			}
			var late []*Event
			if reread && len(gaps) > 0 {
				if late, gaps, err = r.lateEvents(ctx, tx, gaps, seen); err != nil {
					return err
				}
			}
			var ids []int64
			if err := tx.NewSelect().Table("events").Column("id").Where("id > ?", after).
				OrderExpr("id").Limit(trailScan).Scan(ctx, &ids); err != nil {
				return fmt.Errorf("read audit trail ids: %w", err)
			}
			next := after
			var evs []*Event
			if len(ids) > 0 {
				next = ids[len(ids)-1]
				more = len(ids) == trailScan
				gaps = append(gaps, missingIDs(after, ids, seen)...)
				if err := tx.NewSelect().Model(&evs).
					Where("id > ? AND id <= ? AND entity = ? AND kind IN (?)", after, next, r.Entity, bun.In(r.Kinds)).
					OrderExpr("id").Scan(ctx); err != nil {
					return fmt.Errorf("read audit trail: %w", err)
				}
			}
			if gaps == nil {
				gaps = []trailGap{} // stored as [], not null
			}
			gapsJSON, _ := json.Marshal(gaps)
			if next == after && string(gapsJSON) == gapsText {
				return nil // nothing new
			}
			// Guarded on the cursor even when it stays: the gaps belong to it, and an
			// overlapping run that moved it first makes this one read again.
			moved, err := tx.UpdateSetting(ctx, r.Key, strconv.FormatInt(next, 10), &cur)
			if err != nil {
				return fmt.Errorf("move the cursor %s: %w", r.Key, err)
			}
			if !moved {
				return errTrailCursorMoved
			}
			if string(gapsJSON) != gapsText {
				if _, err := tx.UpdateSetting(ctx, gapsKey, string(gapsJSON), nil); err != nil {
					return fmt.Errorf("store %s: %w", gapsKey, err)
				}
			}
			evs = append(late, evs...)
			if len(evs) == 0 {
				return nil
			}
			n, err := fn(ctx, tx, evs)
			written = n
			return err
		})
		if !errors.Is(err, errTrailCursorMoved) {
			return written, more, err
		}
	}
	return 0, false, fmt.Errorf("read the audit trail (%s): %w", r.Key, err)
}

// missingIDs lists the ids between after and the last of ids (ascending) that ids lacks.
func missingIDs(after int64, ids []int64, seen int64) []trailGap {
	var gaps []trailGap
	prev := after
	for _, id := range ids {
		if id > prev+1 {
			gaps = append(gaps, trailGap{From: prev + 1, To: id - 1, Seen: seen})
		}
		prev = id
	}
	return gaps
}

// lateEvents reads the events that have since appeared in the gaps, keeps those the
// reader reads, and returns the gaps left: without the ids found, and without those
// missing for longer than TrailGapWait (rolled back).
func (r TrailReader) lateEvents(ctx context.Context, tx Tx, gaps []trailGap, now int64) ([]*Event, []trailGap, error) {
	var found []*Event
	for start := 0; start < len(gaps); start += 100 { // a bounded statement however many gaps
		part := gaps[start:min(start+100, len(gaps))]
		var evs []*Event
		err := tx.NewSelect().Model(&evs).WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			for _, g := range part {
				q = q.WhereOr("id BETWEEN ? AND ?", g.From, g.To)
			}
			return q
		}).OrderExpr("id").Scan(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("read late audit events: %w", err)
		}
		found = append(found, evs...)
	}
	ids := make([]int64, len(found))
	var late []*Event
	for i, ev := range found {
		ids[i] = ev.ID
		if ev.Entity == r.Entity && slices.Contains(r.Kinds, ev.Kind) {
			late = append(late, ev)
		}
	}
	return late, remainingGaps(gaps, ids, now), nil
}

// remainingGaps is gaps (ascending, apart) without the ids found (ascending), and without
// the gaps seen missing longer than TrailGapWait before now.
func remainingGaps(gaps []trailGap, found []int64, now int64) []trailGap {
	left := []trailGap{}
	i := 0
	for _, g := range gaps {
		from := g.From
		for ; i < len(found) && found[i] <= g.To; i++ {
			if found[i] < from {
				continue
			}
			if found[i] > from {
				left = append(left, trailGap{From: from, To: found[i] - 1, Seen: g.Seen})
			}
			from = found[i] + 1
		}
		if from <= g.To {
			left = append(left, trailGap{From: from, To: g.To, Seen: g.Seen})
		}
	}
	kept := left[:0]
	for _, g := range left {
		if now-g.Seen <= TrailGapWait.Milliseconds() {
			kept = append(kept, g)
		}
	}
	return kept
}
