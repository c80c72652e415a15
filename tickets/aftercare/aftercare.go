// Package aftercare is what follows a ticket's resolution: the satisfaction survey (满意度)
// the customer is asked to answer, by a texted score or an emailed link, and the follow-up
// calls (回访) agents make the same day, after a week and after a month.
//
// It implements tickets.Aftercare, the seam through which the core sets it off inside its
// own transactions: resolving a ticket schedules the calls and starts the survey in the
// resolution's transaction, reopening it cancels the calls still open, a texted score is
// taken in intake's transaction, and an emailed survey's link is filled in as it is sent.
// app wires it with tickets.Service.SetAftercare; the core knows nothing else of it.
// Customers, the console and the API reach it through Service's methods.
package aftercare

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
)

// Config holds the settings of what happens after a ticket is resolved: the satisfaction
// survey and the follow-up calls.
type Config struct {
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

func (c Config) filled() Config {
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

// Service runs the surveys and the follow-up calls. It is safe for concurrent use.
type Service struct {
	svc *tickets.Service
	cfg Config
}

// New builds the aftercare of the tickets svc changes, on its database and its clock. It
// does not plug itself in: app calls svc.SetAftercare with it, so that resolutions set it
// off.
func New(svc *tickets.Service, cfg Config) *Service {
	return &Service{svc: svc, cfg: cfg.filled()}
}

var (
	_ tickets.Aftercare   = (*Service)(nil)
	_ tickets.AnswerSieve = (*Service)(nil)
)

// The actors of what aftercare records: Hotline itself, and the customer answering.
var (
	system   = tickets.Actor{Kind: "system"}
	customer = tickets.Actor{Kind: "customer"}
)

// Resolved schedules t's follow-up calls and starts its survey, in the transaction that
// resolves it; it returns the survey's message, to be sent after the commit.
func (s *Service) Resolved(ctx context.Context, tx tickets.Tx, t *tickets.Ticket) ([]int64, error) {
	if err := s.scheduleFollowUps(ctx, tx, t); err != nil {
		return nil, err
	}
	survey, err := s.startSurvey(ctx, tx, t)
	if err != nil || survey == 0 {
		return nil, err
	}
	return []int64{survey}, nil
}

// Reopened cancels t's follow-up calls still open, in the transaction that reopens it.
func (s *Service) Reopened(ctx context.Context, tx tickets.Tx, t *tickets.Ticket, actor tickets.Actor) error {
	return s.cancelFollowUps(ctx, tx, t, actor)
}

// Answer takes a texted score that answers the customer's open survey (see
// answerSurveyByText); nil for any other message.
func (s *Service) Answer(ctx context.Context, tx tickets.Tx, in tickets.Inbound) (*tickets.IntakeResult, error) {
	return s.answerSurveyByText(ctx, tx, in)
}

// MayAnswer says whether Answer may take in: only a texted or WeChat score answers a
// survey (tickets.AnswerSieve; other messages take intake's plain path).
func (s *Service) MayAnswer(in tickets.Inbound) bool {
	_, _, ok := surveyAnswer(in)
	return ok
}

// Text is m's text as sent: an emailed survey's hidden link filled in.
func (s *Service) Text(ctx context.Context, m *tickets.Message) (string, error) {
	return s.withSurveyLink(ctx, m)
}
