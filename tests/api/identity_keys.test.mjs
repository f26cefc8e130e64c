// identity_keys.test.mjs — API keys (shown once, hashed, scoped, revocable,
// last-used time), the audit log (tenant_admin: own tenant; super_admin:
// all), TOTP two-factor (enrolment, login with a code or a recovery code,
// the tenant's requirement).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { call, login, makeUser, PASSWORD, session, totp } from './identity_helpers.mjs';
import { assertError } from './lib/expect.mjs';
import { superAdminToken } from './lib/jwt.mjs';
import { request, startServer } from './lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv?.stop();
});

test('API keys: created once by tenant_admin, used as Bearer bzk_…, revoked → 401', async () => {
  const admin = await session(srv, ['tenant_admin']);
  const c = await call(srv, 'POST', '/api-keys', { token: admin.access, body: { name: 'ci bot', role: 'manager' } });
  assert.equal(c.status, 201, c.text);
  assert.match(c.json.key, /^bzk_[0-9a-f]{40}$/);
  assert.deepEqual(c.json.scopes, ['*']);
  assert.equal(c.json.key.slice(0, 12), c.json.prefix);
  const key = c.json.key;

  const me = await call(srv, 'GET', '/me', { token: key });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json.credential, 'api_key');
  assert.equal(me.json.tenant_id, admin.tenant.id);
  assert.deepEqual(me.json.roles, ['manager']);
  // the key acts with its role: a manager may not list users
  assertError(await call(srv, 'GET', '/users', { token: key }), 403, 'forbidden');

  const list = await call(srv, 'GET', '/api-keys', { token: admin.access });
  assert.equal(list.status, 200, list.text);
  const row = list.json.items.find((k) => k.id === c.json.id);
  assert.equal(row.key, undefined, 'the key is never shown again');
  assert.ok(!list.text.includes(key));
  assert.notEqual(row.last_used_at, null);
  assert.equal(row.active, true);

  const d = await call(srv, 'DELETE', `/api-keys/${c.json.id}`, { token: admin.access });
  assert.equal(d.status, 204, d.text);
  assertError(await call(srv, 'GET', '/me', { token: key }), 401, 'unauthorized');
  assertError(await call(srv, 'DELETE', `/api-keys/${c.json.id}`, { token: admin.access }), 404, 'not_found');
  assertError(await call(srv, 'GET', '/me', { token: `bzk_${'0'.repeat(40)}` }), 401, 'unauthorized');

  const audit = await call(srv, 'GET', `/audit?subject_id=${c.json.id}`, { token: admin.access });
  assert.deepEqual(audit.json.items.map((e) => e.event).sort(), ['apikey.created', 'apikey.revoked']);
  assert.ok(!audit.text.includes(key));
});

test('API key scopes narrow the role; keys cannot exceed their creator', async () => {
  const admin = await session(srv, ['tenant_admin']);
  const c = await call(srv, 'POST', '/api-keys', { token: admin.access, body: { name: 'reader', role: 'tenant_admin', scopes: ['users.view'] } });
  assert.equal(c.status, 201, c.text);
  assert.equal((await call(srv, 'GET', '/users', { token: c.json.key })).status, 200);
  assertError(await call(srv, 'POST', '/users', { token: c.json.key, body: { email: 'x@example.com' } }), 403, 'forbidden');
  assertError(await call(srv, 'GET', '/api-keys', { token: c.json.key }), 403, 'forbidden');
  for (const body of [{ name: 'x', role: 'super_admin' }, { name: 'x', scopes: [] }, { name: 'x', scopes: ['bad scope'] }, { name: 'x', scopes: ['a*'] }, { name: '' }, { role: 'client' }]) {
    const r = await call(srv, 'POST', '/api-keys', { token: admin.access, body });
    assert.ok(r.status === 422 || r.status === 403, `${JSON.stringify(body)}: ${r.status}`);
  }
  const m = await session(srv, ['manager'], admin.tenant);
  assertError(await call(srv, 'POST', '/api-keys', { token: m.access, body: { name: 'mine' } }), 403, 'forbidden');
  // a suspended tenant's keys stop working
  await call(srv, 'PATCH', `/tenants/${admin.tenant.id}`, { token: superAdminToken(), body: { status: 'suspended' } });
  assertError(await call(srv, 'GET', '/users', { token: c.json.key }), 401, 'unauthorized');
  await call(srv, 'PATCH', `/tenants/${admin.tenant.id}`, { token: superAdminToken(), body: { status: 'active' } });
  assert.equal((await call(srv, 'GET', '/users', { token: c.json.key })).status, 200);
});

