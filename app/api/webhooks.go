package api

import (
	"context"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/webhooks"
)

// Outbound webhooks (tickets/webhooks), for admins and admin keys: the subscriptions of
// URLs to events, their deliveries with each attempt, redelivery and a ping. A signing
// secret is in the answers of POST /webhooks and POST /webhooks/:id/rotate-secret only.

// webhookView is a subscription as the API shows it: never its secret.
type webhookView struct {
	ID                  int64    `json:"id"`
	Name                string   `json:"name"`
	URL                 string   `json:"url"`
	Events              []string `json:"events"`
	State               string   `json:"state"`
	PausedReason        *string  `json:"paused_reason"`
	PausedAt            *string  `json:"paused_at"`
	ConsecutiveFailures int      `json:"consecutive_failures"`
	LastSuccessAt       *string  `json:"last_success_at"`
	LastFailureAt       *string  `json:"last_failure_at"`
	CreatedAt           string   `json:"created_at"`
	UpdatedAt           string   `json:"updated_at"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func rfc3339p(t *time.Time) *string {
	if t == nil {
		return nil
	}
	v := rfc3339(*t)
	return &v
}

func viewWebhook(s *webhooks.Subscription) webhookView {
	v := webhookView{ID: s.ID, Name: s.Name, URL: s.URL, Events: s.Events, State: s.State, PausedAt: rfc3339p(s.PausedAt),
		ConsecutiveFailures: s.ConsecutiveFailures, LastSuccessAt: rfc3339p(s.LastSuccessAt), LastFailureAt: rfc3339p(s.LastFailureAt),
		CreatedAt: rfc3339(s.CreatedAt), UpdatedAt: rfc3339(s.UpdatedAt)}
	if v.Events == nil {
		v.Events = []string{}
	}
	if s.PausedReason != "" {
		r := s.PausedReason
		v.PausedReason = &r
	}
	return v
}

// deliveryView is a delivery; Body, the JSON sent, only in the detail.
type deliveryView struct {
	ID             int64   `json:"id"`
	SubscriptionID int64   `json:"subscription_id"`
	EventID        string  `json:"event_id"`
	Event          string  `json:"event"`
	TicketRef      *string `json:"ticket_ref"`
	State          string  `json:"state"`
	Attempts       int     `json:"attempts"`
	NextAttemptAt  *string `json:"next_attempt_at"`
	LastStatus     *int    `json:"last_status"`
	LastError      string  `json:"last_error"`
	CreatedAt      string  `json:"created_at"`
	DeliveredAt    *string `json:"delivered_at"`
	Body           *string `json:"body,omitempty"`
}

func viewDelivery(d *webhooks.Delivery, withBody bool) deliveryView {
	v := deliveryView{ID: d.ID, SubscriptionID: d.SubscriptionID, EventID: d.EventID, Event: d.Event, State: d.State,
		Attempts: d.Attempts, NextAttemptAt: rfc3339p(d.NextAttemptAt), LastError: d.LastError, CreatedAt: rfc3339(d.CreatedAt),
		DeliveredAt: rfc3339p(d.DeliveredAt)}
	if d.TicketID != nil {
		ref := tickets.FormatRef(*d.TicketID)
		v.TicketRef = &ref
	}
	if d.LastStatus != 0 {
		st := d.LastStatus
		v.LastStatus = &st
	}
	if withBody {
		b := d.Body
		v.Body = &b
	}
	return v
}

type attemptView struct {
	ID           int64  `json:"id"`
	At           string `json:"at"`
	DurationMS   int64  `json:"duration_ms"`
	Status       *int   `json:"status"`
	ResponseBody string `json:"response_body"`
	Error        string `json:"error"`
}

func viewAttempt(a *webhooks.Attempt) attemptView {
	v := attemptView{ID: a.ID, At: rfc3339(a.At), DurationMS: a.Duration.Milliseconds(), ResponseBody: a.ResponseBody, Error: a.Error}
	if a.Status != 0 {
		st := a.Status
		v.Status = &st
	}
	return v
}

// webhookInput is a subscription as a request sends it; PATCH may leave fields out.
type webhookInput struct {
	Name   *string   `json:"name"`
	URL    *string   `json:"url"`
	Events *[]string `json:"events"`
}

// listWebhooks serves GET /webhooks: every subscription, and the events they may name.
func (s *server) listWebhooks(c *fiber.Ctx) error {
	subs, err := s.hooks.Subscriptions(c.UserContext(), actorOf(c))
	if err != nil {
		return err
	}
	out := make([]webhookView, len(subs))
	for i, sub := range subs {
		out[i] = viewWebhook(sub)
	}
	return c.JSON(fiber.Map{"items": out, "events": subscribable()})
}

// subscribable are the events a subscription may name ("ping" is sent on request only).
func subscribable() []string {
	var out []string
	for _, e := range webhooks.EventNames() {
		if e != webhooks.EventPing {
			out = append(out, e)
		}
	}
	return out
}

// createWebhook serves POST /webhooks: the answer carries the signing secret, this once.
func (s *server) createWebhook(c *fiber.Ctx) error {
	var in webhookInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Name == nil || in.URL == nil || in.Events == nil {
		return fiber.NewError(fiber.StatusBadRequest, "name, url and events are required")
	}
	sub, secret, err := s.hooks.Create(c.UserContext(), actorOf(c), webhooks.SubscriptionInput{Name: *in.Name, URL: *in.URL, Events: *in.Events})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"secret": secret, "webhook": viewWebhook(sub)})
}

// getWebhook serves GET /webhooks/:id.
func (s *server) getWebhook(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	sub, err := s.hooks.Subscription(c.UserContext(), actorOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(viewWebhook(sub))
}

// updateWebhook serves PATCH /webhooks/:id: the fields sent change, the others stay.
func (s *server) updateWebhook(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in webhookInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Name == nil && in.URL == nil && in.Events == nil {
		return fiber.NewError(fiber.StatusBadRequest, "send at least one of name, url and events")
	}
	sub, err := s.hooks.Subscription(c.UserContext(), actorOf(c), id)
	if err != nil {
		return err
	}
	next := webhooks.SubscriptionInput{Name: sub.Name, URL: sub.URL, Events: sub.Events}
	if in.Name != nil {
		next.Name = *in.Name
	}
	if in.URL != nil {
		next.URL = *in.URL
	}
	if in.Events != nil {
		next.Events = *in.Events
	}
	if sub, err = s.hooks.Update(c.UserContext(), actorOf(c), id, next); err != nil {
		return err
	}
	return c.JSON(viewWebhook(sub))
}

// deleteWebhook serves DELETE /webhooks/:id.
func (s *server) deleteWebhook(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.hooks.Delete(c.UserContext(), actorOf(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// rotateWebhookSecret serves POST /webhooks/:id/rotate-secret: the new secret, this once.
func (s *server) rotateWebhookSecret(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	secret, err := s.hooks.RotateSecret(c.UserContext(), actorOf(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"secret": secret, "previous_valid_for_seconds": int(webhooks.RotationOverlap.Seconds())})
}

// pauseWebhook and resumeWebhook serve POST /webhooks/:id/pause and /resume, answering
// with the subscription as it now is.
func (s *server) pauseWebhook(c *fiber.Ctx) error  { return s.setWebhookState(c, s.hooks.Pause) }
func (s *server) resumeWebhook(c *fiber.Ctx) error { return s.setWebhookState(c, s.hooks.Resume) }

func (s *server) setWebhookState(c *fiber.Ctx, change func(ctx context.Context, actor tickets.Actor, id int64) error) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := change(c.UserContext(), actorOf(c), id); err != nil {
		return err
	}
	return s.getWebhook(c)
}

// pingWebhook serves POST /webhooks/:id/ping: a test delivery, sent within seconds.
func (s *server) pingWebhook(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	d, err := s.hooks.Ping(c.UserContext(), actorOf(c), id)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(viewDelivery(d, false))
}

// listWebhookDeliveries serves GET /webhooks/:id/deliveries?state=&limit=&cursor=: newest
// first, a page at a time (next_cursor, null on the last page).
func (s *server) listWebhookDeliveries(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	f := webhooks.DeliveryFilter{SubscriptionID: id, State: c.Query("state"), Limit: 50}
	if v := c.Query("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > 200 {
			return fiber.NewError(fiber.StatusBadRequest, "limit is a number from 1 to 200")
		}
	}
	if v := c.Query("cursor"); v != "" {
		if f.BeforeID, err = strconv.ParseInt(v, 10, 64); err != nil || f.BeforeID < 1 {
			return fiber.NewError(fiber.StatusBadRequest, "cursor is the next_cursor of the previous page")
		}
	}
	if _, err := s.hooks.Subscription(c.UserContext(), actorOf(c), id); err != nil {
		return err
	}
	ds, err := s.hooks.Deliveries(c.UserContext(), actorOf(c), f)
	if err != nil {
		return err
	}
	out := make([]deliveryView, len(ds))
	for i, d := range ds {
		out[i] = viewDelivery(d, false)
	}
	var next *string
	if len(ds) == f.Limit {
		v := strconv.FormatInt(ds[len(ds)-1].ID, 10)
		next = &v
	}
	return c.JSON(fiber.Map{"items": out, "next_cursor": next})
}

// getWebhookDelivery serves GET /webhook-deliveries/:id: the delivery, the JSON sent, and
// each attempt with the receiver's answer.
func (s *server) getWebhookDelivery(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	d, attempts, err := s.hooks.Delivery(c.UserContext(), actorOf(c), id)
	if err != nil {
		return err
	}
	as := make([]attemptView, len(attempts))
	for i, a := range attempts {
		as[i] = viewAttempt(a)
	}
	return c.JSON(fiber.Map{"delivery": viewDelivery(d, true), "attempts": as})
}

// redeliverWebhookDelivery serves POST /webhook-deliveries/:id/redeliver: a new delivery
// of the same event (same event id), sent within seconds.
func (s *server) redeliverWebhookDelivery(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	d, err := s.hooks.Redeliver(c.UserContext(), actorOf(c), id)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(viewDelivery(d, false))
}
