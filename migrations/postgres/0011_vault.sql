-- 0011_vault (PostgreSQL): the secrets vault (KV v2 style).
--
-- vault_master holds one row: a key-check value (an AEAD encryption of a
-- constant under the master key), written with the first data key, so a
-- process started with another master key refuses to start instead of
-- failing on every read. vault_keys holds each storage tenant's data key,
-- wrapped (AEAD) by the master key; platform paths use the storage tenant
-- '_platform'. vault_secrets is the metadata of a path, vault_versions its
-- versions; ciphertext is base64(nonce || XChaCha20-Poly1305 ciphertext) and
-- is NULL once a version is destroyed. No column ever holds a plaintext
-- value or an unwrapped key.
--
-- vault_audit is a hash chain per storage tenant: each entry carries the
-- hash of the previous one; vault_audit_head records the newest (seq, hash)
-- and is locked by every append, which also anchors the chain's end so a
-- removed last entry is detected. Entries never contain values.

CREATE TABLE vault_master (
    id          integer NOT NULL PRIMARY KEY CHECK (id = 1),
    key_check   text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    rotated_at  timestamptz
);

CREATE TABLE vault_keys (
    tenant_id   text NOT NULL PRIMARY KEY CHECK (tenant_id <> ''),
    wrapped     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    rotated_at  timestamptz
);

CREATE TABLE vault_secrets (
    tenant_id        text NOT NULL CHECK (tenant_id <> ''),
    path             text NOT NULL,
    current_version  integer NOT NULL DEFAULT 0,
    max_versions     integer NOT NULL DEFAULT 0,
    cas_required     boolean NOT NULL DEFAULT false,
    created_at       text NOT NULL,
    updated_at       text NOT NULL,
    PRIMARY KEY (tenant_id, path)
);

CREATE TABLE vault_versions (
    tenant_id   text NOT NULL CHECK (tenant_id <> ''),
    path        text NOT NULL,
    version     integer NOT NULL,
    ciphertext  text,
    created_at  text NOT NULL,
    deleted_at  text,
    destroyed   boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, path, version)
);

CREATE TABLE vault_audit (
    tenant_id  text NOT NULL CHECK (tenant_id <> ''),
    seq        bigint NOT NULL,
    at         text NOT NULL,
    actor      text NOT NULL,
    operation  text NOT NULL,
    path       text NOT NULL,
    result     text NOT NULL,
    prev_hash  text NOT NULL,
    hash       text NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);

CREATE TABLE vault_audit_head (
    tenant_id  text NOT NULL PRIMARY KEY CHECK (tenant_id <> ''),
    seq        bigint NOT NULL,
    hash       text NOT NULL
);

ALTER TABLE vault_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE vault_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON vault_keys
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE vault_secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE vault_secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON vault_secrets
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE vault_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE vault_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON vault_versions
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE vault_audit ENABLE ROW LEVEL SECURITY;
ALTER TABLE vault_audit FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON vault_audit
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE vault_audit_head ENABLE ROW LEVEL SECURITY;
ALTER TABLE vault_audit_head FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON vault_audit_head
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');
