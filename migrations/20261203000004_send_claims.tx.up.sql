-- Outgoing messages are claimed before their provider is called (see tickets/delivery.go):
-- the claim's token and how long it holds. Only the holder calls the provider and records
-- the outcome; a worker that dies mid-send leaves a claim that lapses, and the message is
-- sent again after it.
ALTER TABLE messages ADD COLUMN send_claim TEXT;
--bun:split
ALTER TABLE messages ADD COLUMN send_claimed_until TIMESTAMPTZ;
--bun:split
-- When the message is to be sent: the end of quiet hours for a held notice, or when the
-- reconciler last queued it again. The reconciler looks at a queued message only a while
-- after this (or after created_at when it is unset).
ALTER TABLE messages ADD COLUMN send_not_before TIMESTAMPTZ;
--bun:split
-- The reconciler takes the longest-waiting queued messages first, by this index.
CREATE INDEX messages_resend_idx ON messages ((COALESCE(send_not_before, created_at)), id)
    WHERE direction = 'outbound' AND delivery_status = 'queued';
--bun:split
-- It replaces the index of queued messages by creation time, which nothing reads now.
DROP INDEX messages_undelivered_idx;