test('audit log: tenant_admin sees only their tenant; super_admin sees all and filters', async () => {
  const a = await session(srv, ['tenant_admin']);
  const b = await session(srv, ['tenant_admin']);
  const ra = await call(srv, 'GET', '/audit?event=login.success', { token: a.access });
  assert.equal(ra.status, 200, ra.text);
  assert.ok(ra.json.items.length >= 1);
  assert.ok(ra.json.items.every((e) => e.tenant_id === a.tenant.id));
  for (const e of ra.json.items) for (const k of ['id', 'event', 'actor_id', 'subject_id', 'ip', 'details', 'created_at']) assert.ok(k in e, k);
  const sa = await call(srv, 'GET', `/audit?tenant_id=${b.tenant.id}`, { token: superAdminToken() });
  assert.equal(sa.status, 200, sa.text);
  assert.ok(sa.json.items.length >= 1 && sa.json.items.every((e) => e.tenant_id === b.tenant.id));
  const all = await call(srv, 'GET', '/audit?limit=200', { token: superAdminToken() });
  const tenants = new Set(all.json.items.map((e) => e.tenant_id));
  assert.ok(tenants.has(a.tenant.id) && tenants.has(b.tenant.id));
  // paging: newest first, cursor continues
  const p1 = await call(srv, 'GET', '/audit?limit=1', { token: a.access });
  assert.equal(p1.json.items.length, 1);
  assert.ok(p1.json.next_cursor);
  const p2 = await call(srv, 'GET', `/audit?limit=1&cursor=${p1.json.next_cursor}`, { token: a.access });
  assert.ok(p2.json.items[0].id < p1.json.items[0].id);
  // managers and clients may not read it
  const m = await session(srv, ['manager'], a.tenant);
  assertError(await call(srv, 'GET', '/audit', { token: m.access }), 403, 'forbidden');
});

test('TOTP: enrol, confirm, then login needs a code; recovery codes work once', async () => {
  const s = await session(srv, ['manager']);
  const e = await call(srv, 'POST', '/mfa/totp/enroll', { token: s.access });
  assert.equal(e.status, 200, e.text);
  assert.match(e.json.secret, /^[A-Z2-7]{32}$/);
  assert.ok(e.json.otpauth_uri.startsWith('otpauth://totp/BizOSaaS:'));
  assert.ok(e.json.otpauth_uri.includes(`secret=${e.json.secret}`));
  assertError(await call(srv, 'POST', '/mfa/totp/confirm', { token: s.access, body: { code: '000000' === totp(e.json.secret) ? '111111' : '000000' } }), 422, 'validation_failed');
  const c = await call(srv, 'POST', '/mfa/totp/confirm', { token: s.access, body: { code: totp(e.json.secret) } });
  assert.equal(c.status, 200, c.text);
  assert.equal(c.json.recovery_codes.length, 10);

  const noCode = await login(srv, s.user.email);
  assertError(noCode, 401, 'unauthorized');
  assert.match(noCode.json.error.message, /totp_code/);
  assertError(await login(srv, s.user.email, PASSWORD, { totp_code: '12345' }), 401, 'unauthorized');
  const code = totp(e.json.secret);
  const ok = await login(srv, s.user.email, PASSWORD, { totp_code: code });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.user.totp_enabled, true);
  // a code logs in once: replaying it fails (RFC 6238 §5.2)
  const replay = await login(srv, s.user.email, PASSWORD, { totp_code: code });
  assertError(replay, 401, 'unauthorized');
  assert.match(replay.json.error.message, /already used/);
  // a wrong password with a right code is still a failure
  assertError(await login(srv, s.user.email, 'wrong password here', { totp_code: totp(e.json.secret, Date.now() + 30000) }), 401, 'unauthorized');

  const rc = c.json.recovery_codes[0];
  assert.equal((await login(srv, s.user.email, PASSWORD, { recovery_code: rc.toUpperCase() })).status, 200);
  assertError(await login(srv, s.user.email, PASSWORD, { recovery_code: rc }), 401, 'unauthorized');

  const d = await call(srv, 'POST', '/mfa/totp/disable', { token: ok.json.access_token, body: { code: totp(e.json.secret) } });
  assert.equal(d.status, 200, d.text);
  assert.equal((await login(srv, s.user.email)).status, 200);
});

test('a tenant_admin can require two-factor for the tenant', async () => {
  const admin = await session(srv, ['tenant_admin']);
  const u = await makeUser(srv, admin.tenant, ['client']);
  const r = await call(srv, 'PUT', '/tenant/settings', { token: admin.access, body: { require_mfa: true } });
  assert.equal(r.status, 200, r.text);
  const l = await login(srv, u.email);
  assert.equal(l.status, 200, l.text);
  assert.equal(l.json.mfa_enrollment_required, true);
  // until enrolled, only enrolment, /me, /verify and logout are open
  const at = l.json.access_token;
  assertError(await call(srv, 'GET', '/sso/platforms', { token: at }), 403, 'forbidden');
  assert.equal((await call(srv, 'GET', '/me', { token: at })).status, 200);
  const e = await call(srv, 'POST', '/mfa/totp/enroll', { token: at });
  assert.equal(e.status, 200, e.text);
  assert.equal((await call(srv, 'POST', '/mfa/totp/confirm', { token: at, body: { code: totp(e.json.secret) } })).status, 200);
  assert.equal((await call(srv, 'GET', '/sso/platforms', { token: at })).status, 200);
  assertError(await login(srv, u.email), 401, 'unauthorized');
  const l2 = await login(srv, u.email, PASSWORD, { totp_code: totp(e.json.secret) });
  assert.equal(l2.status, 200, l2.text);
  assert.equal(l2.json.mfa_enrollment_required, false);
  const c = await session(srv, ['client'], admin.tenant);
  assertError(await call(srv, 'PUT', '/tenant/settings', { token: c.access, body: { require_mfa: false } }), 403, 'forbidden');
});

test('JWKS is published (empty without an ES256 key)', async () => {
  const r = await request(srv, 'GET', '/.well-known/jwks.json');
  assert.equal(r.status, 200, r.text);
  assert.ok(Array.isArray(r.json.keys));
});
