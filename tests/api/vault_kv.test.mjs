// vault_kv.test.mjs — the vault's KV v2 API (/v1/secret/...): versions,
// check-and-set, soft delete/undelete/destroy, metadata, listing filtered by
// policy, tenant isolation (another tenant's path is 404), policy denial
// (403), the ciphertext at rest, the audit log, and the domain events the
// vault raises (without values).
//
// On PostgreSQL the server runs in a private schema (the vault's key-check
// value must not leak into other test files' databases).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { assertError, show } from './lib/expect.mjs';
import { superAdminToken, tenantToken } from './lib/jwt.mjs';
import { request, startServer, tempDir, testDb } from './lib/server.mjs';

const MASTER = 'a1'.repeat(32);
let srv;
let dbUrl;
let schema;

/** privateDb: "sqlite:<file>" or the test PostgreSQL URL with a fresh schema first on the search_path. */
function privateDb() {
  const db = testDb();
  if (db === 'sqlite') return `sqlite:${path.join(tempDir('bizosaas-vault-db-'), 'v.db')}`;
  schema = `vault_api_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  execFileSync('psql', [db, '-v', 'ON_ERROR_STOP=1', '-qc', `CREATE SCHEMA ${schema}`]);
  return `${db}${db.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`;
}

/** sql: runs a query on the server's database and returns its output text. */
function sql(query) {
  if (dbUrl.startsWith('sqlite:')) return execFileSync('sqlite3', [dbUrl.slice(7), query], { encoding: 'utf8' });
  // platform scope, or row-level security would (rightly) show nothing
  const args = ['-Atq', '-v', 'ON_ERROR_STOP=1', '-c', `SET search_path = ${schema}`, '-c', "SET app.platform = 'on'"];
  return execFileSync('psql', [testDb(), ...args, '-c', query], { encoding: 'utf8' });
}

before(async () => {
  dbUrl = privateDb();
  srv = await startServer({ db: dbUrl, env: { BIZOSAAS_MASTER_KEY: MASTER } });
});
after(async () => {
  if (srv) assert.equal(await srv.stop(), 0, `exit code; stderr:\n${srv.stderr().join('\n')}`);
  if (schema) execFileSync('psql', [testDb(), '-qc', `DROP SCHEMA ${schema} CASCADE`]);
});

const A = crypto.randomUUID();
const B = crypto.randomUUID();
const admin = (t = A) => tenantToken(t, ['tenant_admin']);
const data = (p) => `/v1/secret/data/${p}`;
const meta = (p) => `/v1/secret/metadata/${p}`;
const put = (p, body, token = admin()) => request(srv, 'PUT', data(p), { token, body });
const get = (p, token = admin()) => request(srv, 'GET', data(p), { token });

test('write, read, versions and check-and-set', async () => {
  const p = `tenant/${A}/integrations/stripe`;
  let r = await put(p, { data: { api_key: 'sk_live_one' } });
  assert.equal(r.status, 200, show(r));
  assert.equal(r.json.data.version, 1);
  r = await put(p, { data: { api_key: 'sk_live_two' }, options: { cas: 1 } });
  assert.equal(r.status, 200, show(r));
  assert.equal(r.json.data.version, 2);
  // a stale cas is refused and changes nothing
  r = await put(p, { data: { api_key: 'sk_live_stale' }, options: { cas: 1 } });
  assertError(r, 409, 'conflict');
  r = await get(p);
  assert.equal(r.status, 200, show(r));
  assert.deepEqual(r.json.data.data, { api_key: 'sk_live_two' });
  assert.equal(r.json.data.metadata.version, 2);
  r = await get(`${p}?version=1`);
  assert.deepEqual(r.json.data.data, { api_key: 'sk_live_one' });
  // POST is the same as PUT
  r = await request(srv, 'POST', data(p), { token: admin(), body: { data: { api_key: 'sk_live_three' } } });
  assert.equal(r.json.data.version, 3);
  r = await request(srv, 'GET', meta(p), { token: admin() });
  assert.equal(r.status, 200, show(r));
  assert.equal(r.json.data.current_version, 3);
  assert.deepEqual(Object.keys(r.json.data.versions).sort(), ['1', '2', '3']);
});

test('cas: 0 creates only; cas_required and max_versions from metadata', async () => {
  const p = `tenant/${A}/db/main`;
  assert.equal((await put(p, { data: { pw: 'x' }, options: { cas: 0 } })).status, 200);
  assertError(await put(p, { data: { pw: 'y' }, options: { cas: 0 } }), 409, 'conflict');
  let r = await request(srv, 'PUT', meta(p), { token: admin(), body: { max_versions: 2, cas_required: true } });
  assert.equal(r.status, 204, show(r));
  assertError(await put(p, { data: { pw: 'y' } }), 428, 'precondition_required');
  for (let v = 1; v <= 3; v++) assert.equal((await put(p, { data: { pw: `v${v}` }, options: { cas: v } })).status, 200);
  r = await request(srv, 'GET', meta(p), { token: admin() });
  assert.equal(r.json.data.current_version, 4);
  assert.equal(r.json.data.max_versions, 2);
  assert.deepEqual(Object.keys(r.json.data.versions).sort(), ['3', '4']);
  assertError(await get(`${p}?version=1`), 404, 'not_found');
});

test('soft delete, undelete and destroy', async () => {
  const p = `tenant/${A}/smtp`;
  await put(p, { data: { pw: 'one' } });
  await put(p, { data: { pw: 'two' } });
  let r = await request(srv, 'DELETE', data(p), { token: admin() });
  assert.equal(r.status, 204, show(r));
  assertError(await get(p), 404, 'not_found');
  r = await request(srv, 'GET', meta(p), { token: admin() });
  assert.notEqual(r.json.data.versions['2'].deletion_time, '');
  r = await request(srv, 'POST', `/v1/secret/undelete/${p}`, { token: admin(), body: { versions: [2] } });
  assert.equal(r.status, 204, show(r));
  assert.deepEqual((await get(p)).json.data.data, { pw: 'two' });
  r = await request(srv, 'POST', `/v1/secret/destroy/${p}`, { token: admin(), body: { versions: [1] } });
  assert.equal(r.status, 204, show(r));
  assertError(await get(`${p}?version=1`), 404, 'not_found');
  r = await request(srv, 'GET', meta(p), { token: admin() });
  assert.equal(r.json.data.versions['1'].destroyed, true);
  r = await request(srv, 'POST', `/v1/secret/undelete/${p}`, { token: admin(), body: { versions: [1] } });
  assertError(await get(`${p}?version=1`), 404, 'not_found');
  r = await request(srv, 'DELETE', meta(p), { token: admin() });
  assert.equal(r.status, 204, show(r));
  assertError(await request(srv, 'GET', meta(p), { token: admin() }), 404, 'not_found');
});

test("another tenant's path is 404, never 403 or data", async () => {
  const p = `tenant/${B}/integrations/hubspot`;
  assert.equal((await put(p, { data: { token: 'b-secret' } }, admin(B))).status, 200);
  assertError(await get(p, admin(A)), 404, 'not_found');
  assertError(await put(p, { data: { token: 'overwrite' } }, admin(A)), 404, 'not_found');
  assertError(await request(srv, 'DELETE', data(p), { token: admin(A) }), 404, 'not_found');
  assertError(await request(srv, 'GET', meta(p), { token: admin(A) }), 404, 'not_found');
  assertError(await request(srv, 'GET', `${meta(`tenant/${B}`)}?list=true`, { token: admin(A) }), 404, 'not_found');
  assert.deepEqual((await get(p, admin(B))).json.data.data, { token: 'b-secret' });
  // super_admin may read any tenant's path
  assert.deepEqual((await get(p, superAdminToken())).json.data.data, { token: 'b-secret' });
});

test('policies: denial is 403', async () => {
  const p = `tenant/${A}/policy/check`;
  await put(p, { data: { k: 'v' } });
  const manager = tenantToken(A, ['manager']);
  const client = tenantToken(A, ['client']);
  assert.equal((await get(p, manager)).status, 200);
  assertError(await put(p, { data: { k: 'w' } }, manager), 403, 'forbidden');
  assertError(await request(srv, 'DELETE', data(p), { token: manager }), 403, 'forbidden');
  assertError(await get(p, client), 403, 'forbidden');
  // platform paths are super_admin only
  assertError(await put('platform/smtp', { data: { pw: 'x' } }), 403, 'forbidden');
  const r = await put('platform/smtp', { data: { pw: 'platform-pw' } }, superAdminToken());
  assert.equal(r.status, 200, show(r));
  assertError(await get('platform/smtp'), 403, 'forbidden');
  assertError(await get('platform/smtp', tenantToken(A, ['service'])), 403, 'forbidden');
  assert.deepEqual((await get('platform/smtp', superAdminToken())).json.data.data, { pw: 'platform-pw' });
});

test('listing shows only what the caller may see', async () => {
  let r = await request(srv, 'GET', `${meta(`tenant/${A}`)}?list=true`, { token: admin() });
  assert.equal(r.status, 200, show(r));
  assert.ok(r.json.data.keys.includes('integrations/'), r.text);
  assert.ok(r.json.data.keys.includes('db/'), r.text);
  r = await request(srv, 'GET', `${meta(`tenant/${A}`)}?list=true&recursive=true`, { token: admin() });
  assert.ok(r.json.data.keys.includes('integrations/stripe'), r.text);
  assert.ok(r.json.data.keys.includes('db/main'), r.text);
  // a tenant listing the root sees its own subtree only, no platform path, no other tenant
  r = await request(srv, 'GET', `${meta('')}?list=true&recursive=true`, { token: admin() });
  assert.equal(r.status, 200, show(r));
  assert.ok(r.json.data.keys.length > 0);
  for (const k of r.json.data.keys) assert.ok(k.startsWith(`tenant/${A}/`), `unexpected key ${k}`);
  // super_admin sees everything
  r = await request(srv, 'GET', `${meta('')}?list=true`, { token: superAdminToken() });
  assert.deepEqual(r.json.data.keys.sort(), ['platform/', 'tenant/']);
});

test('bad input is 4xx and changes nothing', async () => {
  const p = `tenant/${A}/bad`;
  assertError(await put(p, { data: 'not-an-object' }), 422, 'validation_failed');
  assertError(await put(p, { data: {}, extra: 1 }), 422, 'validation_failed');
  assertError(await put(p, { data: {}, options: { cas: -1 } }), 422, 'validation_failed');
  assertError(await put(`tenant/${A}/a//b`, { data: {} }), 422, 'validation_failed');
  assertError(await put(`tenant/${A}`, { data: {} }), 422, 'validation_failed');
  assertError(await get(p), 404, 'not_found');
  assertError(await request(srv, 'GET', data(p)), 401, 'unauthorized');
});

