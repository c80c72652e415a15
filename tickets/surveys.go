package tickets

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
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// AfterCareConfig holds the settings of what happens after a ticket is resolved: the
// satisfaction survey and the follow-up calls.
type AfterCareConfig struct {
	// Surveys turns on the satisfaction survey sent when a ticket is resolved. It is off
	// until configured (the app turns it on unless HOTLINE_SURVEYS=off), since it sends
	// customers a message nobody wrote.
	Surveys bool
	// SurveyTTL is how long a survey may be answered; 0 means 7 days.
	SurveyTTL time.Duration
	// PublicBaseURL is where customers reach Hotline (PUBLIC_BASE_URL), the start of an
	// emailed survey's link; empty leaves the link relative.
	PublicBaseURL string
	// FollowUpOffsets are when follow-up calls are due after resolution (each at the end of
	// that day in the calendar's zone); nil means the same day, after 7 days and after 30.
	FollowUpOffsets []time.Duration
}

// DefaultFollowUpOffsets are the follow-up calls' times after resolution: the same day,
// after a week and after a month.
var DefaultFollowUpOffsets = []time.Duration{0, 7 * 24 * time.Hour, 30 * 24 * time.Hour}

func (c AfterCareConfig) filled() AfterCareConfig {
	if c.SurveyTTL <= 0 {
		c.SurveyTTL = 7 * 24 * time.Hour
	}
	if c.FollowUpOffsets == nil {
		c.FollowUpOffsets = DefaultFollowUpOffsets
	}
	c.FollowUpOffsets = slices.DeleteFunc(slices.Clone(c.FollowUpOffsets), func(d time.Duration) bool { return d < 0 })
	c.PublicBaseURL = strings.TrimRight(c.PublicBaseURL, "/")
	return c
}

// SetAfterCare replaces the survey and follow-up settings; call it before serving.
func (s *Service) SetAfterCare(cfg AfterCareConfig) { s.care = cfg.filled() }

func (s *Service) afterCare() AfterCareConfig { return s.care }

// Survey asks the customer of a resolved ticket to rate the service, once per ticket.
type Survey struct {
	bun.BaseModel `bun:"table:surveys"`

	ID          int64   `bun:",pk,autoincrement"`
	TicketID    int64   `bun:",notnull"`
	CustomerID  int64   `bun:",notnull"`
	AgentID     *int64  // the assignee when the ticket was resolved
	TeamID      *int64  // the team when the ticket was resolved
	Channel     Channel `bun:",notnull"`
	TokenHash   string  `bun:",notnull"`
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

// surveyToken is the secret in a survey's link: an HMAC, under a key this desk generated,
// of the survey message's id. It is derived again when the email is sent and never stored;
// only its hash is.
func (s *Service) surveyToken(ctx context.Context, db bun.IDB, messageID int64) (string, error) {
	key, err := s.setting(ctx, db, "survey.link_key", func() string {
		b := make([]byte, 32)
		rand.Read(b) //nolint:errcheck // never fails
		return hex.EncodeToString(b)
	})
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, []byte(key))
	fmt.Fprintf(mac, "survey:%d", messageID)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
}

// withSurveyLink is an outbound email's text as sent: a survey's hidden link filled in.
func (s *Service) withSurveyLink(ctx context.Context, m *Message) (string, error) {
	if !strings.Contains(m.Body, surveyLinkHidden) {
		return m.Body, nil
	}
	token, err := s.surveyToken(ctx, s.db, m.ID)
	if err != nil {
		return "", err
	}
	return strings.Replace(m.Body, surveyLinkHidden, s.afterCare().PublicBaseURL+"/survey/"+token, 1), nil
}

func hashSurveyToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// startSurvey creates the ticket's survey, when it has none yet, and queues the question
// to the customer; it returns the queued message's id (0 when nothing was sent).
func (s *Service) startSurvey(ctx context.Context, tx bun.IDB, t *Ticket) (int64, error) {
	if !s.afterCare().Surveys {
		return 0, nil
	}
	n, err := tx.NewSelect().Model((*Survey)(nil)).Where("ticket_id = ?", t.ID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("find survey: %w", err)
	}
	if n > 0 {
		return 0, nil // one survey per ticket
	}
	ch, err := s.noticeChannel(ctx, tx, t)
	if err != nil {
		return 0, err
	}
	skip := ""
	switch ch {
	case ChannelSMS, ChannelWeChat, ChannelEmail:
		if out, err := s.optedOut(ctx, tx, t.CustomerID, ch); err != nil {
			return 0, err
		} else if out {
			skip = fmt.Sprintf("the customer opted out of %s messages", ch)
		}
	case "":
		skip = "WeChat's 48-hour window has closed and the customer has no phone number or email address"
	default:
		skip = fmt.Sprintf("the customer cannot be reached by %s", ch)
	}
	if skip != "" {
		return 0, s.record(ctx, tx, systemActor, "ticket", t.ID, "survey.skipped", map[string]any{"reason": skip})
	}

	cfg := s.afterCare()
	now := s.now()
	body := SurveyPrompt
	if ch == ChannelEmail {
		// The link is filled in only as the email is sent: staff reading the ticket must not
		// be able to answer for the customer.
		body = fmt.Sprintf(surveyEmail, surveyLinkHidden)
	}
	m := &Message{TicketID: t.ID, Direction: DirectionOutbound, Channel: ch, Body: body, DeliveryStatus: DeliveryQueued, CreatedAt: now}
	if err := s.insertMessage(ctx, tx, m, nil); err != nil {
		return 0, err
	}
	token, err := s.surveyToken(ctx, tx, m.ID)
	if err != nil {
		return 0, err
	}
	v := &Survey{TicketID: t.ID, CustomerID: t.CustomerID, AgentID: t.AssigneeID, TeamID: t.TeamID, Channel: ch,
		TokenHash: hashSurveyToken(token), MessageID: &m.ID, SentAt: &now, ExpiresAt: now.Add(cfg.SurveyTTL), CreatedAt: now}
	if _, err := tx.NewInsert().Model(v).Exec(ctx); err != nil {
		return 0, fmt.Errorf("create survey: %w", err)
	}
	if err := s.record(ctx, tx, systemActor, "ticket", t.ID, "reply.queued", map[string]any{"message_id": m.ID, "channel": ch}); err != nil {
		return 0, err
	}
	return m.ID, s.record(ctx, tx, systemActor, "ticket", t.ID, "survey.sent", map[string]any{
		"survey_id": v.ID, "channel": ch, "message_id": m.ID, "expires_at": v.ExpiresAt})
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
func surveyAnswer(in Inbound) (score int, comment string, ok bool) {
	if in.Channel != ChannelSMS && in.Channel != ChannelWeChat || len(in.Attachments) > 0 {
		return 0, "", false
	}
	return ParseScore(in.Body)
}

// answerSurveyByText records a texted score when the customer has an open survey on the
// channel, whose ticket is still resolved or closed. The reply is stored as an inbound
// message on that ticket (so a retried webhook is recognised) without reopening it. It
// returns nil when the message is not a survey answer.
func (s *Service) answerSurveyByText(ctx context.Context, tx bun.Tx, in Inbound) (*IntakeResult, error) {
	score, comment, ok := surveyAnswer(in)
	if !ok {
		return nil, nil
	}
	now := s.now()
	v := new(Survey)
	err := tx.NewSelect().Model(v).
		Where("customer_id = (SELECT customer_id FROM customer_identities WHERE kind = ? AND value = ?)", in.From, in.Address).
		Where("channel = ? AND sent_at IS NOT NULL AND answered_at IS NULL AND expires_at > ?", in.Channel, now).
		Where("ticket_id IN (SELECT id FROM tickets WHERE status IN (?, ?))", StatusResolved, StatusClosed).
		OrderExpr("id DESC").Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find open survey: %w", err)
	}
	if claimed, err := s.claimSurvey(ctx, tx, v, score, comment, in.Channel, now); err != nil || !claimed {
		return nil, err // !claimed: answered a moment ago by another message
	}
	t, err := s.ticketByID(ctx, tx, v.TicketID)
	if err != nil {
		return nil, err
	}
	received := now
	if !in.ReceivedAt.IsZero() && in.ReceivedAt.Before(now) {
		received = in.ReceivedAt.UTC().Truncate(time.Microsecond)
	}
	m := &Message{TicketID: t.ID, Direction: DirectionInbound, Channel: in.Channel, Body: in.Body, DeliveryStatus: DeliveryReceived, CreatedAt: received}
	if in.ProviderMessageID != "" {
		m.ProviderMessageID = &in.ProviderMessageID
	}
	if err := s.insertMessage(ctx, tx, m, nil); err != nil {
		return nil, err
	}
	if err := s.record(ctx, tx, customerActor, "ticket", t.ID, "survey.answered", map[string]any{
		"survey_id": v.ID, "score": score, "comment": comment, "via": in.Channel, "message_id": m.ID}); err != nil {
		return nil, err
	}
	c := new(Customer)
	if err := tx.NewSelect().Model(c).Where("id = ?", v.CustomerID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load customer: %w", err)
	}
	return &IntakeResult{Ticket: t, Message: m, Customer: c, Survey: v}, nil
}

