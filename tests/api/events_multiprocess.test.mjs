// events_multiprocess.test.mjs — two `bizosaas serve` processes on one
// PostgreSQL database (PostgreSQL only; skipped on SQLite): each event is
// handled once per subscriber under normal operation, and none is lost when
// one process is killed with SIGKILL while delivering.
//
// Both processes register the test subscribers writing to one shared
// directory, so delivered.log shows which process handled which event.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';

import { show } from './lib/expect.mjs';
import { superAdminToken } from './lib/jwt.mjs';
import { isPostgres, request, startServer, tempDir, testDb } from './lib/server.mjs';

const schemas = [];
const servers = [];
after(async () => {
  for (const s of servers) await s.stop('SIGKILL');
  for (const s of schemas) execFileSync('psql', [testDb(), '-qc', `DROP SCHEMA ${s} CASCADE`]);
});

function privateDb() {
  const db = testDb();
  const schema = `events_mp_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  execFileSync('psql', [db, '-v', 'ON_ERROR_STOP=1', '-qc', `CREATE SCHEMA ${schema}`]);
  schemas.push(schema);
  return `${db}${db.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function delivered(dir) {
  const p = path.join(dir, 'delivered.log');
  if (!fs.existsSync(p)) return [];
  return fs
    .readFileSync(p, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [id, seq, sub, pid] = l.split(' ');
      return { id, seq: Number(seq), sub, pid: Number(pid) };
    });
}

async function waitFor(fn, what, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

async function twoServers() {
  const db = privateDb();
  const dir = tempDir('bizosaas-events-mp-');
  const env = { BIZOSAAS_EVENTS_TEST_DIR: dir, BIZOSAAS_EVENTS_POLL_MS: 5 };
  const a = await startServer({ db, env });
  servers.push(a);
  const b = await startServer({ db, env });
  servers.push(b);
  return { a, b, dir };
}

const T = crypto.randomUUID();
const publish = (srv, i) =>
  request(srv, 'POST', '/api/v1/events', {
    token: superAdminToken(),
    body: { tenant_id: T, aggregate_type: 'lead', aggregate_id: `lead-${i % 5}`, event_type: 'LeadCreated', payload: { i } },
  });

test('two processes: each event handled once per subscriber', { skip: !isPostgres() && 'PostgreSQL only' }, async () => {
  const { a, b, dir } = await twoServers();
  const ids = [];
  for (let i = 0; i < 60; i++) {
    const r = await publish(i % 2 ? a : b, i);
    assert.equal(r.status, 201, show(r));
    ids.push(r.json.id);
  }
  for (const sub of ['test.recorder']) {
    await waitFor(() => ids.every((id) => delivered(dir).some((l) => l.sub === sub && l.id === id)), `delivery to ${sub}`);
    const got = delivered(dir).filter((l) => l.sub === sub);
    for (const id of ids) assert.equal(got.filter((l) => l.id === id).length, 1, `${sub} handled ${id} more than once`);
    // and in seq order, whichever process delivered
    const seqs = got.map((l) => l.seq);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y));
  }
  const flaky = path.join(dir, 'flaky.log');
  await waitFor(() => fs.existsSync(flaky) && ids.every((id) => fs.readFileSync(flaky, 'utf8').includes(id)), 'delivery to test.flaky');
  const lines = fs.readFileSync(flaky, 'utf8').split('\n').filter(Boolean);
  for (const id of ids) assert.equal(lines.filter((l) => l.startsWith(`${id} `)).length, 1);
  assert.equal(await a.stop(), 0);
  assert.equal(await b.stop(), 0);
});

test('kill -9 of one process loses no event', { skip: !isPostgres() && 'PostgreSQL only' }, async () => {
  const { a, b, dir } = await twoServers();
  const ids = [];
  for (let i = 0; i < 40; i++) {
    const r = await publish(i % 2 && i < 20 ? a : b, i);
    assert.equal(r.status, 201, show(r));
    ids.push(r.json.id);
    if (i === 20) assert.equal(await a.stop('SIGKILL'), 'SIGKILL');
  }
  // the events published through the killed process before it died, and
  // everything after, all reach every subscriber
  await waitFor(() => ids.every((id) => delivered(dir).some((l) => l.id === id)), 'every event after the kill');
  assert.equal(await b.stop(), 0);
});
