-- Core desk: teams, agents and their tokens, customers and identities, tickets,
-- messages, attachments and the audit trail.

CREATE TABLE teams (
    id {{.PK}},
    name TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE UNIQUE INDEX teams_name_key ON teams (name);
--bun:split

CREATE TABLE agents (
    id {{.PK}},
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'complaint_officer', 'admin')),
    team_id BIGINT REFERENCES teams (id),
    capacity INTEGER NOT NULL DEFAULT 10 CHECK (capacity >= 0),
    password_hash TEXT NOT NULL,
    locale TEXT NOT NULL DEFAULT 'zh-CN',
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE UNIQUE INDEX agents_email_key ON agents (email);
--bun:split
CREATE INDEX agents_team_idx ON agents (team_id);
--bun:split

-- Bearer tokens are stored as SHA-256 hashes: a leaked table grants nothing.
CREATE TABLE api_tokens (
    id {{.PK}},
    agent_id BIGINT NOT NULL REFERENCES agents (id),
    token_hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
--bun:split
CREATE UNIQUE INDEX api_tokens_hash_key ON api_tokens (token_hash);
--bun:split
CREATE INDEX api_tokens_agent_idx ON api_tokens (agent_id);
--bun:split

CREATE TABLE customers (
    id {{.PK}},
    name TEXT NOT NULL DEFAULT '',
    locale TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
--bun:split

-- One row per way of reaching a customer; a phone number, an email address or a WeChat
-- openid belongs to exactly one customer.
CREATE TABLE customer_identities (
    id {{.PK}},
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    kind TEXT NOT NULL CHECK (kind IN ('phone', 'email', 'wechat')),
    value TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE UNIQUE INDEX customer_identities_kind_value_key ON customer_identities (kind, value);
--bun:split
CREATE INDEX customer_identities_customer_idx ON customer_identities (customer_id);
--bun:split

CREATE TABLE tickets (
    id {{.PK}},
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    channel TEXT NOT NULL,
    subject TEXT NOT NULL,
    category TEXT NOT NULL DEFAULT '',
    priority TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    status TEXT NOT NULL CHECK (status IN ('new', 'open', 'pending', 'resolved', 'closed')),
    team_id BIGINT REFERENCES teams (id),
    assignee_id BIGINT REFERENCES agents (id),
    first_response_due_at TIMESTAMPTZ,
    first_responded_at TIMESTAMPTZ,
    resolution_due_at TIMESTAMPTZ,
    resolved_at TIMESTAMPTZ,
    closed_at TIMESTAMPTZ,
    -- The earliest deadline still open, or far in the future when none is: the queue order,
    -- kept on the row so every queue is one index range scan.
    next_due_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE INDEX tickets_queue_idx ON tickets (next_due_at, id);
--bun:split
CREATE INDEX tickets_assignee_queue_idx ON tickets (assignee_id, next_due_at, id);
--bun:split
CREATE INDEX tickets_team_queue_idx ON tickets (team_id, next_due_at, id);
--bun:split
CREATE INDEX tickets_status_queue_idx ON tickets (status, next_due_at, id);
--bun:split
CREATE INDEX tickets_customer_idx ON tickets (customer_id, id);
--bun:split

CREATE TABLE messages (
    id {{.PK}},
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound', 'note')),
    channel TEXT NOT NULL,
    body TEXT NOT NULL,
    -- The provider's id (Twilio MessageSid, WeChat MsgId, Message-ID): a retried webhook
    -- finds its message here instead of storing it twice.
    provider_message_id TEXT,
    delivery_status TEXT NOT NULL DEFAULT '',
    delivery_error TEXT NOT NULL DEFAULT '',
    author_id BIGINT REFERENCES agents (id),
    created_at TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE UNIQUE INDEX messages_provider_key ON messages (channel, provider_message_id);
--bun:split
CREATE INDEX messages_ticket_idx ON messages (ticket_id, id);
--bun:split

CREATE TABLE attachments (
    id {{.PK}},
    message_id BIGINT NOT NULL REFERENCES messages (id),
    filename TEXT NOT NULL DEFAULT '',
    content_type TEXT NOT NULL DEFAULT '',
    size_bytes BIGINT NOT NULL DEFAULT 0,
    url TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE INDEX attachments_message_idx ON attachments (message_id);
--bun:split

-- Append-only: rows are inserted in the same transaction as the change they describe and
-- never updated or deleted.
CREATE TABLE events (
    id {{.PK}},
    entity TEXT NOT NULL,
    entity_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('agent', 'customer', 'system')),
    actor_id BIGINT,
    actor TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE INDEX events_entity_idx ON events (entity, entity_id, id);
