package webhooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/slack-go/slack"

	"github.com/hotlinedesk/hotline/notifications"
	"github.com/hotlinedesk/hotline/tickets"
)

// Slack serves Slack's interactivity callback: the Acknowledge and Take it buttons on
// Hotline's Slack messages.
type Slack struct {
	svc    *tickets.Service
	secret string
	slack  *notifications.Slack
	log    *slog.Logger
}

// NewSlack builds the handler. signingSecret is the Slack app's signing secret
// (SLACK_SIGNING_SECRET); empty, every request is refused. client looks up who clicked
// (users.info, for their email address).
func NewSlack(svc *tickets.Service, signingSecret string, client *notifications.Slack, log *slog.Logger) *Slack {
	if log == nil {
		log = slog.Default()
	}
	return &Slack{svc: svc, secret: signingSecret, slack: client, log: log}
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

// reply is the answer Slack shows only to the person who clicked.
type reply struct {
	ResponseType    string `json:"response_type"`
	ReplaceOriginal bool   `json:"replace_original"`
	Text            string `json:"text"`
}

func answer(c *fiber.Ctx, format string, args ...any) error {
	return c.JSON(reply{ResponseType: "ephemeral", Text: fmt.Sprintf(format, args...)})
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
	ctx := c.UserContext()
	email, err := h.slack.UserEmail(ctx, cb.User.ID)
	if err != nil {
		h.log.Warn("could not find who clicked in Slack", "slack_user", cb.User.ID, "err", err)
		return answer(c, "Hotline could not find your email address in Slack, so nothing was done: %v", err)
	}
	agent, err := h.svc.AgentByEmail(ctx, email)
	if errors.Is(err, tickets.ErrNotFound) || errors.Is(err, tickets.ErrInvalid) {
		return answer(c, "No Hotline agent has the address %s, so nothing was done. Ask an admin to add you.", email)
	}
	if err != nil {
		return err
	}
	if !agent.Active {
		return answer(c, "Your Hotline account (%s) is deactivated, so nothing was done.", agent.Email)
	}
	actor := tickets.AgentActor(agent)
	var texts []string
	for _, a := range cb.ActionCallback.BlockActions {
		var text string
		var err error
		switch a.ActionID {
		case notifications.ActionAcknowledge:
			text, err = h.acknowledge(c, actor, a.Value)
		case notifications.ActionTake:
			text, err = h.take(c, actor, a.Value)
		default:
			continue
		}
		if err != nil {
			return err
		}
		texts = append(texts, text)
	}
	if len(texts) == 0 {
		return c.Status(fiber.StatusOK).SendString("")
	}
	return answer(c, "%s", strings.Join(texts, "\n"))
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

func (h *Slack) acknowledge(c *fiber.Ctx, actor tickets.Actor, value string) (string, error) {
	box, id, ok := notifications.ParseAckValue(value)
	if !ok {
		return fmt.Sprintf("Refused: %q is not a notice Hotline sent.", value), nil
	}
	var ack *tickets.Acknowledgement
	var err error
	if box == tickets.AnnouncementOutbox {
		ack, err = h.svc.AcknowledgeAnnouncement(c.UserContext(), actor, id)
	} else {
		ack, err = h.svc.AcknowledgeNotice(c.UserContext(), actor, id)
	}
	if err != nil {
		if text, ok := refusal(err); ok {
			return text, nil
		}
		return "", err
	}
	if ack.Already {
		by := "someone"
		if ack.By != nil {
			by = ack.By.Email
		}
		return fmt.Sprintf("Already acknowledged by %s at %s.", by, ack.At.UTC().Format("2006-01-02 15:04 UTC")), nil
	}
	return "已确认 Acknowledged.", nil
}

func (h *Slack) take(c *fiber.Ctx, actor tickets.Actor, ref string) (string, error) {
	ctx := c.UserContext()
	me := actor.Agent.ID
	td, err := h.svc.Ticket(ctx, ref)
	if err != nil {
		if text, ok := refusal(err); ok {
			return text, nil
		}
		return "", err
	}
	if td.AssigneeID != nil && *td.AssigneeID == me {
		return fmt.Sprintf("%s is already yours.", td.Ref()), nil
	}
	t, err := h.svc.Assign(ctx, actor, ref, tickets.Assignment{AssigneeID: &me, Reason: "taken in Slack"})
	if err != nil {
		if text, ok := refusal(err); ok {
			return text, nil
		}
		return "", err
	}
	return fmt.Sprintf("已接手 %s is yours now.", t.Ref()), nil
}
