package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// Announcements: the audit trail's news read, exactly once, into rows for Slack to deliver
// (CollectAnnouncements), and the event ids a late commit may still fill watched until it
// no longer can.

// announceCursorKey is the setting holding the last audit event the announcements read.
const announceCursorKey = "slack.announce.after_event"

// errCursorMoved: another run advanced the cursor first; read again from there.
var errCursorMoved = errors.New("announcement cursor moved")

// CollectAnnouncements turns the audit trail's news since the last call into rows to
// deliver, exactly once: a new high or urgent ticket becomes an announcement to its team's
// channel, and a ticket given to an agent by someone else becomes a notice for that agent.
// The cursor (an event id in settings) moves in the same transaction as the rows are
// written, guarded so that two overlapping calls never both take the same events. Where
// the first call starts is fixed by the migration that created the schema (migration
// 20261203000006 stores the end of the trail then: 0 on a fresh install), so what happens
// before any worker runs is still announced, while an upgraded install's history is not.
// The end of the trail now is only a fallback for a settings row removed by hand. It
// returns how many rows it wrote.
func (s *Service) CollectAnnouncements(ctx context.Context) (int, error) {
	var last int64
	if err := s.svc.DB().NewSelect().Table("events").ColumnExpr("COALESCE(MAX(id), 0)").Scan(ctx, &last); err != nil {
		return 0, fmt.Errorf("find the end of the audit trail: %w", err)
	}
	start, err := s.svc.Setting(ctx, announceCursorKey+".start", func() string { return strconv.FormatInt(last, 10) })
	if err != nil {
		return 0, err
	}
	if _, err := s.svc.Setting(ctx, announceCursorKey, func() string { return start }); err != nil {
		return 0, err
	}
	if _, err := s.svc.Setting(ctx, announceGapsKey, func() string { return "[]" }); err != nil {
		return 0, err
	}
	total := 0
	for i := range 100 { // at most 100 batches a call; the next call goes on
		n, more, err := s.collectBatch(ctx, i == 0)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
	return total, nil
}

// channelKinds are the events told to the ticket's team channel rather than to people one
// by one: deadlines warned of and missed, complaints opened, near their deadline, overdue
// and decided. Their notices stay in the API; Slack gets one post for the team.
var channelKinds = []string{"sla.warning", "sla.breached", "complaint.opened", "complaint.warning", "complaint.breached", "complaint.decided"}

// ChannelKind reports whether notices of this kind are posted to the team's channel
// instead of sent as direct messages.
func ChannelKind(kind string) bool { return slices.Contains(channelKinds, kind) }

// announcedKinds are the audit events the announcements read.
var announcedKinds = append([]string{"ticket.created", "ticket.assigned"}, channelKinds...)

// gapWait is how long an audit event id missing below the cursor is watched for a late
// commit: tickets.MaxTxAge (no transaction of the core's stays open longer), plus room for a statement still running at the deadline, the commit
// itself, and the clocks of two worker processes disagreeing.
const gapWait = tickets.MaxTxAge + time.Minute

// announceScan is how many audit event ids a batch steps over at most.
const announceScan = 2000

// announceGapsKey is the setting holding the ids below the cursor that were missing when
// the cursor passed them, with when: see collectBatch.
const announceGapsKey = announceCursorKey + ".gaps"

// idGap is a run of event ids missing from the trail when the cursor passed them, first
// seen missing at Seen (Unix milliseconds).
type idGap struct {
	From, To int64
	Seen     int64
}

// collectBatch steps the cursor over the next event ids and announces what they call for;
// when reread (a call's first batch: the later ones follow within milliseconds) it first
// looks again at the ids that were missing when the cursor passed them.
//
// Event ids are handed out at insert, not at commit: a transaction that commits after a
// later one shows an event below the cursor. Re-reading a fixed number of ids below the
// cursor loses such an event when more than that many are written meanwhile, so instead
// each batch records the ids it stepped over that were not there (in settings, moved with
// the cursor) and later batches read just those again. A missing id either commits later
// or never: its transaction began before the id after it was visible, and transactions end
// within tickets.MaxTxAge, so after gapWait an id still missing was rolled back and is forgotten.
// This holds on both databases without reading anything but ids (PostgreSQL sequences and
// SQLite's AUTOINCREMENT hand ids out in increasing order; SQLite, with one writer, leaves
// gaps only where a transaction rolled back), and costs one range read of ids per batch
// however many events a burst writes. The rows written are keyed by event, so an event
// read twice is still announced once.
func (s *Service) collectBatch(ctx context.Context, reread bool) (written int, more bool, err error) {
	for attempt := 0; attempt < tickets.MaxTxAttempts; attempt++ {
		written, more = 0, false
		// Taken before the trail is read: an id missing from these reads was handed out
		// before the id after it was committed, so before now.
		seen := s.svc.Now().UnixMilli()
		err = s.svc.InTx(ctx, func(tx tickets.Tx) error {
			var cur, gapsText string
			if err := tx.NewSelect().Table("settings").Column("value").Where("key = ?", announceCursorKey).Scan(ctx, &cur); err != nil {
				return fmt.Errorf("read announcement cursor: %w", err)
			}
			after, err := strconv.ParseInt(cur, 10, 64)
			if err != nil {
				return fmt.Errorf("announcement cursor %q: %w", cur, err)
			}
			if err := tx.NewSelect().Table("settings").Column("value").Where("key = ?", announceGapsKey).Scan(ctx, &gapsText); err != nil {
				return fmt.Errorf("read announcement gaps: %w", err)
			}
			var gaps []idGap
			if err := json.Unmarshal([]byte(gapsText), &gaps); err != nil {
				return fmt.Errorf("announcement gaps %q: %w", gapsText, err)
			}
			var late []*tickets.Event
			if reread && len(gaps) > 0 {
				if late, gaps, err = s.lateEvents(ctx, tx, gaps, seen); err != nil {
					return err
				}
			}
			var ids []int64
			if err := tx.NewSelect().Table("events").Column("id").Where("id > ?", after).
				OrderExpr("id").Limit(announceScan).Scan(ctx, &ids); err != nil {
				return fmt.Errorf("read audit trail ids: %w", err)
			}
			next := after
			var evs []*tickets.Event
			if len(ids) > 0 {
				next = ids[len(ids)-1]
				more = len(ids) == announceScan
				gaps = append(gaps, missing(after, ids, seen)...)
				if err := tx.NewSelect().Model(&evs).
					Where("id > ? AND id <= ? AND entity = 'ticket' AND kind IN (?)", after, next, bun.In(announcedKinds)).
					OrderExpr("id").Scan(ctx); err != nil {
					return fmt.Errorf("read audit trail: %w", err)
				}
			}
			if gaps == nil {
				gaps = []idGap{} // stored as [], not null
			}
			gapsJSON, _ := json.Marshal(gaps)
			if next == after && string(gapsJSON) == gapsText {
				return nil // nothing new
			}
			// Guarded on the cursor even when it stays: the gaps belong to it, and an
			// overlapping run that moved it first makes this one read again.
			moved, err := tx.UpdateSetting(ctx, announceCursorKey, strconv.FormatInt(next, 10), &cur)
			if err != nil {
				return fmt.Errorf("move announcement cursor: %w", err)
			}
			if !moved {
				return errCursorMoved
			}
			if string(gapsJSON) != gapsText {
				if _, err := tx.UpdateSetting(ctx, announceGapsKey, string(gapsJSON), nil); err != nil {
					return fmt.Errorf("store announcement gaps: %w", err)
				}
			}
			n, err := s.announce(ctx, tx, append(late, evs...))
			written = n
			return err
		})
		if !errors.Is(err, errCursorMoved) {
			return written, more, err
		}
	}
	return 0, false, fmt.Errorf("collect announcements: %w", err)
}

// missing lists the ids between after and the last of ids (ascending) that ids lacks.
func missing(after int64, ids []int64, seen int64) []idGap {
	var gaps []idGap
	prev := after
	for _, id := range ids {
		if id > prev+1 {
			gaps = append(gaps, idGap{From: prev + 1, To: id - 1, Seen: seen})
		}
		prev = id
	}
	return gaps
}

// lateEvents reads the events that have since appeared in the gaps, keeps those the
// announcements read, and returns the gaps left: without the ids found, and without those
// missing for longer than gapWait (rolled back).
func (s *Service) lateEvents(ctx context.Context, tx tickets.Tx, gaps []idGap, now int64) ([]*tickets.Event, []idGap, error) {
	var found []*tickets.Event
	for start := 0; start < len(gaps); start += 100 { // a bounded statement however many gaps
		part := gaps[start:min(start+100, len(gaps))]
		var evs []*tickets.Event
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
	var late []*tickets.Event
	for i, ev := range found {
		ids[i] = ev.ID
		if ev.Entity == "ticket" && slices.Contains(announcedKinds, ev.Kind) {
			late = append(late, ev)
		}
	}
	return late, remainingGaps(gaps, ids, now), nil
}

// remainingGaps is gaps (ascending, apart) without the ids found (ascending), and without
// the gaps seen missing longer than gapWait before now.
func remainingGaps(gaps []idGap, found []int64, now int64) []idGap {
	left := []idGap{}
	i := 0
	for _, g := range gaps {
		from := g.From
		for ; i < len(found) && found[i] <= g.To; i++ {
			if found[i] < from {
				continue
			}
			if found[i] > from {
				left = append(left, idGap{From: from, To: found[i] - 1, Seen: g.Seen})
			}
			from = found[i] + 1
		}
		if from <= g.To {
			left = append(left, idGap{From: from, To: g.To, Seen: g.Seen})
		}
	}
	kept := left[:0]
	for _, g := range left {
		if now-g.Seen <= gapWait.Milliseconds() {
			kept = append(kept, g)
		}
	}
	return kept
}

// announce writes the rows the events call for.
func (s *Service) announce(ctx context.Context, tx tickets.Tx, evs []*tickets.Event) (int, error) {
	var notices []*tickets.Notice
	written := 0
	for _, ev := range evs {
		var data struct {
			Priority   tickets.Priority `json:"priority"`
			TeamID     *int64           `json:"team_id"`
			ToAssignee *int64           `json:"to_assignee"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &data); err != nil {
			s.svc.Logger().Warn("an audit event's details are not JSON; not announced", "event", ev.ID, "err", err)
			continue
		}
		if ChannelKind(ev.Kind) {
			t, err := tx.Ticket(ctx, ev.EntityID)
			if err != nil {
				return written, err
			}
			res, err := tx.NewRaw(`INSERT INTO slack_announcements (event_id, kind, ticket_id, team_id, body, created_at)
				VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`,
				ev.ID, ev.Kind, t.ID, t.TeamID, channelText(ev, t), s.svc.Now()).Exec(ctx)
			if err != nil {
				return written, fmt.Errorf("store announcement: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				written++
			}
			continue
		}
		switch ev.Kind {
		case "ticket.created":
			if data.Priority != tickets.PriorityHigh && data.Priority != tickets.PriorityUrgent {
				continue
			}
			t, err := tx.Ticket(ctx, ev.EntityID)
			if err != nil {
				return written, err
			}
			var body string
			if data.Priority == tickets.PriorityUrgent {
				body = fmt.Sprintf("紧急工单 Urgent ticket %s: %s", t.Ref(), t.Subject)
			} else {
				body = fmt.Sprintf("高优先级工单 High-priority ticket %s: %s", t.Ref(), t.Subject)
			}
			res, err := tx.NewRaw(`INSERT INTO slack_announcements (event_id, kind, ticket_id, team_id, body, created_at)
				VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`,
				ev.ID, KindTicketUrgent, t.ID, data.TeamID, body, s.svc.Now()).Exec(ctx)
			if err != nil {
				return written, fmt.Errorf("store announcement: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				written++
			}
		case "ticket.assigned":
			if data.ToAssignee == nil || (ev.ActorID != nil && *ev.ActorID == *data.ToAssignee) {
				continue // moved to a team queue, or the agent took it themselves
			}
			t, err := tx.Ticket(ctx, ev.EntityID)
			if err != nil {
				return written, err
			}
			id, evID := t.ID, ev.ID
			notices = append(notices, &tickets.Notice{AgentID: *data.ToAssignee, Kind: KindTicketAssigned, TicketID: &id, SourceEventID: &evID,
				Body: fmt.Sprintf("工单已分配给您 %s is yours now (%s priority): %s", t.Ref(), t.Priority, t.Subject)})
		}
	}
	for _, n := range notices {
		stored, err := tx.AddNoticeOnce(ctx, n)
		if err != nil {
			return written, err
		}
		if stored {
			written++
		}
	}
	return written, nil
}

// channelText is the team channel's line for an SLA or complaint event.
func channelText(ev *tickets.Event, t *tickets.Ticket) string {
	var d struct {
		Deadline  string `json:"deadline"`
		Percent   int    `json:"percent"`
		Complaint string `json:"complaint"`
		Outcome   string `json:"outcome"`
	}
	json.Unmarshal([]byte(ev.Data), &d) //nolint:errcheck // a line without details is still a line
	what := strings.ReplaceAll(d.Deadline, "_", " ")
	switch ev.Kind {
	case "sla.warning":
		return fmt.Sprintf("即将超时 %s: %d%% of the %s time has passed — %s", t.Ref(), d.Percent, what, t.Subject)
	case "sla.breached":
		return fmt.Sprintf("已超时 %s missed its %s deadline — %s", t.Ref(), what, t.Subject)
	case "complaint.opened":
		return fmt.Sprintf("新投诉 Complaint %s opened on %s — %s", d.Complaint, t.Ref(), t.Subject)
	case "complaint.warning":
		return fmt.Sprintf("投诉即将到期 Complaint %s (%s) is due within 2 working days", d.Complaint, t.Ref())
	case "complaint.breached":
		return fmt.Sprintf("投诉已逾期 Complaint %s (%s) is overdue", d.Complaint, t.Ref())
	case "complaint.decided":
		return fmt.Sprintf("投诉已处理 Complaint %s (%s) decided: %s", d.Complaint, t.Ref(), d.Outcome)
	}
	return fmt.Sprintf("%s: %s", ev.Kind, t.Ref())
}
