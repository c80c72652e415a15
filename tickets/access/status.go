package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// TicketStatus is what a customer may learn about one of their own tickets: where it stands,
// when the next answer is due, a complaint's deadline, and the replies they were sent. No
// names, notes or internal events.
type TicketStatus struct {
	Ref       string
	Subject   string
	Status    tickets.Status
	CreatedAt time.Time
	NextDue   *time.Time // the earliest deadline still open
	Complaint *ComplaintStatusView
	Replies   []PublicReply
	// Stages are the ticket's category's progress stages, passed, current and ahead (none
	// when the category has none); Stage is the current one, nil before the first.
	Stages []StageStep
	Stage  *StageStep
	// Missing are the documents the customer still has to send.
	Missing []string
}

// StageStep is a progress stage as the customer sees it (tickets/stages keeps them).
type StageStep struct {
	NameZh, NameEn string
	State          string     // "passed", "current", "ahead"
	At             *time.Time // when the ticket entered it
}

// Name is the stage in a language.
func (st *StageStep) Name(english bool) string {
	if english {
		return st.NameEn
	}
	return st.NameZh
}

// ComplaintStatusView is a complaint as its customer sees it.
type ComplaintStatusView struct {
	Ref      string
	Status   tickets.ComplaintStatus
	Deadline time.Time
	Decision string
}

// sentStatuses are the delivery statuses of a reply the provider took: "sending" and "read"
// are providers' words Hotline stores as they report them.
var sentStatuses = []string{"sending", tickets.DeliverySent, tickets.DeliveryDelivered, "read"}

// PublicReply is a reply the customer was sent.
type PublicReply struct {
	At   time.Time
	Body string
}

// CustomerStatus answers a customer who asks "状态" / "STATUS" by SMS or WeChat: their
// open tickets, or only the one they name when it is theirs.
func (s *Service) CustomerStatus(ctx context.Context, kind tickets.IdentityKind, address, ref string) ([]*TicketStatus, error) {
	value, err := s.svc.NormalizeIdentity(kind, address)
	if err != nil {
		return nil, err
	}
	var ts []*tickets.Ticket
	q := s.db.NewSelect().Model(&ts).
		Where("customer_id = (SELECT customer_id FROM customer_identities WHERE kind = ? AND value = ?)", kind, value).
		OrderExpr("id DESC").Limit(5)
	if id, ok := tickets.ParseRef(ref); ok {
		q = q.Where("id = ?", id)
	} else {
		q = q.Where("status IN (?)", bun.In(tickets.ActiveStatuses()))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("find customer's tickets: %w", err)
	}
	out := make([]*TicketStatus, 0, len(ts))
	for _, t := range ts {
		st, err := s.statusOf(ctx, t, false)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// CallerStatus is a ticket's status told to the caller whose phone it belongs to, with its
// complaint still waiting for a decision (or nil): nil when the ticket is not theirs, so
// the phone menu never reads out someone else's ticket.
func (s *Service) CallerStatus(ctx context.Context, ticketID int64, phone string) (*tickets.Ticket, *ComplaintStatusView, error) {
	phone, err := s.svc.NormalizeIdentity(tickets.IdentityPhone, phone)
	if err != nil {
		return nil, nil, err
	}
	t := new(tickets.Ticket)
	err = s.db.NewSelect().Model(t).
		Where("id = ? AND customer_id = (SELECT customer_id FROM customer_identities WHERE kind = 'phone' AND value = ?)", ticketID, phone).
		Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("find caller's ticket: %w", err)
	}
	c, err := s.complaintView(ctx, t.ID, true)
	if err != nil {
		return t, nil, err
	}
	return t, c, nil
}

// PublicStatus is the status page's answer: the ticket a reference names, when check is
// the last four digits of the customer's phone number or their email address. A wrong
// check looks exactly like an unknown reference. It applies only the reference's budget;
// the page itself calls PublicStatusFrom.
func (s *Service) PublicStatus(ctx context.Context, ref, check string) (*TicketStatus, error) {
	return s.PublicStatusFrom(ctx, "", ref, check)
}

// PublicStatusFrom is PublicStatus asked by the client address client. Wrong lookups are
// limited per client and, since four digits are guessed from many addresses as easily as
// from one, per reference too: a reference checked wrongly too often is locked for a while
// whoever asks (a *Limited error), in the database, so for every process.
func (s *Service) PublicStatusFrom(ctx context.Context, client, ref, check string) (*TicketStatus, error) {
	notFound := tickets.NotFoundf("no ticket matches that reference and check")
	var fromClient *claim
	if client != "" {
		var err error
		if fromClient, err = s.claimAttempt(ctx, &s.attempts.statusClient, clientKey(client)); err != nil {
			return nil, err
		}
	}
	id, ok := tickets.ParseRef(ref)
	check = strings.TrimSpace(check)
	if !ok || check == "" {
		return nil, notFound
	}
	// Counted whether or not the ticket exists, so a lock tells nothing either; the rows
	// this makes are bounded by the client budget above.
	forRef, err := s.claimAttempt(ctx, &s.attempts.statusReference, strconv.FormatInt(id, 10))
	if err != nil {
		return nil, err
	}
	st, err := s.publicStatus(ctx, id, check)
	if errors.Is(err, tickets.ErrNotFound) {
		until, locked, err := s.failAttempt(ctx, forRef)
		if err != nil {
			return nil, err
		}
		if locked {
			s.log.Warn("status lookups of a reference locked after wrong checks", "ref", tickets.FormatRef(id), "until", until)
		}
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	for _, c := range []*claim{forRef, fromClient} {
		if c != nil {
			if err := s.attemptSucceeded(ctx, c); err != nil {
				return nil, err
			}
		}
	}
	return st, nil
}

func (s *Service) publicStatus(ctx context.Context, id int64, check string) (*TicketStatus, error) {
	notFound := tickets.NotFoundf("no ticket matches that reference and check")
	t := new(tickets.Ticket)
	if err := s.db.NewSelect().Model(t).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound
		}
		return nil, fmt.Errorf("load ticket: %w", err)
	}
	var idents []*tickets.Identity
	if err := s.db.NewSelect().Model(&idents).Where("customer_id = ?", t.CustomerID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load identities: %w", err)
	}
	matched := false
	for _, i := range idents {
		switch {
		case i.Kind == tickets.IdentityPhone && len(check) == 4 && strings.HasSuffix(i.Value, check):
			matched = true
		case i.Kind == tickets.IdentityEmail && strings.EqualFold(i.Value, check):
			matched = true
		}
	}
	if !matched {
		return nil, notFound
	}
	return s.statusOf(ctx, t, true)
}

