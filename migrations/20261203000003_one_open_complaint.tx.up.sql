-- A ticket has at most one open complaint (received or investigating). The unique partial
-- index at the end holds the rule: every opener inserts with ON CONFLICT DO NOTHING against
-- it and takes the complaint already there (tickets/complaints.go).
--
-- Before this index, openers racing on PostgreSQL could leave a ticket with several open
-- complaints. Those duplicates are resolved here, deterministically: the oldest open
-- complaint of each ticket (lowest id) stays open; every later one is closed as its
-- duplicate (decided and closed now, outcome `duplicate`, no warning left to give), with a
-- status-change event on the ticket's timeline naming the complaint kept. Its decision time
-- is set so that no deadline count or sweep takes it for one still waiting.

-- The events first, while the duplicates are still open and so found.
INSERT INTO events (entity, entity_id, kind, actor_kind, actor, data, created_at)
SELECT 'ticket', d.ticket_id, 'complaint.status_changed', 'system', 'system',
    '{"complaint":"' ||
        CASE WHEN d.id < 10 THEN 'CP-00000' WHEN d.id < 100 THEN 'CP-0000' WHEN d.id < 1000 THEN 'CP-000'
             WHEN d.id < 10000 THEN 'CP-00' WHEN d.id < 100000 THEN 'CP-0' ELSE 'CP-' END || d.id ||
    '","from":"' || d.status || '","to":"closed","reason":"duplicate of ' ||
        CASE WHEN d.kept < 10 THEN 'CP-00000' WHEN d.kept < 100 THEN 'CP-0000' WHEN d.kept < 1000 THEN 'CP-000'
             WHEN d.kept < 10000 THEN 'CP-00' WHEN d.kept < 100000 THEN 'CP-0' ELSE 'CP-' END || d.kept ||
    ', the ticket''s open complaint"}',
    CURRENT_TIMESTAMP
FROM (
    SELECT c.id, c.ticket_id, c.status,
        (SELECT MIN(k.id) FROM complaints AS k WHERE k.ticket_id = c.ticket_id AND k.status IN ('received', 'investigating')) AS kept
    FROM complaints AS c
    WHERE c.status IN ('received', 'investigating')
) AS d
WHERE d.id > d.kept
ORDER BY d.id;
--bun:split
UPDATE complaints
SET status = 'closed',
    outcome = 'duplicate',
    decision = 'Closed as a duplicate: this ticket already had an open complaint.',
    decided_at = CURRENT_TIMESTAMP,
    closed_at = CURRENT_TIMESTAMP,
    warn_at = NULL,
    updated_at = CURRENT_TIMESTAMP
WHERE status IN ('received', 'investigating')
    AND EXISTS (SELECT 1 FROM complaints AS k
        WHERE k.ticket_id = complaints.ticket_id AND k.status IN ('received', 'investigating') AND k.id < complaints.id);
--bun:split
CREATE UNIQUE INDEX complaints_one_open_idx ON complaints (ticket_id) WHERE status IN ('received', 'investigating');
