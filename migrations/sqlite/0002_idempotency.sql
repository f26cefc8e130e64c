-- 0002_idempotency (SQLite): stored responses for Idempotency-Key.
--
-- A row is inserted in state 'running' when a request with a new key starts
-- and completed to 'done' with the response; a retry with the same key and
-- the same request_hash replays it, a different hash is rejected. Bodies
-- are JSON text. expires_at uses the fixed RFC 3339 format of 0001 so the
-- cleanup job can compare it as text.

CREATE TABLE idempotency_keys (
    tenant_id         TEXT NOT NULL CHECK (tenant_id <> ''),
    key               TEXT NOT NULL,
    request_hash      TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('running', 'done')),
    status            INTEGER,
    response_headers  TEXT,
    response_body     TEXT,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, key)
) STRICT;

CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