func (s *Service) statusOf(ctx context.Context, t *tickets.Ticket, withReplies bool) (*TicketStatus, error) {
	t.RefreshNextDue()
	st := &TicketStatus{Ref: t.Ref(), Subject: t.Subject, Status: t.Status, CreatedAt: t.CreatedAt}
	if t.Status.Active() && t.NextDueAt.Year() < 9999 {
		due := t.NextDueAt
		st.NextDue = &due
	}
	var err error
	if st.Complaint, err = s.complaintView(ctx, t.ID, false); err != nil {
		return nil, err
	}
	if err := s.progressView(ctx, t, st); err != nil {
		return nil, err
	}
	if withReplies {
		var ms []*tickets.Message
		if err := s.db.NewSelect().Model(&ms).Where("ticket_id = ? AND direction = ?", t.ID, tickets.DirectionOutbound).
			// Only what left: a queued reply may still fail, and a failed one never arrived.
			Where("delivery_status IN (?)", bun.In(sentStatuses)).OrderExpr("id").Scan(ctx); err != nil {
			return nil, fmt.Errorf("load replies: %w", err)
		}
		for _, m := range ms {
			st.Replies = append(st.Replies, PublicReply{At: m.CreatedAt, Body: m.Body})
		}
	}
	return st, nil
}

// complaintView is a ticket's complaint as its customer sees it: the latest one, or with
// open the one still waiting for its decision; nil when there is none. It reads what is
// told, no more: complaints themselves are package complaints'.
func (s *Service) complaintView(ctx context.Context, ticketID int64, open bool) (*ComplaintStatusView, error) {
	var row struct {
		ID         int64
		Status     tickets.ComplaintStatus
		DeadlineAt time.Time
		Decision   string
	}
	q := s.db.NewSelect().TableExpr("complaints").Column("id", "status", "deadline_at", "decision").
		Where("ticket_id = ?", ticketID).Limit(1)
	if open {
		q = q.Where("status IN (?)", bun.In([]tickets.ComplaintStatus{tickets.ComplaintReceived, tickets.ComplaintInvestigating})).OrderExpr("deadline_at, id")
	} else {
		q = q.OrderExpr("id DESC")
	}
	err := q.Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load complaint: %w", err)
	}
	return &ComplaintStatusView{Ref: tickets.FormatComplaintRef(row.ID), Status: row.Status, Deadline: row.DeadlineAt, Decision: row.Decision}, nil
}

