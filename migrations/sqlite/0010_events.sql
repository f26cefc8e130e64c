-- 0010_events (SQLite): delivery state of the domain-event dispatcher.
--
-- The same logical schema as migrations/postgres/0010_events.sql. SQLite has
-- one writer at a time, so outbox.seq is already commit order and needs no
-- re-numbering trigger; the dispatcher's delivery transactions are
-- BEGIN IMMEDIATE, which serializes processes sharing the file.

CREATE TABLE ev_subscriptions (
    name             TEXT NOT NULL PRIMARY KEY CHECK (name <> ''),
    last_seq         INTEGER NOT NULL DEFAULT 0,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms  INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    delivered        INTEGER NOT NULL DEFAULT 0,
    updated_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE TABLE ev_dead_letters (
    tenant_id         TEXT NOT NULL CHECK (tenant_id <> ''),
    id                TEXT NOT NULL,
    subscriber        TEXT NOT NULL,
    event_id          TEXT NOT NULL,
    seq               INTEGER NOT NULL,
    aggregate_type    TEXT NOT NULL,
    aggregate_id      TEXT NOT NULL,
    event_type        TEXT NOT NULL,
    payload           TEXT NOT NULL,
    event_created_at  TEXT NOT NULL,
    attempts          INTEGER NOT NULL,
    error             TEXT,
    status            TEXT NOT NULL DEFAULT 'dead' CHECK (status IN ('dead', 'replay', 'replayed')),
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    replayed_at       TEXT,
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE INDEX ev_dead_letters_status ON ev_dead_letters (subscriber, status);
CREATE INDEX outbox_tenant_seq ON outbox (tenant_id, seq);
