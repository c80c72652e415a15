-- Canned replies: titled texts agents insert into a reply and edit before sending, with
-- variables (customer_name, ticket_ref, ... in double braces) filled from the ticket. A reply is
-- global (team_id NULL, admins write it) or one team's (its supervisors write it), and has
-- a body per language: the composer uses the customer's, or the other when it is empty.
CREATE TABLE canned_replies (
    id {{.PK}},
    team_id BIGINT REFERENCES teams (id),
    title TEXT NOT NULL,
    body_zh TEXT NOT NULL DEFAULT '',
    body_en TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE INDEX canned_replies_team_idx ON canned_replies (team_id);
