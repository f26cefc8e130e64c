-- 0003_identity_users (SQLite): user profile, two-factor and login columns;
-- the tenant-wide two-factor requirement; e-mail lookup for login.
--
-- Login happens before the tenant is known, so users are found by e-mail
-- across tenants (in a platform-scope transaction): users_email makes that
-- an index lookup. Same logical schema as migrations/postgres/0003.

ALTER TABLE users ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enabled INTEGER NOT NULL DEFAULT 0 CHECK (totp_enabled IN (0, 1));
ALTER TABLE users ADD COLUMN last_login_at TEXT;
CREATE INDEX users_email ON users (email);

ALTER TABLE tenants ADD COLUMN require_mfa INTEGER NOT NULL DEFAULT 0 CHECK (require_mfa IN (0, 1));
