package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
)

// Delivering staff notices and announcements to Slack: the two outboxes, one worker's
// claim of a row for one attempt, its outcome, and acknowledgements. What fills the
// announcements' outbox is in announcements.go; the notices are written by the core and
// the chapters (tickets.Tx.AddNotices).

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

// Box names where a Slack delivery is recorded: the table, notices or slack_announcements.
type Box string

const (
	// Notices: a staff notice (notices table), sent as a direct message to its agent.
	Notices Box = "notices"
	// Announcements: a new high or urgent ticket, or a deadline or complaint event
	// (slack_announcements), posted to the channel of the ticket's team.
	Announcements Box = "slack_announcements"
)

func (o Box) valid() bool { return o == Notices || o == Announcements }

// Kinds of announcements and of the notices the Slack delivery adds.
const (
	KindTicketUrgent   = "ticket.urgent"   // announcement: a new high or urgent ticket
	KindTicketAssigned = "ticket.assigned" // notice: a ticket was given to this agent
)

// PendingNotice is a notice or announcement waiting for Slack, with what its message needs.
type PendingNotice struct {
	Outbox    Box    `bun:"outbox"`
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

	TicketID       *int64           `bun:"ticket_id"`
	TicketSubject  string           `bun:"ticket_subject"`
	TicketPriority tickets.Priority `bun:"ticket_priority"`
	TicketTeam     string           `bun:"ticket_team"`
	ComplaintID    *int64           `bun:"complaint_id"`
}

// TicketRef is the ticket's reference, or "".
func (n *PendingNotice) TicketRef() string {
	if n.TicketID == nil {
		return ""
	}
	return tickets.FormatRef(*n.TicketID)
}

// ComplaintRef is the complaint's reference, or "".
func (n *PendingNotice) ComplaintRef() string {
	if n.ComplaintID == nil {
		return ""
	}
	return tickets.FormatComplaintRef(*n.ComplaintID)
}

