-- Files may live in an object store (FILES_URL) instead of the database: a row then keeps
-- the key (sha256), size, type and where the bytes are; content is NULL when the store has
-- them. touched_at is when a writer last meant to use the file: the orphan sweep deletes a
-- row no attachment refers to only once it is older than a grace period, so a message
-- still being written never loses its file. Existing rows are in the database.
{{if .PG}}
ALTER TABLE attachment_files ALTER COLUMN content DROP NOT NULL;
--bun:split
ALTER TABLE attachment_files ADD COLUMN size_bytes BIGINT NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE attachment_files ADD COLUMN content_type TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE attachment_files ADD COLUMN location TEXT NOT NULL DEFAULT 'db';
--bun:split
ALTER TABLE attachment_files ADD COLUMN touched_at TIMESTAMPTZ NOT NULL DEFAULT '1970-01-01 00:00:00+00:00';
--bun:split
UPDATE attachment_files SET size_bytes = length(content),
    content_type = COALESCE((SELECT a.content_type FROM attachments a WHERE a.file_sha256 = attachment_files.sha256 LIMIT 1), '');
--bun:split
ALTER TABLE attachment_files ADD CONSTRAINT attachment_files_location_check
    CHECK ((location = 'db' AND content IS NOT NULL) OR (location = 'store' AND content IS NULL));
{{else}}
CREATE TABLE attachment_files_new (
    sha256 TEXT PRIMARY KEY,
    content {{.Bytes}},
    size_bytes BIGINT NOT NULL DEFAULT 0,
    content_type TEXT NOT NULL DEFAULT '',
    location TEXT NOT NULL DEFAULT 'db',
    touched_at TIMESTAMPTZ NOT NULL DEFAULT '1970-01-01 00:00:00+00:00',
    CHECK ((location = 'db' AND content IS NOT NULL) OR (location = 'store' AND content IS NULL))
);
--bun:split
INSERT INTO attachment_files_new (sha256, content, size_bytes, content_type, location, touched_at)
SELECT sha256, content, length(content),
    COALESCE((SELECT a.content_type FROM attachments a WHERE a.file_sha256 = attachment_files.sha256 LIMIT 1), ''),
    'db', '1970-01-01 00:00:00+00:00'
FROM attachment_files;
--bun:split
DROP TABLE attachment_files;
--bun:split
ALTER TABLE attachment_files_new RENAME TO attachment_files;
{{end}}
--bun:split
-- The sweep reads the oldest untouched rows first; the migration command the rows still
-- in the database.
CREATE INDEX attachment_files_touched_idx ON attachment_files (touched_at);
--bun:split
CREATE INDEX attachment_files_db_idx ON attachment_files (sha256) WHERE location = 'db';
