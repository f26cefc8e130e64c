-- 0008_identity_mail (SQLite): outgoing mail and single-use user tokens.
--
-- mail_outbox is written in the same transaction as the change that sends
-- the mail (a verification after sign-up, a reset link); a sender delivers
-- it later. user_tokens are e-mail verification, password reset and
-- invitation tokens: single use (used_at), expiring (expires_at, unix
-- seconds) and stored only as SHA-256 (token_hash). An invitation has no
-- user yet: it carries the invited email and role.

CREATE TABLE mail_outbox (
    tenant_id   TEXT NOT NULL CHECK (tenant_id <> ''),
    id          TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    sent_at     INTEGER,
    PRIMARY KEY (tenant_id, id)
) STRICT;
CREATE INDEX mail_outbox_status ON mail_outbox (status, id);

CREATE TABLE user_tokens (
    tenant_id   TEXT NOT NULL CHECK (tenant_id <> ''),
    id          TEXT NOT NULL,
    purpose     TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password', 'invite')),
    user_id     TEXT,
    email       TEXT NOT NULL,
    role        TEXT,
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (tenant_id, id)
) STRICT;
