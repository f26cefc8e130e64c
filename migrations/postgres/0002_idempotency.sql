-- 0002_idempotency (PostgreSQL): stored responses for Idempotency-Key.
--
-- A row is inserted in state 'running' when a request with a new key starts
-- and completed to 'done' with the response; a retry with the same key and
-- the same request_hash replays it, a different hash is rejected. Bodies
-- are JSON, stored as text (a bytea column would need binary parameters,
-- and text-format bytea input would reinterpret backslashes). Row-level
-- security as in 0001.

CREATE TABLE idempotency_keys (
    tenant_id         text NOT NULL CHECK (tenant_id <> ''),
    key               text NOT NULL,
    request_hash      text NOT NULL,
    state             text NOT NULL CHECK (state IN ('running', 'done')),
    status            integer,
    response_headers  text,
    response_body     text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON idempotency_keys
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');
