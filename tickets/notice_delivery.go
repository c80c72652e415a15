package tickets

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Slack delivery statuses of a notice or an announcement. A row moves pending → sending
// (claimed by one worker for one attempt) → sent, skipped or failed, and never back from
// those three; a passing failure puts a claim back to pending for the next run.
const (
	SlackPending = "pending"
	SlackSending = "sending"
	SlackSent    = "sent"
	SlackSkipped = "skipped" // Slack is not configured, or there is nowhere to post it
	SlackFailed  = "failed"  // Slack refused it for good; SlackError says why
)

// SlackClaimTTL is how long a claim holds. A worker that died between claiming a row and
// recording the outcome leaves it "sending"; after this long another run may claim it
// again, so a crash between posting and recording can post twice (at least once).
const SlackClaimTTL = 5 * time.Minute

// Outbox names where a Slack delivery is recorded.
type Outbox string

const (
	// NoticeOutbox: a staff notice (notices table), sent as a direct message to its agent.
	NoticeOutbox Outbox = "notices"
	// AnnouncementOutbox: a new high or urgent ticket (slack_announcements), posted to the
	// channel of the ticket's team.
	AnnouncementOutbox Outbox = "slack_announcements"
)

func (o Outbox) valid() bool { return o == NoticeOutbox || o == AnnouncementOutbox }

// Kinds of announcements and of the notices the Slack delivery adds.
const (
	KindTicketUrgent   = "ticket.urgent"   // announcement: a new high or urgent ticket
	KindTicketAssigned = "ticket.assigned" // notice: a ticket was given to this agent
)

// PendingNotice is a notice or announcement waiting for Slack, with what its message needs.
type PendingNotice struct {
	Outbox    Outbox `bun:"outbox"`
	ID        int64  `bun:"id"`
	Kind      string `bun:"kind"`
	Body      string `bun:"body"`
	Attempts  int    `bun:"attempts"`
	CreatedAt time.Time

	// The agent told (notices): a direct message goes to their Slack account.
	AgentID    *int64 `bun:"agent_id"`
	AgentEmail string `bun:"agent_email"`
	AgentName  string `bun:"agent_name"`

	// The team told (announcements): a message goes to its channel.
	TeamID   *int64 `bun:"team_id"`
	TeamName string `bun:"team_name"`

	TicketID       *int64   `bun:"ticket_id"`
	TicketSubject  string   `bun:"ticket_subject"`
	TicketPriority Priority `bun:"ticket_priority"`
	TicketTeam     string   `bun:"ticket_team"`
	ComplaintID    *int64   `bun:"complaint_id"`
}

// TicketRef is the ticket's reference, or "".
func (n *PendingNotice) TicketRef() string {
	if n.TicketID == nil {
		return ""
	}
	return FormatRef(*n.TicketID)
}

// ComplaintRef is the complaint's reference, or "".
func (n *PendingNotice) ComplaintRef() string {
	if n.ComplaintID == nil {
		return ""
	}
	return FormatComplaintRef(*n.ComplaintID)
}

