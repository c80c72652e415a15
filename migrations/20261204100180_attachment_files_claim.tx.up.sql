-- The orphan sweep deletes a file's object outside any transaction: it first claims the row
-- (claimed_at: when), then deletes the object, then deletes the row if it still carries its
-- claim. A writer meeting a claimed row waits for the claim to end (row deleted or released)
-- before it puts the bytes, and takes back a claim older than a lease (a sweep that died).
-- NULL: no sweep holds the row.
ALTER TABLE attachment_files ADD COLUMN claimed_at TIMESTAMPTZ;
