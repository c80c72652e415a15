-- Indexes for a large desk, found by the load harness (go run ./app bench) on a million
-- tickets.

-- A team's unassigned queue is ordered by (next_due_at, id): with id in the index a page is
-- the first rows of one range, where (team_id, next_due_at) made PostgreSQL read and sort
-- every unassigned ticket of the team (14,000 rows for 50).
DROP INDEX tickets_unassigned_idx;
--bun:split
CREATE INDEX tickets_unassigned_queue_idx ON tickets (team_id, next_due_at, id) WHERE assignee_id IS NULL;
--bun:split

-- Open tickets with a missed deadline, counted for monitoring (hotline_open_breached_tickets)
-- without reading the rest of the desk.
CREATE INDEX tickets_open_breached_idx ON tickets (id)
    WHERE status IN ('new', 'open', 'pending') AND (first_response_breached_at IS NOT NULL OR resolution_breached_at IS NOT NULL);
