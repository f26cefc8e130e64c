-- 0005_identity_throttle (SQLite): failed-login counters per account and
-- per client address.
--
-- Not a tenant table: the key is "email:<address>" or "ip:<address>", known
-- before any tenant is. Keeping it in the database makes lockout hold
-- across every process sharing it. A key counts failures in a window
-- starting at window_start (unix seconds); locked_until > now means
-- refused. Rows are reset on success or by an administrator's unlock.

CREATE TABLE login_throttle (
    key           TEXT NOT NULL PRIMARY KEY CHECK (key <> ''),
    failures      INTEGER NOT NULL DEFAULT 0,
    window_start  INTEGER NOT NULL,
    locked_until  INTEGER NOT NULL DEFAULT 0
) STRICT;
