-- 0004_identity_tokens (PostgreSQL): refresh tokens and revoked access
-- tokens. See migrations/sqlite/0004_identity_tokens.sql for the design;
-- row-level security as in 0001.

CREATE TABLE refresh_tokens (
    tenant_id   text NOT NULL CHECK (tenant_id <> ''),
    id          text NOT NULL,
    family_id   text NOT NULL,
    user_id     text NOT NULL,
    token_hash  text NOT NULL UNIQUE,
    access_jti  text NOT NULL,
    access_exp  bigint NOT NULL,
    expires_at  bigint NOT NULL,
    used_at     bigint,
    revoked_at  bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (tenant_id, family_id);
CREATE INDEX refresh_tokens_access ON refresh_tokens (tenant_id, access_jti);
CREATE INDEX refresh_tokens_user ON refresh_tokens (tenant_id, user_id);

CREATE TABLE revoked_tokens (
    tenant_id   text NOT NULL CHECK (tenant_id <> ''),
    jti         text NOT NULL,
    expires_at  bigint NOT NULL,
    PRIMARY KEY (tenant_id, jti)
);

ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON refresh_tokens
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE revoked_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE revoked_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON revoked_tokens
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');
