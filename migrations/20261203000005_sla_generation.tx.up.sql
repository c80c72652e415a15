-- Re-applying SLA policies to open tickets must miss none. Every edit of the policies bumps
-- the one generation in sla_state (in the edit's own transaction), and every ticket keeps
-- the generation its deadlines were worked out under. An open ticket with an older one is
-- stale: re-applies and the reconciler take stale tickets until none is left, so a ticket
-- that was busy (locked, or written by a process with older rules) is re-timed later.
CREATE TABLE sla_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
--bun:split
INSERT INTO sla_state (id, generation) VALUES (1, 0);
--bun:split
ALTER TABLE tickets ADD COLUMN sla_generation BIGINT NOT NULL DEFAULT 0;
--bun:split
-- Finding the stale open tickets is a range scan of this small index, so the reconciler
-- pays nothing for the check while every open ticket is up to date.
CREATE INDEX tickets_sla_stale_idx ON tickets (sla_generation) WHERE status IN ('new', 'open', 'pending');
