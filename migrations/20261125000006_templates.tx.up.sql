-- Admins' wording of the messages Hotline sends customers by itself.
CREATE TABLE message_templates (
    key TEXT NOT NULL,
    locale TEXT NOT NULL CHECK (locale IN ('zh', 'en')),
    body TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (key, locale)
);
