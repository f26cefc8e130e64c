-- 0006_identity_apikeys (PostgreSQL): API keys for machine clients. See
-- migrations/sqlite/0006_identity_apikeys.sql; row-level security as in 0001.

CREATE TABLE api_keys (
    tenant_id     text NOT NULL CHECK (tenant_id <> ''),
    id            text NOT NULL,
    name          text NOT NULL,
    prefix        text NOT NULL,
    key_hash      text NOT NULL UNIQUE,
    role          text NOT NULL,
    scopes        text NOT NULL DEFAULT '["*"]',
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  bigint,
    revoked_at    bigint,
    PRIMARY KEY (tenant_id, id)
);

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_keys
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');
