package aftercare

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// Survey asks the customer of a resolved ticket to rate the service, once per ticket.
type Survey struct {
	bun.BaseModel `bun:"table:surveys"`

	ID          int64           `bun:",pk,autoincrement"`
	TicketID    int64           `bun:",notnull"`
	CustomerID  int64           `bun:",notnull"`
	AgentID     *int64          // the assignee when the ticket was resolved
	TeamID      *int64          // the team when the ticket was resolved
	Channel     tickets.Channel `bun:",notnull"`
	TokenHash   string          `bun:",notnull"`
	MessageID   *int64
	SentAt      *time.Time
	ExpiresAt   time.Time `bun:",notnull"`
	Score       *int
	Comment     string `bun:",notnull"`
	AnsweredAt  *time.Time
	AnsweredVia string    `bun:",notnull"` // the channel the answer came by: sms, wechat, email
	CreatedAt   time.Time `bun:",notnull"`
}

// Open reports whether the survey waits for an answer at now.
func (v *Survey) Open(now time.Time) bool {
	return v.SentAt != nil && v.AnsweredAt == nil && now.Before(v.ExpiresAt)
}

// SurveyPrompt is the question texted (SMS, WeChat) to the customer of a resolved ticket.
const SurveyPrompt = "请对本次服务评分：回复 1-5（5 为非常满意）/ Please rate our service: reply 1–5 (5 = very satisfied)"

// surveyEmail is the emailed question; %s is the link.
const surveyEmail = "请点击链接对本次服务评分（1-5，5 为非常满意）/ Please rate our service (1–5, 5 = very satisfied): %s"

// surveyLinkHidden stands in the stored message for the link only the customer receives.
const surveyLinkHidden = "[评分链接仅发给客户 / link sent to the customer only]"

// surveyKey is the setting that holds the key survey tokens are derived under.
const surveyKey = "survey.link_key"

// newSurveyKey generates the key, the first time a survey is sent.
func newSurveyKey() string {
	b := make([]byte, 32)
	rand.Read(b) //nolint:errcheck // never fails
	return hex.EncodeToString(b)
}

// surveyToken is the secret in a survey's link: an HMAC, under a key this desk generated,
// of the survey message's id. It is derived again when the email is sent and never stored;
// only its hash is.
func surveyToken(key string, messageID int64) string {
	mac := hmac.New(sha256.New, []byte(key))
	fmt.Fprintf(mac, "survey:%d", messageID)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// withSurveyLink is an outbound email's text as sent: a survey's hidden link filled in.
func (s *Service) withSurveyLink(ctx context.Context, m *tickets.Message) (string, error) {
	if m.Channel != tickets.ChannelEmail || !strings.Contains(m.Body, surveyLinkHidden) {
		return m.Body, nil
	}
	key, err := s.svc.Setting(ctx, surveyKey, newSurveyKey)
	if err != nil {
		return "", err
	}
	return strings.Replace(m.Body, surveyLinkHidden, s.cfg.PublicBaseURL+"/survey/"+surveyToken(key, m.ID), 1), nil
}

func hashSurveyToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// startSurvey creates the ticket's survey, when it has none yet, and queues the question
// to the customer; it returns the queued message's id (0 when nothing was sent).
func (s *Service) startSurvey(ctx context.Context, tx tickets.Tx, t *tickets.Ticket) (int64, error) {
	if !s.cfg.Surveys {
		return 0, nil
	}
	n, err := tx.NewSelect().Model((*Survey)(nil)).Where("ticket_id = ?", t.ID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("find survey: %w", err)
	}
	if n > 0 {
		return 0, nil // one survey per ticket
	}
	ch, skip, err := tx.Reachable(ctx, t)
	if err != nil {
		return 0, err
	}
	if skip != "" {
		return 0, tx.Record(ctx, tx.Event(system, "ticket", t.ID, "survey.skipped", map[string]any{"reason": skip}))
	}

	now := s.svc.Now()
	body := SurveyPrompt
	if ch == tickets.ChannelEmail {
		// The link is filled in only as the email is sent: staff reading the ticket must not
		// be able to answer for the customer.
		body = fmt.Sprintf(surveyEmail, surveyLinkHidden)
	}
	m := &tickets.Message{TicketID: t.ID, Direction: tickets.DirectionOutbound, Channel: ch, Body: body, DeliveryStatus: tickets.DeliveryQueued, CreatedAt: now}
	if err := tx.AddMessage(ctx, m); err != nil {
		return 0, err
	}
	key, err := tx.Setting(ctx, surveyKey, newSurveyKey)
	if err != nil {
		return 0, err
	}
	v := &Survey{TicketID: t.ID, CustomerID: t.CustomerID, AgentID: t.AssigneeID, TeamID: t.TeamID, Channel: ch,
		TokenHash: hashSurveyToken(surveyToken(key, m.ID)), MessageID: &m.ID, SentAt: &now, ExpiresAt: now.Add(s.cfg.SurveyTTL), CreatedAt: now}
	if _, err := tx.NewInsert().Model(v).Exec(ctx); err != nil {
		return 0, fmt.Errorf("create survey: %w", err)
	}
	return m.ID, tx.Record(ctx,
		tx.Event(system, "ticket", t.ID, "reply.queued", map[string]any{"message_id": m.ID, "channel": ch}),
		tx.Event(system, "ticket", t.ID, "survey.sent", map[string]any{"survey_id": v.ID, "channel": ch, "message_id": m.ID, "expires_at": v.ExpiresAt}))
}

// ParseScore reads a reply to the texted survey: a digit 1–5 (full-width too), optionally
// followed by 分 or 星, punctuation, and a comment, e.g. "5", "５", "4分", "3.", "5 很满意".
// ok is false for anything else ("thanks", "6", "0", "10", "3pm", "好的").
func ParseScore(text string) (score int, comment string, ok bool) {
	text = strings.TrimFunc(text, unicode.IsSpace)
	r, size := utf8.DecodeRuneInString(text)
	if r >= '０' && r <= '９' {
		r = '0' + (r - '０')
	}
	if r < '1' || r > '5' {
		return 0, "", false
	}
	score, rest := int(r-'0'), text[size:]
	next, n := utf8.DecodeRuneInString(rest)
	switch {
	case rest == "":
		return score, "", true
	case unicode.IsDigit(next):
		return 0, "", false // 10, 55, 3０
	case next == '分' || next == '星':
		rest = rest[n:]
	case next == '.' || next == '。' || next == '．':
		if after, _ := utf8.DecodeRuneInString(rest[n:]); unicode.IsDigit(after) {
			return 0, "", false // 4.5
		}
	case unicode.IsSpace(next) || unicode.IsPunct(next) || unicode.IsSymbol(next):
	default:
		return 0, "", false // 3pm, 5个
	}
	comment = strings.TrimLeftFunc(rest, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) })
	return score, strings.TrimSpace(comment), true
}

