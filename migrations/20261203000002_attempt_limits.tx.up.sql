-- Failed attempts at the doors people guess at (sign-in, the public status page), counted
-- here so that every process shares one count (see tickets/attempts.go). One row per door
-- and key; the key is a hash (of an email, an address, a reference), never the value.
-- Times are Unix milliseconds, so that the one-statement updates can do arithmetic on them
-- the same way on PostgreSQL and SQLite.
CREATE TABLE attempt_limits (
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    failures INTEGER NOT NULL,
    strikes INTEGER NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (scope, subject)
);
--bun:split
-- Pruning deletes rows that no longer mean anything, oldest first, by this index.
CREATE INDEX attempt_limits_expires_idx ON attempt_limits (expires_at);
