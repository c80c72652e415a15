-- The files customers send by email are kept, so agents can open them from the ticket.
-- Each file is stored once by its SHA-256, however many messages carry it.
CREATE TABLE attachment_files (
    sha256 TEXT PRIMARY KEY,
    content {{.Bytes}} NOT NULL
);
--bun:split
ALTER TABLE attachments ADD COLUMN file_sha256 TEXT;
