package notifications

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/hotlinedesk/hotline/tickets/outbox"
	"github.com/hotlinedesk/hotline/tickets/privacy"
)

// DefaultSlackAPIURL is Slack's Web API.
const DefaultSlackAPIURL = "https://slack.com/api/"

// Action ids of the buttons on Hotline's Slack messages.
const (
	ActionAcknowledge = "hotline.acknowledge" // value: AckValue(outbox, id)
	ActionTake        = "hotline.take"        // value: the ticket reference, HL-000123
)

// SlackConfig is what the Slack delivery needs.
type SlackConfig struct {
	// Token is the bot token (SLACK_BOT_TOKEN, xoxb-…); empty: Slack is off and notices
	// stay in the API.
	Token string
	// APIURL is where Slack's Web API is (SLACK_API_URL); empty: https://slack.com/api/.
	APIURL string
	// TeamChannels maps a team's name or id to the Slack channel id its announcements go to
	// (SLACK_TEAM_CHANNELS, see ParseTeamChannels).
	TeamChannels map[string]string
	// PublicBaseURL is where agents open Hotline (PUBLIC_BASE_URL); tickets are linked as
	// PublicBaseURL + "/tickets/HL-000123". Empty: messages name the ticket without a link.
	PublicBaseURL string
	// HTTPClient is the client for Slack's API; nil: one with a 15-second timeout.
	HTTPClient *http.Client
}

// ParseTeamChannels reads SLACK_TEAM_CHANNELS: comma-separated team=channel pairs, where a
// team is its name or id, e.g. "Claims=C0123,Complaints=C0456,3=C0789".
func ParseTeamChannels(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		team, channel, ok := strings.Cut(pair, "=")
		team, channel = strings.TrimSpace(team), strings.TrimSpace(channel)
		if !ok || team == "" || channel == "" {
			return nil, fmt.Errorf("SLACK_TEAM_CHANNELS: %q is not team=channel (e.g. Claims=C0123)", pair)
		}
		out[team] = channel
	}
	return out, nil
}

// Slack posts Hotline's messages to Slack: to a team's channel, and as direct messages to
// agents found by their email address. Lookups are cached. It is safe for concurrent use.
type Slack struct {
	client *slack.Client
	cfg    SlackConfig

	mu      sync.Mutex
	byEmail map[string]string // email → Slack user id
	emails  map[string]string // Slack user id → email
	dms     map[string]string // Slack user id → direct-message channel id
}

// NewSlack builds the client. With no token it is disabled: Enabled reports false and
// every call fails with ErrSlackDisabled.
func NewSlack(cfg SlackConfig) *Slack {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultSlackAPIURL
	}
	if !strings.HasSuffix(cfg.APIURL, "/") {
		cfg.APIURL += "/"
	}
	cfg.PublicBaseURL = strings.TrimRight(cfg.PublicBaseURL, "/")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	return &Slack{
		client:  slack.New(cfg.Token, slack.OptionAPIURL(cfg.APIURL), slack.OptionHTTPClient(cfg.HTTPClient)),
		cfg:     cfg,
		byEmail: map[string]string{},
		emails:  map[string]string{},
		dms:     map[string]string{},
	}
}

// ErrSlackDisabled: no bot token is configured.
var ErrSlackDisabled = errors.New("slack is not configured (SLACK_BOT_TOKEN is unset)")

// Enabled reports whether a bot token is configured. A nil *Slack is disabled.
func (s *Slack) Enabled() bool { return s != nil && s.cfg.Token != "" }

// TicketURL is the ticket's page in Hotline, or "" without a public base URL.
func (s *Slack) TicketURL(ref string) string {
	if s == nil || s.cfg.PublicBaseURL == "" || ref == "" {
		return ""
	}
	return s.cfg.PublicBaseURL + "/tickets/" + ref
}

