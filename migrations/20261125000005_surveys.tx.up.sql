-- After care: a satisfaction survey (CSAT) when a ticket is resolved, and follow-up calls
-- (回访) the same day, after a week and after a month.

-- One survey per ticket. agent_id and team_id are who owned the ticket when it was
-- resolved, the figures the CSAT report groups by. Only a SHA-256 hash of the email link's
-- token is kept.
CREATE TABLE surveys (
    id {{.PK}},
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    agent_id BIGINT REFERENCES agents (id),
    team_id BIGINT REFERENCES teams (id),
    channel TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    message_id BIGINT REFERENCES messages (id),
    sent_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ NOT NULL,
    score INTEGER CHECK (score BETWEEN 1 AND 5),
    comment TEXT NOT NULL DEFAULT '',
    answered_at TIMESTAMPTZ,
    answered_via TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE UNIQUE INDEX surveys_ticket_key ON surveys (ticket_id);
--bun:split
CREATE UNIQUE INDEX surveys_token_key ON surveys (token_hash);
--bun:split
CREATE INDEX surveys_open_idx ON surveys (customer_id, expires_at) WHERE answered_at IS NULL;
--bun:split
CREATE INDEX surveys_answered_idx ON surveys (answered_at) WHERE answered_at IS NOT NULL;
--bun:split

-- Follow-up calls. At most one live (open or done) task per ticket and offset; a reopened
-- ticket's open tasks are cancelled and stay as history.
CREATE TABLE followups (
    id {{.PK}},
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    offset_seconds BIGINT NOT NULL CHECK (offset_seconds >= 0),
    team_id BIGINT REFERENCES teams (id),
    assignee_id BIGINT REFERENCES agents (id),
    status TEXT NOT NULL CHECK (status IN ('open', 'done', 'cancelled')),
    due_at TIMESTAMPTZ NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    completed_at TIMESTAMPTZ,
    completed_by BIGINT REFERENCES agents (id),
    cancelled_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE UNIQUE INDEX followups_ticket_offset_key ON followups (ticket_id, offset_seconds) WHERE status <> 'cancelled';
--bun:split
CREATE INDEX followups_assignee_due_idx ON followups (assignee_id, status, due_at);
--bun:split
CREATE INDEX followups_due_idx ON followups (status, due_at);
