-- Nonces of signed webhooks seen within their replay window (see tickets/nonces.go). A
-- WeChat plaintext push is signed over its timestamp and nonce but not its body; the
-- first body posted under a nonce claims it, in every process at once through the
-- unique key, and another body under the same nonce is refused. Rows older than the
-- window are deleted now and then by the claims themselves.
CREATE TABLE webhook_nonces (
    provider TEXT NOT NULL,
    nonce TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    seen_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (provider, nonce)
);
--bun:split
CREATE INDEX webhook_nonces_seen_at_idx ON webhook_nonces (seen_at);
