-- 0001_init (PostgreSQL): tenants, users and the transactional outbox.
--
-- The same logical schema as migrations/sqlite/0001_init.sql. Ids are UUIDv7
-- strings (text, as on SQLite); times are timestamptz; JSON arrays are text.
-- Every tenant table has tenant_id first in its primary key (the
-- distribution column of a sharding extension later) and refuses an empty
-- tenant_id.
--
-- Row-level security: each tenant table is ENABLEd and FORCEd (so it also
-- binds the owning role, which is the role the application connects as) and
-- has one policy that lets a row through only when its tenant is the
-- transaction's app.current_tenant_id, or when the transaction runs in
-- platform scope (app.platform = 'on'). Both settings are set per
-- transaction by db_begin()/db_begin_platform() with set_config(..., true).
-- Once a custom setting has been set in a session it reads as '' (not NULL)
-- when unset, so the policy compares against NULLIF(..., ''): no tenant
-- means no rows, never "rows whose tenant_id is empty" (the CHECKs also
-- guarantee there are none). No views: a view would run with its owner's
-- rights and bypass the policies unless created WITH (security_invoker).

CREATE TABLE tenants (
    id          text NOT NULL PRIMARY KEY CHECK (id <> ''),
    name        text NOT NULL,
    slug        text NOT NULL UNIQUE,
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    plan        text NOT NULL DEFAULT 'free',
    domains     text NOT NULL DEFAULT '[]',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    tenant_id      text NOT NULL REFERENCES tenants (id) CHECK (tenant_id <> ''),
    id             text NOT NULL,
    email          text NOT NULL,
    password_hash  text,
    roles          text NOT NULL DEFAULT '[]',
    active         boolean NOT NULL DEFAULT true,
    verified       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, email)
);

-- Domain events written in the same transaction as the change they
-- describe. seq orders delivery. Unlike SQLite, concurrent transactions can
-- commit out of seq order, so a consumer that tracks "last seq seen" must
-- tolerate a lower seq appearing late (e.g. only read rows older than a
-- short grace period, or re-scan a window).
CREATE TABLE outbox (
    tenant_id       text NOT NULL CHECK (tenant_id <> ''),
    id              text NOT NULL,
    seq             bigserial NOT NULL UNIQUE,
    aggregate_type  text NOT NULL,
    aggregate_id    text NOT NULL,
    event_type      text NOT NULL,
    payload         text NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants
    USING (id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON outbox
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');