// surveyAnswer reads a text or WeChat message as a survey score, when it reads as one.
func surveyAnswer(in tickets.Inbound) (score int, comment string, ok bool) {
	if in.Channel != tickets.ChannelSMS && in.Channel != tickets.ChannelWeChat || len(in.Attachments) > 0 {
		return 0, "", false
	}
	return ParseScore(in.Body)
}

// answerSurveyByText records a texted score when the customer has an open survey on the
// channel, whose ticket is still resolved or closed. The reply is stored as an inbound
// message on that ticket (so a retried webhook is recognised) without reopening it. It
// returns nil when the message is not a survey answer, and a retry's Duplicate result.
func (s *Service) answerSurveyByText(ctx context.Context, tx tickets.Tx, in tickets.Inbound) (*tickets.IntakeResult, error) {
	score, comment, ok := surveyAnswer(in)
	if !ok {
		return nil, nil
	}
	// A retried score changes nothing, whether it answered a survey or was a message.
	if seen, err := tx.Stored(ctx, in); err != nil || seen != nil {
		return seen, err
	}
	now := s.svc.Now()
	v := new(Survey)
	err := tx.NewSelect().Model(v).
		Where("customer_id = (SELECT customer_id FROM customer_identities WHERE kind = ? AND value = ?)", in.From, in.Address).
		Where("channel = ? AND sent_at IS NOT NULL AND answered_at IS NULL AND expires_at > ?", in.Channel, now).
		Where("ticket_id IN (SELECT id FROM tickets WHERE status IN (?, ?))", tickets.StatusResolved, tickets.StatusClosed).
		OrderExpr("id DESC").Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find open survey: %w", err)
	}
	if claimed, err := claimSurvey(ctx, tx, v, score, comment, in.Channel, now); err != nil || !claimed {
		return nil, err // !claimed: answered a moment ago by another message
	}
	t := new(tickets.Ticket)
	if err := tx.NewSelect().Model(t).Where("id = ?", v.TicketID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load ticket %d: %w", v.TicketID, err)
	}
	received := now
	if !in.ReceivedAt.IsZero() && in.ReceivedAt.Before(now) {
		received = in.ReceivedAt.UTC().Truncate(time.Microsecond)
	}
	m := &tickets.Message{TicketID: t.ID, Direction: tickets.DirectionInbound, Channel: in.Channel, Body: in.Body, DeliveryStatus: tickets.DeliveryReceived, CreatedAt: received}
	if in.ProviderMessageID != "" {
		m.ProviderMessageID = &in.ProviderMessageID
	}
	if err := tx.AddMessage(ctx, m); err != nil {
		return nil, err
	}
	if err := tx.Record(ctx, tx.Event(customer, "ticket", t.ID, "survey.answered", map[string]any{
		"survey_id": v.ID, "score": score, "comment": comment, "via": in.Channel, "message_id": m.ID})); err != nil {
		return nil, err
	}
	c := new(tickets.Customer)
	if err := tx.NewSelect().Model(c).Where("id = ?", v.CustomerID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load customer: %w", err)
	}
	return &tickets.IntakeResult{Ticket: t, Message: m, Customer: c, Answered: true}, nil
}

