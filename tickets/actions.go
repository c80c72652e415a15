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

// ticketByID loads a ticket, or ErrNotFound.
func (s *Service) ticketByID(ctx context.Context, db bun.IDB, id int64) (*Ticket, error) {
	t := new(Ticket)
	if err := db.NewSelect().Model(t).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFoundf("ticket %s not found", FormatRef(id))
		}
		return nil, fmt.Errorf("load ticket %d: %w", id, err)
	}
	return t, nil
}

// TicketByID loads a ticket from db (a transaction, or Service.DB), or ErrNotFound.
func (s *Service) TicketByID(ctx context.Context, db bun.IDB, id int64) (*Ticket, error) {
	return s.ticketByID(ctx, db, id)
}

// change loads the ticket a reference names, checks that the actor may change it, and runs
// fn in one transaction. The ticket row is locked for the transaction, so concurrent
// changes to one ticket happen one after the other.
func (s *Service) change(ctx context.Context, actor Actor, ref string, fn func(tx bun.Tx, t *Ticket) error) (*Ticket, error) {
	id, ok := ParseRef(ref)
	if !ok {
		return nil, notFoundf("%q is not a ticket reference (expected e.g. %s)", ref, FormatRef(123))
	}
	var t *Ticket
	var before Ticket
	err := s.inTx(ctx, func(tx bun.Tx) error {
		// Touch the row first: it takes the row lock on PostgreSQL (SQLite's immediate
		// transaction already holds the write lock).
		res, err := tx.NewUpdate().Table("tickets").Set("updated_at = ?", s.now()).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("lock ticket: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFoundf("ticket %s not found", FormatRef(id))
		}
		if t, err = s.ticketByID(ctx, tx, id); err != nil {
			return err
		}
		if err := s.mayChange(ctx, tx, actor, t); err != nil {
			return err
		}
		before = *t
		if err := fn(tx, t); err != nil {
			return err
		}
		t.refreshNextDue()
		if _, err := tx.NewUpdate().Model(t).WherePK().ExcludeColumn("id", "created_at").Exec(ctx); err != nil {
			return fmt.Errorf("save ticket: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.schedule(ctx, t.timers())
	// An agent with one ticket fewer may take the next from the team's queue.
	freed := before.AssigneeID != nil && (before.Status.Active() && !t.Status.Active() || !sameID(before.AssigneeID, t.AssigneeID))
	if freed && before.TeamID != nil {
		if _, err := s.FillQueue(ctx, *before.TeamID); err != nil {
			s.log.Warn("could not fill the team queue; the reconciler will", "team", *before.TeamID, "err", err)
		}
	}
	return t, nil
}

func sameID(a, b *int64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

// mayChange enforces who may work a ticket: admins; the assignee; a supervisor of the
// ticket's team or of the assignee's team; and, while nobody owns it, any agent of its team
// (or anyone when it has no team), so unassigned work can be picked up.
func (s *Service) mayChange(ctx context.Context, db bun.IDB, actor Actor, t *Ticket) error {
	a := actor.Agent
	if a == nil || a.Role == RoleAdmin {
		return nil
	}
	if t.AssigneeID != nil && *t.AssigneeID == a.ID {
		return nil
	}
	if t.AssigneeID == nil && (t.TeamID == nil || a.InTeam(t.TeamID)) {
		return nil
	}
	if a.Role == RoleSupervisor {
		if a.InTeam(t.TeamID) {
			return nil
		}
		if t.AssigneeID != nil {
			owner, err := s.agentByID(ctx, db, *t.AssigneeID)
			if err != nil {
				return err
			}
			if a.InTeam(owner.TeamID) {
				return nil
			}
		}
	}
	return forbiddenf("only the assignee, their supervisor or an admin can change %s", t.Ref())
}

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
	if actor.Agent == nil {
		return nil, forbiddenf("only agents reply to customers")
	}
	body = strings.TrimSpace(body)
	if body == "" {
		return nil, invalidf("reply text is empty")
	}
	if len(body) > maxBodyBytes {
		return nil, invalidf("reply is %d bytes, more than the %d allowed", len(body), maxBodyBytes)
	}
	var m *Message
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
		m = &Message{TicketID: t.ID, Direction: DirectionOutbound, Channel: ch, Body: body, DeliveryStatus: DeliveryQueued, AuthorID: &actor.Agent.ID, CreatedAt: now}
		if err := s.insertMessage(ctx, tx, m, nil); err != nil {
			return err
		}
		if err := s.record(ctx, tx, actor, "ticket", t.ID, "reply.queued", map[string]any{"message_id": m.ID, "channel": ch}); err != nil {
			return err
		}
		if t.FirstRespondedAt == nil {
			t.FirstRespondedAt = &now
			t.FirstResponseWarnAt = nil
		}
		if t.Status == StatusNew {
			return s.changeStatus(ctx, tx, t, StatusOpen, actor, "first reply")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.deliver(ctx, m.ID)
	return m, nil
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

// AddNote adds an internal note that the customer never sees.
func (s *Service) AddNote(ctx context.Context, actor Actor, ref, body string) (*Message, error) {
	if actor.Agent == nil {
		return nil, forbiddenf("only agents add notes")
	}
	body = strings.TrimSpace(body)
	if body == "" {
		return nil, invalidf("note text is empty")
	}
	if len(body) > maxBodyBytes {
		return nil, invalidf("note is %d bytes, more than the %d allowed", len(body), maxBodyBytes)
	}
	var m *Message
	_, err := s.change(ctx, actor, ref, func(tx bun.Tx, t *Ticket) error {
		m = &Message{TicketID: t.ID, Direction: DirectionNote, Channel: t.Channel, Body: body, AuthorID: &actor.Agent.ID, CreatedAt: s.now()}
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

// Assignment moves a ticket to a team and/or an agent. A nil AssigneeID with a TeamID
// puts the ticket in that team's unassigned queue.
type Assignment struct {
	TeamID     *int64
	AssigneeID *int64
	Reason     string
	// Unassigned takes the ticket only if nobody has it yet (Slack's "Take it", clicked by
	// several people at once): checked under the ticket's row lock, ErrConflict otherwise.
	Unassigned bool
}

// Assign gives a ticket an owner. Agents may take unassigned tickets for themselves;
// moving a ticket to someone else is for supervisors and admins.
func (s *Service) Assign(ctx context.Context, actor Actor, ref string, in Assignment) (*Ticket, error) {
	if in.TeamID == nil && in.AssigneeID == nil {
		return nil, invalidf("say which team or agent to assign to")
	}
	return s.change(ctx, actor, ref, func(tx bun.Tx, t *Ticket) error {
		if a := actor.Agent; a != nil && a.Role != RoleAdmin && a.Role != RoleSupervisor {
			if in.AssigneeID == nil || *in.AssigneeID != a.ID {
				return forbiddenf("agents can only assign tickets to themselves")
			}
			if in.TeamID != nil && !a.InTeam(in.TeamID) {
				return forbiddenf("agents take tickets into their own team; ask a supervisor to move it")
			}
		}
		if in.Unassigned && t.AssigneeID != nil {
			holder, err := s.agentByID(ctx, tx, *t.AssigneeID)
			if err != nil {
				return err
			}
			return conflictf("%s is already taken by %s", t.Ref(), holder.Email)
		}
		team := in.TeamID
		if in.AssigneeID != nil {
			owner, err := s.agentByID(ctx, tx, *in.AssigneeID)
			if err != nil {
				return err
			}
			if !owner.Active {
				return conflictf("%s is deactivated", owner.Email)
			}
			if team == nil {
				team = owner.TeamID
			}
		}
		if team != nil {
			if _, err := s.teamByID(ctx, tx, *team); err != nil {
				return err
			}
		}
		data := map[string]any{
			"from_team": t.TeamID, "to_team": team,
			"from_assignee": t.AssigneeID, "to_assignee": in.AssigneeID,
		}
		if r := strings.TrimSpace(in.Reason); r != "" {
			data["reason"] = r
		}
		t.TeamID, t.AssigneeID = team, in.AssigneeID
		return s.record(ctx, tx, actor, "ticket", t.ID, "ticket.assigned", data)
	})
}

// SetStatus moves a ticket along new → open → pending → resolved → closed, or reopens it.
func (s *Service) SetStatus(ctx context.Context, actor Actor, ref string, to Status, reason string) (*Ticket, error) {
	if !to.Valid() {
		return nil, invalidf("unknown status %q (new, open, pending, resolved, closed)", to)
	}
	var told []int64
	t, err := s.change(ctx, actor, ref, func(tx bun.Tx, t *Ticket) error {
		var err error
		told, err = s.transition(ctx, tx, t, to, actor, reason)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.deliver(ctx, told...)
	return t, nil
}

// changeStatus applies a transition to t (saved by the caller) and records it. A message
// it queues to the customer (the survey, on resolution) is sent by the reconciler; callers
// that resolve tickets use transition and hand it to deliver after the commit.
func (s *Service) changeStatus(ctx context.Context, tx bun.IDB, t *Ticket, to Status, actor Actor, reason string) error {
	_, err := s.transition(ctx, tx, t, to, actor, reason)
	return err
}

// transition is changeStatus returning the id of the message it queued to the customer,
// or 0. Resolving a ticket starts its satisfaction survey and schedules its follow-up
// calls; reopening one cancels the calls still open.
func (s *Service) transition(ctx context.Context, tx bun.IDB, t *Ticket, to Status, actor Actor, reason string) ([]int64, error) {
	from := t.Status
	if from == to {
		return nil, conflictf("%s is already %s", t.Ref(), to)
	}
	if !from.CanBecome(to) {
		return nil, conflictf("%s cannot go from %s to %s", t.Ref(), from, to)
	}
	now := s.now()
	data := changeData(from, to, reason)
	if from == StatusPending {
		paused, err := s.resumeClock(ctx, tx, t, now)
		if err != nil {
			return nil, err
		}
		data["paused_seconds"] = int64(paused / time.Second)
	}
	switch to {
	case StatusPending:
		if err := s.pauseClock(ctx, tx, t, now); err != nil {
			return nil, err
		}
	case StatusResolved:
		t.ResolvedAt = &now
		t.FirstResponseWarnAt, t.ResolutionWarnAt = nil, nil
	case StatusClosed:
		t.ClosedAt = &now
	case StatusOpen:
		if from == StatusResolved || from == StatusClosed {
			// Reopened: a new resolution window starts now.
			t.ResolvedAt, t.ClosedAt, t.ResolutionBreachedAt, t.ResolutionWarned = nil, nil, nil, 0
			t.SLAStartedAt = &now
			t.Status = to
			if err := s.applyDeadlines(ctx, tx, t); err != nil {
				return nil, err
			}
		}
	}
	t.Status = to
	t.refreshNextDue()
	if to.Active() {
		data["resolution_due_at"] = t.ResolutionDueAt
	}
	kind := "status.changed"
	if to == StatusOpen && (from == StatusResolved || from == StatusClosed) {
		kind = "ticket.reopened"
	}
	// What the change sets off is recorded first, so the change itself is the last event.
	var told []int64
	switch {
	case kind == "ticket.reopened":
		if err := s.cancelFollowUps(ctx, tx, t, actor); err != nil {
			return nil, err
		}
	case to == StatusResolved:
		if err := s.scheduleFollowUps(ctx, tx, t); err != nil {
			return nil, err
		}
		// The customer is told it is resolved, then asked how it went.
		if s.cfg.Notices {
			notice, err := s.notify(ctx, tx, t, TemplateResolved, TemplateData{})
			if err != nil {
				return nil, err
			}
			told = append(told, notice)
		}
		survey, err := s.startSurvey(ctx, tx, t)
		if err != nil {
			return nil, err
		}
		told = append(told, survey)
	}
	return told, s.record(ctx, tx, actor, "ticket", t.ID, kind, data)
}

// SetPriority changes how urgent a ticket is.
func (s *Service) SetPriority(ctx context.Context, actor Actor, ref string, p Priority, reason string) (*Ticket, error) {
	if !p.Valid() {
		return nil, invalidf("unknown priority %q (low, normal, high, urgent)", p)
	}
	return s.change(ctx, actor, ref, func(tx bun.Tx, t *Ticket) error {
		if t.Priority == p {
			return conflictf("%s is already %s priority", t.Ref(), p)
		}
		data := changeData(t.Priority, p, reason)
		t.Priority = p
		if err := s.retime(ctx, tx, t, data); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, "ticket", t.ID, "priority.changed", data)
	})
}

// NewTicket is what an agent logs for a phone caller or a walk-in customer.
type NewTicket struct {
	Channel  Channel // phone or walk_in; other channels open tickets through Intake
	Name     string
	Phone    string
	Email    string
	Subject  string
	Body     string // what the customer said
	Category string
	Priority Priority
}

// CreateTicket logs a contact an agent handled in person or on the phone. The ticket is
// assigned to the agent who logged it.
func (s *Service) CreateTicket(ctx context.Context, actor Actor, in NewTicket) (*Ticket, error) {
	if actor.Agent == nil {
		return nil, forbiddenf("only agents log contacts")
	}
	if in.Channel == "" {
		in.Channel = ChannelPhone
	}
	if in.Channel != ChannelPhone && in.Channel != ChannelWalkIn {
		return nil, invalidf("agents log phone or walk_in contacts; %q tickets arrive through their channel", in.Channel)
	}
	if in.Priority == "" {
		in.Priority = PriorityNormal
	}
	if !in.Priority.Valid() {
		return nil, invalidf("unknown priority %q (low, normal, high, urgent)", in.Priority)
	}
	in.Subject, in.Body = strings.TrimSpace(in.Subject), strings.TrimSpace(in.Body)
	if in.Subject == "" && in.Body == "" {
		return nil, invalidf("say what the customer needs: a subject or a description")
	}
	if len(in.Body) > maxBodyBytes {
		return nil, invalidf("description is %d bytes, more than the %d allowed", len(in.Body), maxBodyBytes)
	}
	kind, value := IdentityPhone, in.Phone
	if strings.TrimSpace(in.Phone) == "" {
		kind, value = IdentityEmail, in.Email
	}
	if strings.TrimSpace(value) == "" {
		return nil, invalidf("a phone number or an email address is needed to reach the customer")
	}
	value, err := normalizeIdentity(kind, value, s.cfg.DefaultCountry)
	if err != nil {
		return nil, err
	}
	var email string
	if kind == IdentityPhone && strings.TrimSpace(in.Email) != "" {
		if email, err = NormalizeEmail(in.Email); err != nil {
			return nil, err
		}
	}

	t := &Ticket{Channel: in.Channel, Subject: subjectFrom(in.Subject, in.Body), Category: strings.TrimSpace(in.Category), Priority: in.Priority, Status: StatusOpen}
	t.AssigneeID, t.TeamID = &actor.Agent.ID, actor.Agent.TeamID
	err = s.inTx(ctx, func(tx bun.Tx) error {
		t.ID = 0
		c, err := s.customerFor(ctx, tx, kind, value, in.Name, "")
		if err != nil {
			return err
		}
		if email != "" {
			if err := s.addIdentity(ctx, tx, c, IdentityEmail, email); err != nil {
				return err
			}
		}
		t.CustomerID = c.ID
		if err := s.createTicket(ctx, tx, t, c, in.Body, actor); err != nil {
			return err
		}
		if in.Body == "" {
			return nil
		}
		m := &Message{TicketID: t.ID, Direction: DirectionInbound, Channel: in.Channel, Body: in.Body, DeliveryStatus: DeliveryReceived, AuthorID: &actor.Agent.ID, CreatedAt: t.CreatedAt}
		return s.insertMessage(ctx, tx, m, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("log %s contact: %w", in.Channel, err)
	}
	s.schedule(ctx, t.timers())
	return t, nil
}

// addIdentity links another way of reaching a customer, unless it already belongs to
// someone.
func (s *Service) addIdentity(ctx context.Context, tx bun.IDB, c *Customer, kind IdentityKind, value string) error {
	n, err := tx.NewSelect().Table("customer_identities").Where("kind = ? AND value = ?", kind, value).Count(ctx)
	if err != nil {
		return fmt.Errorf("check identity: %w", err)
	}
	if n > 0 {
		return nil
	}
	id := &Identity{CustomerID: c.ID, Kind: kind, Value: value, CreatedAt: s.now()}
	if _, err := tx.NewInsert().Model(id).Exec(ctx); err != nil {
		return fmt.Errorf("add identity: %w", err)
	}
	return nil
}

// SetCategory files a ticket under a category; its SLA policy may change with it.
func (s *Service) SetCategory(ctx context.Context, actor Actor, ref, category, reason string) (*Ticket, error) {
	category = strings.TrimSpace(category)
	if len(category) > 100 {
		return nil, invalidf("a category has at most 100 characters")
	}
	return s.change(ctx, actor, ref, func(tx bun.Tx, t *Ticket) error {
		if t.Category == category {
			return conflictf("%s is already in category %q", t.Ref(), category)
		}
		data := changeData(t.Category, category, reason)
		t.Category = category
		if err := s.retime(ctx, tx, t, data); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, "ticket", t.ID, "category.changed", data)
	})
}

// CustomerUpdate changes a customer's details; nil fields stay as they are.
type CustomerUpdate struct {
	Name   *string
	Locale *string
	Tags   *string // comma-separated, e.g. "vip"; routing rules match on them
}

// UpdateCustomer changes a customer's name, language or tags.
func (s *Service) UpdateCustomer(ctx context.Context, actor Actor, id int64, in CustomerUpdate) (*CustomerDetail, error) {
	if actor.Agent == nil {
		return nil, forbiddenf("only staff change customer details")
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		c := new(Customer)
		if err := tx.NewSelect().Model(c).Where("id = ?", id).Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return notFoundf("customer %d not found", id)
			}
			return fmt.Errorf("load customer: %w", err)
		}
		changed := map[string]any{}
		if in.Name != nil {
			c.Name, changed["name"] = strings.TrimSpace(*in.Name), strings.TrimSpace(*in.Name)
		}
		if in.Locale != nil {
			c.Locale, changed["locale"] = strings.TrimSpace(*in.Locale), strings.TrimSpace(*in.Locale)
		}
		if in.Tags != nil {
			tags := strings.Join(splitList(strings.ToLower(*in.Tags)), ",")
			c.Tags, changed["tags"] = tags, tags
		}
		if len(changed) == 0 {
			return invalidf("nothing to change")
		}
		c.UpdatedAt = s.now()
		if _, err := tx.NewUpdate().Model(c).Column("name", "locale", "tags", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("save customer: %w", err)
		}
		return s.record(ctx, tx, actor, "customer", id, "customer.updated", changed)
	})
	if err != nil {
		return nil, err
	}
	return s.Customer(ctx, id)
}

// changeData is an audit event's from, to and, when given, the reason.
func changeData(from, to any, reason string) map[string]any {
	data := map[string]any{"from": from, "to": to}
	if r := strings.TrimSpace(reason); r != "" {
		data["reason"] = r
	}
	return data
}

// retime applies the SLA policy that now matches an open ticket after a change of priority
// or category, and notes the new deadlines in the event's data.
func (s *Service) retime(ctx context.Context, tx bun.IDB, t *Ticket, data map[string]any) error {
	if !t.Status.Active() {
		return nil
	}
	if err := s.applyDeadlines(ctx, tx, t); err != nil {
		return err
	}
	data["first_response_due_at"], data["resolution_due_at"] = t.FirstResponseDueAt, t.ResolutionDueAt
	return nil
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
