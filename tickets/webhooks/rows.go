package webhooks

import (
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// The tables' rows (migration 20261204100100) and how they read as the package's types.

type subscriptionRow struct {
	bun.BaseModel `bun:"table:webhook_subscriptions"`

	ID                  int64  `bun:",pk,autoincrement"`
	Name                string `bun:",notnull"`
	URL                 string `bun:"url,notnull"`
	Events              string `bun:",notnull"` // wire names, space-separated
	Secret              string `bun:",notnull"` // sealed
	PreviousSecret      *string
	PreviousSecretUntil *time.Time
	State               string `bun:",notnull"`
	PausedReason        string `bun:",notnull"`
	PausedAt            *time.Time
	Failures            int `bun:",notnull"`
	FailingSince        *time.Time
	LastSuccessAt       *time.Time
	LastFailureAt       *time.Time
	AfterEventID        int64     `bun:",notnull"`
	CreatedAt           time.Time `bun:",notnull"`
	UpdatedAt           time.Time `bun:",notnull"`
	DeletedAt           *time.Time
}

func (r *subscriptionRow) subscription() *Subscription {
	return &Subscription{ID: r.ID, Name: r.Name, URL: r.URL, Events: strings.Fields(r.Events), State: r.State,
		PausedReason: r.PausedReason, PausedAt: r.PausedAt, ConsecutiveFailures: r.Failures,
		LastSuccessAt: r.LastSuccessAt, LastFailureAt: r.LastFailureAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

type deliveryRow struct {
	bun.BaseModel `bun:"table:webhook_deliveries"`

	ID             int64  `bun:",pk,autoincrement"`
	SubscriptionID int64  `bun:",notnull"`
	EventID        int64  `bun:",notnull"`
	Generation     int    `bun:",notnull"`
	Event          string `bun:",notnull"`
	TicketID       *int64
	State          string `bun:",notnull"`
	Attempts       int    `bun:",notnull"`
	NextAttemptAt  *time.Time
	ClaimedUntil   *time.Time
	FirstAttemptAt *time.Time
	LastStatus     int       `bun:",notnull"`
	LastError      string    `bun:",notnull"`
	Body           string    `bun:",notnull"`
	CreatedAt      time.Time `bun:",notnull"`
	DeliveredAt    *time.Time
	// Waiting is read, not stored: an earlier delivery of its ticket is undelivered, or its
	// subscription is paused (see deliveryColumns).
	Waiting bool `bun:",scanonly"`
}

func (r *deliveryRow) delivery() *Delivery {
	d := &Delivery{ID: r.ID, SubscriptionID: r.SubscriptionID, EventID: EventID(r.EventID), Event: r.Event, TicketID: r.TicketID,
		State: r.State, Attempts: r.Attempts, NextAttemptAt: r.NextAttemptAt, LastStatus: r.LastStatus, LastError: r.LastError,
		CreatedAt: r.CreatedAt, DeliveredAt: r.DeliveredAt, Body: r.Body}
	if r.State == DeliveryPending && r.Waiting {
		d.State = DeliveryWaiting
	}
	return d
}

type attemptRow struct {
	bun.BaseModel `bun:"table:webhook_attempts"`

	ID           int64     `bun:",pk,autoincrement"`
	DeliveryID   int64     `bun:",notnull"`
	At           time.Time `bun:",notnull"`
	DurationMS   int64     `bun:"duration_ms,notnull"`
	Status       int       `bun:",notnull"`
	ResponseBody string    `bun:",notnull"`
	Error        string    `bun:",notnull"`
}

func (r *attemptRow) attempt() *Attempt {
	return &Attempt{ID: r.ID, DeliveryID: r.DeliveryID, At: r.At, Duration: time.Duration(r.DurationMS) * time.Millisecond,
		Status: r.Status, ResponseBody: r.ResponseBody, Error: r.Error}
}
