-- Progress stages (issue 22): per category, the ordered steps a customer is told of
-- (received, documents complete, under investigation, ...), worded in Chinese and English,
-- each with an optional deadline in working days counted from when a ticket enters it.
CREATE TABLE stages (
    id {{.PK}},
    category TEXT NOT NULL,
    position INTEGER NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    due_days INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE UNIQUE INDEX stages_category_position_idx ON stages (category, position);
--bun:split
-- Where each ticket stands now: one row a ticket, with the stage's deadline, its warning and
-- its breach, each stamped once by the sweep's guarded UPDATE (… AND breached_at IS NULL).
CREATE TABLE ticket_stages (
    ticket_id BIGINT PRIMARY KEY REFERENCES tickets (id),
    stage_id BIGINT NOT NULL REFERENCES stages (id),
    entered_at TIMESTAMPTZ NOT NULL,
    due_at TIMESTAMPTZ,
    warn_at TIMESTAMPTZ,
    warned_at TIMESTAMPTZ,
    breached_at TIMESTAMPTZ
);
--bun:split
CREATE INDEX ticket_stages_due_idx ON ticket_stages (due_at);
--bun:split
CREATE INDEX ticket_stages_warn_idx ON ticket_stages (warn_at);
--bun:split
-- Every stage a ticket entered, with when: the status page's dates of the stages passed.
CREATE TABLE stage_history (
    id {{.PK}},
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    stage_id BIGINT NOT NULL REFERENCES stages (id),
    entered_at TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE INDEX stage_history_ticket_idx ON stage_history (ticket_id, id);
--bun:split
-- What a ticket waiting on the customer's documents still lacks: free-text items the agent
-- listed, ticked off by the agent as they arrive.
CREATE TABLE document_requests (
    id {{.PK}},
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    item TEXT NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL,
    received_at TIMESTAMPTZ
);
--bun:split
CREATE INDEX document_requests_ticket_idx ON document_requests (ticket_id, id);
--bun:split
INSERT INTO stages (category, position, name_zh, name_en, due_days, created_at, updated_at) VALUES
    ('claims', 1, '报案已受理', 'Claim received', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('claims', 2, '材料已收齐', 'Documents complete', 3, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('claims', 3, '正在调查', 'Under investigation', 3, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('claims', 4, '进入审核', 'In review', 7, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('claims', 5, '即将赔付', 'Payment scheduled', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('claims', 6, '已赔付', 'Paid', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);
