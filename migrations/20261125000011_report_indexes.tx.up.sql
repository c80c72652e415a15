-- The supervisor's reports count deadlines by how they ended (see tickets/reports.go). Each
-- outcome is read through an index holding only rows with that outcome, so a report costs
-- what its period holds, not the whole desk. None of these indexes has an entry for a
-- ticket or complaint when it is created (its answer, breach and decision are still
-- NULL), so intake pays nothing for them; a row enters one when its outcome is recorded.
-- Deadlines still running are read through the sweep's own indexes
-- (tickets_first_response_due_idx, tickets_resolution_due_idx, complaints_deadline_idx).

-- First responses in time, by when they were sent.
CREATE INDEX tickets_first_response_met_idx ON tickets (first_responded_at)
    WHERE first_responded_at <= first_response_due_at;
--bun:split
-- First responses missed and recorded (answered late, or breached unanswered), by deadline.
CREATE INDEX tickets_first_response_missed_idx ON tickets (first_response_due_at)
    WHERE first_responded_at > first_response_due_at OR (first_responded_at IS NULL AND first_response_breached_at IS NOT NULL);
--bun:split
-- Resolutions in time, by when they came.
CREATE INDEX tickets_resolution_met_idx ON tickets (resolved_at)
    WHERE resolved_at <= resolution_due_at;
--bun:split
-- Resolutions missed and recorded (resolved late, or breached unresolved), by deadline.
CREATE INDEX tickets_resolution_missed_idx ON tickets (resolution_due_at)
    WHERE resolved_at > resolution_due_at OR (resolved_at IS NULL AND resolution_breached_at IS NOT NULL);
--bun:split
-- Complaint decisions in time, by when they were made.
CREATE INDEX complaints_decision_met_idx ON complaints (decided_at)
    WHERE decided_at <= deadline_at;
--bun:split
-- Complaint decisions missed and recorded (decided late, or breached undecided), by deadline.
CREATE INDEX complaints_decision_missed_idx ON complaints (deadline_at)
    WHERE decided_at > deadline_at OR (decided_at IS NULL AND breached_at IS NOT NULL);
--bun:split

-- Who last changed the channel settings is the newest of their change events: this index
-- holds only those (a handful among millions of audit events), so other events cost
-- nothing to write and the lookup reads no other event.
CREATE INDEX events_channel_settings_idx ON events (id) WHERE kind = 'channel.settings_changed';