// claimSurvey records the answer unless the survey was answered already; v is updated.
func claimSurvey(ctx context.Context, tx bun.IDB, v *Survey, score int, comment string, via tickets.Channel, now time.Time) (bool, error) {
	res, err := tx.NewUpdate().Model((*Survey)(nil)).
		Set("score = ?, comment = ?, answered_at = ?, answered_via = ?", score, comment, now, via).
		Where("id = ? AND answered_at IS NULL", v.ID).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("record survey answer: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	v.Score, v.Comment, v.AnsweredAt, v.AnsweredVia = &score, comment, &now, string(via)
	return true, nil
}

// surveyByToken finds the survey an emailed link names; ErrNotFound when unknown, or
// expired without an answer.
func (s *Service) surveyByToken(ctx context.Context, db bun.IDB, token string) (*Survey, error) {
	v := new(Survey)
	token = strings.TrimSpace(token)
	if token == "" || len(token) > 200 {
		return nil, tickets.NotFoundf("survey not found")
	}
	err := db.NewSelect().Model(v).Where("token_hash = ?", hashSurveyToken(token)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tickets.NotFoundf("survey not found")
	}
	if err != nil {
		return nil, fmt.Errorf("find survey: %w", err)
	}
	if v.AnsweredAt == nil && !v.Open(s.svc.Now()) {
		return nil, tickets.NotFoundf("survey not found or expired")
	}
	return v, nil
}

// SurveyByToken is the survey an emailed link names, answered or open; ErrNotFound when the
// token is unknown or the survey expired unanswered.
func (s *Service) SurveyByToken(ctx context.Context, token string) (*Survey, error) {
	return s.surveyByToken(ctx, s.svc.DB(), token)
}

// SurveyTicket is the ticket an emailed survey link rates, for its page to name; ErrNotFound
// as SurveyByToken.
func (s *Service) SurveyTicket(ctx context.Context, token string) (*tickets.Ticket, error) {
	v, err := s.SurveyByToken(ctx, token)
	if err != nil {
		return nil, err
	}
	return s.svc.TicketByID(ctx, v.TicketID)
}

// MaxSurveyComment is the longest comment kept with a score, in bytes.
const MaxSurveyComment = 4000

// AnswerSurvey records the score (1–5) and optional comment given through an emailed link.
// An unknown or expired token is ErrNotFound; a survey already answered is ErrConflict,
// and the survey returned with it shows the recorded answer.
func (s *Service) AnswerSurvey(ctx context.Context, token string, score int, comment string) (*Survey, error) {
	if score < 1 || score > 5 {
		return nil, tickets.Invalidf("the score must be 1 to 5")
	}
	comment = strings.TrimSpace(comment)
	if len(comment) > MaxSurveyComment || !utf8.ValidString(comment) {
		return nil, tickets.Invalidf("the comment must be valid text of at most %d bytes", MaxSurveyComment)
	}
	var v *Survey
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		var err error
		if v, err = s.surveyByToken(ctx, tx, token); err != nil {
			return err
		}
		if v.AnsweredAt != nil {
			return tickets.Conflictf("this survey was already answered")
		}
		if claimed, err := claimSurvey(ctx, tx, v, score, comment, tickets.ChannelEmail, s.svc.Now()); err != nil {
			return err
		} else if !claimed {
			return tickets.Conflictf("this survey was already answered")
		}
		return tx.Record(ctx, tx.Event(customer, "ticket", v.TicketID, "survey.answered", map[string]any{
			"survey_id": v.ID, "score": score, "comment": comment, "via": tickets.ChannelEmail}))
	})
	if errors.Is(err, tickets.ErrConflict) {
		answered, lerr := s.SurveyByToken(ctx, token)
		if lerr != nil {
			return nil, lerr
		}
		return answered, err
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// TicketSurvey is a ticket's survey, or nil when it has none.
func (s *Service) TicketSurvey(ctx context.Context, ticketID int64) (*Survey, error) {
	v := new(Survey)
	err := s.svc.DB().NewSelect().Model(v).Where("ticket_id = ?", ticketID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load survey: %w", err)
	}
	return v, nil
}

// CustomerSurveys are the surveys a customer answered, on any of their tickets, newest
// first (at most 50): what an agent sees of their satisfaction beside a ticket.
func (s *Service) CustomerSurveys(ctx context.Context, customerID int64) ([]*Survey, error) {
	var out []*Survey
	if err := s.svc.DB().NewSelect().Model(&out).
		Where("customer_id = ? AND answered_at IS NOT NULL", customerID).
		OrderExpr("id DESC").Limit(50).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load customer's surveys: %w", err)
	}
	return out, nil
}
