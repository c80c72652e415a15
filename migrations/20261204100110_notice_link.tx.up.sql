-- A staff notice about something that is not a ticket or a complaint names the console
-- page it is about (a path on this site, such as /admin/webhooks/3 for a webhook paused
-- after repeated failures); '' for none.
ALTER TABLE notices ADD COLUMN link TEXT NOT NULL DEFAULT '';