// PendingNotices lists, oldest first, the notices and announcements Slack has not had yet:
// pending ones, and claims older than SlackClaimTTL whose worker died.
func (s *Service) PendingNotices(ctx context.Context, limit int) ([]*PendingNotice, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	stale := s.svc.Now().Add(-SlackClaimTTL)
	var out []*PendingNotice
	var ns []*PendingNotice
	err := s.svc.DB().NewRaw(`SELECT 'notices' AS outbox, n.id, n.kind, n.body, n.slack_attempts AS attempts, n.created_at,
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
	err = s.svc.DB().NewRaw(`SELECT 'slack_announcements' AS outbox, n.id, n.kind, n.body, n.slack_attempts AS attempts, n.created_at,
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
func (s *Service) ClaimNotice(ctx context.Context, box Box, id int64) (bool, error) {
	if !box.valid() {
		return false, tickets.Invalidf("unknown outbox %q", box)
	}
	now := s.svc.Now()
	res, err := s.svc.DB().NewUpdate().Table(string(box)).
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
func (s *Service) MarkNoticeSent(ctx context.Context, box Box, id int64, channel, ts string) error {
	return s.finishSlack(ctx, box, id, "slack_status = ?, slack_channel = ?, slack_ts = ?, delivered_at = ?, slack_error = ''",
		SlackSent, channel, ts, s.svc.Now())
}

// MarkNoticeSkipped records that the row will not go to Slack, and why.
func (s *Service) MarkNoticeSkipped(ctx context.Context, box Box, id int64, reason string) error {
	return s.finishSlack(ctx, box, id, "slack_status = ?, slack_error = ?", SlackSkipped, reason)
}

// MarkNoticeFailed records that Slack refused the row for good, and why.
func (s *Service) MarkNoticeFailed(ctx context.Context, box Box, id int64, reason string) error {
	return s.finishSlack(ctx, box, id, "slack_status = ?, slack_error = ?, slack_attempts = slack_attempts + 1", SlackFailed, reason)
}

func (s *Service) finishSlack(ctx context.Context, box Box, id int64, set string, args ...any) error {
	if !box.valid() {
		return tickets.Invalidf("unknown outbox %q", box)
	}
	_, err := s.svc.DB().NewUpdate().Table(string(box)).Set(set, args...).
		Where("id = ? AND slack_status IN ('pending', 'sending')", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("record Slack delivery of %s %d: %w", box, id, err)
	}
	return nil
}

// RetryNoticeLater hands a claimed row back for the next run after a passing failure (a
// rate limit, the network), keeping the reason; it returns how many attempts failed so far.
func (s *Service) RetryNoticeLater(ctx context.Context, box Box, id int64, reason string) (int, error) {
	if !box.valid() {
		return 0, tickets.Invalidf("unknown outbox %q", box)
	}
	_, err := s.svc.DB().NewUpdate().Table(string(box)).
		Set("slack_status = ?, slack_claimed_at = NULL, slack_error = ?, slack_attempts = slack_attempts + 1", SlackPending, reason).
		Where("id = ? AND slack_status = 'sending'", id).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("release %s %d: %w", box, id, err)
	}
	var n int
	if err := s.svc.DB().NewSelect().Table(string(box)).Column("slack_attempts").Where("id = ?", id).Scan(ctx, &n); err != nil {
		return 0, fmt.Errorf("count attempts of %s %d: %w", box, id, err)
	}
	return n, nil
}

// SkipPendingNotices marks everything waiting for Slack as skipped (Slack is not
// configured); staff still read their notices in the API. It returns how many rows.
func (s *Service) SkipPendingNotices(ctx context.Context, reason string) (int, error) {
	total := 0
	for _, box := range []Box{Notices, Announcements} {
		res, err := s.svc.DB().NewUpdate().Table(string(box)).Set("slack_status = ?, slack_error = ?", SlackSkipped, reason).
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
func (s *Service) SlackDelivery(ctx context.Context, box Box, id int64) (*SlackRecord, error) {
	if !box.valid() {
		return nil, tickets.Invalidf("unknown outbox %q", box)
	}
	r := new(SlackRecord)
	err := s.svc.DB().NewSelect().Table(string(box)).
		Column("slack_status", "slack_error", "slack_attempts", "slack_channel", "slack_ts", "delivered_at", "acknowledged_at", "acknowledged_by").
		Where("id = ?", id).Scan(ctx, r)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tickets.NotFoundf("%s %d not found", box, id)
	}
	if err != nil {
		return nil, fmt.Errorf("load %s %d: %w", box, id, err)
	}
	return r, nil
}

// Acknowledgement says who acknowledged a notice or announcement first, and when.
type Acknowledgement struct {
	At      time.Time
	By      *tickets.Agent
	Already bool // acknowledged before this call; At and By are the first acknowledgement
}

// AcknowledgeNotice records that the agent told saw a notice (Slack's Acknowledge button).
// The notice's agent, a supervisor or an admin may; the first acknowledgement stands, and
// acknowledging again changes nothing.
func (s *Service) AcknowledgeNotice(ctx context.Context, actor tickets.Actor, noticeID int64) (*Acknowledgement, error) {
	return s.acknowledge(ctx, actor, Notices, noticeID)
}

// AcknowledgeAnnouncement records that someone took note of a team-channel announcement.
// Any active agent may; the first acknowledgement stands.
func (s *Service) AcknowledgeAnnouncement(ctx context.Context, actor tickets.Actor, id int64) (*Acknowledgement, error) {
	return s.acknowledge(ctx, actor, Announcements, id)
}

func (s *Service) acknowledge(ctx context.Context, actor tickets.Actor, box Box, id int64) (*Acknowledgement, error) {
	a := actor.Agent
	if a == nil {
		return nil, tickets.Forbiddenf("only agents acknowledge notices")
	}
	if !a.Active {
		return nil, tickets.Forbiddenf("%s is deactivated", a.Email)
	}
	var ack *Acknowledgement
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		var row struct {
			AgentID        *int64     `bun:"agent_id"`
			TicketID       *int64     `bun:"ticket_id"`
			ComplaintID    *int64     `bun:"complaint_id"`
			Kind           string     `bun:"kind"`
			AcknowledgedAt *time.Time `bun:"acknowledged_at"`
			AcknowledgedBy *int64     `bun:"acknowledged_by"`
		}
		q := tx.NewSelect().Table(string(box)).Column("ticket_id", "kind", "acknowledged_at", "acknowledged_by").Where("id = ?", id)
		if box == Notices {
			q = q.Column("agent_id", "complaint_id")
		}
		err := q.Scan(ctx, &row)
		if errors.Is(err, sql.ErrNoRows) {
			return tickets.NotFoundf("notice %d not found", id)
		}
		if err != nil {
			return fmt.Errorf("load notice %d: %w", id, err)
		}
		if box == Notices && a.Role != tickets.RoleAdmin && a.Role != tickets.RoleSupervisor && (row.AgentID == nil || *row.AgentID != a.ID) {
			return tickets.Forbiddenf("this notice was for someone else; only they, a supervisor or an admin can acknowledge it")
		}
		if row.AcknowledgedAt != nil {
			ack = &Acknowledgement{At: *row.AcknowledgedAt, Already: true}
			if row.AcknowledgedBy != nil {
				by, err := tx.Agent(ctx, *row.AcknowledgedBy)
				if err != nil {
					return err
				}
				ack.By = by
			}
			return nil
		}
		now := s.svc.Now()
		res, err := tx.NewUpdate().Table(string(box)).Set("acknowledged_at = ?, acknowledged_by = ?", now, a.ID).
			Where("id = ? AND acknowledged_at IS NULL", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("acknowledge notice %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return tickets.Conflictf("notice %d was acknowledged at the same time; try again", id)
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
		if box == Notices {
			data["notice_id"] = id
		} else {
			data["announcement_id"] = id
		}
		return tx.Record(ctx, tx.Event(actor, entity, entityID, "notice.acknowledged", data))
	})
	if err != nil {
		return nil, err
	}
	return ack, nil
}
