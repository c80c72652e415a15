package webhooks

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// The admins' side: subscriptions created, changed, paused, resumed and deleted, the
// deliveries read, redelivered and pinged. Every call requires an admin actor
// (tickets.RequireAdmin), else tickets' forbidden error; an unknown id is tickets'
// not-found error and bad input tickets' validation error. Every change records an audit
// event about the subscription (entity "webhook": webhook.created, webhook.updated,
// webhook.secret_rotated, webhook.paused, webhook.resumed, webhook.deleted,
// webhook.redelivered, webhook.pinged) in its transaction; the audit data names the URL's
// host, never the URL (its query may carry the receiver's token) nor the secret.

// Defaults of Config.
const (
	DefaultTimeout            = 10 * time.Second
	DefaultGiveUpAfter        = 24 * time.Hour
	DefaultPauseAfterFailures = 10
	DefaultPauseAfterSpan     = time.Hour
	DefaultKeepFor            = 7 * 24 * time.Hour
)

// RotationOverlap is how long after a rotation the previous secret still signs.
const RotationOverlap = 24 * time.Hour

// Bounds of what an admin sets.
const (
	maxNameLen = 100
	maxURLLen  = 2000
)

// New builds the webhooks of svc: on its database, clock and logger.
func New(svc *tickets.Service, cfg Config) *Service {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.GiveUpAfter <= 0 {
		cfg.GiveUpAfter = DefaultGiveUpAfter
	}
	if cfg.PauseAfterFailures <= 0 {
		cfg.PauseAfterFailures = DefaultPauseAfterFailures
	}
	if cfg.PauseAfterSpan <= 0 {
		cfg.PauseAfterSpan = DefaultPauseAfterSpan
	}
	if cfg.KeepFor <= 0 {
		cfg.KeepFor = DefaultKeepFor
	}
	return &Service{svc: svc, cfg: cfg, client: newClient(cfg)}
}

func (s *Service) sealer() tickets.Sealer {
	return tickets.NewSealer(s.cfg.SecretKey, "hotline webhooks")
}

// Subscriptions lists every subscription, in id order.
func (s *Service) Subscriptions(ctx context.Context, actor tickets.Actor) ([]*Subscription, error) {
	if err := tickets.RequireAdmin(actor); err != nil {
		return nil, err
	}
	var rows []*subscriptionRow
	if err := s.svc.DB().NewSelect().Model(&rows).Where("deleted_at IS NULL").OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list webhook subscriptions: %w", err)
	}
	out := make([]*Subscription, len(rows))
	for i, r := range rows {
		out[i] = r.subscription()
	}
	return out, nil
}

// Subscription loads one subscription.
func (s *Service) Subscription(ctx context.Context, actor tickets.Actor, id int64) (*Subscription, error) {
	if err := tickets.RequireAdmin(actor); err != nil {
		return nil, err
	}
	r, err := loadSubscription(ctx, s.svc.DB(), id, false)
	if err != nil {
		return nil, err
	}
	return r.subscription(), nil
}

// loadSubscription reads a subscription that is not deleted, locked FOR UPDATE on
// PostgreSQL when lock (SQLite's one writer holds it anyway).
func loadSubscription(ctx context.Context, db bun.IDB, id int64, lock bool) (*subscriptionRow, error) {
	r := new(subscriptionRow)
	q := db.NewSelect().Model(r).Where("id = ? AND deleted_at IS NULL", id)
	if lock && db.Dialect().Name().String() == "pg" {
		q = q.For("UPDATE")
	}
	err := q.Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tickets.NotFoundf("webhook subscription %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load webhook subscription %d: %w", id, err)
	}
	return r, nil
}

