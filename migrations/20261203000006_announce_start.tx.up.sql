-- Where staff announcements start reading the audit trail is fixed here, when the schema
-- is created, not when the delivery job first runs: a fresh install (no events yet) starts
-- at 0 and announces its first urgent ticket even if it was created before any worker ran;
-- an existing install that never ran the job starts from now, as before (history is not
-- announced). An install whose job already ran keeps its own start (DO NOTHING).
-- "WHERE true" keeps SQLite from reading ON CONFLICT as part of the SELECT.
INSERT INTO settings (key, value, updated_at)
SELECT 'slack.announce.after_event.start', CAST(COALESCE(MAX(id), 0) AS TEXT), CURRENT_TIMESTAMP FROM events WHERE true
ON CONFLICT (key) DO NOTHING;
