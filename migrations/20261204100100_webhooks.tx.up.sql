-- Outbound webhooks (tickets/webhooks): the admins' subscriptions, one delivery per
-- (subscription, audit event, generation), and each delivery's attempts, kept a week.

-- A subscription's secret is sealed with HOTLINE_SECRET_KEY (tickets.Sealer); during a
-- rotation the previous one signs too until previous_secret_until. events is the wire
-- names, space-separated. after_event_id: the end of the audit trail when it was created
-- (it receives only what happens after). failures counts consecutive failed attempts since
-- failing_since; a subscription paused "failing" is paused by a guarded update, once.
-- deleted_at: deleted subscriptions are kept for their deliveries' sake, never listed.
CREATE TABLE webhook_subscriptions (
    id {{.PK}},
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_until TIMESTAMPTZ,
    state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused')),
    paused_reason TEXT NOT NULL DEFAULT '' CHECK (paused_reason IN ('', 'admin', 'failing')),
    paused_at TIMESTAMPTZ,
    failures INTEGER NOT NULL DEFAULT 0,
    failing_since TIMESTAMPTZ,
    last_success_at TIMESTAMPTZ,
    last_failure_at TIMESTAMPTZ,
    after_event_id BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ
);
--bun:split
-- One delivery of an audit event (event_id) to a subscription; a redelivery is the next
-- generation of the same event. ticket_id has no reference: an erased ticket's deliveries
-- stay readable until they expire. claimed_until: the claim of the worker sending it.
CREATE TABLE webhook_deliveries (
    id {{.PK}},
    subscription_id BIGINT NOT NULL REFERENCES webhook_subscriptions (id),
    event_id BIGINT NOT NULL,
    generation INTEGER NOT NULL DEFAULT 1,
    event TEXT NOT NULL,
    ticket_id BIGINT,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivering', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ,
    claimed_until TIMESTAMPTZ,
    first_attempt_at TIMESTAMPTZ,
    last_status INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    delivered_at TIMESTAMPTZ
);
--bun:split
CREATE UNIQUE INDEX webhook_deliveries_event_key ON webhook_deliveries (subscription_id, event_id, generation);
--bun:split
-- The sweep's due deliveries, and the order check (earlier undelivered of a ticket).
CREATE INDEX webhook_deliveries_open_idx ON webhook_deliveries (subscription_id, ticket_id, event_id) WHERE state IN ('pending', 'delivering');
--bun:split
CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created_at);
--bun:split
CREATE TABLE webhook_attempts (
    id {{.PK}},
    delivery_id BIGINT NOT NULL REFERENCES webhook_deliveries (id),
    at TIMESTAMPTZ NOT NULL,
    duration_ms BIGINT NOT NULL,
    status INTEGER NOT NULL DEFAULT 0,
    response_body TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT ''
);
--bun:split
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id);
--bun:split
-- Where the deliveries start reading the audit trail (see 20261203000006).
INSERT INTO settings (key, value, updated_at)
SELECT 'webhooks.after_event.start', CAST(COALESCE(MAX(id), 0) AS TEXT), CURRENT_TIMESTAMP FROM events WHERE true
ON CONFLICT (key) DO NOTHING;