// progressView fills in the ticket's progress stages and the documents still missing. It
// reads what is told, no more: the stages themselves are package stages'.
func (s *Service) progressView(ctx context.Context, t *tickets.Ticket, st *TicketStatus) error {
	var rows []struct {
		ID             int64
		NameZh, NameEn string
	}
	if err := s.db.NewSelect().Table("stages").Column("id", "name_zh", "name_en").Where("category = ?", t.Category).
		OrderExpr("position").Scan(ctx, &rows); err != nil {
		return fmt.Errorf("load stages: %w", err)
	}
	if len(rows) > 0 {
		var cur struct {
			StageID   int64
			EnteredAt time.Time
		}
		err := s.db.NewSelect().Table("ticket_stages").Column("stage_id", "entered_at").Where("ticket_id = ?", t.ID).Scan(ctx, &cur)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("load ticket's stage: %w", err)
		}
		var hist []struct {
			StageID   int64
			EnteredAt time.Time
		}
		if err := s.db.NewSelect().Table("stage_history").Column("stage_id", "entered_at").Where("ticket_id = ?", t.ID).
			OrderExpr("id").Scan(ctx, &hist); err != nil {
			return fmt.Errorf("load stage history: %w", err)
		}
		entered := map[int64]time.Time{}
		for _, h := range hist {
			entered[h.StageID] = h.EnteredAt
		}
		at := -1
		for i, r := range rows {
			if r.ID == cur.StageID {
				at = i
			}
		}
		for i, r := range rows {
			step := StageStep{NameZh: r.NameZh, NameEn: r.NameEn, State: "ahead"}
			if i <= at {
				step.State = "passed"
				if i == at {
					step.State = "current"
				}
				if when, ok := entered[r.ID]; ok {
					step.At = &when
				}
			}
			st.Stages = append(st.Stages, step)
		}
		if at >= 0 {
			st.Stage = &st.Stages[at]
		}
	}
	if err := s.db.NewSelect().Table("document_requests").Column("item").Where("ticket_id = ? AND received_at IS NULL", t.ID).
		OrderExpr("id").Scan(ctx, &st.Missing); err != nil {
		return fmt.Errorf("load missing documents: %w", err)
	}
	return nil
}

// StatusText words a customer's tickets for an SMS or WeChat answer.
func (s *Service) StatusText(sts []*TicketStatus, english bool) string {
	loc := s.svc.Calendar().Location()
	lang := 0
	if english {
		lang = 1
	}
	if len(sts) == 0 {
		return [2]string{"您目前没有处理中的工单。", "You have no open tickets."}[lang]
	}
	var b strings.Builder
	for i, st := range sts {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s %s", st.Ref, st.Status.Words(english))
		if st.Stage != nil {
			fmt.Fprintf(&b, [2]string{"，当前进度：%s", ", stage: %s"}[lang], st.Stage.Name(english))
		}
		if len(st.Missing) > 0 && st.Status.Active() {
			fmt.Fprintf(&b, [2]string{"，还需提供：%s", ", still needed: %s"}[lang], strings.Join(st.Missing, [2]string{"、", "; "}[lang]))
		}
		if st.NextDue != nil {
			fmt.Fprintf(&b, [2]string{"，预计 %s 前答复", ", answer due by %s"}[lang], st.NextDue.In(loc).Format("01-02 15:04"))
		}
		if c := st.Complaint; c != nil && c.Status.Open() {
			fmt.Fprintf(&b, [2]string{"；投诉 %s 将于 %s 前答复", "; complaint %s decided by %s"}[lang], c.Ref, c.Deadline.In(loc).Format("01-02"))
		}
		b.WriteString([2]string{"。", "."}[lang])
	}
	return b.String()
}

// StatusRequest reads a customer's "状态" / "STATUS" message, optionally followed by a
// reference ("STATUS HL-000123"); english says which word they used.
func StatusRequest(text string) (ref string, english, ok bool) {
	t := strings.TrimSpace(text)
	upper := strings.ToUpper(t)
	var rest string
	switch {
	case strings.HasPrefix(upper, "STATUS"):
		rest, english = t[len("STATUS"):], true
	case strings.HasPrefix(t, "状态"):
		rest = t[len("状态"):]
	case strings.HasPrefix(t, "查询"):
		rest = t[len("查询"):]
	default:
		return "", false, false
	}
	rest = strings.Trim(rest, " :：,，.。?？")
	if rest == "" {
		return "", english, true
	}
	if _, isRef := tickets.ParseRef(rest); isRef {
		return rest, english, true
	}
	return "", false, false // "status of my claim is bad": a message, not a question to the robot
}
