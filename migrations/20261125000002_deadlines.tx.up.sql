-- Routing, SLA deadlines, the working-day calendar and complaint handling.

-- Exceptions to "Monday to Friday": statutory holidays and make-up working days.
CREATE TABLE calendar_days (
    day TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday', 'normal')),
    name TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL CHECK (source IN ('seed', 'admin')),
    updated_at TIMESTAMPTZ NOT NULL
);
--bun:split

CREATE TABLE sla_policies (
    id {{.PK}},
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT '',
    priority TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT '',
    first_response_seconds BIGINT NOT NULL CHECK (first_response_seconds > 0),
    resolution_seconds BIGINT NOT NULL CHECK (resolution_seconds > 0),
    working_time BOOLEAN NOT NULL DEFAULT FALSE,
    first_response_breach TEXT NOT NULL CHECK (first_response_breach IN ('warn', 'escalate', 'complaint')),
    resolution_breach TEXT NOT NULL CHECK (resolution_breach IN ('warn', 'escalate', 'complaint')),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
--bun:split

CREATE TABLE routing_rules (
    id {{.PK}},
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT '',
    keywords TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT '',
    priority TEXT NOT NULL DEFAULT '',
    customer_tag TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT '',
    team_id BIGINT NOT NULL REFERENCES teams (id),
    set_priority TEXT NOT NULL DEFAULT '',
    set_category TEXT NOT NULL DEFAULT '',
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
--bun:split

ALTER TABLE customers ADD COLUMN tags TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE agents ADD COLUMN online BOOLEAN NOT NULL DEFAULT FALSE;
--bun:split
ALTER TABLE agents ADD COLUMN last_assigned_at TIMESTAMPTZ;
--bun:split

ALTER TABLE tickets ADD COLUMN policy_id BIGINT;
--bun:split
-- When the current SLA window began: creation, or the last reopening.
ALTER TABLE tickets ADD COLUMN sla_started_at TIMESTAMPTZ;
--bun:split
-- Set while the ticket waits on the customer; the resolution clock is stopped.
ALTER TABLE tickets ADD COLUMN paused_at TIMESTAMPTZ;
--bun:split
ALTER TABLE tickets ADD COLUMN first_response_warned INTEGER NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE tickets ADD COLUMN first_response_warn_at TIMESTAMPTZ;
--bun:split
ALTER TABLE tickets ADD COLUMN first_response_breached_at TIMESTAMPTZ;
--bun:split
ALTER TABLE tickets ADD COLUMN resolution_warned INTEGER NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE tickets ADD COLUMN resolution_warn_at TIMESTAMPTZ;
--bun:split
ALTER TABLE tickets ADD COLUMN resolution_breached_at TIMESTAMPTZ;
--bun:split
UPDATE tickets SET sla_started_at = created_at;
--bun:split

-- Each stage waits on one small partial index, so the sweep that finds what is due costs
-- nothing while nothing is.
CREATE INDEX tickets_first_response_due_idx ON tickets (first_response_due_at)
    WHERE first_responded_at IS NULL AND first_response_breached_at IS NULL AND status IN ('new', 'open', 'pending');
--bun:split
CREATE INDEX tickets_resolution_due_idx ON tickets (resolution_due_at)
    WHERE resolved_at IS NULL AND resolution_breached_at IS NULL AND paused_at IS NULL;
--bun:split
CREATE INDEX tickets_first_response_warn_idx ON tickets (first_response_warn_at) WHERE first_response_warn_at IS NOT NULL;
--bun:split
CREATE INDEX tickets_resolution_warn_idx ON tickets (resolution_warn_at) WHERE resolution_warn_at IS NOT NULL;
--bun:split
CREATE INDEX tickets_assignee_status_idx ON tickets (assignee_id, status);
--bun:split
CREATE INDEX tickets_unassigned_idx ON tickets (team_id, next_due_at) WHERE assignee_id IS NULL;
--bun:split

-- Every pause of the resolution clock, so the deadline's move is explained by the record.
CREATE TABLE ticket_pauses (
    id {{.PK}},
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    started_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ
);
--bun:split
CREATE INDEX ticket_pauses_ticket_idx ON ticket_pauses (ticket_id, started_at);
--bun:split

CREATE TABLE complaints (
    id {{.PK}},
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    source TEXT NOT NULL CHECK (source IN ('sla_breach', 'customer', 'ivr', 'api', 'regulator')),
    summary TEXT NOT NULL DEFAULT '',
    received_at TIMESTAMPTZ NOT NULL,
    due_at TIMESTAMPTZ NOT NULL,
    extended_until TIMESTAMPTZ,
    extension_reason TEXT NOT NULL DEFAULT '',
    -- The deadline in force (due_at, or extended_until once extended) and its warning.
    deadline_at TIMESTAMPTZ NOT NULL,
    warn_at TIMESTAMPTZ,
    officer_id BIGINT REFERENCES agents (id),
    status TEXT NOT NULL CHECK (status IN ('received', 'investigating', 'decided', 'closed')),
    decision TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL DEFAULT '',
    warned_at TIMESTAMPTZ,
    breached_at TIMESTAMPTZ,
    decided_at TIMESTAMPTZ,
    closed_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE INDEX complaints_ticket_idx ON complaints (ticket_id);
--bun:split
CREATE INDEX complaints_officer_idx ON complaints (officer_id, status);
--bun:split
CREATE INDEX complaints_deadline_idx ON complaints (deadline_at) WHERE breached_at IS NULL AND decided_at IS NULL;
--bun:split
CREATE INDEX complaints_warn_idx ON complaints (warn_at) WHERE warn_at IS NOT NULL;
--bun:split

-- What staff were told, written in the transaction that decided to tell them; delivery
-- (Slack, email) reads from here.
CREATE TABLE notices (
    id {{.PK}},
    agent_id BIGINT NOT NULL REFERENCES agents (id),
    kind TEXT NOT NULL,
    ticket_id BIGINT REFERENCES tickets (id),
    complaint_id BIGINT REFERENCES complaints (id),
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    read_at TIMESTAMPTZ
);
--bun:split
CREATE INDEX notices_agent_idx ON notices (agent_id, id);
