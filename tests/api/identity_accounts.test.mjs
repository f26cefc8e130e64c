// identity_accounts.test.mjs — sign-up, e-mail verification, password
// reset and change, invitations, through the development mailbox; the
// mailbox's absence outside development; sign-up switched off.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { call, login, makeTenant, makeUser, mailTo, PASSWORD, session, tokenIn, uniq } from './identity_helpers.mjs';
import { assertError } from './lib/expect.mjs';
import { startServer } from './lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer({ env: { BIZOSAAS_ENV: 'development' } });
});
after(async () => {
  await srv?.stop();
});

test('sign-up creates a tenant with the user as tenant_admin and mails a verification token', async () => {
  const email = `Founder-${uniq()}@Example.com`;
  const r = await call(srv, 'POST', '/register', { body: { email, password: PASSWORD, name: 'Ada', tenant_name: 'Ada & Co' } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.user.email, email.toLowerCase());
  assert.deepEqual(r.json.user.roles, ['tenant_admin']);
  assert.equal(r.json.user.verified, false);
  assert.match(r.json.tenant.slug, /^ada-co-[0-9a-f]{6}$/);
  assert.equal(r.json.user.tenant_id, r.json.tenant.id);

  const mail = await mailTo(srv, email.toLowerCase());
  assert.match(mail.subject, /Confirm/);
  const token = tokenIn(mail);
  const v = await call(srv, 'POST', '/verify-email', { body: { token } });
  assert.equal(v.status, 200, v.text);
  // single use
  assertError(await call(srv, 'POST', '/verify-email', { body: { token } }), 422, 'validation_failed');
  const l = await login(srv, email);
  assert.equal(l.status, 200, l.text);
  assert.equal(l.json.user.verified, true);
  assert.equal(l.json.user.name, 'Ada');
  // stored hashed: the token is nowhere in the audit log
  const audit = await call(srv, 'GET', '/audit', { token: l.json.access_token });
  assert.ok(audit.json.items.some((e) => e.event === 'user.email_verified'));
  assert.ok(!audit.text.includes(token));
  assert.ok(!audit.text.includes(PASSWORD));
});

test('an unverified user can ask for a new verification mail', async () => {
  const email = `late-${uniq()}@example.com`;
  await call(srv, 'POST', '/register', { body: { email, password: PASSWORD } });
  const first = tokenIn(await mailTo(srv, email));
  const at = (await login(srv, email)).json.access_token;
  const r = await call(srv, 'POST', '/verify-email/resend', { token: at });
  assert.equal(r.status, 202, r.text);
  const second = tokenIn(await mailTo(srv, email));
  assert.notEqual(first, second);
  assert.equal((await call(srv, 'POST', '/verify-email', { body: { token: second } })).status, 200);
  assertError(await call(srv, 'POST', '/verify-email/resend', { token: at }), 409, 'conflict');
});

test('password reset: mailed token, single use, ends every session, unlocks', async () => {
  const s = await session(srv, ['manager']);
  const f = await call(srv, 'POST', '/password/forgot', { body: { email: s.user.email } });
  assert.equal(f.status, 202);
  const token = tokenIn(await mailTo(srv, s.user.email));
  assertError(await call(srv, 'POST', '/password/reset', { body: { token, password: 'short' } }), 422, 'validation_failed');
  const r = await call(srv, 'POST', '/password/reset', { body: { token, password: 'a brand new passphrase' } });
  assert.equal(r.status, 200, r.text);
  assertError(await call(srv, 'POST', '/password/reset', { body: { token, password: 'yet another passphrase' } }), 422, 'validation_failed');
  assertError(await call(srv, 'GET', '/me', { token: s.access }), 401, 'unauthorized');
  assertError(await call(srv, 'POST', '/refresh', { body: { refresh_token: s.refresh } }), 401, 'unauthorized');
  assertError(await login(srv, s.user.email), 401, 'unauthorized');
  assert.equal((await login(srv, s.user.email, 'a brand new passphrase')).status, 200);
  assertError(await call(srv, 'POST', '/password/reset', { body: { token: 'f'.repeat(64), password: 'whatever passphrase' } }), 422, 'validation_failed');
});

test('password change needs the current password', async () => {
  const s = await session(srv, ['client']);
  assertError(await call(srv, 'POST', '/password/change', { token: s.access, body: { current_password: 'wrong wrong wrong', new_password: 'next passphrase 1' } }), 403, 'forbidden');
  const r = await call(srv, 'POST', '/password/change', { token: s.access, body: { current_password: PASSWORD, new_password: 'next passphrase 1' } });
  assert.equal(r.status, 200, r.text);
  assert.equal((await login(srv, s.user.email, 'next passphrase 1')).status, 200);
});

test('invitations: a tenant_admin invites, the invitee joins with the invited role', async () => {
  const admin = await session(srv, ['tenant_admin']);
  const email = `invitee-${uniq()}@example.com`;
  const inv = await call(srv, 'POST', '/invitations', { token: admin.access, body: { email, role: 'manager' } });
  assert.equal(inv.status, 202, inv.text);
  const token = tokenIn(await mailTo(srv, email));
  assertError(await call(srv, 'POST', '/register', { body: { email: `other-${uniq()}@example.com`, password: PASSWORD, invitation_token: token } }), 422, 'validation_failed');
  const r = await call(srv, 'POST', '/register', { body: { email, password: PASSWORD, invitation_token: token } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.user.tenant_id, admin.tenant.id);
  assert.deepEqual(r.json.user.roles, ['manager']);
  assert.equal(r.json.user.verified, true);
  assert.equal(r.json.tenant, undefined);
  assertError(await call(srv, 'POST', '/register', { body: { email, password: PASSWORD, invitation_token: token } }), 422, 'validation_failed');
  // a manager may not invite
  const m = await login(srv, email);
  assertError(await call(srv, 'POST', '/invitations', { token: m.json.access_token, body: { email: `x-${uniq()}@example.com`, role: 'client' } }), 403, 'forbidden');
});

test('a user created without a password gets a set-password mail', async () => {
  const admin = await session(srv, ['tenant_admin']);
  const email = `nopw-${uniq()}@example.com`;
  const r = await call(srv, 'POST', '/users', { token: admin.access, body: { email, roles: ['client'] } });
  assert.equal(r.status, 201, r.text);
  const token = tokenIn(await mailTo(srv, email));
  assert.equal((await call(srv, 'POST', '/password/reset', { body: { token, password: 'my own passphrase' } })).status, 200);
  assert.equal((await login(srv, email, 'my own passphrase')).status, 200);
});

test('outside development the mailbox does not exist; sign-up can be switched off', async () => {
  const prod = await startServer({ env: { BIZOSAAS_ENV: 'production', BIZOSAAS_SIGNUP: 'false', BIZOSAAS_MASTER_KEY: 'ab'.repeat(32) } });
  try {
    assertError(await call(prod, 'GET', '/dev/mailbox'), 404, 'not_found');
    assertError(await call(prod, 'POST', '/register', { body: { email: `n-${uniq()}@example.com`, password: PASSWORD } }), 403, 'forbidden');
    const t = await makeTenant(prod);
    const u = await makeUser(prod, t, ['client']);
    assert.equal((await login(prod, u.email)).status, 200);
  } finally {
    await prod.stop();
  }
});
