package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// What intake does beyond storing a plain new message: before the batch, the messages
// that may not be new messages at all (a voicemail's later part, merged in voicemail.go;
// what the Aftercare takes, a survey's answer); after it, what a stored message sets off
// (the acknowledgement, a reopened ticket, a complaint).

// intakeSpecial handles, one by one, the messages that may not be new messages at all: a
// later part of a voicemail, merged into its message, and what the Aftercare takes (a
// texted score that answers a satisfaction survey). It returns nil for every other message.
func (s *Service) intakeSpecial(ctx context.Context, tx bun.Tx, in Inbound) (*IntakeResult, error) {
	if in.Merge {
		seen, err := s.stored(ctx, tx, in)
		if err != nil {
			return nil, err
		}
		if seen != nil {
			if err := s.mergeParts(ctx, tx, seen.Message, in); err != nil {
				return nil, err
			}
			return seen, nil
		}
	}
	if s.care == nil {
		return nil, nil
	}
	return s.care.Answer(ctx, s.chapterTx(tx), in)
}

// stored is the Duplicate result of a message whose provider id db holds already, or nil
// when in is new or has no provider id.
func (s *Service) stored(ctx context.Context, db bun.IDB, in Inbound) (*IntakeResult, error) {
	if in.ProviderMessageID == "" {
		return nil, nil
	}
	seen := new(Message)
	err := db.NewSelect().Model(seen).Where("channel = ? AND provider_message_id = ?", in.Channel, in.ProviderMessageID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up provider message id: %w", err)
	}
	t, err := s.ticketByID(ctx, db, seen.TicketID)
	if err != nil {
		return nil, err
	}
	return &IntakeResult{Ticket: t, Message: seen, Duplicate: true}, nil
}

// afterInbound is what a stored message sets off: the acknowledgement of a new email or
// WeChat ticket, the reopening of a ticket that waited on the customer or was resolved
// lately, and a complaint when the customer says they complain.
func (s *Service) afterInbound(ctx context.Context, tx bun.Tx, in Inbound, res *IntakeResult, now time.Time) error {
	t := res.Ticket
	// A new email or WeChat ticket is acknowledged with its reference (an SMS is, in the
	// webhook's answer).
	if s.cfg.Notices && res.Created && (in.Channel == ChannelEmail || in.Channel == ChannelWeChat) {
		due := t.FirstResponseDueAt.In(s.cal.loc).Format("2006-01-02 15:04")
		var err error
		if res.Acknowledged, err = s.notify(ctx, tx, t, TemplateAcknowledged, TemplateData{Due: due}); err != nil {
			return err
		}
	}
	// Files on a ticket that was waiting may be the documents the customer was asked for.
	if !res.Created && len(in.Attachments) > 0 {
		if err := s.documentsArrived(ctx, tx, t, res.Message, len(in.Attachments)); err != nil {
			return err
		}
	}
	// A customer answering a ticket that waits on them, or writing again soon after it was
	// resolved, puts it back in the agent's hands.
	if t.Status == StatusPending || t.Status == StatusResolved {
		if err := s.changeStatus(ctx, tx, t, StatusOpen, customerActor, "customer replied"); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model(t).WherePK().ExcludeColumn("id", "created_at").Exec(ctx); err != nil {
			return fmt.Errorf("save ticket: %w", err)
		}
		res.retimed = true
	}
	// 投诉 / "complaint" in the customer's words is a formal complaint, received now.
	source := in.ComplaintSource
	if source == "" && mentionsComplaint(in.Subject+"\n"+in.Body) {
		source = SourceCustomer
	}
	if source != "" {
		opened, err := s.openComplaints(ctx, tx, customerActor, []ComplaintRequest{{TicketID: t.ID, Source: source,
			Summary: subjectFrom(in.Subject, in.Body), ReceivedAt: res.Message.CreatedAt}})
		if err != nil {
			return err
		}
		if len(opened) > 0 {
			res.Complaint = opened[0]
		}
	}
	return nil
}

// complaintKeywords in a customer's message open a complaint.
var complaintKeywords = []string{"投诉", "complaint", "complain"}

func mentionsComplaint(text string) bool {
	lower := strings.ToLower(text)
	for _, k := range complaintKeywords {
		if strings.Contains(lower, k) {
			return true
		}
	}
	return false
}