// PendingNotices lists, oldest first, the notices and announcements Slack has not had yet:
// pending ones, and claims older than SlackClaimTTL whose worker died.
func (s *Service) PendingNotices(ctx context.Context, limit int) ([]*PendingNotice, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	stale := s.now().Add(-SlackClaimTTL)
	var out []*PendingNotice
	var ns []*PendingNotice
	err := s.db.NewRaw(`SELECT 'notices' AS outbox, n.id, n.kind, n.body, n.slack_attempts AS attempts, n.created_at,
			n.agent_id, a.email AS agent_email, a.name AS agent_name,
			a.team_id, COALESCE(at.name, '') AS team_name,
			n.ticket_id, COALESCE(t.subject, '') AS ticket_subject, COALESCE(t.priority, '') AS ticket_priority,
			COALESCE(tt.name, '') AS ticket_team, n.complaint_id
		FROM notices AS n
		JOIN agents AS a ON a.id = n.agent_id
		LEFT JOIN teams AS at ON at.id = a.team_id
		LEFT JOIN tickets AS t ON t.id = n.ticket_id
		LEFT JOIN teams AS tt ON tt.id = t.team_id
		WHERE n.slack_status = 'pending' OR (n.slack_status = 'sending' AND n.slack_claimed_at < ?)
		ORDER BY n.id LIMIT ?`, stale, limit).Scan(ctx, &ns)
	if err != nil {
		return nil, fmt.Errorf("list pending notices: %w", err)
	}
	out = append(out, ns...)
	var as []*PendingNotice
	err = s.db.NewRaw(`SELECT 'slack_announcements' AS outbox, n.id, n.kind, n.body, n.slack_attempts AS attempts, n.created_at,
			n.team_id, COALESCE(nt.name, '') AS team_name,
			n.ticket_id, t.subject AS ticket_subject, t.priority AS ticket_priority,
			COALESCE(tt.name, '') AS ticket_team
		FROM slack_announcements AS n
		JOIN tickets AS t ON t.id = n.ticket_id
		LEFT JOIN teams AS nt ON nt.id = n.team_id
		LEFT JOIN teams AS tt ON tt.id = t.team_id
		WHERE n.slack_status = 'pending' OR (n.slack_status = 'sending' AND n.slack_claimed_at < ?)
		ORDER BY n.id LIMIT ?`, stale, limit).Scan(ctx, &as)
	if err != nil {
		return nil, fmt.Errorf("list pending announcements: %w", err)
	}
	return append(out, as...), nil
}

// ClaimNotice takes a pending row for one delivery attempt. Only one caller wins a row, so
// two overlapping runs never post the same notice; false means another run has it, or it
// was delivered already.
func (s *Service) ClaimNotice(ctx context.Context, box Outbox, id int64) (bool, error) {
	if !box.valid() {
		return false, invalidf("unknown outbox %q", box)
	}
	now := s.now()
	res, err := s.db.NewUpdate().Table(string(box)).
		Set("slack_status = ?, slack_claimed_at = ?", SlackSending, now).
		Where("id = ?", id).
		Where("slack_status = 'pending' OR (slack_status = 'sending' AND slack_claimed_at < ?)", now.Add(-SlackClaimTTL)).
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("claim %s %d: %w", box, id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// MarkNoticeSent records that Slack accepted the message: the conversation and its
// timestamp. It changes nothing once the row is sent, skipped or failed.
func (s *Service) MarkNoticeSent(ctx context.Context, box Outbox, id int64, channel, ts string) error {
	return s.finishSlack(ctx, box, id, "slack_status = ?, slack_channel = ?, slack_ts = ?, delivered_at = ?, slack_error = ''",
		SlackSent, channel, ts, s.now())
}

// MarkNoticeSkipped records that the row will not go to Slack, and why.
func (s *Service) MarkNoticeSkipped(ctx context.Context, box Outbox, id int64, reason string) error {
	return s.finishSlack(ctx, box, id, "slack_status = ?, slack_error = ?", SlackSkipped, reason)
}

// MarkNoticeFailed records that Slack refused the row for good, and why.
func (s *Service) MarkNoticeFailed(ctx context.Context, box Outbox, id int64, reason string) error {
	return s.finishSlack(ctx, box, id, "slack_status = ?, slack_error = ?, slack_attempts = slack_attempts + 1", SlackFailed, reason)
}

func (s *Service) finishSlack(ctx context.Context, box Outbox, id int64, set string, args ...any) error {
	if !box.valid() {
		return invalidf("unknown outbox %q", box)
	}
	_, err := s.db.NewUpdate().Table(string(box)).Set(set, args...).
		Where("id = ? AND slack_status IN ('pending', 'sending')", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("record Slack delivery of %s %d: %w", box, id, err)
	}
	return nil
}

// RetryNoticeLater hands a claimed row back for the next run after a passing failure (a
// rate limit, the network), keeping the reason; it returns how many attempts failed so far.
func (s *Service) RetryNoticeLater(ctx context.Context, box Outbox, id int64, reason string) (int, error) {
	if !box.valid() {
		return 0, invalidf("unknown outbox %q", box)
	}
	_, err := s.db.NewUpdate().Table(string(box)).
		Set("slack_status = ?, slack_claimed_at = NULL, slack_error = ?, slack_attempts = slack_attempts + 1", SlackPending, reason).
		Where("id = ? AND slack_status = 'sending'", id).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("release %s %d: %w", box, id, err)
	}
	var n int
	if err := s.db.NewSelect().Table(string(box)).Column("slack_attempts").Where("id = ?", id).Scan(ctx, &n); err != nil {
		return 0, fmt.Errorf("count attempts of %s %d: %w", box, id, err)
	}
	return n, nil
}

// SkipPendingNotices marks everything waiting for Slack as skipped (Slack is not
// configured); staff still read their notices in the API. It returns how many rows.
func (s *Service) SkipPendingNotices(ctx context.Context, reason string) (int, error) {
	total := 0
	for _, box := range []Outbox{NoticeOutbox, AnnouncementOutbox} {
		res, err := s.db.NewUpdate().Table(string(box)).Set("slack_status = ?, slack_error = ?", SlackSkipped, reason).
			Where("slack_status = 'pending'").Exec(ctx)
		if err != nil {
			return total, fmt.Errorf("skip pending %s: %w", box, err)
		}
		n, _ := res.RowsAffected()
		total += int(n)
	}
	return total, nil
}

// SlackRecord is where one notice or announcement stands on Slack.
type SlackRecord struct {
	Status         string     `bun:"slack_status"`
	Error          string     `bun:"slack_error"`
	Attempts       int        `bun:"slack_attempts"`
	Channel        *string    `bun:"slack_channel"`
	TS             *string    `bun:"slack_ts"`
	DeliveredAt    *time.Time `bun:"delivered_at"`
	AcknowledgedAt *time.Time `bun:"acknowledged_at"`
	AcknowledgedBy *int64     `bun:"acknowledged_by"`
}

// SlackDelivery reads where a notice or announcement stands on Slack.
func (s *Service) SlackDelivery(ctx context.Context, box Outbox, id int64) (*SlackRecord, error) {
	if !box.valid() {
		return nil, invalidf("unknown outbox %q", box)
	}
	r := new(SlackRecord)
	err := s.db.NewSelect().Table(string(box)).
		Column("slack_status", "slack_error", "slack_attempts", "slack_channel", "slack_ts", "delivered_at", "acknowledged_at", "acknowledged_by").
		Where("id = ?", id).Scan(ctx, r)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFoundf("%s %d not found", box, id)
	}
	if err != nil {
		return nil, fmt.Errorf("load %s %d: %w", box, id, err)
	}
	return r, nil
}

