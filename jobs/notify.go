package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hotlinedesk/hotline/notifications"
	"github.com/hotlinedesk/hotline/tickets/outbox"
)

// TypeNotify delivers staff notices and announcements to Slack.
const TypeNotify = "notify:deliver"

// NotifyEvery is how often the delivery task runs.
const NotifyEvery = 15 * time.Second

// Notifier is the Slack delivery task. Each run turns new audit events into rows to send
// (outbox.Service.CollectAnnouncements), then sends what is pending: staff notices as
// direct messages to their agent, new high and urgent tickets to the team's channel.
type Notifier struct {
	box   *outbox.Service
	slack *notifications.Slack
	log   *slog.Logger
	// MaxAttempts is how many passing failures (rate limits, the network) a row survives
	// before it is recorded as failed; 0 means 100.
	MaxAttempts int
	// Batch is how many rows a run takes at most; 0 means 200.
	Batch int
}

// NewNotifier builds the task; slack may be nil or disabled (no token), and then every
// notice is marked skipped: staff still read it in the API.
func NewNotifier(box *outbox.Service, slack *notifications.Slack, log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.Default()
	}
	return &Notifier{box: box, slack: slack, log: log}
}

// Register adds the task's handler to mux.
func (n *Notifier) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeNotify, n.handle)
}

// RunNotifier enqueues the delivery task every interval until ctx ends (every worker
// process runs one; the interval's task id makes them enqueue it once).
func RunNotifier(ctx context.Context, b *Broker, every time.Duration, log *slog.Logger) {
	RunPeriodic(ctx, b, TypeNotify, every, log)
}

func (n *Notifier) handle(ctx context.Context, _ *asynq.Task) error {
	r, err := n.Deliver(ctx)
	if r != (NotifyResult{}) {
		n.log.Info("notices delivered to Slack", "collected", r.Collected, "sent", r.Sent, "skipped", r.Skipped,
			"failed", r.Failed, "retry_later", r.RetryLater)
	}
	return err
}

// NotifyResult counts what one run did.
type NotifyResult struct {
	Collected  int // rows made from new audit events
	Sent       int
	Skipped    int
	Failed     int
	RetryLater int
}

// Deliver runs once: collect, then send what is pending.
//
// Exactly once: a row is claimed (pending → sending) in the database before it is posted,
// and only one run wins a claim, so overlapping runs never post the same row; a posted row
// is recorded as sent right after Slack answers, and a sent row is never posted again. The
// one window left is a crash (or a failed database write) between Slack accepting the post
// and the record: the claim then lapses after outbox.SlackClaimTTL and the row is posted
// again, so delivery is at least once across such a crash.
func (n *Notifier) Deliver(ctx context.Context) (NotifyResult, error) {
	var r NotifyResult
	var err error
	if r.Collected, err = n.box.CollectAnnouncements(ctx); err != nil {
		return r, err
	}
	if !n.slack.Enabled() {
		r.Skipped, err = n.box.SkipPendingNotices(ctx, "not sent: Slack is not configured (SLACK_BOT_TOKEN)")
		return r, err
	}
	batch := n.Batch
	if batch <= 0 {
		batch = 200
	}
	items, err := n.box.PendingNotices(ctx, batch)
	if err != nil {
		return r, err
	}
	for _, it := range items {
		if ctx.Err() != nil {
			return r, ctx.Err()
		}
		if it.Outbox == outbox.Notices && outbox.ChannelKind(it.Kind) {
			// Posted once to the team's channel from the audit trail; the notice stays in the API.
			if err := n.box.MarkNoticeSkipped(ctx, it.Outbox, it.ID, "posted in the team channel"); err != nil {
				return r, err
			}
			r.Skipped++
			continue
		}
		won, err := n.box.ClaimNotice(ctx, it.Outbox, it.ID)
		if err != nil {
			return r, err
		}
		if !won {
			continue // another run has it, or has sent it
		}
		stop, err := n.deliverOne(ctx, it, &r)
		if err != nil {
			return r, err
		}
		if stop {
			break // Slack is limiting or unreachable: the rest waits for the next run
		}
	}
	return r, nil
}

