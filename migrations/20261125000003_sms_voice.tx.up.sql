-- SMS and voice: opt-outs, and settings Hotline generates for itself.

-- Set when the customer texted STOP (退订); no SMS goes to this number until START.
ALTER TABLE customer_identities ADD COLUMN opted_out_at TIMESTAMPTZ;
--bun:split

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
--bun:split

-- Outbound messages waiting for their provider, found by the reconciler when a send task
-- was lost.
CREATE INDEX messages_undelivered_idx ON messages (created_at) WHERE direction = 'outbound' AND delivery_status = 'queued';
