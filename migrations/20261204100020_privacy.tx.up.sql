-- Retention, legal holds and erasure (tickets/privacy). What retention or an erasure
-- removed is marked on its row (erased_at), so a run repeated, or two runs at once, take
-- each row once: every erasing UPDATE is guarded by erased_at IS NULL.
ALTER TABLE messages ADD COLUMN erased_at TIMESTAMPTZ;
--bun:split
ALTER TABLE attachments ADD COLUMN erased_at TIMESTAMPTZ;
--bun:split
ALTER TABLE customers ADD COLUMN erased_at TIMESTAMPTZ;
--bun:split
-- Retention is counted from a ticket's end (closed or resolved); the run reads the ended
-- tickets in that order.
CREATE INDEX tickets_ended_idx ON tickets (status, closed_at, resolved_at);
--bun:split
-- A retention batch reads what is not erased yet, oldest first: the rows it erased in
-- earlier runs are not read again.
CREATE INDEX messages_unerased_idx ON messages (id) WHERE erased_at IS NULL;
--bun:split
CREATE INDEX attachments_unerased_idx ON attachments (id) WHERE erased_at IS NULL;
--bun:split
CREATE INDEX customers_unerased_idx ON customers (id) WHERE erased_at IS NULL;
--bun:split
-- Files are deleted once no attachment refers to them.
CREATE INDEX attachments_file_idx ON attachments (file_sha256);
--bun:split
-- A legal hold keeps everything of a customer, or of a complaint's ticket, from retention
-- and erasure until it is released. One hold in force per customer or complaint.
CREATE TABLE legal_holds (
    id {{.PK}},
    entity TEXT NOT NULL CHECK (entity IN ('customer', 'complaint')),
    entity_id BIGINT NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    ticket_id BIGINT REFERENCES tickets (id),
    reason TEXT NOT NULL,
    held_by BIGINT NOT NULL REFERENCES agents (id),
    held_at TIMESTAMPTZ NOT NULL,
    released_by BIGINT REFERENCES agents (id),
    released_at TIMESTAMPTZ,
    release_reason TEXT NOT NULL DEFAULT ''
);
--bun:split
CREATE UNIQUE INDEX legal_holds_one_idx ON legal_holds (entity, entity_id) WHERE released_at IS NULL;
--bun:split
CREATE INDEX legal_holds_customer_idx ON legal_holds (customer_id) WHERE released_at IS NULL;
--bun:split
CREATE INDEX legal_holds_ticket_idx ON legal_holds (ticket_id) WHERE released_at IS NULL;
--bun:split
-- One retention run per period (period: its start, RFC 3339, UTC), claimed by inserting
-- the row: processes that wake together run it once. The counts are what it erased.
CREATE TABLE retention_runs (
    id {{.PK}},
    period TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    messages BIGINT NOT NULL DEFAULT 0,
    attachments BIGINT NOT NULL DEFAULT 0,
    recordings BIGINT NOT NULL DEFAULT 0,
    customers BIGINT NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT ''
);
--bun:split
CREATE UNIQUE INDEX retention_runs_period_key ON retention_runs (period);
