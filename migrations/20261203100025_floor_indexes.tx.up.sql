-- The supervisors' live floor (tickets/reports/floor.go) reads what is open now: the
-- tickets nobody has answered yet, and the complaints not yet decided. Both are a small
-- part of the tables, so each gets a partial index holding only them.
CREATE INDEX tickets_waiting_idx ON tickets (created_at)
    WHERE first_responded_at IS NULL AND status IN ('new', 'open');
--bun:split
CREATE INDEX complaints_open_deadline_idx ON complaints (deadline_at)
    WHERE status IN ('received', 'investigating');
