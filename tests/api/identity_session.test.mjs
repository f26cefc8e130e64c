// identity_session.test.mjs — login, refresh rotation, reuse detection,
// logout (also across two processes on one database), the request hook's
// refusals (revoked token, suspended tenant, deactivated user), /me,
// /verify, SSO platforms, and the demo seed.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { call, login, makeTenant, makeUser, session, uniq } from './identity_helpers.mjs';
import { assertError } from './lib/expect.mjs';
import { superAdminToken } from './lib/jwt.mjs';
import { isPostgres, startServer, testDb } from './lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv?.stop();
});

test('login returns an access token (1 h) and a refresh token (7 d) with the required claims', async () => {
  const s = await session(srv, ['manager']);
  const r = await login(srv, s.user.email);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.token_type, 'Bearer');
  assert.equal(r.json.expires_in, 3600);
  assert.equal(r.json.refresh_expires_in, 604800);
  assert.match(r.json.refresh_token, /^bzr_[0-9a-f]{64}$/);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const claims = JSON.parse(Buffer.from(r.json.access_token.split('.')[1], 'base64url'));
  for (const k of ['sub', 'tenant_id', 'roles', 'jti', 'iat', 'exp', 'iss', 'aud']) assert.ok(k in claims, `missing ${k}`);
  assert.equal(claims.sub, s.user.id);
  assert.equal(claims.tenant_id, s.tenant.id);
  assert.deepEqual(claims.roles, ['manager']);
  assert.equal(claims.exp - claims.iat, 3600);
  assert.equal(r.json.user.email, s.user.email);
  assert.equal(r.json.user.password_hash, undefined);
});

test('GET /me and /verify describe the caller', async () => {
  const s = await session(srv, ['client']);
  const me = await call(srv, 'GET', '/me', { token: s.access });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json.id, s.user.id);
  assert.equal(me.json.email, s.user.email);
  const v = await call(srv, 'GET', '/verify', { token: s.access });
  assert.equal(v.status, 200, v.text);
  assert.equal(v.json.valid, true);
  assert.equal(v.json.sub, s.user.id);
  assert.equal(v.json.tenant_id, s.tenant.id);
  assert.deepEqual(v.json.roles, ['client']);
  assertError(await call(srv, 'GET', '/me'), 401, 'unauthorized');
});

test('a wrong password and an unknown address get the same 401', async () => {
  const s = await session(srv, ['client']);
  const a = await login(srv, s.user.email, 'not the password at all');
  const b = await login(srv, `nobody-${uniq()}@example.com`, 'not the password at all');
  assertError(a, 401, 'unauthorized');
  assertError(b, 401, 'unauthorized');
  assert.equal(a.json.error.message, b.json.error.message);
});

test('refresh rotates; reusing a rotated refresh token revokes the whole family', async () => {
  const s = await session(srv, ['manager']);
  const r1 = await call(srv, 'POST', '/refresh', { body: { refresh_token: s.refresh } });
  assert.equal(r1.status, 200, r1.text);
  assert.notEqual(r1.json.refresh_token, s.refresh);
  assert.equal((await call(srv, 'GET', '/me', { token: r1.json.access_token })).status, 200);
  // the rotated token comes back: reuse
  assertError(await call(srv, 'POST', '/refresh', { body: { refresh_token: s.refresh } }), 401, 'unauthorized');
  // every token of the family is dead now, access tokens included
  assertError(await call(srv, 'POST', '/refresh', { body: { refresh_token: r1.json.refresh_token } }), 401, 'unauthorized');
  assertError(await call(srv, 'GET', '/me', { token: r1.json.access_token }), 401, 'unauthorized');
  assertError(await call(srv, 'GET', '/me', { token: s.access }), 401, 'unauthorized');
  // another session of the same user is untouched
  const other = await login(srv, s.user.email);
  assert.equal((await call(srv, 'GET', '/me', { token: other.json.access_token })).status, 200);
  // and the reuse is in the audit log
  const admin = await makeUser(srv, s.tenant, ['tenant_admin']);
  const at = (await login(srv, admin.email)).json.access_token;
  const audit = await call(srv, 'GET', '/audit?event=token.reuse', { token: at });
  assert.equal(audit.status, 200, audit.text);
  assert.equal(audit.json.items.length, 1);
  assert.equal(audit.json.items[0].subject_id, s.user.id);
});

test('malformed refresh tokens are 401, a missing one 422', async () => {
  assertError(await call(srv, 'POST', '/refresh', { body: { refresh_token: 'bzr_nope' } }), 401, 'unauthorized');
  assertError(await call(srv, 'POST', '/refresh', { body: { refresh_token: `bzr_${'0'.repeat(64)}` } }), 401, 'unauthorized');
  assertError(await call(srv, 'POST', '/refresh', { body: {} }), 422, 'validation_failed');
});

test('logout is immediately effective for the access token and its refresh token', async () => {
  const s = await session(srv, ['client']);
  const r = await call(srv, 'POST', '/logout', { token: s.access });
  assert.equal(r.status, 204, r.text);
  assertError(await call(srv, 'GET', '/me', { token: s.access }), 401, 'unauthorized');
  assertError(await call(srv, 'POST', '/refresh', { body: { refresh_token: s.refresh } }), 401, 'unauthorized');
});