test('values are encrypted at rest; the audit log and events never hold them', async () => {
  const marker = `PLAINTEXT-${crypto.randomBytes(6).toString('hex')}`;
  const p = `tenant/${A}/at-rest`;
  assert.equal((await put(p, { data: { v: marker } })).status, 200);
  const ciphertexts = sql(`SELECT ciphertext FROM vault_versions WHERE path = '${p}'`).trim();
  assert.ok(ciphertexts.length > 40, `no ciphertext stored: ${ciphertexts}`);
  const dump = [
    sql('SELECT ciphertext FROM vault_versions'),
    sql('SELECT wrapped FROM vault_keys'),
    sql("SELECT actor || ' ' || operation || ' ' || path || ' ' || result FROM vault_audit"),
    sql('SELECT payload FROM outbox'),
  ].join('\n');
  assert.ok(!dump.includes(marker), 'the plaintext value is in the database');
  assert.ok(!dump.includes('sk_live'), 'an earlier plaintext value is in the database');
  assert.match(sql(`SELECT count(*) FROM vault_audit WHERE path = '${p}' AND operation = 'create' AND result = 'ok'`), /^1\s*$/);
  // denied and not-found accesses are audited too
  assert.ok(Number(sql("SELECT count(*) FROM vault_audit WHERE result IN ('forbidden', 'not_found')")) > 0);
  // the write raised an event with the path and version, not the value
  const ev = await request(srv, 'GET', `/api/v1/events?type=SecretWritten&aggregate_id=${encodeURIComponent(p)}`, { token: admin() });
  assert.equal(ev.status, 200, show(ev));
  assert.equal(ev.json.items.length, 1);
  assert.deepEqual(ev.json.items[0].payload, { path: p, version: 1 });
});