// TeamChannel is the channel configured for a team, by name first, then by id.
func (s *Slack) TeamChannel(teamID *int64, teamName string) (string, bool) {
	if s == nil {
		return "", false
	}
	if teamName != "" {
		if c, ok := s.cfg.TeamChannels[teamName]; ok {
			return c, true
		}
		for name, c := range s.cfg.TeamChannels {
			if strings.EqualFold(name, teamName) {
				return c, true
			}
		}
	}
	if teamID != nil {
		if c, ok := s.cfg.TeamChannels[strconv.FormatInt(*teamID, 10)]; ok {
			return c, true
		}
	}
	return "", false
}

// Message is what Hotline tells someone on Slack.
type Message struct {
	Text      string // the notice's text, already written (zh-CN and/or en)
	TicketRef string // HL-000123, linked and offered to take; "" for none
	Complaint string // CP-000042, named; "" for none
	Details   string // a context line: priority, team, subject
	AckValue  string // the Acknowledge button's value (AckValue); "" for no button
	Take      bool   // offer the "Take it" button (needs TicketRef)
}

// AckValue is an Acknowledge button's value: which row it acknowledges.
func AckValue(box outbox.Box, id int64) string {
	prefix := "notice"
	if box == outbox.Announcements {
		prefix = "announcement"
	}
	return fmt.Sprintf("%s:%d", prefix, id)
}

// ParseAckValue reads an Acknowledge button's value back.
func ParseAckValue(v string) (outbox.Box, int64, bool) {
	prefix, num, ok := strings.Cut(v, ":")
	if !ok {
		return "", 0, false
	}
	id, err := strconv.ParseInt(num, 10, 64)
	if err != nil || id <= 0 {
		return "", 0, false
	}
	switch prefix {
	case "notice":
		return outbox.Notices, id, true
	case "announcement":
		return outbox.Announcements, id, true
	}
	return "", 0, false
}

// Blocks renders a message as Block Kit: a section with the text and the ticket's link, a
// context line, and the buttons.
func (s *Slack) Blocks(m Message) []slack.Block {
	// Slack is an everyday view: customers' numbers and addresses go masked.
	text := escape(privacy.MaskText(m.Text))
	if m.TicketRef != "" {
		if u := s.TicketURL(m.TicketRef); u != "" {
			text += fmt.Sprintf("\n<%s|%s 打开工单 Open ticket>", u, m.TicketRef)
		}
	}
	blocks := []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil, slack.SectionBlockOptionBlockID("hotline.text"))}
	if m.Details != "" {
		blocks = append(blocks, slack.NewContextBlock("hotline.details", slack.NewTextBlockObject(slack.MarkdownType, escape(privacy.MaskText(m.Details)), false, false)))
	}
	var buttons []slack.BlockElement
	if m.AckValue != "" {
		buttons = append(buttons, slack.NewButtonBlockElement(ActionAcknowledge, m.AckValue,
			slack.NewTextBlockObject(slack.PlainTextType, "Acknowledge", false, false)).WithStyle(slack.StylePrimary))
	}
	if m.Take && m.TicketRef != "" {
		buttons = append(buttons, slack.NewButtonBlockElement(ActionTake, m.TicketRef,
			slack.NewTextBlockObject(slack.PlainTextType, "Take it", false, false)))
	}
	if len(buttons) > 0 {
		blocks = append(blocks, slack.NewActionBlock("hotline.actions", buttons...))
	}
	return blocks
}

// fallback is the plain text notifications show, masked as the blocks are.
func (m Message) fallback() string {
	text := privacy.MaskText(m.Text)
	if m.TicketRef != "" && !strings.Contains(m.Text, m.TicketRef) {
		return m.TicketRef + ": " + text
	}
	return text
}

// escape keeps Slack from reading &, < and > in our text as markup.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// Post sends a message to a channel (or an open direct-message conversation) and returns
// the message's timestamp, Slack's id for it.
func (s *Slack) Post(ctx context.Context, channel string, m Message) (string, error) {
	if !s.Enabled() {
		return "", ErrSlackDisabled
	}
	_, ts, err := s.client.PostMessageContext(ctx, channel,
		slack.MsgOptionText(m.fallback(), true), slack.MsgOptionBlocks(s.Blocks(m)...))
	if err != nil {
		return "", fmt.Errorf("slack chat.postMessage to %s: %w", channel, err)
	}
	return ts, nil
}

