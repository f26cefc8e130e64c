-- 0005_identity_throttle (PostgreSQL): failed-login counters per account and
-- per client address. See migrations/sqlite/0005_identity_throttle.sql.
--
-- Not a tenant table (the key is known before any tenant is), so its policy
-- admits only platform-scope transactions: no tenant-scoped request can
-- read or change it.

CREATE TABLE login_throttle (
    key           text NOT NULL PRIMARY KEY CHECK (key <> ''),
    failures      bigint NOT NULL DEFAULT 0,
    window_start  bigint NOT NULL,
    locked_until  bigint NOT NULL DEFAULT 0
);

ALTER TABLE login_throttle ENABLE ROW LEVEL SECURITY;
ALTER TABLE login_throttle FORCE ROW LEVEL SECURITY;
CREATE POLICY platform_only ON login_throttle
    USING (current_setting('app.platform', true) = 'on')
    WITH CHECK (current_setting('app.platform', true) = 'on');