// checkInput trims in and refuses what cannot be a subscription.
func (s *Service) checkInput(in *SubscriptionInput) error {
	in.Name = strings.TrimSpace(in.Name)
	in.URL = strings.TrimSpace(in.URL)
	if in.Name == "" || utf8.RuneCountInString(in.Name) > maxNameLen || !utf8.ValidString(in.Name) {
		return tickets.Invalidf("a webhook needs a name of 1 to %d characters", maxNameLen)
	}
	if hasControl(in.Name) { // PostgreSQL refuses NUL; a line break would split the admins' notices
		return tickets.Invalidf("a webhook's name is one line of text, without control characters")
	}
	if err := s.checkURL(in.URL); err != nil {
		return err
	}
	if len(in.Events) == 0 {
		return tickets.Invalidf("a webhook needs at least one event (%s)", strings.Join(events, ", "))
	}
	var evs []string
	for _, e := range in.Events {
		e = strings.TrimSpace(e)
		if !slices.Contains(events, e) {
			return tickets.Invalidf("unknown webhook event %q; the events are %s", e, strings.Join(events, ", "))
		}
		if !slices.Contains(evs, e) {
			evs = append(evs, e)
		}
	}
	in.Events = evs
	return nil
}

// checkURL refuses a URL Hotline will not call: not http or https, no host, credentials in
// it, too long, not valid UTF-8 or with control characters, or (unless Config.AllowPrivate) an address written out that is not a
// public one (blockedAddr). Names are checked again as they are dialled (see guardedDial).
func (s *Service) checkURL(raw string) error {
	if raw == "" || len(raw) > maxURLLen {
		return tickets.Invalidf("a webhook URL is 1 to %d characters", maxURLLen)
	}
	if !utf8.ValidString(raw) || hasControl(raw) {
		return tickets.Invalidf("a webhook URL is text without control characters (percent-encode them)")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
		return tickets.Invalidf("a webhook URL is an http:// or https:// address with a host")
	}
	if u.User != nil {
		return tickets.Invalidf("a webhook URL carries no user name or password; put a token in its path or query")
	}
	if u.Fragment != "" {
		return tickets.Invalidf("a webhook URL has no #fragment")
	}
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && !s.cfg.AllowPrivate && blockedAddr(ip) {
		return tickets.Invalidf("a webhook URL may not point at a private, loopback or link-local address, nor a reserved one (set HOTLINE_WEBHOOKS_ALLOW_PRIVATE for a receiver on this network)")
	}
	return nil
}

// hasControl says whether s holds a control character (C0, DEL, C1) or a line or
// paragraph separator.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' })
}

// newSecret is a signing secret: 32 random bytes, "whsec_" and base64url.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make webhook secret: %w", err)
	}
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b), nil
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// Create subscribes a URL to events and returns it with its signing secret ("whsec_…"),
// which is shown this once: only its sealed form is stored. The subscription receives
// what happens from now on.
func (s *Service) Create(ctx context.Context, actor tickets.Actor, in SubscriptionInput) (*Subscription, string, error) {
	if err := tickets.RequireAdmin(actor); err != nil {
		return nil, "", err
	}
	if err := s.checkInput(&in); err != nil {
		return nil, "", err
	}
	secret, err := newSecret()
	if err != nil {
		return nil, "", err
	}
	sealed, err := s.sealer().Seal(secret)
	if err != nil {
		return nil, "", err
	}
	var row *subscriptionRow
	err = s.svc.InTx(ctx, func(tx tickets.Tx) error {
		var last int64
		if err := tx.NewSelect().Table("events").ColumnExpr("COALESCE(MAX(id), 0)").Scan(ctx, &last); err != nil {
			return fmt.Errorf("find the end of the audit trail: %w", err)
		}
		now := s.svc.Now()
		row = &subscriptionRow{Name: in.Name, URL: in.URL, Events: strings.Join(in.Events, " "), Secret: sealed,
			State: StateActive, AfterEventID: last, CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return fmt.Errorf("store webhook subscription: %w", err)
		}
		return tx.Record(ctx, tx.Event(actor, "webhook", row.ID, "webhook.created",
			map[string]any{"name": in.Name, "host": hostOf(in.URL), "events": in.Events}))
	})
	if err != nil {
		return nil, "", err
	}
	return row.subscription(), secret, nil
}

