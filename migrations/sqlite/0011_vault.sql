-- 0011_vault (SQLite): the secrets vault (KV v2 style).
--
-- The same logical schema as migrations/postgres/0011_vault.sql (see it
-- for what each table holds); times are fixed-format RFC 3339 text and
-- booleans 0/1. There is no row-level security on SQLite.

CREATE TABLE vault_master (
    id          INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    key_check   TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    rotated_at  TEXT
) STRICT;

CREATE TABLE vault_keys (
    tenant_id   TEXT NOT NULL PRIMARY KEY CHECK (tenant_id <> ''),
    wrapped     TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    rotated_at  TEXT
) STRICT;

CREATE TABLE vault_secrets (
    tenant_id        TEXT NOT NULL CHECK (tenant_id <> ''),
    path             TEXT NOT NULL,
    current_version  INTEGER NOT NULL DEFAULT 0,
    max_versions     INTEGER NOT NULL DEFAULT 0,
    cas_required     INTEGER NOT NULL DEFAULT 0 CHECK (cas_required IN (0, 1)),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, path)
) STRICT;

CREATE TABLE vault_versions (
    tenant_id   TEXT NOT NULL CHECK (tenant_id <> ''),
    path        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    ciphertext  TEXT,
    created_at  TEXT NOT NULL,
    deleted_at  TEXT,
    destroyed   INTEGER NOT NULL DEFAULT 0 CHECK (destroyed IN (0, 1)),
    PRIMARY KEY (tenant_id, path, version)
) STRICT;

CREATE TABLE vault_audit (
    tenant_id  TEXT NOT NULL CHECK (tenant_id <> ''),
    seq        INTEGER NOT NULL,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    operation  TEXT NOT NULL,
    path       TEXT NOT NULL,
    result     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
) STRICT;

CREATE TABLE vault_audit_head (
    tenant_id  TEXT NOT NULL PRIMARY KEY CHECK (tenant_id <> ''),
    seq        INTEGER NOT NULL,
    hash       TEXT NOT NULL
) STRICT;