// DM sends a direct message to the Slack user with the agent's email address; it returns
// the conversation and the message's timestamp.
func (s *Slack) DM(ctx context.Context, email string, m Message) (channel, ts string, err error) {
	if !s.Enabled() {
		return "", "", ErrSlackDisabled
	}
	if channel, err = s.dmChannel(ctx, email); err != nil {
		return "", "", err
	}
	ts, err = s.Post(ctx, channel, m)
	return channel, ts, err
}

// UserID finds the Slack user with an email address (users.lookupByEmail), cached.
func (s *Slack) UserID(ctx context.Context, email string) (string, error) {
	if !s.Enabled() {
		return "", ErrSlackDisabled
	}
	key := strings.ToLower(strings.TrimSpace(email))
	s.mu.Lock()
	id, ok := s.byEmail[key]
	s.mu.Unlock()
	if ok {
		return id, nil
	}
	u, err := s.client.GetUserByEmailContext(ctx, key)
	if err != nil {
		return "", fmt.Errorf("slack users.lookupByEmail %s: %w", key, err)
	}
	s.mu.Lock()
	s.byEmail[key], s.emails[u.ID] = u.ID, key
	s.mu.Unlock()
	return u.ID, nil
}

func (s *Slack) dmChannel(ctx context.Context, email string) (string, error) {
	user, err := s.UserID(ctx, email)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	ch, ok := s.dms[user]
	s.mu.Unlock()
	if ok {
		return ch, nil
	}
	c, _, _, err := s.client.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}, ReturnIM: true})
	if err != nil {
		return "", fmt.Errorf("slack conversations.open with %s: %w", user, err)
	}
	s.mu.Lock()
	s.dms[user] = c.ID
	s.mu.Unlock()
	return c.ID, nil
}

// UserEmail is the email address of a Slack user (users.info; needs the users:read.email
// scope), cached.
func (s *Slack) UserEmail(ctx context.Context, userID string) (string, error) {
	if !s.Enabled() {
		return "", ErrSlackDisabled
	}
	s.mu.Lock()
	email, ok := s.emails[userID]
	s.mu.Unlock()
	if ok {
		return email, nil
	}
	u, err := s.client.GetUserInfoContext(ctx, userID)
	if err != nil {
		return "", fmt.Errorf("slack users.info %s: %w", userID, err)
	}
	email = strings.ToLower(strings.TrimSpace(u.Profile.Email))
	if email == "" {
		return "", fmt.Errorf("slack users.info %s: no email address (the app needs the users:read.email scope)", userID)
	}
	s.mu.Lock()
	s.emails[userID], s.byEmail[email] = email, userID
	s.mu.Unlock()
	return email, nil
}

// ErrorKind says what to do about a failed Slack call.
type ErrorKind int

const (
	// Retry: a rate limit, the network, or Slack itself failing; try again later.
	Retry ErrorKind = iota
	// Permanent: Slack will refuse this message however often it is sent (no such user or
	// channel, the bot is not in the channel, ...); record it as failed with the reason.
	Permanent
	// RetryThis: Slack refused this one message with a code not known here; try it again
	// later, and deliver the others meanwhile.
	RetryThis
)

// permanentErrors are Slack's error codes that sending again will not fix.
var permanentErrors = map[string]bool{
	"users_not_found": true, "user_not_found": true, "channel_not_found": true, "not_in_channel": true,
	"is_archived": true, "msg_too_long": true, "invalid_blocks": true, "invalid_blocks_format": true,
	"no_text": true, "cannot_dm_bot": true, "user_disabled": true, "restricted_action": true,
	"messages_tab_disabled": true, "invalid_email": true,
}

// slackDown are codes for Slack itself failing: every message waits, not just this one.
var slackDown = map[string]bool{
	"internal_error": true, "fatal_error": true, "service_unavailable": true, "request_timeout": true, "ratelimited": true,
}