// Update changes a subscription's name, URL and events. Deliveries already made keep the
// body they were made with; they go to the new URL.
func (s *Service) Update(ctx context.Context, actor tickets.Actor, id int64, in SubscriptionInput) (*Subscription, error) {
	if err := tickets.RequireAdmin(actor); err != nil {
		return nil, err
	}
	if err := s.checkInput(&in); err != nil {
		return nil, err
	}
	var row *subscriptionRow
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		var err error
		if row, err = loadSubscription(ctx, tx, id, true); err != nil {
			return err
		}
		data := map[string]any{"name": in.Name, "host": hostOf(in.URL), "events": in.Events}
		if row.URL != in.URL {
			data["url_changed"] = true
		}
		row.Name, row.URL, row.Events, row.UpdatedAt = in.Name, in.URL, strings.Join(in.Events, " "), s.svc.Now()
		if _, err := tx.NewUpdate().Model(row).Column("name", "url", "events", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update webhook subscription %d: %w", id, err)
		}
		return tx.Record(ctx, tx.Event(actor, "webhook", id, "webhook.updated", data))
	})
	if err != nil {
		return nil, err
	}
	return row.subscription(), nil
}

// RotateSecret gives a subscription a new secret and returns it (shown once). For
// RotationOverlap after, deliveries carry both signatures, the new one first, so that a
// receiver can switch without losing a delivery.
func (s *Service) RotateSecret(ctx context.Context, actor tickets.Actor, id int64) (string, error) {
	if err := tickets.RequireAdmin(actor); err != nil {
		return "", err
	}
	secret, err := newSecret()
	if err != nil {
		return "", err
	}
	sealed, err := s.sealer().Seal(secret)
	if err != nil {
		return "", err
	}
	err = s.svc.InTx(ctx, func(tx tickets.Tx) error {
		row, err := loadSubscription(ctx, tx, id, true)
		if err != nil {
			return err
		}
		now := s.svc.Now()
		until := now.Add(RotationOverlap)
		old := row.Secret
		row.PreviousSecret, row.PreviousSecretUntil, row.Secret, row.UpdatedAt = &old, &until, sealed, now
		if _, err := tx.NewUpdate().Model(row).Column("secret", "previous_secret", "previous_secret_until", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("rotate webhook secret %d: %w", id, err)
		}
		return tx.Record(ctx, tx.Event(actor, "webhook", id, "webhook.secret_rotated", map[string]any{"previous_until": until}))
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// Pause stops a subscription's deliveries: they wait, they are not dropped. Pausing a
// paused one changes nothing.
func (s *Service) Pause(ctx context.Context, actor tickets.Actor, id int64) error {
	if err := tickets.RequireAdmin(actor); err != nil {
		return err
	}
	return s.svc.InTx(ctx, func(tx tickets.Tx) error {
		if _, err := loadSubscription(ctx, tx, id, true); err != nil {
			return err
		}
		now := s.svc.Now()
		res, err := tx.NewUpdate().Model((*subscriptionRow)(nil)).
			Set("state = ?, paused_reason = ?, paused_at = ?, updated_at = ?", StatePaused, PausedByAdmin, now, now).
			Where("id = ? AND state = ?", id, StateActive).Exec(ctx)
		if err != nil {
			return fmt.Errorf("pause webhook subscription %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return tx.Record(ctx, tx.Event(actor, "webhook", id, "webhook.paused", map[string]any{"reason": PausedByAdmin}))
	})
}

// Resume starts a paused subscription again, whether an admin or its failures paused it,
// and sends what waited at once, each delivery with a new day of retries. Resuming an
// active one changes nothing.
func (s *Service) Resume(ctx context.Context, actor tickets.Actor, id int64) error {
	if err := tickets.RequireAdmin(actor); err != nil {
		return err
	}
	return s.svc.InTx(ctx, func(tx tickets.Tx) error {
		row, err := loadSubscription(ctx, tx, id, true)
		if err != nil {
			return err
		}
		now := s.svc.Now()
		res, err := tx.NewUpdate().Model((*subscriptionRow)(nil)).
			Set("state = ?, paused_reason = '', paused_at = NULL, failures = 0, failing_since = NULL, updated_at = ?", StateActive, now).
			Where("id = ? AND state = ?", id, StatePaused).Exec(ctx)
		if err != nil {
			return fmt.Errorf("resume webhook subscription %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		// Delivering ones too: a claim a worker held when the pause came lapses while it
		// lasts, and is then taken again with the first attempt it had (a day's retries
		// long gone, it would fail at its first error).
		if _, err := tx.NewUpdate().Model((*deliveryRow)(nil)).Set("next_attempt_at = ?, first_attempt_at = NULL", now).
			Where("subscription_id = ? AND state IN (?)", id, bun.In([]string{DeliveryPending, DeliveryDelivering})).Exec(ctx); err != nil {
			return fmt.Errorf("retry what waited for webhook subscription %d: %w", id, err)
		}
		return tx.Record(ctx, tx.Event(actor, "webhook", id, "webhook.resumed", map[string]any{"was": row.PausedReason}))
	})
}

// Delete removes a subscription: it is no longer listed nor sent to, and its undelivered
// deliveries are failed. Its deliveries stay readable until they expire (Config.KeepFor).
func (s *Service) Delete(ctx context.Context, actor tickets.Actor, id int64) error {
	if err := tickets.RequireAdmin(actor); err != nil {
		return err
	}
	return s.svc.InTx(ctx, func(tx tickets.Tx) error {
		row, err := loadSubscription(ctx, tx, id, true)
		if err != nil {
			return err
		}
		now := s.svc.Now()
		if _, err := tx.NewUpdate().Model((*subscriptionRow)(nil)).Set("deleted_at = ?, updated_at = ?", now, now).
			Where("id = ?", id).Exec(ctx); err != nil {
			return fmt.Errorf("delete webhook subscription %d: %w", id, err)
		}
		if _, err := tx.NewUpdate().Model((*deliveryRow)(nil)).
			Set("state = ?, last_error = ?, next_attempt_at = NULL, claimed_until = NULL", DeliveryFailed, "the webhook was deleted").
			Where("subscription_id = ? AND state IN (?)", id, bun.In([]string{DeliveryPending, DeliveryDelivering})).Exec(ctx); err != nil {
			return fmt.Errorf("fail the deliveries of webhook subscription %d: %w", id, err)
		}
		return tx.Record(ctx, tx.Event(actor, "webhook", id, "webhook.deleted", map[string]any{"name": row.Name, "host": hostOf(row.URL)}))
	})
}

// waits is when a pending delivery (table d) waits: its subscription is paused (unless
// it is a ping, which goes all the same: see claimable), or an earlier event of its
// ticket is undelivered to it.
const waits = `((d.event <> 'ping' AND EXISTS (SELECT 1 FROM webhook_subscriptions AS s WHERE s.id = d.subscription_id AND s.state = 'paused'))
	OR EXISTS (SELECT 1 FROM webhook_deliveries AS e WHERE e.subscription_id = d.subscription_id
		AND e.ticket_id = d.ticket_id AND e.event_id < d.event_id AND e.state IN ('pending', 'delivering')))`

// deliveryColumns read a delivery with whether it waits (see deliveryRow.Waiting).
func deliveryColumns(q *bun.SelectQuery) *bun.SelectQuery {
	return q.ColumnExpr("d.*").ColumnExpr("(d.state = 'pending' AND " + waits + ") AS waiting")
}

// Deliveries lists deliveries, newest first (see DeliveryFilter). The states filter as
// Delivery.State reads: "waiting" lists the pending deliveries that wait, "pending" the
// others.
func (s *Service) Deliveries(ctx context.Context, actor tickets.Actor, f DeliveryFilter) ([]*Delivery, error) {
	if err := tickets.RequireAdmin(actor); err != nil {
		return nil, err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 200 {
		f.Limit = 200
	}
	var rows []*deliveryRow
	q := deliveryColumns(s.svc.DB().NewSelect().Model(&rows).ModelTableExpr("webhook_deliveries AS d")).OrderExpr("d.id DESC").Limit(f.Limit)
	if f.SubscriptionID != 0 {
		q = q.Where("d.subscription_id = ?", f.SubscriptionID)
	}
	if f.BeforeID > 0 {
		q = q.Where("d.id < ?", f.BeforeID)
	}
	switch f.State {
	case "":
	case DeliveryDelivering, DeliveryDelivered, DeliveryFailed:
		q = q.Where("d.state = ?", f.State)
	case DeliveryPending: // as Delivery.State reads: pending and not waiting
		q = q.Where("d.state = 'pending' AND NOT " + waits)
	case DeliveryWaiting:
		q = q.Where("d.state = 'pending' AND " + waits)
	default:
		return nil, tickets.Invalidf("unknown delivery state %q; the states are pending, waiting, delivering, delivered, failed", f.State)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	out := make([]*Delivery, len(rows))
	for i, r := range rows {
		out[i] = r.delivery()
	}
	return out, nil
}

// Delivery loads one delivery with its attempts, oldest first.
func (s *Service) Delivery(ctx context.Context, actor tickets.Actor, id int64) (*Delivery, []*Attempt, error) {
	if err := tickets.RequireAdmin(actor); err != nil {
		return nil, nil, err
	}
	r, err := s.loadDelivery(ctx, s.svc.DB(), id)
	if err != nil {
		return nil, nil, err
	}
	var rows []*attemptRow
	if err := s.svc.DB().NewSelect().Model(&rows).Where("delivery_id = ?", id).OrderExpr("id").Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("list attempts of webhook delivery %d: %w", id, err)
	}
	out := make([]*Attempt, len(rows))
	for i, a := range rows {
		out[i] = a.attempt()
	}
	return r.delivery(), out, nil
}

func (s *Service) loadDelivery(ctx context.Context, db bun.IDB, id int64) (*deliveryRow, error) {
	r := new(deliveryRow)
	err := deliveryColumns(db.NewSelect().Model(r).ModelTableExpr("webhook_deliveries AS d")).Where("d.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tickets.NotFoundf("webhook delivery %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load webhook delivery %d: %w", id, err)
	}
	return r, nil
}

// Redeliver sends a delivery's event again as a new delivery (the event's next
// generation) with the same body and event id (receivers de-duplicate on it), promptly,
// whatever became of the first. Its subscription must still exist.
func (s *Service) Redeliver(ctx context.Context, actor tickets.Actor, id int64) (*Delivery, error) {
	if err := tickets.RequireAdmin(actor); err != nil {
		return nil, err
	}
	var row *deliveryRow
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		old, err := s.loadDelivery(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := loadSubscription(ctx, tx, old.SubscriptionID, true); err != nil {
			return err
		}
		var gen int
		if err := tx.NewSelect().Model((*deliveryRow)(nil)).ColumnExpr("MAX(generation)").
			Where("subscription_id = ? AND event_id = ?", old.SubscriptionID, old.EventID).Scan(ctx, &gen); err != nil {
			return fmt.Errorf("find the generation of webhook delivery %d: %w", id, err)
		}
		now := s.svc.Now()
		row = &deliveryRow{SubscriptionID: old.SubscriptionID, EventID: old.EventID, Generation: gen + 1, Event: old.Event,
			TicketID: old.TicketID, State: DeliveryPending, NextAttemptAt: &now, Body: old.Body, CreatedAt: now}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			if tickets.IsUniqueViolation(err) {
				return tickets.Conflictf("webhook delivery %d is being redelivered already; try again", id)
			}
			return fmt.Errorf("store redelivery of webhook delivery %d: %w", id, err)
		}
		return tx.Record(ctx, tx.Event(actor, "webhook", old.SubscriptionID, "webhook.redelivered",
			map[string]any{"delivery_id": id, "redelivery_id": row.ID, "event_id": EventID(old.EventID)}))
	})
	if err != nil {
		return nil, err
	}
	return row.delivery(), nil
}

// Ping sends a "ping" delivery to a subscription, to check its receiver; it goes even
// while the subscription is paused. Its event id is its own audit event's (webhook.pinged).
func (s *Service) Ping(ctx context.Context, actor tickets.Actor, id int64) (*Delivery, error) {
	if err := tickets.RequireAdmin(actor); err != nil {
		return nil, err
	}
	var row *deliveryRow
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		sub, err := loadSubscription(ctx, tx, id, true)
		if err != nil {
			return err
		}
		ev := tx.Event(actor, "webhook", id, "webhook.pinged", map[string]any{})
		if err := tx.Record(ctx, ev); err != nil {
			return err
		}
		body, err := encode(Payload{ID: EventID(ev.ID), Type: EventPing, CreatedAt: ev.CreatedAt.UTC(),
			Data: map[string]any{"subscription_id": sub.ID, "name": sub.Name}})
		if err != nil {
			return err
		}
		now := s.svc.Now()
		row = &deliveryRow{SubscriptionID: id, EventID: ev.ID, Generation: 1, Event: EventPing, State: DeliveryPending,
			NextAttemptAt: &now, Body: body, CreatedAt: now}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return fmt.Errorf("store webhook ping: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return row.delivery(), nil
}
