// events_api.test.mjs — the events API (/api/v1/events) and delivery to
// in-process subscribers, black-box: publishing, listing with filters and
// tenant scoping, the test subscribers (BIZOSAAS_EVENTS_TEST_DIR) receiving
// every event, and a failing subscriber's retries → dead letter → replay.
//
// On PostgreSQL the server runs in a private schema so subscriber offsets
// and dead letters of other test files do not mix in.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { assertError, show } from './lib/expect.mjs';
import { superAdminToken, tenantToken } from './lib/jwt.mjs';
import { request, startServer, tempDir, testDb } from './lib/server.mjs';

let srv;
let schema;
let evDir;

function privateDb() {
  const db = testDb();
  if (db === 'sqlite') return 'sqlite';
  schema = `events_api_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  execFileSync('psql', [db, '-v', 'ON_ERROR_STOP=1', '-qc', `CREATE SCHEMA ${schema}`]);
  return `${db}${db.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`;
}

before(async () => {
  evDir = tempDir('bizosaas-events-');
  srv = await startServer({
    db: privateDb(),
    env: {
      BIZOSAAS_EVENTS_TEST_DIR: evDir,
      BIZOSAAS_EVENTS_MAX_ATTEMPTS: 3,
      BIZOSAAS_EVENTS_RETRY_BASE_MS: 20,
      BIZOSAAS_EVENTS_POLL_MS: 10,
    },
  });
});
after(async () => {
  if (srv) assert.equal(await srv.stop(), 0, `exit code; stderr:\n${srv.stderr().join('\n')}`);
  if (schema) execFileSync('psql', [testDb(), '-qc', `DROP SCHEMA ${schema} CASCADE`]);
});

const A = crypto.randomUUID();
const B = crypto.randomUUID();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const publish = (body, token = superAdminToken()) => request(srv, 'POST', '/api/v1/events', { token, body });

/** lines: the test subscriber's log lines [{id, seq, sub, pid, attempt, replay}]. */
function lines(file) {
  const p = path.join(evDir, file);
  if (!fs.existsSync(p)) return [];
  return fs
    .readFileSync(p, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [id, seq, sub, pid, attempt, replay] = l.split(' ');
      return { id, seq: Number(seq), sub, pid: Number(pid), attempt: Number(attempt), replay: replay === 'replay' };
    });
}

async function waitFor(fn, what, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('publish validates its input', async () => {
  assertError(await publish({ aggregate_type: 'lead', aggregate_id: 'l1', event_type: 'X' }), 422, 'validation_failed');
  assertError(await publish({ tenant_id: A, aggregate_type: 'lead', aggregate_id: 'l1' }), 422, 'validation_failed');
  assertError(await publish({ tenant_id: A, aggregate_type: 'lead', aggregate_id: 'l1', event_type: 'X', payload: [1] }), 422, 'validation_failed');
  assertError(await publish({ tenant_id: A, aggregate_type: 'lead', aggregate_id: 'l1', event_type: 'X', nope: 1 }), 422, 'validation_failed');
  // tenant admins read events but do not publish them
  assertError(await publish({ aggregate_type: 'lead', aggregate_id: 'l1', event_type: 'X' }, tenantToken(A)), 403, 'forbidden');
});

test('events are listed newest first, filtered, paginated and scoped to the tenant', async () => {
  const ids = [];
  for (let i = 0; i < 6; i++) {
    const r = await publish({
      tenant_id: i % 2 ? B : A,
      aggregate_type: 'lead',
      aggregate_id: `lead-${i % 3}`,
      event_type: i % 2 ? 'LeadWon' : 'LeadCreated',
      payload: { i },
    });
    assert.equal(r.status, 201, show(r));
    ids.push(r.json.id);
  }
  let r = await request(srv, 'GET', `/api/v1/events?tenant_id=${A}`, { token: superAdminToken() });
  assert.equal(r.status, 200, show(r));
  assert.deepEqual(r.json.items.map((e) => e.payload.i), [4, 2, 0]);
  // a tenant admin sees its own tenant only, whatever it asks for
  r = await request(srv, 'GET', `/api/v1/events?tenant_id=${A}`, { token: tenantToken(B) });
  assert.deepEqual(r.json.items.map((e) => e.payload.i), [5, 3, 1]);
  assert.ok(r.json.items.every((e) => e.tenant_id === B));
  r = await request(srv, 'GET', `/api/v1/events?type=LeadWon&aggregate_id=lead-1`, { token: superAdminToken() });
  assert.deepEqual(r.json.items.map((e) => e.payload.i), [1]);
  // pagination
  r = await request(srv, 'GET', `/api/v1/events?tenant_id=${A}&limit=2`, { token: superAdminToken() });
  assert.deepEqual(r.json.items.map((e) => e.payload.i), [4, 2]);
  assert.equal(typeof r.json.next_cursor, 'number');
  r = await request(srv, 'GET', `/api/v1/events?tenant_id=${A}&limit=2&cursor=${r.json.next_cursor}`, { token: superAdminToken() });
  assert.deepEqual(r.json.items.map((e) => e.payload.i), [0]);
  assert.equal(r.json.next_cursor, null);
  // since: nothing is newer than the future
  r = await request(srv, 'GET', '/api/v1/events?since=2999-01-01T00:00:00Z', { token: superAdminToken() });
  assert.deepEqual(r.json.items, []);
  r = await request(srv, 'GET', '/api/v1/events?since=2000-01-01T00:00:00.000Z&limit=500', { token: superAdminToken() });
  assert.ok(r.json.items.length >= 6);
  assertError(await request(srv, 'GET', '/api/v1/events?since=yesterday', { token: superAdminToken() }), 422, 'validation_failed');
  assertError(await request(srv, 'GET', '/api/v1/events?limit=0', { token: superAdminToken() }), 422, 'validation_failed');
  assertError(await request(srv, 'GET', '/api/v1/events', { token: tenantToken(A, ['client']) }), 403, 'forbidden');
  // every published event reaches the recorder, once, in seq order
  await waitFor(() => ids.every((id) => lines('delivered.log').some((l) => l.id === id)), 'delivery to test.recorder');
  const got = lines('delivered.log').filter((l) => ids.includes(l.id));
  assert.equal(got.length, ids.length);
  assert.deepEqual(got.map((l) => l.id), ids);
});

test('a failing subscriber: retries, dead letter, replay', async () => {
  fs.writeFileSync(path.join(evDir, 'fail'), '');
  const r = await publish({ tenant_id: A, aggregate_type: 'order', aggregate_id: 'o-1', event_type: 'OrderPaid', payload: { n: 1 } });
  assert.equal(r.status, 201, show(r));
  const id = r.json.id;
  const dl = await waitFor(async () => {
    const l = await request(srv, 'GET', '/api/v1/events/dead-letters?subscriber=test.flaky', { token: superAdminToken() });
    return l.json.items.find((d) => d.event_id === id);
  }, 'the dead letter');
  assert.equal(dl.attempts, 3);
  assert.equal(dl.status, 'dead');
  assert.match(dl.error, /fail exists/);
  assert.deepEqual(dl.payload, { n: 1 });
  // the healthy subscriber got it, the flaky one did not
  await waitFor(() => lines('delivered.log').some((l) => l.id === id), 'delivery to test.recorder');
  assert.ok(!lines('flaky.log').some((l) => l.id === id));
  // the flaky subscriber moved on: a later event goes through once it recovers
  fs.rmSync(path.join(evDir, 'fail'));
  const later = await publish({ tenant_id: A, aggregate_type: 'order', aggregate_id: 'o-1', event_type: 'OrderShipped' });
  await waitFor(() => lines('flaky.log').some((l) => l.id === later.json.id), 'the later event');
  // only super_admin administers dead letters
  assertError(await request(srv, 'GET', '/api/v1/events/dead-letters', { token: tenantToken(A) }), 403, 'forbidden');
  assertError(await request(srv, 'POST', `/api/v1/events/dead-letters/${dl.id}/replay`, { token: tenantToken(A) }), 403, 'forbidden');
  assertError(await request(srv, 'POST', `/api/v1/events/dead-letters/${crypto.randomUUID()}/replay`, { token: superAdminToken() }), 404, 'not_found');
  const rp = await request(srv, 'POST', `/api/v1/events/dead-letters/${dl.id}/replay`, { token: superAdminToken() });
  assert.equal(rp.status, 202, show(rp));
  const replayed = await waitFor(() => lines('flaky.log').find((l) => l.id === id), 'the replay');
  assert.equal(replayed.replay, true);
  assert.equal(replayed.attempt, 4);
  const after = await request(srv, 'GET', '/api/v1/events/dead-letters?status=replayed', { token: superAdminToken() });
  assert.ok(after.json.items.some((d) => d.id === dl.id && d.replayed_at));
  assertError(await request(srv, 'POST', `/api/v1/events/dead-letters/${dl.id}/replay`, { token: superAdminToken() }), 409, 'conflict');
  const subs = await request(srv, 'GET', '/api/v1/events/subscribers', { token: superAdminToken() });
  // the test subscribers next to the binary's own (contact flow, ...)
  const names = subs.json.items.map((s) => s.name);
  assert.deepEqual(names.filter((n) => n.startsWith('test.')).sort(), ['test.flaky', 'test.recorder']);
  assert.ok(names.includes('contact.lead-retry'), names.join(', '));
});
