// kernel_auth.test.mjs — bearer-token authentication and permissions on the
// kernel's request path, and JSON body handling on the tenant-creation route
// (POST /api/v1/auth/tenants, super_admin only).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';

import { assertError, show } from './lib/expect.mjs';
import { b64url, mintToken, superAdminToken, tamperPayload, tenantToken } from './lib/jwt.mjs';
import { request, startServer } from './lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer();
});
after(async () => {
  if (srv) assert.equal(await srv.stop(), 0, `exit code; stderr:\n${srv.stderr().join('\n')}`);
});

const slug = () => `acme-${crypto.randomBytes(6).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);
const create = (token, body, headers = {}) =>
  request(srv, 'POST', '/api/v1/auth/tenants', { token, body, headers });

test('super_admin creates a tenant (201) and reads it back', async () => {
  const s = slug();
  const r = await create(superAdminToken(), { name: 'Acme', slug: s });
  assert.equal(r.status, 201, show(r));
  for (const k of ['id', 'name', 'slug', 'status', 'plan']) assert.ok(k in r.json, `tenant JSON lacks ${k}: ${r.text}`);
  assert.equal(r.json.name, 'Acme');
  assert.equal(r.json.slug, s);
  assert.equal(typeof r.json.id, 'string');
  const g = await request(srv, 'GET', `/api/v1/auth/tenants/${encodeURIComponent(r.json.id)}`, { token: superAdminToken() });
  assert.equal(g.status, 200, show(g));
  assert.equal(g.json.id, r.json.id);
  assert.equal(g.json.slug, s);
});

test('a tenant id that does not exist is 404', async () => {
  const r = await request(srv, 'GET', `/api/v1/auth/tenants/${crypto.randomUUID()}`, { token: superAdminToken() });
  assertError(r, 404, 'not_found');
});

const body = () => ({ name: 'Nope', slug: slug() });
const badTokens = {
  'no Authorization header': null,
  'another scheme': 'Basic dXNlcjpwYXNz',
  'an empty bearer': 'Bearer ',
  'not a JWT': 'Bearer not.a.jwt',
  'a tampered payload': () => `Bearer ${tamperPayload(mintToken({ roles: ['client'], tenant_id: crypto.randomUUID() }), { roles: ['super_admin'] })}`,
  'a wrong secret': () => `Bearer ${mintToken({ secret: 'another-secret-that-is-long-enough-0123456789' })}`,
  'an expired token': () => `Bearer ${mintToken({ exp: now() - 3600, iat: now() - 7200 })}`,
  'a token not valid yet (nbf)': () => `Bearer ${mintToken({ nbf: now() + 3600 })}`,
  'alg none': () => `Bearer ${mintToken({ alg: 'none' })}`,
  'alg none with a valid HS256 signature': () => {
    const t = mintToken();
    const [, p, s] = t.split('.');
    return `Bearer ${b64url({ alg: 'none', typ: 'JWT' })}.${p}.${s}`;
  },
  'alg HS512 in the header': () => `Bearer ${mintToken({ alg: 'HS512' })}`,
  'a wrong issuer': () => `Bearer ${mintToken({ iss: 'someone-else' })}`,
  'a wrong audience': () => `Bearer ${mintToken({ aud: 'someone-else' })}`,
  'no exp': () => `Bearer ${mintToken({ omit: ['exp'] })}`,
  'no sub': () => `Bearer ${mintToken({ omit: ['sub'] })}`,
  'no known role': () => `Bearer ${mintToken({ roles: ['emperor'] })}`,
  'a tenant role without tenant_id': () => `Bearer ${mintToken({ roles: ['tenant_admin'] })}`,
};

for (const [name, authz] of Object.entries(badTokens)) {
  test(`401 unauthorized: ${name}`, async () => {
    const value = typeof authz === 'function' ? authz() : authz;
    const headers = value === null ? {} : { authorization: value };
    const r = await create(undefined, body(), headers);
    assertError(r, 401, 'unauthorized');
  });
}

test('GET of a tenant without a token is 401', async () => {
  const r = await request(srv, 'GET', `/api/v1/auth/tenants/${crypto.randomUUID()}`);
  assertError(r, 401, 'unauthorized');
});

test('403 forbidden: a client may not create tenants', async () => {
  const tid = crypto.randomUUID();
  const id = `forbidden-${Date.now()}`;
  const r = await create(tenantToken(tid, ['client']), body(), { 'x-request-id': id });
  assertError(r, 403, 'forbidden');
  // The access log names the verified tenant.
  const rec = JSON.parse(await srv.waitForStdout((l) => l.includes(id)));
  assert.equal(rec.status, 403);
  assert.equal(rec.tenant_id, tid);
});

test('malformed JSON is 400 invalid_json', async () => {
  const r = await create(superAdminToken(), '{"name": "Acme", "slug": ', { 'content-type': 'application/json' });
  assertError(r, 400, 'invalid_json');
});

test('a missing name is 422 validation_failed naming the field', async () => {
  const r = await create(superAdminToken(), { slug: slug() });
  assertError(r, 422, 'validation_failed');
  assert.match(r.json.error.message, /\bname\b/);
});

test('a non-JSON content type is 415', async () => {
  const r = await create(superAdminToken(), JSON.stringify(body()), { 'content-type': 'text/plain' });
  assertError(r, 415, 'unsupported_media_type');
});

test('a bad request changes nothing: the slug stays free', async () => {
  const s = slug();
  assertError(await create(superAdminToken(), { slug: s }), 422, 'validation_failed');
  const ok = await create(superAdminToken(), { name: 'Later', slug: s });
  assert.equal(ok.status, 201, show(ok));
});
