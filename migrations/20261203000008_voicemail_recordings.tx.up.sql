-- A file Hotline fetches from its provider with the account's credentials to serve it
-- (provider 'twilio': a call recording), and a voicemail's transcription by Hotline's
-- speech-to-text service: the language to transcribe ('' for none) and whether that is
-- pending, done or failed. A retried transcription adds its text only while pending.
ALTER TABLE attachments ADD COLUMN provider TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE attachments ADD COLUMN transcript_lang TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE attachments ADD COLUMN transcript_state TEXT NOT NULL DEFAULT '';
--bun:split
CREATE INDEX attachments_transcript_pending ON attachments (created_at) WHERE transcript_state = 'pending';
--bun:split
-- Recordings stored before: played through Hotline too.
UPDATE attachments SET provider = 'twilio'
WHERE url LIKE 'https://api.twilio.com/2010-04-01/Accounts/AC%/Recordings/RE%' AND file_sha256 IS NULL;