// deliverOne posts one claimed row and records the outcome; stop means leave the rest of
// this run's rows for the next run.
func (n *Notifier) deliverOne(ctx context.Context, it *outbox.PendingNotice, r *NotifyResult) (stop bool, err error) {
	// Record outcomes even when the run is being cancelled: the post may have happened.
	rec := context.WithoutCancel(ctx)
	msg := n.message(it)
	var channel, ts string
	var postErr error
	switch it.Outbox {
	case outbox.Notices:
		channel, ts, postErr = n.slack.DM(ctx, it.AgentEmail, msg)
	default:
		ch, ok := n.slack.TeamChannel(it.TeamID, it.TeamName)
		if !ok {
			r.Skipped++
			team := it.TeamName
			if team == "" {
				team = "(none)"
			}
			return false, n.box.MarkNoticeSkipped(rec, it.Outbox, it.ID,
				fmt.Sprintf("not sent: no Slack channel is configured for team %s (SLACK_TEAM_CHANNELS)", team))
		}
		channel = ch
		ts, postErr = n.slack.Post(ctx, ch, msg)
	}
	if postErr == nil {
		r.Sent++
		return false, n.box.MarkNoticeSent(rec, it.Outbox, it.ID, channel, ts)
	}
	kind, wait := notifications.Classify(postErr)
	reason := postErr.Error()
	if code := notifications.SlackCode(postErr); code != "" {
		reason = code + ": " + reason
	}
	if kind == notifications.Permanent {
		r.Failed++
		n.log.Warn("Slack refused a notice", "outbox", it.Outbox, "id", it.ID, "kind", it.Kind, "err", reason)
		return false, n.box.MarkNoticeFailed(rec, it.Outbox, it.ID, reason)
	}
	attempts, err := n.box.RetryNoticeLater(rec, it.Outbox, it.ID, reason)
	if err != nil {
		return true, err
	}
	most := n.MaxAttempts
	if most <= 0 {
		most = 100
	}
	if attempts >= most {
		r.Failed++
		return kind == notifications.Retry, n.box.MarkNoticeFailed(rec, it.Outbox, it.ID, fmt.Sprintf("gave up after %d attempts: %s", attempts, reason))
	}
	r.RetryLater++
	n.log.Info("Slack delivery postponed", "outbox", it.Outbox, "id", it.ID, "attempts", attempts, "retry_after", wait, "err", reason)
	// A limit or an outage holds every row; a refusal of this one row holds only it.
	return kind == notifications.Retry, nil
}

// message is the Slack message for a row.
func (n *Notifier) message(it *outbox.PendingNotice) notifications.Message {
	m := notifications.Message{
		Text:      it.Body,
		TicketRef: it.TicketRef(),
		Complaint: it.ComplaintRef(),
		AckValue:  notifications.AckValue(it.Outbox, it.ID),
	}
	var details []string
	if it.TicketID != nil {
		if it.TicketPriority != "" {
			details = append(details, "优先级 Priority: "+string(it.TicketPriority))
		}
		if it.TicketTeam != "" {
			details = append(details, "团队 Team: "+it.TicketTeam)
		}
		if it.TicketSubject != "" && !strings.Contains(it.Body, it.TicketSubject) {
			details = append(details, it.TicketSubject)
		}
		// Offer the ticket to whoever reads a team announcement or an SLA alarm; a ticket
		// just assigned to the reader, or a complaint's ticket, is not up for taking.
		m.Take = it.Outbox == outbox.Announcements || strings.HasPrefix(it.Kind, "sla.")
	}
	if m.Complaint != "" && !strings.Contains(it.Body, m.Complaint) {
		details = append(details, "投诉 Complaint: "+m.Complaint)
	}
	m.Details = strings.Join(details, " · ")
	return m
}
