// notify_api.test.mjs — the notifications routes (/api/v1/notifications)
// black-box: permissions by role, validation of the query, 404 for a
// notification that is not the caller's, and an empty list for a tenant
// with none. Notifications with content are created by the contact flow and
// checked in its own test file.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';

import { assertError, show } from './lib/expect.mjs';
import { superAdminToken, tenantToken } from './lib/jwt.mjs';
import { request, startServer } from './lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer();
});
after(async () => {
  if (srv) assert.equal(await srv.stop(), 0, `exit code; stderr:\n${srv.stderr().join('\n')}`);
});

const T = crypto.randomUUID();

test('a manager of a tenant without notifications gets an empty list', async () => {
  const res = await request(srv, 'GET', '/api/v1/notifications', { token: tenantToken(T, ['manager']) });
  assert.equal(res.status, 200, show(res));
  assert.deepEqual(res.json, { items: [], unread: 0, next_cursor: null });
});

test('a client-role user has no notifications permission (403)', async () => {
  const res = await request(srv, 'GET', '/api/v1/notifications', { token: tenantToken(T, ['client']) });
  assertError(res, 403, 'forbidden');
});

test('no token is 401', async () => {
  const res = await request(srv, 'GET', '/api/v1/notifications');
  assertError(res, 401, 'unauthorized');
});

test('bad query parameters are 422 naming the parameter', async () => {
  const token = tenantToken(T, ['tenant_admin']);
  for (const q of ['limit=0', 'limit=abc', 'cursor=-1', 'unread=maybe']) {
    const res = await request(srv, 'GET', `/api/v1/notifications?${q}`, { token });
    assertError(res, 422, 'validation_failed');
    assert.match(res.json.error.message, new RegExp(q.split('=')[0]));
  }
});

test("marking a notification that is not the caller's is 404; read-all marks nothing", async () => {
  const token = tenantToken(T, ['manager']);
  const res = await request(srv, 'POST', `/api/v1/notifications/${crypto.randomUUID()}/read`, { token });
  assertError(res, 404, 'not_found');
  const all = await request(srv, 'POST', '/api/v1/notifications/read-all', { token });
  assert.equal(all.status, 200, show(all));
  assert.deepEqual(all.json, { marked: 0 });
});

test('super_admin without a tenant sees an empty list', async () => {
  const res = await request(srv, 'GET', '/api/v1/notifications', { token: superAdminToken() });
  assert.equal(res.status, 200, show(res));
  assert.deepEqual(res.json.items, []);
});
