-- 0009_identity_mfa (SQLite): two-factor recovery codes.
--
-- Ten codes are issued when TOTP is confirmed; each is stored as SHA-256
-- (the codes are random, 50 bits each, and attempts are throttled with the
-- login) and can be used once (used_at, unix seconds).

CREATE TABLE recovery_codes (
    tenant_id   TEXT NOT NULL CHECK (tenant_id <> ''),
    user_id     TEXT NOT NULL,
    code_hash   TEXT NOT NULL,
    used_at     INTEGER,
    PRIMARY KEY (tenant_id, user_id, code_hash)
) STRICT;
