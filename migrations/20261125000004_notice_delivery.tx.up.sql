-- Slack delivery of staff notices, and the team-channel announcements Slack adds.

-- Where a notice stands on Slack: pending → sending (claimed by one worker) → sent, or
-- skipped (no Slack configured) or failed (Slack refused it for good, with the reason).
ALTER TABLE notices ADD COLUMN slack_status TEXT NOT NULL DEFAULT 'pending';
--bun:split
ALTER TABLE notices ADD COLUMN slack_error TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE notices ADD COLUMN slack_attempts INTEGER NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE notices ADD COLUMN slack_claimed_at TIMESTAMPTZ;
--bun:split
-- The conversation and timestamp of the posted message (Slack's message id).
ALTER TABLE notices ADD COLUMN slack_channel TEXT;
--bun:split
ALTER TABLE notices ADD COLUMN slack_ts TEXT;
--bun:split
ALTER TABLE notices ADD COLUMN delivered_at TIMESTAMPTZ;
--bun:split
ALTER TABLE notices ADD COLUMN acknowledged_at TIMESTAMPTZ;
--bun:split
ALTER TABLE notices ADD COLUMN acknowledged_by BIGINT REFERENCES agents (id);
--bun:split
-- Notices that existed before Slack delivery were read in the API; they are not sent now.
UPDATE notices SET slack_status = 'skipped', slack_error = 'created before Slack delivery existed';
--bun:split
CREATE INDEX notices_slack_pending_idx ON notices (id) WHERE slack_status IN ('pending', 'sending');
--bun:split

-- A new high or urgent ticket, told to its team's channel: one row per audit event.
CREATE TABLE slack_announcements (
    id {{.PK}},
    event_id BIGINT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    team_id BIGINT, -- no reference: a team with no tickets left may be deleted
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    slack_status TEXT NOT NULL DEFAULT 'pending',
    slack_error TEXT NOT NULL DEFAULT '',
    slack_attempts INTEGER NOT NULL DEFAULT 0,
    slack_claimed_at TIMESTAMPTZ,
    slack_channel TEXT,
    slack_ts TEXT,
    delivered_at TIMESTAMPTZ,
    acknowledged_at TIMESTAMPTZ,
    acknowledged_by BIGINT REFERENCES agents (id)
);
--bun:split
CREATE INDEX slack_announcements_pending_idx ON slack_announcements (id) WHERE slack_status IN ('pending', 'sending');
--bun:split

-- The audit event a notice was written from, when it was: reading the trail again (to
-- catch transactions that committed after later ones) never writes a notice twice.
ALTER TABLE notices ADD COLUMN source_event_id BIGINT;
--bun:split
CREATE UNIQUE INDEX notices_source_event_key ON notices (source_event_id);
