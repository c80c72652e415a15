package webhooks

import (
	"context"
	"errors"

	"github.com/hotlinedesk/hotline/tickets"
)

// The admins' side: subscriptions created, changed, paused, resumed and deleted, the
// deliveries read, redelivered and pinged. Every call requires an admin actor
// (tickets.RequireAdmin), else tickets' forbidden error; an unknown id is tickets'
// not-found error and bad input tickets' validation error. Every change records an audit
// event (webhook.created, webhook.updated, webhook.secret_rotated, webhook.paused,
// webhook.resumed, webhook.deleted, webhook.redelivered, webhook.pinged) in its transaction.

var errNotYet = errors.New("webhooks: not implemented yet")

// EventNames lists the events a subscription may name, as receivers see them: the
// product's events, then "ping", the test delivery an admin sends.
func EventNames() []string { return nil }

// New builds the webhooks of svc: on its database, clock and logger.
func New(svc *tickets.Service, cfg Config) *Service { return &Service{svc: svc, cfg: cfg} }

// Subscriptions lists every subscription, in id order.
func (s *Service) Subscriptions(ctx context.Context, actor tickets.Actor) ([]*Subscription, error) {
	return nil, errNotYet
}

// Subscription loads one subscription.
func (s *Service) Subscription(ctx context.Context, actor tickets.Actor, id int64) (*Subscription, error) {
	return nil, errNotYet
}

// Create subscribes a URL to events and returns it with its signing secret ("whsec_…"),
// which is shown this once: only its sealed form is stored.
func (s *Service) Create(ctx context.Context, actor tickets.Actor, in SubscriptionInput) (*Subscription, string, error) {
	return nil, "", errNotYet
}

// Update changes a subscription's name, URL and events.
func (s *Service) Update(ctx context.Context, actor tickets.Actor, id int64, in SubscriptionInput) (*Subscription, error) {
	return nil, errNotYet
}

// RotateSecret gives a subscription a new secret and returns it (shown once). For a day
// after, deliveries carry both signatures, the new one first, so a receiver can switch.
func (s *Service) RotateSecret(ctx context.Context, actor tickets.Actor, id int64) (string, error) {
	return "", errNotYet
}

// Pause stops a subscription's deliveries (they wait, they are not dropped).
func (s *Service) Pause(ctx context.Context, actor tickets.Actor, id int64) error { return errNotYet }

// Resume starts a paused subscription again, whether an admin or its failures paused it,
// and sends what waited, promptly.
func (s *Service) Resume(ctx context.Context, actor tickets.Actor, id int64) error { return errNotYet }

// Delete removes a subscription; its undelivered deliveries are failed, and its
// deliveries are kept (for the week) to be read.
func (s *Service) Delete(ctx context.Context, actor tickets.Actor, id int64) error { return errNotYet }

// Deliveries lists deliveries, newest first (see DeliveryFilter).
func (s *Service) Deliveries(ctx context.Context, actor tickets.Actor, f DeliveryFilter) ([]*Delivery, error) {
	return nil, errNotYet
}

// Delivery loads one delivery with its attempts, oldest first.
func (s *Service) Delivery(ctx context.Context, actor tickets.Actor, id int64) (*Delivery, []*Attempt, error) {
	return nil, nil, errNotYet
}

// Redeliver sends a delivery's event again as a new delivery with the same event id
// (receivers de-duplicate on it), promptly, whatever became of the first.
func (s *Service) Redeliver(ctx context.Context, actor tickets.Actor, id int64) (*Delivery, error) {
	return nil, errNotYet
}

// Ping sends a "ping" delivery to a subscription, to check its receiver.
func (s *Service) Ping(ctx context.Context, actor tickets.Actor, id int64) (*Delivery, error) {
	return nil, errNotYet
}