test('logout in one process is effective in another process sharing the database', async () => {
  const env = testDb() === 'sqlite' ? { BIZOSAAS_DATABASE_URL: `sqlite:${srv.dataDir}/bizosaas.db` } : {};
  const srv2 = await startServer({ env });
  try {
    const s = await session(srv, ['manager']);
    assert.equal((await call(srv2, 'GET', '/me', { token: s.access })).status, 200);
    // the first process has answered /me for this token before (and may
    // answer it again from memory while the database is unchanged)
    for (let i = 0; i < 3; i++) assert.equal((await call(srv, 'GET', '/me', { token: s.access })).status, 200);
    // a profile change made by the other process shows at once
    const renamed = await call(srv2, 'PATCH', '/me', { token: s.access, body: { name: 'Renamed Elsewhere' } });
    assert.equal(renamed.status, 200, renamed.text);
    const me = await call(srv, 'GET', '/me', { token: s.access });
    assert.equal(me.json?.name, 'Renamed Elsewhere', me.text);
    assert.equal((await call(srv2, 'POST', '/logout', { token: s.access })).status, 204);
    assertError(await call(srv, 'GET', '/me', { token: s.access }), 401, 'unauthorized');
    assertError(await call(srv, 'POST', '/refresh', { body: { refresh_token: s.refresh } }), 401, 'unauthorized');
  } finally {
    await srv2.stop();
  }
});

test("a suspended tenant's tokens stop working; reactivated they work again", async () => {
  const s = await session(srv, ['tenant_admin']);
  const sus = await call(srv, 'PATCH', `/tenants/${s.tenant.id}`, { token: superAdminToken(), body: { status: 'suspended' } });
  assert.equal(sus.status, 200, sus.text);
  assertError(await call(srv, 'GET', '/me', { token: s.access }), 401, 'unauthorized');
  assertError(await call(srv, 'POST', '/refresh', { body: { refresh_token: s.refresh } }), 401, 'unauthorized');
  assertError(await login(srv, s.user.email), 401, 'unauthorized');
  await call(srv, 'PATCH', `/tenants/${s.tenant.id}`, { token: superAdminToken(), body: { status: 'active' } });
  assert.equal((await call(srv, 'GET', '/me', { token: s.access })).status, 200);
  const audit = await call(srv, 'GET', '/audit?limit=200', { token: s.access });
  const events = audit.json.items.map((e) => e.event);
  assert.ok(events.includes('tenant.suspended') && events.includes('tenant.activated'), events.join());
});

test("a deactivated user's tokens stop working and login is refused", async () => {
  const s = await session(srv, ['manager']);
  const admin = await makeUser(srv, s.tenant, ['tenant_admin']);
  const at = (await login(srv, admin.email)).json.access_token;
  const d = await call(srv, 'PATCH', `/users/${s.user.id}`, { token: at, body: { active: false } });
  assert.equal(d.status, 200, d.text);
  assert.equal(d.json.active, false);
  assertError(await call(srv, 'GET', '/me', { token: s.access }), 401, 'unauthorized');
  assertError(await call(srv, 'POST', '/refresh', { body: { refresh_token: s.refresh } }), 401, 'unauthorized');
  assertError(await login(srv, s.user.email), 401, 'unauthorized');
});

test('the same e-mail in two tenants: login picks the tenant by password or by slug', async () => {
  const t1 = await makeTenant(srv);
  const t2 = await makeTenant(srv);
  const email = `twice-${uniq()}@example.com`;
  await makeUser(srv, t1, ['client'], { email, password: 'first tenant password 1' });
  await makeUser(srv, t2, ['manager'], { email, password: 'second tenant password 2' });
  const a = await login(srv, email, 'second tenant password 2');
  assert.equal(a.status, 200, a.text);
  assert.equal(a.json.user.tenant_id, t2.id);
  const b = await login(srv, email, 'first tenant password 1', { tenant: t1.slug });
  assert.equal(b.json.user.tenant_id, t1.id);
  assertError(await login(srv, email, 'first tenant password 1', { tenant: t2.slug }), 401, 'unauthorized');
});

test('SSO platforms list every portal with accessible per role', async () => {
  const c = await session(srv, ['client']);
  const r = await call(srv, 'GET', '/sso/platforms', { token: c.access });
  assert.equal(r.status, 200, r.text);
  const by = Object.fromEntries(r.json.platforms.map((p) => [p.id, p.accessible]));
  for (const id of ['marketing', 'storefront', 'client-portal', 'admin', 'directory', 'trading', 'gaming']) assert.ok(id in by, id);
  assert.equal(by['client-portal'], true);
  assert.equal(by.admin, false);
  assert.equal(by.trading, false);
  const a = await session(srv, ['tenant_admin']);
  const ra = await call(srv, 'GET', '/sso/platforms', { token: a.access });
  assert.equal(ra.json.platforms.find((p) => p.id === 'admin').accessible, false); // super_admin only
  assertError(await call(srv, 'GET', '/sso/platforms'), 401, 'unauthorized');
});

test('the embedded default seeds a demo tenant; its logins go to a 0600 file, never the log', { skip: isPostgres() }, async () => {
  const file = path.join(srv.dataDir, 'demo-logins.txt');
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const logins = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [email, role, password] = l.trim().split(/\s+/);
      return { email, role, password };
    });
  assert.deepEqual(logins.map((l) => l.role).sort(), ['client', 'manager', 'super_admin', 'tenant_admin']);
  for (const l of logins) {
    const r = await login(srv, l.email, l.password);
    assert.equal(r.status, 200, r.text);
    // secrets never appear in logs
    assert.ok(!srv.stderr().some((line) => line.includes(l.password)), 'a demo password is in the log');
  }
  assert.equal(srv.stderr().filter((l) => l.includes('demo-logins.txt')).length, 1);
  // a second process on the same database does not seed again
  const before = fs.readFileSync(file, 'utf8');
  const srv2 = await startServer({ env: { BIZOSAAS_DATABASE_URL: `sqlite:${srv.dataDir}/bizosaas.db` } });
  await srv2.stop();
  assert.equal(srv2.stderr().filter((l) => l.includes('demo tenant seeded')).length, 0);
  assert.equal(fs.readFileSync(file, 'utf8'), before);
});
