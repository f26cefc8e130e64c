-- 0009_identity_mfa (PostgreSQL): two-factor recovery codes. See
-- migrations/sqlite/0009_identity_mfa.sql; row-level security as in 0001.

CREATE TABLE recovery_codes (
    tenant_id   text NOT NULL CHECK (tenant_id <> ''),
    user_id     text NOT NULL,
    code_hash   text NOT NULL,
    used_at     bigint,
    PRIMARY KEY (tenant_id, user_id, code_hash)
);

ALTER TABLE recovery_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE recovery_codes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON recovery_codes
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');
