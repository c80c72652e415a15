package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Replies to the customer and internal notes: the channel a reply goes on, and whether it
// reaches the customer there (an address, WeChat's 48-hour window, an opt-out).

// Reply sends an agent's answer to the customer on the channel they last used. The message
// is stored as queued; the channel's sender delivers it. The first reply meets the
// first-response deadline.
func (s *Service) Reply(ctx context.Context, actor Actor, ref, body string) (*Message, error) {
	return s.ReplyOn(ctx, actor, ref, "", body)
}

// WeChatWindow is how long after a customer's last WeChat message the official account may
// still write to them.
const WeChatWindow = 48 * time.Hour

// ReplyOn is Reply on a channel the agent chose (e.g. SMS when WeChat's window has closed);
// "" means the customer's last channel.
func (s *Service) ReplyOn(ctx context.Context, actor Actor, ref string, via Channel, body string) (*Message, error) {
	return s.ReplyWith(ctx, actor, ref, ReplyInput{Via: via, Body: body})
}

// ReplyInput is what an agent sends: the text, on a channel (Via, "" for the customer's
// last one), with files (checked against the channel's ReplyFileLimits before anything is
// stored), and the status the ticket moves to with it (Then: e.g. resolved or pending; ""
// leaves it).
type ReplyInput struct {
	Via   Channel
	Body  string
	Files []ReplyFile
	Then  Status
}

// ReplyWith sends r in one transaction with one audit trail: the reply, its files and the
// status it sets; a status the ticket may not take refuses the reply too. A Then the reply
// itself reached (open, from new) is no change.
func (s *Service) ReplyWith(ctx context.Context, actor Actor, ref string, r ReplyInput) (*Message, error) {
	via, body, files, then := r.Via, r.Body, r.Files, r.Then
	if then != "" && !then.Valid() {
		return nil, invalidf("unknown status %q (open, pending, resolved, closed)", then)
	}
	if actor.Agent == nil {
		return nil, forbiddenf("only agents reply to customers")
	}
	body = strings.TrimSpace(body)
	if body == "" {
		return nil, invalidf("reply text is empty")
	}
	if len(body) > MaxBodyBytes {
		return nil, invalidf("reply is %d bytes, more than the %d allowed", len(body), MaxBodyBytes)
	}
	given := files
	var m *Message
	var told []int64
	for try := 1; ; try++ {
		m, told = nil, nil
		var err error
		if files, err = s.keepReplyFiles(ctx, given); err != nil {
			return nil, err
		}
		err = s.replyTx(ctx, actor, ref, via, body, files, then, &m, &told)
		if errors.Is(err, errFileGone) && try < maxFileKeeps {
			continue // a sweep took a file while this writer stalled: keep it again
		}
		if err != nil {
			return nil, err
		}
		break
	}
	s.deliver(ctx, append([]int64{m.ID}, told...)...)
	return m, nil
}

// replyTx is ReplyWith's transaction, for files kept in the store before it (keepReplyFiles);
// it sets *mp to the reply and *toldp to the notices its status change queued.
func (s *Service) replyTx(ctx context.Context, actor Actor, ref string, via Channel, body string, files []ReplyFile, then Status, mp **Message, toldp *[]int64) error {
	var m *Message
	var told []int64
	_, err := s.change(ctx, actor, ref, func(tx bun.Tx, t *Ticket) error {
		if t.Status == StatusClosed {
			return conflictf("%s is closed; reopen it before replying", t.Ref())
		}
		ch := via
		if ch == "" {
			var err error
			if ch, err = s.replyChannel(ctx, tx, t); err != nil {
				return err
			}
		} else if err := s.canReach(ctx, tx, t.CustomerID, ch); err != nil {
			return err
		}
		if ch == ChannelWeChat {
			if err := s.wechatWindowOpen(ctx, tx, t.CustomerID); err != nil {
				return err
			}
		}
		if out, err := s.optedOut(ctx, tx, t.CustomerID, ch); err != nil {
			return err
		} else if out {
			return conflictf("the customer opted out of %s messages (they texted STOP/退订); reply on another channel or wait for START", ch)
		}
		now := s.now()
		m = &Message{TicketID: t.ID, Direction: DirectionOutbound, Channel: ch, Body: body, DeliveryStatus: DeliveryQueued, AuthorID: actor.agentID(), CreatedAt: now}
		if err := s.insertReply(ctx, tx, m, files); err != nil {
			return err
		}
		data := map[string]any{"message_id": m.ID, "channel": ch}
		if len(files) > 0 {
			data["files"] = len(files)
		}
		if err := s.record(ctx, tx, actor, "ticket", t.ID, "reply.queued", data); err != nil {
			return err
		}
		if t.FirstRespondedAt == nil {
			t.FirstRespondedAt = &now
			t.FirstResponseWarnAt = nil
		}
		if t.Status == StatusNew {
			if err := s.changeStatus(ctx, tx, t, StatusOpen, actor, "first reply"); err != nil {
				return err
			}
		}
		if then == "" || then == t.Status {
			return nil
		}
		var err error
		told, err = s.transition(ctx, tx, t, then, actor, "")
		return err
	})
	*mp, *toldp = m, told
	return err
}

