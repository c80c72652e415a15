-- Sessions an agent can see and end: what device and address signed in, and when the
-- session was last used (stamped at most once a minute).
ALTER TABLE api_tokens ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE api_tokens ADD COLUMN client_ip TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE api_tokens ADD COLUMN last_seen_at TIMESTAMPTZ;
--bun:split
-- A local account's TOTP second factor (RFC 6238). secret is sealed with the server's key
-- when one is configured. It takes effect once confirmed_at is set; last_step is the last
-- 30-second step a code was accepted for: a guarded update refuses a code of that step or
-- an earlier one, so a code is used once.
CREATE TABLE agent_totp (
    agent_id BIGINT PRIMARY KEY REFERENCES agents (id),
    secret TEXT NOT NULL,
    confirmed_at TIMESTAMPTZ,
    last_step BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL
);
--bun:split
-- Recovery codes, SHA-256 hashed; used_at set by a guarded update, so each works once.
CREATE TABLE totp_recovery_codes (
    id {{.PK}},
    agent_id BIGINT NOT NULL REFERENCES agents (id),
    code_hash TEXT NOT NULL,
    used_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE UNIQUE INDEX totp_recovery_codes_key ON totp_recovery_codes (agent_id, code_hash);
--bun:split
-- Half-finished sign-ins: a password checked and a second factor awaited (kind totp), or a
-- single sign-on round trip begun (kind oidc, data holding its nonce, PKCE verifier and
-- destination). Short-lived, claimed once by setting used_at.
CREATE TABLE sign_in_pending (
    id {{.PK}},
    token_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    agent_id BIGINT REFERENCES agents (id),
    data TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);
--bun:split
CREATE UNIQUE INDEX sign_in_pending_hash_key ON sign_in_pending (token_hash);
