package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/slack-go/slack"

	"github.com/hotlinedesk/hotline/notifications"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/outbox"
)

// Slack serves Slack's interactivity callback: the Acknowledge and Take it buttons on
// Hotline's Slack messages.
type Slack struct {
	svc    *tickets.Service
	box    *outbox.Service
	secret string
	slack  *notifications.Slack
	log    *slog.Logger
}

// NewSlack builds the handler. signingSecret is the Slack app's signing secret
// (SLACK_SIGNING_SECRET); empty, every request is refused. client looks up who clicked
// (users.info, for their email address); box records the acknowledgements.
func NewSlack(svc *tickets.Service, box *outbox.Service, signingSecret string, client *notifications.Slack, log *slog.Logger) *Slack {
	if log == nil {
		log = slog.Default()
	}
	return &Slack{svc: svc, box: box, secret: signingSecret, slack: client, log: log}
}

// Register mounts POST /webhooks/slack/interactions (the app's Interactivity Request URL).
func (h *Slack) Register(app *fiber.App) {
	app.Post("/webhooks/slack/interactions", h.verify, h.interactions)
}

// verify admits only requests Slack signed with the signing secret (v0 HMAC-SHA256 over
// "v0:{timestamp}:{body}") within 5 minutes of now; anything else is 403 and changes
// nothing.
func (h *Slack) verify(c *fiber.Ctx) error {
	header := http.Header{}
	header.Set("X-Slack-Signature", c.Get("X-Slack-Signature"))
	header.Set("X-Slack-Request-Timestamp", c.Get("X-Slack-Request-Timestamp"))
	sv, err := slack.NewSecretsVerifier(header, h.secret)
	if err == nil {
		if _, err = sv.Write(c.Body()); err == nil {
			err = sv.Ensure()
		}
	}
	if err != nil {
		h.log.Warn("refused a Slack request with a missing, stale or wrong signature", "path", c.Path(), "ip", c.IP(), "err", err)
		return fiber.NewError(fiber.StatusForbidden, "invalid Slack signature")
	}
	return c.Next()
}

// feedbackTimeout bounds the Slack calls that tell what a click did; they run after the
// webhook has answered (Slack waits 3 s for it; a response_url takes posts for 30 minutes).
const feedbackTimeout = 30 * time.Second

// feedback is what a click did, told after its change is committed: settled is the line
// that replaces the message's buttons for the whole channel ("" for none); private is told
// to the clicker only (refusals, "already yours").
type feedback struct {
	settled string
	private []string
}

func (f *feedback) tell(format string, args ...any) {
	f.private = append(f.private, fmt.Sprintf(format, args...))
}

// parseInteraction reads Slack's interaction callback: a form whose payload field is the
// interaction's JSON. act is false for an interaction Hotline offers nothing for (another
// type, or no actions); err is the reason a body is not a usable interaction.
func parseInteraction(body []byte) (cb slack.InteractionCallback, act bool, err error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return cb, false, fmt.Errorf("the body is not a form: %w", err)
	}
	payload := form.Get("payload")
	if payload == "" {
		return cb, false, errors.New("no payload field")
	}
	if err := json.Unmarshal([]byte(payload), &cb); err != nil {
		return cb, false, fmt.Errorf("the payload is not Slack's interaction JSON: %w", err)
	}
	if cb.Type != slack.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) == 0 {
		return cb, false, nil
	}
	if cb.User.ID == "" {
		return cb, false, errors.New("the payload names no user")
	}
	return cb, true, nil
}

func (h *Slack) interactions(c *fiber.Ctx) error {
	cb, act, err := parseInteraction(c.Body())
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	if !act {
		return c.Status(fiber.StatusOK).SendString("") // nothing Hotline offers; acknowledged, nothing done
	}
	// Slack ignores the body of a block_actions answer: what the click did is told through
	// the interaction's response_url (or chat.update) once the change is committed.
	var fb feedback
	if err := h.act(c.UserContext(), cb, &fb); err != nil {
		return err
	}
	h.deliver(context.WithoutCancel(c.UserContext()), cb, fb)
	return c.Status(fiber.StatusOK).SendString("")
}

