-- 0004_identity_tokens (SQLite): refresh tokens and revoked access tokens.
--
-- A refresh token is an opaque random string; only its SHA-256 is stored
-- (token_hash). Every login starts a family; each refresh marks the
-- presented token used (used_at) and issues the next one in the same
-- family. Presenting a used token again is reuse: the whole family is
-- revoked. access_jti links each refresh token to the access token issued
-- with it, so logout and reuse can also revoke that access token.
-- revoked_tokens holds access-token ids (jti) refused until they expire;
-- the request hook checks it on every authenticated request. It also
-- records other one-time ids ("totp:<user>:<step>": a TOTP code already
-- used to log in) until they expire. Times used in comparisons are unix
-- seconds.

CREATE TABLE refresh_tokens (
    tenant_id   TEXT NOT NULL CHECK (tenant_id <> ''),
    id          TEXT NOT NULL,
    family_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    access_jti  TEXT NOT NULL,
    access_exp  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    revoked_at  INTEGER,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (tenant_id, id)
) STRICT;
CREATE INDEX refresh_tokens_family ON refresh_tokens (tenant_id, family_id);
CREATE INDEX refresh_tokens_access ON refresh_tokens (tenant_id, access_jti);
CREATE INDEX refresh_tokens_user ON refresh_tokens (tenant_id, user_id);

CREATE TABLE revoked_tokens (
    tenant_id   TEXT NOT NULL CHECK (tenant_id <> ''),
    jti         TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, jti)
) STRICT;
