// Package webhooks holds Hotline's outbound webhooks: the admins' subscriptions of URLs to
// events, and one delivery of each event to each subscription that names it, signed,
// retried with back-off and kept with its attempts for a week.
//
// Where the events come from: the audit trail (the core's events table), read exactly
// once with a cursor as tickets/outbox reads it for Slack (see tickets.TrailCursor). Each
// audit event a subscription names becomes a webhook_deliveries row, unique on
// (subscription, event, generation), so a collect run twice never delivers twice; a
// redelivery is the next generation of the same event, with the same event id.
//
// How a delivery goes out: a worker claims it with a guarded update (pending → delivering,
// with a claim deadline), only when no earlier event of the same ticket is still
// undelivered to that subscription (order per ticket, held by the database); it POSTs the
// JSON with the signature headers (Sign), and records the attempt. A 2xx answer within the
// timeout is delivered; anything else is tried again after a back-off, until a day after
// the first attempt, and then failed. A subscription whose receiver keeps failing is paused
// ("failing") and the admins told once; its deliveries wait until an admin resumes it.
//
// It is a chapter beside the core (package tickets), which knows nothing of it; jobs
// collects and delivers through it, app's API and console administer it, and app builds
// one (New).
package webhooks

import (
	"net/http"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
)

// Subscription states and why one is paused.
const (
	StateActive = "active"
	StatePaused = "paused"

	PausedByAdmin = "admin"   // an admin paused it
	PausedFailing = "failing" // Hotline paused it after repeated failures
)

// Delivery states. A delivery moves pending → delivering (claimed by one worker for one
// attempt) → delivered, or back to pending for the next attempt, or failed (gave up a day
// after the first attempt, or its subscription was deleted). "waiting" is not stored: it
// is how a pending delivery reads while an earlier delivery of the same ticket to the
// same subscription is undelivered, or while its subscription is paused.
const (
	DeliveryPending    = "pending"
	DeliveryDelivering = "delivering"
	DeliveryDelivered  = "delivered"
	DeliveryFailed     = "failed"
	DeliveryWaiting    = "waiting"
)

// Subscription is a URL an admin subscribed to events.
type Subscription struct {
	ID                  int64
	Name                string
	URL                 string
	Events              []string // wire names (EventNames)
	State               string   // StateActive or StatePaused
	PausedReason        string   // "", PausedByAdmin or PausedFailing
	PausedAt            *time.Time
	ConsecutiveFailures int
	LastSuccessAt       *time.Time
	LastFailureAt       *time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// SubscriptionInput is what an admin sets on a subscription.
type SubscriptionInput struct {
	Name   string
	URL    string
	Events []string
}

// Delivery is one event sent (or to be sent) to one subscription.
type Delivery struct {
	ID             int64
	SubscriptionID int64
	// EventID is the id receivers de-duplicate on (header Hotline-Event-Id, the body's
	// "id"): "evt_<audit event id>", the same across retries and redeliveries of the event.
	EventID       string
	Event         string // wire name
	TicketID      *int64 // the ticket the event is about, when it is
	State         string // a Delivery* state
	Attempts      int
	NextAttemptAt *time.Time
	LastStatus    int // HTTP status of the last attempt (0: no answer)
	LastError     string
	CreatedAt     time.Time
	DeliveredAt   *time.Time
	Body          string // the JSON sent
}

// Attempt is one POST of a delivery and its answer.
type Attempt struct {
	ID           int64
	DeliveryID   int64
	At           time.Time
	Duration     time.Duration
	Status       int    // 0: no answer (Error says why)
	ResponseBody string // the first 4 KB
	Error        string
}

// DeliveryFilter narrows Deliveries: one subscription (0: all), one state ("": all),
// ids below BeforeID (0: from the newest), at most Limit (0: 50; at most 200), newest first.
type DeliveryFilter struct {
	SubscriptionID int64
	State          string
	BeforeID       int64
	Limit          int
}

// Config tunes the deliveries; zero fields take the defaults.
type Config struct {
	// AllowPrivate lets receivers on loopback, private, link-local and CGNAT addresses
	// be called (HOTLINE_WEBHOOKS_ALLOW_PRIVATE): for a receiver on the same network.
	AllowPrivate bool
	// Timeout bounds one POST, connection to answer (default 10 s).
	Timeout time.Duration
	// GiveUpAfter is how long after its first attempt a delivery is retried (default 24 h).
	GiveUpAfter time.Duration
	// PauseAfterFailures and PauseAfterSpan: a subscription is paused after this many
	// consecutive failed attempts spanning at least this long (defaults 10 and 1 h).
	PauseAfterFailures int
	PauseAfterSpan     time.Duration
	// KeepFor is how long deliveries and their attempts are kept (default 7 days).
	KeepFor time.Duration
	// SecretKey seals the signing secrets at rest (HOTLINE_SECRET_KEY, as the TOTP
	// secrets are; see tickets.Sealer); empty stores them unsealed.
	SecretKey string
}

// Service administers the subscriptions and collects and sends the deliveries. It is safe
// for concurrent use, and so are two processes' Services on one database: the cursor and
// the claims are guarded in it.
type Service struct {
	svc    *tickets.Service
	cfg    Config
	client *http.Client
}