// act does what the clicked buttons ask, as the agent with the clicking Slack user's email
// address, and records in fb what to tell; err is a failure (nothing told, Slack shows
// the click failed), not a refusal.
func (h *Slack) act(ctx context.Context, cb slack.InteractionCallback, fb *feedback) error {
	email, err := h.slack.UserEmail(ctx, cb.User.ID)
	if err != nil {
		h.log.Warn("could not find who clicked in Slack", "slack_user", cb.User.ID, "err", err)
		fb.tell("Hotline could not find your email address in Slack, so nothing was done: %v", err)
		return nil
	}
	agent, err := h.svc.AgentByEmail(ctx, email)
	if errors.Is(err, tickets.ErrNotFound) || errors.Is(err, tickets.ErrInvalid) {
		fb.tell("No Hotline agent has the address %s, so nothing was done. Ask an admin to add you.", email)
		return nil
	}
	if err != nil {
		return err
	}
	if !agent.Active {
		fb.tell("Your Hotline account (%s) is deactivated, so nothing was done.", agent.Email)
		return nil
	}
	actor := tickets.AgentActor(agent)
	for _, a := range cb.ActionCallback.BlockActions {
		var err error
		switch a.ActionID {
		case notifications.ActionAcknowledge:
			err = h.acknowledge(ctx, actor, a.Value, fb)
		case notifications.ActionTake:
			err = h.take(ctx, actor, a.Value, fb)
		default:
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// deliver tells, in the background, what a click did: the message clicked is rewritten
// for everyone (buttons removed, the outcome added) through the response_url, or with
// chat.update when the payload has none; the clicker alone is told the rest (ephemeral).
func (h *Slack) deliver(ctx context.Context, cb slack.InteractionCallback, fb feedback) {
	if fb.settled == "" && len(fb.private) == 0 {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(ctx, feedbackTimeout)
		defer cancel()
		if fb.settled != "" {
			blocks := cb.Message.Blocks.BlockSet
			if len(blocks) == 0 && cb.Message.Text != "" {
				blocks = []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, cb.Message.Text, false, false), nil, nil)}
			}
			blocks = notifications.Settled(blocks, fb.settled)
			text := strings.TrimSpace(cb.Message.Text + "\n" + fb.settled)
			channel, ts := cb.Container.ChannelID, cb.Container.MessageTs
			if channel == "" {
				channel, ts = cb.Channel.ID, cb.Message.Timestamp
			}
			var err error
			switch {
			case cb.ResponseURL != "":
				err = h.slack.Respond(ctx, cb.ResponseURL, &slack.WebhookMessage{ResponseType: slack.ResponseTypeInChannel,
					ReplaceOriginal: true, Text: text, Blocks: &slack.Blocks{BlockSet: blocks}})
			case channel != "" && ts != "":
				err = h.slack.Update(ctx, channel, ts, text, blocks)
			default:
				err = errors.New("the interaction names neither a response_url nor a message")
			}
			if err != nil {
				h.log.Warn("could not show a click's outcome in Slack", "slack_user", cb.User.ID, "err", err)
			}
		}
		if len(fb.private) == 0 {
			return
		}
		if cb.ResponseURL == "" {
			h.log.Warn("could not answer a click in Slack: the interaction has no response_url", "slack_user", cb.User.ID)
			return
		}
		if err := h.slack.Respond(ctx, cb.ResponseURL, &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral,
			Text: strings.Join(fb.private, "\n")}); err != nil {
			h.log.Warn("could not answer a click in Slack", "slack_user", cb.User.ID, "err", err)
		}
	}()
}

// refusal is the domain's reason for refusing, for the person who clicked; ok false means
// err is not a refusal but a failure.
func refusal(err error) (string, bool) {
	for _, kind := range []error{tickets.ErrForbidden, tickets.ErrConflict, tickets.ErrNotFound, tickets.ErrInvalid} {
		if errors.Is(err, kind) {
			return "Refused: " + tickets.Reason(err), true
		}
	}
	return "", false
}

// agentName is how the channel is told who acted.
func agentName(a *tickets.Agent) string {
	if a == nil {
		return "someone"
	}
	if a.Name != "" {
		return a.Name
	}
	return a.Email
}

func (h *Slack) acknowledge(ctx context.Context, actor tickets.Actor, value string, fb *feedback) error {
	box, id, ok := notifications.ParseAckValue(value)
	if !ok {
		fb.tell("Refused: %q is not a notice Hotline sent.", value)
		return nil
	}
	var ack *outbox.Acknowledgement
	var err error
	if box == outbox.Announcements {
		ack, err = h.box.AcknowledgeAnnouncement(ctx, actor, id)
	} else {
		ack, err = h.box.AcknowledgeNotice(ctx, actor, id)
	}
	if err != nil {
		if text, ok := refusal(err); ok {
			fb.tell("%s", text)
			return nil
		}
		return err
	}
	if ack.Already {
		by := "someone"
		if ack.By != nil {
			by = ack.By.Email
		}
		fb.tell("Already acknowledged by %s at %s.", by, ack.At.UTC().Format("2006-01-02 15:04 UTC"))
		return nil
	}
	fb.settled = notifications.Outcome("已确认 Acknowledged", agentName(actor.Agent), ack.At)
	return nil
}

func (h *Slack) take(ctx context.Context, actor tickets.Actor, ref string, fb *feedback) error {
	me := actor.Agent.ID
	td, err := h.svc.Ticket(ctx, ref)
	if err != nil {
		if text, ok := refusal(err); ok {
			fb.tell("%s", text)
			return nil
		}
		return err
	}
	if td.AssigneeID != nil && *td.AssigneeID == me {
		fb.tell("%s is already yours.", td.Ref())
		return nil
	}
	t, err := h.svc.Assign(ctx, actor, ref, tickets.Assignment{AssigneeID: &me, Reason: "taken in Slack", Unassigned: true})
	if err != nil {
		if text, ok := refusal(err); ok {
			fb.tell("%s", text)
			return nil
		}
		return err
	}
	fb.settled = notifications.Outcome("已接手 "+t.Ref()+" taken", agentName(actor.Agent), t.UpdatedAt)
	return nil
}
