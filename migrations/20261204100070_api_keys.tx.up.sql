-- API keys for other systems, apart from people's sign-in tokens. The key is shown once;
-- only the SHA-256 of its secret is kept (the secret is 32 random bytes, so a fast hash
-- suffices). scopes is a space-separated list; last_used_at is written at most once a minute.
CREATE TABLE api_keys (
    id {{.PK}},
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_by BIGINT REFERENCES agents (id),
    created_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
--bun:split
CREATE UNIQUE INDEX api_keys_name_key ON api_keys (name);
--bun:split
-- The audit trail names an API key as the actor of its changes: actor_kind 'apikey'.
{{if .PG}}
ALTER TABLE events DROP CONSTRAINT events_actor_kind_check;
--bun:split
ALTER TABLE events ADD CONSTRAINT events_actor_kind_check CHECK (actor_kind IN ('agent', 'customer', 'system', 'apikey'));
{{else}}
CREATE TABLE events_new (
    id {{.PK}},
    entity TEXT NOT NULL,
    entity_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('agent', 'customer', 'system', 'apikey')),
    actor_id BIGINT,
    actor TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL
);
--bun:split
INSERT INTO events_new (id, entity, entity_id, kind, actor_kind, actor_id, actor, data, created_at)
SELECT id, entity, entity_id, kind, actor_kind, actor_id, actor, data, created_at FROM events;
--bun:split
DROP TABLE events;
--bun:split
ALTER TABLE events_new RENAME TO events;
--bun:split
CREATE INDEX events_entity_idx ON events (entity, entity_id, id);
--bun:split
CREATE INDEX events_channel_settings_idx ON events (id) WHERE kind = 'channel.settings_changed';
{{end}}
