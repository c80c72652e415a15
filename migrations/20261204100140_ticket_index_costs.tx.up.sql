-- Every index on tickets is written with each new ticket (or each change of an indexed
-- column), so each must serve a query the product runs; migrations.TicketIndexes names it,
-- and docs/benchmarks.md ("What the tickets table's indexes cost") shows the plans.
--
-- tickets_ended_idx served no query: retention reads the messages, attachments and
-- customers not yet erased by their own partial indexes (messages_unerased_idx, ...) and
-- checks each one's ticket by primary key.
DROP INDEX tickets_ended_idx;
--bun:split
-- tickets_resolution_met_idx held a subset of tickets_resolved_idx's rows on the same
-- column: one index serves both, the deadline beside the time resolved, so that the in-time
-- count of a period's resolutions still reads the index alone.
DROP INDEX tickets_resolution_met_idx;
--bun:split
DROP INDEX tickets_resolved_idx;
--bun:split
CREATE INDEX tickets_resolved_idx ON tickets (resolved_at, resolution_due_at) WHERE resolved_at IS NOT NULL;
--bun:split
-- An agent's load (routing, the team report) counts their open tickets. The index held
-- every ticket, closed ones and unassigned new ones included, so every ticket intake opened
-- paid for it; it now holds only what the count reads.
DROP INDEX tickets_assignee_status_idx;
--bun:split
-- (status, which the count names, is kept beside the agent so SQLite reads the index alone.)
CREATE INDEX tickets_assignee_load_idx ON tickets (assignee_id, status)
    WHERE assignee_id IS NOT NULL AND status IN ('new', 'open', 'pending');