// replyChannel is the channel of the customer's last message, or the ticket's own. A call
// or a visit is answered in writing: by SMS to their phone, else by email.
func (s *Service) replyChannel(ctx context.Context, db bun.IDB, t *Ticket) (Channel, error) {
	ch := t.Channel
	err := db.NewSelect().Table("messages").Column("channel").
		Where("ticket_id = ? AND direction = ?", t.ID, DirectionInbound).
		OrderExpr("id DESC").Limit(1).Scan(ctx, &ch)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("find reply channel: %w", err)
	}
	if ch != ChannelPhone && ch != ChannelWalkIn {
		return ch, nil
	}
	var kinds []IdentityKind
	if err := db.NewSelect().Table("customer_identities").Column("kind").Where("customer_id = ?", t.CustomerID).Scan(ctx, &kinds); err != nil {
		return "", fmt.Errorf("find customer's addresses: %w", err)
	}
	switch {
	case slices.Contains(kinds, IdentityPhone):
		return ChannelSMS, nil
	case slices.Contains(kinds, IdentityEmail):
		return ChannelEmail, nil
	}
	return ch, nil
}

// canReach checks that the customer has an address on the channel an agent chose.
func (s *Service) canReach(ctx context.Context, db bun.IDB, customerID int64, ch Channel) error {
	kind, ok := channelIdentity[ch]
	if !ok || ch == ChannelPhone {
		return invalidf("replies go by sms, wechat or email, not %q", ch)
	}
	n, err := db.NewSelect().Table("customer_identities").Where("customer_id = ? AND kind = ?", customerID, kind).Count(ctx)
	if err != nil {
		return fmt.Errorf("check customer's %s: %w", kind, err)
	}
	if n == 0 {
		return conflictf("the customer has no %s to send %s to", kind, ch)
	}
	return nil
}

// wechatWindowOpen refuses a WeChat reply more than 48 hours after the customer's last
// WeChat message, and says what else reaches them.
func (s *Service) wechatWindowOpen(ctx context.Context, db bun.IDB, customerID int64) error {
	last, err := s.lastWeChatAt(ctx, db, customerID)
	if err != nil {
		return err
	}
	if !last.IsZero() && s.now().Sub(last) <= WeChatWindow {
		return nil
	}
	msg := "WeChat lets the official account write only within 48 hours of the customer's last message"
	if !last.IsZero() {
		msg += fmt.Sprintf(" (theirs was at %s)", last.In(s.cal.loc).Format("2006-01-02 15:04"))
	}
	if s.canReach(ctx, db, customerID, ChannelSMS) == nil {
		msg += `; the customer has a phone number: reply by SMS (channel "sms")`
	} else if s.canReach(ctx, db, customerID, ChannelEmail) == nil {
		msg += `; the customer has an email address: reply by email (channel "email")`
	}
	return conflictf("%s", msg)
}

// lastWeChatAt is when the customer last wrote by WeChat; zero if never.
func (s *Service) lastWeChatAt(ctx context.Context, db bun.IDB, customerID int64) (time.Time, error) {
	var last time.Time
	err := db.NewSelect().Table("messages").ColumnExpr("messages.created_at").
		Join("JOIN tickets ON tickets.id = messages.ticket_id").
		Where("tickets.customer_id = ? AND messages.channel = ? AND messages.direction = ?", customerID, ChannelWeChat, DirectionInbound).
		OrderExpr("messages.created_at DESC").Limit(1).Scan(ctx, &last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("find the customer's last WeChat message: %w", err)
	}
	return last, nil
}

// AddNote adds an internal note that the customer never sees.
func (s *Service) AddNote(ctx context.Context, actor Actor, ref, body string) (*Message, error) {
	if actor.Agent == nil {
		return nil, forbiddenf("only agents add notes")
	}
	body = strings.TrimSpace(body)
	if body == "" {
		return nil, invalidf("note text is empty")
	}
	if len(body) > MaxBodyBytes {
		return nil, invalidf("note is %d bytes, more than the %d allowed", len(body), MaxBodyBytes)
	}
	var m *Message
	_, err := s.change(ctx, actor, ref, func(tx bun.Tx, t *Ticket) error {
		m = &Message{TicketID: t.ID, Direction: DirectionNote, Channel: t.Channel, Body: body, AuthorID: actor.agentID(), CreatedAt: s.now()}
		if err := s.insertMessage(ctx, tx, m, nil); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, "ticket", t.ID, "note.added", map[string]any{"message_id": m.ID})
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}
