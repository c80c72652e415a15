-- Quality reviews (质检): a supervisor scores one resolved ticket's handling by one agent on
-- the admins' rubric. score is the weighted total, 0 to 100, kept beside the per-criterion
-- marks (criteria: JSON) so scorecards average it without reading the rubric. The agent may
-- answer once (answered_at set with the answer, by a guarded update).
CREATE TABLE quality_reviews (
    id {{.PK}},
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    agent_id BIGINT NOT NULL REFERENCES agents (id),
    reviewer_id BIGINT NOT NULL REFERENCES agents (id),
    rubric_id BIGINT,
    score DOUBLE PRECISION NOT NULL,
    criteria TEXT NOT NULL DEFAULT '{}',
    comment TEXT NOT NULL DEFAULT '',
    answer TEXT,
    answered_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
--bun:split
-- One review of a ticket by each reviewer; two reviewers of one ticket are a calibration.
CREATE UNIQUE INDEX quality_reviews_ticket_reviewer_idx ON quality_reviews (ticket_id, reviewer_id);
--bun:split
-- Scorecards average an agent's reviews over a period.
CREATE INDEX quality_reviews_agent_idx ON quality_reviews (agent_id, created_at);
