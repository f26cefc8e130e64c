-- 0006_identity_apikeys (SQLite): API keys for machine clients.
--
-- The key ("bzk_" + 40 hex characters, 160 random bits) is shown once; only
-- its SHA-256 is stored (key_hash): a key has full entropy, so a fast hash
-- is as safe as a slow one and keeps the per-request lookup cheap. prefix
-- (the first characters) lets people recognise a key in lists. role is the
-- role the key acts with; scopes (a JSON array of permission patterns)
-- narrows it further. Times in comparisons are unix seconds.

CREATE TABLE api_keys (
    tenant_id     TEXT NOT NULL CHECK (tenant_id <> ''),
    id            TEXT NOT NULL,
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    key_hash      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    scopes        TEXT NOT NULL DEFAULT '["*"]',
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_used_at  INTEGER,
    revoked_at    INTEGER,
    PRIMARY KEY (tenant_id, id)
) STRICT;
