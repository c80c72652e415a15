package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/hotlinedesk/hotline/tickets"
)

// Announcements: the audit trail's news read, exactly once, into rows for Slack to deliver
// (CollectAnnouncements), and the event ids a late commit may still fill watched until it
// no longer can.

// announceCursorKey is the setting holding the last audit event the announcements read.
const announceCursorKey = "slack.announce.after_event"

// announcements are what the announcements read of the audit trail (tickets.ReadTrail).
var announcements = tickets.TrailReader{Key: announceCursorKey, Entity: "ticket", Kinds: announcedKinds}

// CollectAnnouncements turns the audit trail's news since the last call into rows to
// deliver, exactly once: a new high or urgent ticket becomes an announcement to its team's
// channel, and a ticket given to an agent by someone else becomes a notice for that agent.
// The cursor (an event id in settings) moves in the same transaction as the rows are
// written, guarded so that two overlapping calls never both take the same events
// (tickets.Service.ReadTrail). Where the first call starts is fixed by the migration that
// created the schema (migration 20261203000006 stores the end of the trail then: 0 on a
// fresh install), so what happens before any worker runs is still announced, while an
// upgraded install's history is not. It returns how many rows it wrote.
func (s *Service) CollectAnnouncements(ctx context.Context) (int, error) {
	return s.svc.ReadTrail(ctx, announcements, s.announce)
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