// Acknowledgement says who acknowledged a notice or announcement first, and when.
type Acknowledgement struct {
	At      time.Time
	By      *Agent
	Already bool // acknowledged before this call; At and By are the first acknowledgement
}

// AcknowledgeNotice records that the agent told saw a notice (Slack's Acknowledge button).
// The notice's agent, a supervisor or an admin may; the first acknowledgement stands, and
// acknowledging again changes nothing.
func (s *Service) AcknowledgeNotice(ctx context.Context, actor Actor, noticeID int64) (*Acknowledgement, error) {
	return s.acknowledge(ctx, actor, NoticeOutbox, noticeID)
}

// AcknowledgeAnnouncement records that someone took note of a team-channel announcement.
// Any active agent may; the first acknowledgement stands.
func (s *Service) AcknowledgeAnnouncement(ctx context.Context, actor Actor, id int64) (*Acknowledgement, error) {
	return s.acknowledge(ctx, actor, AnnouncementOutbox, id)
}

func (s *Service) acknowledge(ctx context.Context, actor Actor, box Outbox, id int64) (*Acknowledgement, error) {
	a := actor.Agent
	if a == nil {
		return nil, forbiddenf("only agents acknowledge notices")
	}
	if !a.Active {
		return nil, forbiddenf("%s is deactivated", a.Email)
	}
	var ack *Acknowledgement
	err := s.inTx(ctx, func(tx bun.Tx) error {
		var row struct {
			AgentID        *int64     `bun:"agent_id"`
			TicketID       *int64     `bun:"ticket_id"`
			ComplaintID    *int64     `bun:"complaint_id"`
			Kind           string     `bun:"kind"`
			AcknowledgedAt *time.Time `bun:"acknowledged_at"`
			AcknowledgedBy *int64     `bun:"acknowledged_by"`
		}
		q := tx.NewSelect().Table(string(box)).Column("ticket_id", "kind", "acknowledged_at", "acknowledged_by").Where("id = ?", id)
		if box == NoticeOutbox {
			q = q.Column("agent_id", "complaint_id")
		}
		err := q.Scan(ctx, &row)
		if errors.Is(err, sql.ErrNoRows) {
			return notFoundf("notice %d not found", id)
		}
		if err != nil {
			return fmt.Errorf("load notice %d: %w", id, err)
		}
		if box == NoticeOutbox && a.Role != RoleAdmin && a.Role != RoleSupervisor && (row.AgentID == nil || *row.AgentID != a.ID) {
			return forbiddenf("this notice was for someone else; only they, a supervisor or an admin can acknowledge it")
		}
		if row.AcknowledgedAt != nil {
			ack = &Acknowledgement{At: *row.AcknowledgedAt, Already: true}
			if row.AcknowledgedBy != nil {
				by, err := s.agentByID(ctx, tx, *row.AcknowledgedBy)
				if err != nil {
					return err
				}
				ack.By = by
			}
			return nil
		}
		now := s.now()
		res, err := tx.NewUpdate().Table(string(box)).Set("acknowledged_at = ?, acknowledged_by = ?", now, a.ID).
			Where("id = ? AND acknowledged_at IS NULL", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("acknowledge notice %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return conflictf("notice %d was acknowledged at the same time; try again", id)
		}
		ack = &Acknowledgement{At: now, By: a}
		entity, entityID := "notice", id
		switch {
		case row.TicketID != nil:
			entity, entityID = "ticket", *row.TicketID
		case row.ComplaintID != nil:
			entity, entityID = "complaint", *row.ComplaintID
		}
		data := map[string]any{"notice_kind": row.Kind, "via": "slack"}
		if box == NoticeOutbox {
			data["notice_id"] = id
		} else {
			data["announcement_id"] = id
		}
		return s.record(ctx, tx, actor, entity, entityID, "notice.acknowledged", data)
	})
	if err != nil {
		return nil, err
	}
	return ack, nil
}

// AgentByEmail finds an agent by email address (Slack tells who clicked by their email).
func (s *Service) AgentByEmail(ctx context.Context, email string) (*Agent, error) {
	addr, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	a := new(Agent)
	err = s.db.NewSelect().Model(a).Where("email = ?", addr).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFoundf("no agent has the address %s", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("find agent: %w", err)
	}
	return a, nil
}

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
	if err := s.db.NewSelect().Table("events").ColumnExpr("COALESCE(MAX(id), 0)").Scan(ctx, &last); err != nil {
		return 0, fmt.Errorf("find the end of the audit trail: %w", err)
	}
	start, err := s.Setting(ctx, announceCursorKey+".start", func() string { return strconv.FormatInt(last, 10) })
	if err != nil {
		return 0, err
	}
	if _, err := s.Setting(ctx, announceCursorKey, func() string { return start }); err != nil {
		return 0, err
	}
	if _, err := s.Setting(ctx, announceGapsKey, func() string { return "[]" }); err != nil {
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

// MaxTxAge is the longest a write transaction stays open: inTx ends every attempt within it
// (database/sql rolls back, and refuses to commit, a transaction whose context has ended),
// and intake batches end within batchTimeout, less than it. The announcements rely on it.
const MaxTxAge = 2 * time.Minute

// gapWait is how long an audit event id missing below the cursor is watched for a late
// commit: MaxTxAge, plus room for a statement still running at the deadline, the commit
// itself, and the clocks of two worker processes disagreeing.
const gapWait = MaxTxAge + time.Minute

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
// within MaxTxAge, so after gapWait an id still missing was rolled back and is forgotten.
// This holds on both databases without reading anything but ids (PostgreSQL sequences and
// SQLite's AUTOINCREMENT hand ids out in increasing order; SQLite, with one writer, leaves
// gaps only where a transaction rolled back), and costs one range read of ids per batch
// however many events a burst writes. The rows written are keyed by event, so an event
// read twice is still announced once.
func (s *Service) collectBatch(ctx context.Context, reread bool) (written int, more bool, err error) {
	for attempt := 0; attempt < maxTxAttempts; attempt++ {
		written, more = 0, false
		// Taken before the trail is read: an id missing from these reads was handed out
		// before the id after it was committed, so before now.
		seen := s.now().UnixMilli()
		err = s.inTx(ctx, func(tx bun.Tx) error {
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
			var late []*Event
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
			var evs []*Event
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
			res, err := tx.NewUpdate().Table("settings").Set("value = ?, updated_at = ?", strconv.FormatInt(next, 10), s.now()).
				Where("key = ? AND value = ?", announceCursorKey, cur).Exec(ctx)
			if err != nil {
				return fmt.Errorf("move announcement cursor: %w", err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return errCursorMoved
			}
			if string(gapsJSON) != gapsText {
				if _, err := tx.NewUpdate().Table("settings").Set("value = ?, updated_at = ?", string(gapsJSON), s.now()).
					Where("key = ?", announceGapsKey).Exec(ctx); err != nil {
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
func (s *Service) lateEvents(ctx context.Context, tx bun.IDB, gaps []idGap, now int64) ([]*Event, []idGap, error) {
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
func (s *Service) announce(ctx context.Context, tx bun.IDB, evs []*Event) (int, error) {
	var notices []*Notice
	written := 0
	for _, ev := range evs {
		var data struct {
			Priority   Priority `json:"priority"`
			TeamID     *int64   `json:"team_id"`
			ToAssignee *int64   `json:"to_assignee"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &data); err != nil {
			s.log.Warn("an audit event's details are not JSON; not announced", "event", ev.ID, "err", err)
			continue
		}
		if ChannelKind(ev.Kind) {
			t, err := s.ticketByID(ctx, tx, ev.EntityID)
			if err != nil {
				return written, err
			}
			res, err := tx.NewRaw(`INSERT INTO slack_announcements (event_id, kind, ticket_id, team_id, body, created_at)
				VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`,
				ev.ID, ev.Kind, t.ID, t.TeamID, channelText(ev, t), s.now()).Exec(ctx)
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
			if data.Priority != PriorityHigh && data.Priority != PriorityUrgent {
				continue
			}
			t, err := s.ticketByID(ctx, tx, ev.EntityID)
			if err != nil {
				return written, err
			}
			var body string
			if data.Priority == PriorityUrgent {
				body = fmt.Sprintf("紧急工单 Urgent ticket %s: %s", t.Ref(), t.Subject)
			} else {
				body = fmt.Sprintf("高优先级工单 High-priority ticket %s: %s", t.Ref(), t.Subject)
			}
			res, err := tx.NewRaw(`INSERT INTO slack_announcements (event_id, kind, ticket_id, team_id, body, created_at)
				VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`,
				ev.ID, KindTicketUrgent, t.ID, data.TeamID, body, s.now()).Exec(ctx)
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
			t, err := s.ticketByID(ctx, tx, ev.EntityID)
			if err != nil {
				return written, err
			}
			id, evID := t.ID, ev.ID
			notices = append(notices, &Notice{AgentID: *data.ToAssignee, Kind: KindTicketAssigned, TicketID: &id, SourceEventID: &evID,
				Body: fmt.Sprintf("工单已分配给您 %s is yours now (%s priority): %s", t.Ref(), t.Priority, t.Subject)})
		}
	}
	for _, n := range notices {
		n.CreatedAt = s.now()
		res, err := tx.NewInsert().Model(n).On("CONFLICT DO NOTHING").Exec(ctx)
		if err != nil {
			return written, fmt.Errorf("store notice: %w", err)
		}
		if k, _ := res.RowsAffected(); k > 0 {
			written++
		}
	}
	return written, nil
}

// channelText is the team channel's line for an SLA or complaint event.
func channelText(ev *Event, t *Ticket) string {
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