// claimSurvey records the answer unless the survey was answered already; v is updated.
func (s *Service) claimSurvey(ctx context.Context, tx bun.IDB, v *Survey, score int, comment string, via Channel, now time.Time) (bool, error) {
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
		return nil, notFoundf("survey not found")
	}
	err := db.NewSelect().Model(v).Where("token_hash = ?", hashSurveyToken(token)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFoundf("survey not found")
	}
	if err != nil {
		return nil, fmt.Errorf("find survey: %w", err)
	}
	if v.AnsweredAt == nil && !v.Open(s.now()) {
		return nil, notFoundf("survey not found or expired")
	}
	return v, nil
}

// SurveyByToken is the survey an emailed link names, answered or open; ErrNotFound when the
// token is unknown or the survey expired unanswered.
func (s *Service) SurveyByToken(ctx context.Context, token string) (*Survey, error) {
	return s.surveyByToken(ctx, s.db, token)
}

// MaxSurveyComment is the longest comment kept with a score, in bytes.
const MaxSurveyComment = 4000

// AnswerSurvey records the score (1–5) and optional comment given through an emailed link.
// An unknown or expired token is ErrNotFound; a survey already answered is ErrConflict,
// and the survey returned with it shows the recorded answer.
func (s *Service) AnswerSurvey(ctx context.Context, token string, score int, comment string) (*Survey, error) {
	if score < 1 || score > 5 {
		return nil, invalidf("the score must be 1 to 5")
	}
	comment = strings.TrimSpace(comment)
	if len(comment) > MaxSurveyComment || !utf8.ValidString(comment) {
		return nil, invalidf("the comment must be valid text of at most %d bytes", MaxSurveyComment)
	}
	var v *Survey
	err := s.inTx(ctx, func(tx bun.Tx) error {
		var err error
		if v, err = s.surveyByToken(ctx, tx, token); err != nil {
			return err
		}
		if v.AnsweredAt != nil {
			return conflictf("this survey was already answered")
		}
		if claimed, err := s.claimSurvey(ctx, tx, v, score, comment, ChannelEmail, s.now()); err != nil {
			return err
		} else if !claimed {
			return conflictf("this survey was already answered")
		}
		return s.record(ctx, tx, customerActor, "ticket", v.TicketID, "survey.answered", map[string]any{
			"survey_id": v.ID, "score": score, "comment": comment, "via": ChannelEmail})
	})
	if errors.Is(err, ErrConflict) {
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
	err := s.db.NewSelect().Model(v).Where("ticket_id = ?", ticketID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load survey: %w", err)
	}
	return v, nil
}
