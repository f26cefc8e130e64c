// events_redis.test.mjs — the relay to Redis Streams with a real
// redis-server started by this test (scripts/redis-start.sh on a free
// port): the documented stream name and field layout, and Redis down then
// up → every event raised meanwhile is relayed when it returns.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { show } from './lib/expect.mjs';
import { superAdminToken } from './lib/jwt.mjs';
import { ROOT, freePort, request, startServer, tempDir, testDb } from './lib/server.mjs';

let srv;
let schema;
let redisDir;
let redisPort;

function privateDb() {
  const db = testDb();
  if (db === 'sqlite') return 'sqlite';
  schema = `events_redis_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  execFileSync('psql', [db, '-v', 'ON_ERROR_STOP=1', '-qc', `CREATE SCHEMA ${schema}`]);
  return `${db}${db.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`;
}

const redisStart = () => execFileSync(path.join(ROOT, 'scripts/redis-start.sh'), [redisDir, String(redisPort)], { encoding: 'utf8' });
const redisStop = () => execFileSync(path.join(ROOT, 'scripts/redis-stop.sh'), [redisDir]);
const redis = (...args) => execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(redisPort), '--no-raw', ...args], { encoding: 'utf8' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  redisDir = tempDir('bizosaas-redis-');
  redisPort = await freePort();
  redisStart();
  srv = await startServer({
    db: privateDb(),
    env: { BIZOSAAS_REDIS_URL: `redis://127.0.0.1:${redisPort}`, BIZOSAAS_EVENTS_POLL_MS: 10 },
  });
});
after(async () => {
  if (srv) assert.equal(await srv.stop(), 0, `exit code; stderr:\n${srv.stderr().join('\n')}`);
  if (redisDir) redisStop();
  if (schema) execFileSync('psql', [testDb(), '-qc', `DROP SCHEMA ${schema} CASCADE`]);
});

const T = crypto.randomUUID();
const stream = `bizosaas:events:${T}`;

const publish = (i) =>
  request(srv, 'POST', '/api/v1/events', {
    token: superAdminToken(),
    body: { tenant_id: T, aggregate_type: 'lead', aggregate_id: `lead-${i}`, event_type: 'LeadCreated', payload: { i } },
  });

/** entries: the stream as [{field: value}] via XRANGE (JSON-free parsing of redis-cli's raw output). */
function entries() {
  const out = execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(redisPort), '--raw', 'XRANGE', stream, '-', '+'], { encoding: 'utf8' });
  const lines = out.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  // --raw prints: entry id, then field, value, field, value... per entry (8 pairs)
  const result = [];
  for (let i = 0; i < lines.length; ) {
    i++; // the entry id
    const e = {};
    for (let k = 0; k < 8; k++) e[lines[i++]] = lines[i++];
    result.push(e);
  }
  return result;
}

async function waitFor(fn, what, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

test('events are relayed with the documented layout; Redis down then up loses none', async () => {
  const first = [];
  for (let i = 0; i < 3; i++) {
    const r = await publish(i);
    assert.equal(r.status, 201, show(r));
    first.push(r.json.id);
  }
  await waitFor(() => entries().length >= 3, 'the first events in the stream');
  const e = entries();
  assert.deepEqual(e.map((x) => x.id), first);
  assert.deepEqual(Object.keys(e[0]).sort(), ['aggregate_id', 'aggregate_type', 'created_at', 'event_type', 'id', 'payload', 'seq', 'tenant_id']);
  assert.equal(e[0].tenant_id, T);
  assert.equal(e[0].event_type, 'LeadCreated');
  assert.deepEqual(JSON.parse(e[0].payload), { i: 0 });
  assert.ok(Number(e[1].seq) > Number(e[0].seq));
  assert.match(redis('XINFO', 'STREAM', stream), /length/);

  redisStop();
  const during = [];
  for (let i = 3; i < 13; i++) {
    const r = await publish(i);
    assert.equal(r.status, 201, `the API must keep working while Redis is down: ${show(r)}`);
    during.push(r.json.id);
  }
  await sleep(300); // let the relay fail a few times
  redisStart(); // an empty Redis (nothing persisted): only what was missed is sent
  await waitFor(() => {
    try {
      return during.every((id) => entries().some((x) => x.id === id));
    } catch {
      return false;
    }
  }, 'the events raised while Redis was down');
  const ids = entries().map((x) => x.id);
  for (const id of during) assert.equal(ids.filter((x) => x === id).length, 1, `event ${id} relayed more than once`);
  // stream order is seq order
  const seqs = entries().map((x) => Number(x.seq));
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
  const subs = await request(srv, 'GET', '/api/v1/events/subscribers', { token: superAdminToken() });
  assert.ok(subs.json.items.some((s) => s.name === 'redis-relay' && s.lag === 0), subs.text);
});
