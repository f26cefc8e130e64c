-- 0007_identity_audit (SQLite): the security audit log.
--
-- One row per security event (login success/failure, lockout, token reuse,
-- role change, key creation/revocation, ...). id is a UUIDv7, so id order is
-- time order and pages by id. details is a JSON object that never holds a
-- secret (no passwords, tokens, keys or codes).

CREATE TABLE audit_log (
    tenant_id   TEXT NOT NULL CHECK (tenant_id <> ''),
    id          TEXT NOT NULL,
    event       TEXT NOT NULL,
    actor_id    TEXT,
    subject_id  TEXT,
    ip          TEXT,
    details     TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (tenant_id, id)
) STRICT;
CREATE INDEX audit_log_event ON audit_log (tenant_id, event, id);
