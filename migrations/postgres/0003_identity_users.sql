-- 0003_identity_users (PostgreSQL): user profile, two-factor and login
-- columns; the tenant-wide two-factor requirement; e-mail lookup for login.
--
-- Login happens before the tenant is known, so users are found by e-mail
-- across tenants (in a platform-scope transaction; the policies of 0001 are
-- unchanged): users_email makes that an index lookup.

ALTER TABLE users ADD COLUMN name text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_secret text;
ALTER TABLE users ADD COLUMN totp_enabled boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN last_login_at timestamptz;
CREATE INDEX users_email ON users (email);

ALTER TABLE tenants ADD COLUMN require_mfa boolean NOT NULL DEFAULT false;
