-- 0001_init (SQLite): tenants, users and the transactional outbox.
--
-- The same logical schema as migrations/postgres/0001_init.sql. Ids are
-- UUIDv7 strings; times are RFC 3339 UTC text in one fixed format
-- (YYYY-MM-DDTHH:MM:SS.sssZ, so text order is time order); booleans are
-- 0/1; JSON arrays are stored as text. Tables are STRICT so a value of the
-- wrong type fails here as it would on PostgreSQL. Every tenant table has
-- tenant_id first in its primary key (a sharding key later) and refuses an
-- empty tenant_id. There is no row-level security on SQLite: repositories
-- filter on tenant_id in every statement.

CREATE TABLE tenants (
    id          TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    plan        TEXT NOT NULL DEFAULT 'free',
    domains     TEXT NOT NULL DEFAULT '[]',
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE TABLE users (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) CHECK (tenant_id <> ''),
    id             TEXT NOT NULL,
    email          TEXT NOT NULL,
    password_hash  TEXT,
    roles          TEXT NOT NULL DEFAULT '[]',
    active         INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    verified       INTEGER NOT NULL DEFAULT 0 CHECK (verified IN (0, 1)),
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, email)
) STRICT;

-- Domain events written in the same transaction as the change they
-- describe. seq is the delivery order: SQLite has one writer at a time, so
-- it is also commit order. AUTOINCREMENT (only possible on the INTEGER
-- PRIMARY KEY) guarantees seq is never reused after old rows are pruned, so
-- a consumer's stored offset stays meaningful; (tenant_id, id) is the
-- logical key, as on PostgreSQL.
CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       TEXT NOT NULL CHECK (tenant_id <> ''),
    id              TEXT NOT NULL,
    aggregate_type  TEXT NOT NULL,
    aggregate_id    TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL DEFAULT '{}',
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (tenant_id, id)
) STRICT;