// Classify says whether a Slack error is worth retrying; RetryAfter is how long Slack asked
// to wait (rate limits), else 0.
func Classify(err error) (kind ErrorKind, retryAfter time.Duration) {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return Retry, rl.RetryAfter
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		switch {
		case permanentErrors[se.Err]:
			return Permanent, 0
		case slackDown[se.Err]:
			return Retry, 0
		}
		return RetryThis, 0
	}
	// Anything else (an HTTP status, the network, a timeout) passes or needs an operator;
	// the delivery job retries it until its attempts run out.
	return Retry, 0
}

// SlackCode is Slack's error code in err ("users_not_found"), or "".
func SlackCode(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}

// slackHooksHost is where Slack's response_url addresses point.
const slackHooksHost = "hooks.slack.com"

// Respond posts to an interaction's response_url (Slack accepts posts there for 30
// minutes): msg.ReplaceOriginal rewrites the message clicked, for the whole channel; an
// ephemeral msg is shown to the clicker only. Only Slack's hooks host, or the host of the
// configured API (a test's fake Slack), is posted to.
func (s *Slack) Respond(ctx context.Context, responseURL string, msg *slack.WebhookMessage) error {
	if !s.Enabled() {
		return ErrSlackDisabled
	}
	u, err := url.Parse(responseURL)
	if err != nil {
		return fmt.Errorf("slack response_url: %w", err)
	}
	api, _ := url.Parse(s.cfg.APIURL)
	hooks := u.Scheme == "https" && u.Host == slackHooksHost
	if !hooks && (api == nil || u.Host != api.Host || u.Scheme != api.Scheme) {
		return fmt.Errorf("slack response_url: host %q is not Slack's", u.Host)
	}
	if err := slack.PostWebhookCustomHTTPContext(ctx, responseURL, s.cfg.HTTPClient, msg); err != nil {
		// The URL is a credential for the message: errors name the host, never the URL.
		var ue *url.Error
		if errors.As(err, &ue) {
			return fmt.Errorf("slack response_url at %s: %s: %w", u.Host, ue.Op, ue.Err)
		}
		return fmt.Errorf("slack response_url at %s: %w", u.Host, err)
	}
	return nil
}

// Update rewrites a posted message (chat.update), for the whole channel.
func (s *Slack) Update(ctx context.Context, channel, ts, text string, blocks []slack.Block) error {
	if !s.Enabled() {
		return ErrSlackDisabled
	}
	if _, _, _, err := s.client.UpdateMessageContext(ctx, channel, ts,
		slack.MsgOptionText(privacy.MaskText(text), true), slack.MsgOptionBlocks(blocks...)); err != nil {
		return fmt.Errorf("slack chat.update %s in %s: %w", ts, channel, err)
	}
	return nil
}

// Outcome is the line shown in place of a message's buttons once someone acted on it,
// e.g. "已接手 Taken by Li Na at 10:02".
func Outcome(label, who string, at time.Time) string {
	// Slack shows <!date^…> in each reader's own time zone; the fallback is UTC.
	return fmt.Sprintf("%s by %s at <!date^%d^{date_short_pretty} {time}|%s>",
		label, escape(who), at.Unix(), at.UTC().Format("2006-01-02 15:04 UTC"))
}

// Settled is a posted message with its buttons removed and outcome added as its last line:
// what the whole channel sees once someone took the ticket or acknowledged the notice.
// blocks are the message as Slack sent it back in the interaction; with none, the outcome
// alone.
func Settled(blocks []slack.Block, outcome string) []slack.Block {
	out := make([]slack.Block, 0, len(blocks)+1)
	for _, b := range blocks {
		if b.BlockType() == slack.MBTAction {
			continue
		}
		out = append(out, b)
	}
	return append(out, slack.NewContextBlock("hotline.outcome", slack.NewTextBlockObject(slack.MarkdownType, outcome, false, false)))
}
