// workflows_workers.test.mjs — workflow workers as real processes: a
// worker killed with SIGKILL in the middle of a step loses nothing (the
// step's lease expires and another process retries it), several
// `bizosaas worker` processes share the work on PostgreSQL (FOR UPDATE
// SKIP LOCKED), and claiming is fair between tenants: one tenant's big
// backlog does not hold up another tenant's single run.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { after, test } from 'node:test';

import { show } from './lib/expect.mjs';
import { superAdminToken, tenantToken } from './lib/jwt.mjs';
import { BIN, TEST_JWT_SECRET, baseEnv, isPostgres, request, runCli, startServer, tempDir, testDb } from './lib/server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const schemas = [];
const procs = new Set();
const servers = [];
after(async () => {
  for (const p of procs) p.kill('SIGKILL');
  for (const s of servers) await s.stop('SIGKILL');
  for (const s of schemas) execFileSync('psql', [testDb(), '-qc', `DROP SCHEMA ${s} CASCADE`]);
});

/** privateDb: a database of the test's own (SQLite file or PostgreSQL schema),
 * so no other test's runs are claimed by these workers. */
function privateDb() {
  if (!isPostgres()) return `sqlite:${path.join(tempDir('bizosaas-wf-'), 'wf.db')}`;
  const db = testDb();
  const schema = `wf_workers_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  execFileSync('psql', [db, '-v', 'ON_ERROR_STOP=1', '-qc', `CREATE SCHEMA ${schema}`]);
  schemas.push(schema);
  return `${db}${db.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`;
}

/** apiServer: `bizosaas serve` without workers on db (it applies the migrations). */
async function apiServer(db, env = {}) {
  const s = await startServer({ db, env: { BIZOSAAS_WORKFLOW_WORKERS: 0, ...env } });
  servers.push(s);
  return s;
}

/** worker: a `bizosaas worker` process on db. */
function worker(db, env = {}) {
  const child = spawn(BIN, ['worker'], {
    env: {
      ...baseEnv(),
      BIZOSAAS_DATABASE_URL: db,
      BIZOSAAS_DATA_DIR: tempDir('bizosaas-wf-worker-'),
      BIZOSAAS_JWT_SECRET: TEST_JWT_SECRET,
      BIZOSAAS_WORKFLOW_POLL_MS: '10',
      ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.resume();
  const exited = new Promise((resolve) =>
    child.on('close', (code, signal) => {
      procs.delete(child);
      resolve({ code, signal });
    }),
  );
  return { proc: child, pid: child.pid, exited, stderr: () => stderr };
}

const terminal = (r) => ['completed', 'failed', 'canceled'].includes(r.status);

async function waitRun(srv, token, id, pred = terminal, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await request(srv, 'GET', `/api/v1/workflows/runs/${id}`, { token });
    assert.equal(res.status, 200, show(res));
    if (pred(res.json)) return res.json;
    if (Date.now() > deadline) throw new Error(`run ${id}: ${JSON.stringify(res.json)}`);
    await sleep(20);
  }
}

test('kill -9 of a worker mid-step: after the lease expires another process retries the step and the run completes', async () => {
  const db = privateDb();
  const api = await apiServer(db);
  const tok = tenantToken(`t-${crypto.randomUUID()}`);
  const w1 = worker(db, { BIZOSAAS_WORKFLOW_LEASE_MS: 1000, BIZOSAAS_WORKFLOW_WORKERS: 1 });
  const res = await request(api, 'POST', '/api/v1/workflows/delay/runs', { token: tok, body: { input: { ms: 2500 } } });
  assert.equal(res.status, 201, show(res));
  const id = res.json.id;
  const running = await waitRun(api, tok, id, (r) => r.steps[0].status === 'running');
  assert.ok(running.steps[0].history[0].worker.startsWith(`${w1.pid}-`), running.steps[0].history[0].worker);
  w1.proc.kill('SIGKILL');
  assert.equal((await w1.exited).signal, 'SIGKILL');
  // nothing is running it now; the lease (1 s, no longer renewed) must lapse first
  const w2 = worker(db, { BIZOSAAS_WORKFLOW_LEASE_MS: 1000, BIZOSAAS_WORKFLOW_WORKERS: 1 });
  const run = await waitRun(api, tok, id);
  assert.equal(run.status, 'completed', JSON.stringify(run));
  const h = run.steps[0].history;
  assert.equal(h.length, 2, JSON.stringify(h));
  assert.equal(h[0].status, 'lost');
  assert.match(h[0].error, /lease expired/);
  assert.ok(h[0].worker.startsWith(`${w1.pid}-`));
  assert.equal(h[1].status, 'completed');
  assert.ok(h[1].worker.startsWith(`${w2.pid}-`), h[1].worker);
  assert.equal(run.output.attempt, 2);
  assert.ok(run.output.slept_ms >= 2500);
  // a step that merely runs longer than the lease keeps it (renewed): no second attempt
  const long = await request(api, 'POST', '/api/v1/workflows/delay/runs', { token: tok, body: { input: { ms: 2500 } } });
  const lr = await waitRun(api, tok, long.json.id);
  assert.equal(lr.status, 'completed');
  assert.equal(lr.steps[0].attempts, 1);
  // SIGTERM stops a worker process cleanly
  w2.proc.kill('SIGTERM');
  assert.deepEqual(await w2.exited, { code: 0, signal: null }, w2.stderr());
});

test('two worker processes on PostgreSQL share the work, each step executed once', { skip: !isPostgres() && 'PostgreSQL only' }, async () => {
  const db = privateDb();
  const api = await apiServer(db);
  const tok = tenantToken(`t-${crypto.randomUUID()}`);
  const w1 = worker(db, { BIZOSAAS_WORKFLOW_WORKERS: 2 });
  const w2 = worker(db, { BIZOSAAS_WORKFLOW_WORKERS: 2 });
  const ids = [];
  for (let i = 0; i < 40; i++) {
    const r = await request(api, 'POST', '/api/v1/workflows/delay/runs', { token: tok, body: { input: { ms: 100 } } });
    assert.equal(r.status, 201, show(r));
    ids.push(r.json.id);
  }
  const pids = new Set();
  for (const id of ids) {
    const run = await waitRun(api, tok, id);
    assert.equal(run.status, 'completed');
    assert.equal(run.steps[0].attempts, 1);
    pids.add(run.steps[0].history[0].worker.split('-')[0]);
  }
  assert.deepEqual([...pids].sort(), [String(w1.pid), String(w2.pid)].sort());
  w1.proc.kill('SIGTERM');
  w2.proc.kill('SIGTERM');
  assert.equal((await w1.exited).code, 0);
  assert.equal((await w2.exited).code, 0);
});

test('fair claiming: a tenant with 1000 queued runs does not hold up another tenant\'s single run', async () => {
  const db = privateDb();
  const api = await apiServer(db); // no workers yet: the whole backlog is queued first
  const tokA = tenantToken(`a-${crypto.randomUUID()}`);
  const tokB = tenantToken(`b-${crypto.randomUUID()}`);
  const N = 1000;
  for (let i = 0; i < N; i += 25) {
    const batch = [];
    for (let k = i; k < Math.min(N, i + 25); k++)
      batch.push(request(api, 'POST', '/api/v1/workflows/delay/runs', { token: tokA, body: { input: { ms: 1 } } }));
    for (const r of await Promise.all(batch)) assert.equal(r.status, 201, show(r));
  }
  const b = await request(api, 'POST', '/api/v1/workflows/delay/runs', { token: tokB, body: { input: { ms: 1 } } });
  assert.equal(b.status, 201);
  // one worker thread: every claim is one claim cycle
  const w = worker(db, { BIZOSAAS_WORKFLOW_WORKERS: 1 });
  const runB = await waitRun(api, tokB, b.json.id);
  assert.equal(runB.status, 'completed');
  const claimedB = Date.parse(runB.steps[0].history[0].started_at);
  let cursor = null;
  let before = 0;
  do {
    const res = await request(api, 'GET', `/api/v1/workflows/runs?limit=200${cursor ? `&cursor=${cursor}` : ''}`, { token: tokA });
    assert.equal(res.status, 200, show(res));
    for (const r of res.json.items) {
      if (r.started_at && Date.parse(r.started_at) <= claimedB) before++;
    }
    cursor = res.json.next_cursor;
  } while (cursor);
  // B waited at most one claim of A's, out of a backlog of 1000 that was
  // all queued before the worker started (without fair claiming, A's
  // whole backlog goes first: "a-…" sorts before "b-…" and is older)
  assert.ok(before <= 1, `${before} of A's steps were claimed before B's`);
  w.proc.kill('SIGTERM');
  assert.equal((await w.exited).code, 0);
});

test('SIGTERM while a step runs and a progress stream is open: the stream ends, the attempt is given back, another process completes the step', async () => {
  const db = privateDb();
  const s1 = await startServer({ db, env: { BIZOSAAS_WORKFLOW_WORKERS: 1 } });
  servers.push(s1);
  const tok = tenantToken(`t-${crypto.randomUUID()}`);
  const res = await request(s1, 'POST', '/api/v1/workflows/delay/runs', { token: tok, body: { input: { ms: 60000 } } });
  assert.equal(res.status, 201, show(res));
  const id = res.json.id;
  await waitRun(s1, tok, id, (r) => r.steps[0].status === 'running');
  const http = await import('node:http');
  const stream = new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: s1.port, path: `/api/v1/workflows/runs/${id}/events`, headers: { authorization: `Bearer ${tok}` } }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d) => (body += d));
      r.on('end', () => resolve(body));
      r.on('error', reject);
    });
    req.on('error', reject);
  });
  await sleep(300); // the stream is open
  // a 60 s step cannot have finished when the process is gone
  assert.equal(await s1.stop('SIGTERM'), 0);
  const body = await stream;
  assert.match(body, /event: run\ndata: \{[^\n]*"status":"running"/);
  assert.match(body, /server shutting down/);
  const s2 = await startServer({ db, env: { BIZOSAAS_WORKFLOW_WORKERS: 0 } });
  servers.push(s2);
  const after1 = (await request(s2, 'GET', `/api/v1/workflows/runs/${id}`, { token: tok })).json;
  assert.equal(after1.steps[0].status, 'ready');
  assert.equal(after1.steps[0].history[0].status, 'interrupted');
  assert.equal(after1.steps[0].max_attempts, 4); // the given-back attempt does not count
  assert.equal(after1.output, null);
});

test('bizosaas worker refuses to run without workers or with pending migrations', async () => {
  const none = await runCli(['worker'], { env: { BIZOSAAS_WORKFLOW_WORKERS: 0, BIZOSAAS_JWT_SECRET: TEST_JWT_SECRET } });
  assert.equal(none.code, 2, none.stderr);
  assert.match(none.stderr, /BIZOSAAS_WORKFLOW_WORKERS must be at least 1/);
  if (isPostgres()) {
    const db = privateDb(); // an empty schema: every migration pending
    const r = await runCli(['worker'], { env: { BIZOSAAS_DATABASE_URL: db, BIZOSAAS_JWT_SECRET: TEST_JWT_SECRET } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /migration\(s\) pending/);
  }
});

test('event streams are capped (each holds a request worker): one more is 503 with Retry-After', async () => {
  const s = await startServer({ env: { BIZOSAAS_WORKFLOW_SSE_MAX: 1, BIZOSAAS_WORKFLOW_TEST_DEFS: 'true' } });
  servers.push(s);
  const tok = tenantToken(`t-${crypto.randomUUID()}`);
  const run = await request(s, 'POST', '/api/v1/workflows/test.approval/runs', { token: tok, body: {} });
  assert.equal(run.status, 201, show(run));
  const ctl = new AbortController();
  const first = await fetch(`${s.url}/api/v1/workflows/runs/${run.json.id}/events`, { headers: { authorization: `Bearer ${tok}` }, signal: ctl.signal });
  assert.equal(first.status, 200);
  const second = await request(s, 'GET', `/api/v1/workflows/runs/${run.json.id}/events`, { token: tok });
  assert.equal(second.status, 503, show(second));
  assert.equal(second.json.error.code, 'overloaded');
  assert.equal(second.headers.get('retry-after'), '5');
  ctl.abort();
  // the slot is free again once the first stream's client is gone (the
  // stream notices at its next write: a change or the keepalive)
  await request(s, 'POST', `/api/v1/workflows/runs/${run.json.id}/cancel`, { token: tok });
  for (let i = 0; ; i++) {
    const again = await request(s, 'GET', `/api/v1/workflows/runs/${run.json.id}/events`, { token: tok });
    if (again.status === 200) {
      assert.match(again.text, /event: end/);
      break;
    }
    assert.ok(i < 200, 'the stream slot was never released');
    await sleep(50);
  }
});

test('weighted fair claiming: a tenant of weight 3 gets three claims for each of a tenant of weight 1', async () => {
  const db = privateDb();
  const api = await apiServer(db);
  const A = `a-${crypto.randomUUID()}`;
  const B = `b-${crypto.randomUUID()}`;
  const tokA = tenantToken(A);
  const tokB = tenantToken(B);
  const put = (tenant, body, token) => request(api, 'PUT', `/api/v1/workflows/tenants/${tenant}/weight`, { token, body });
  assert.equal((await put(A, { weight: 3 }, tokA)).status, 403);
  assert.equal((await put(A, { weight: 0 }, superAdminToken())).status, 422);
  assert.equal((await put(A, { weight: 3, x: 1 }, superAdminToken())).status, 422);
  const ok = await put(A, { weight: 3 }, superAdminToken());
  assert.equal(ok.status, 200, show(ok));
  assert.deepEqual(ok.json, { tenant_id: A, weight: 3 });
  for (const tok of [tokA, tokB])
    for (let i = 0; i < 30; i++) {
      const r = await request(api, 'POST', '/api/v1/workflows/delay/runs', { token: tok, body: { input: { ms: 5 } } });
      assert.equal(r.status, 201, show(r));
    }
  const w = worker(db, { BIZOSAAS_WORKFLOW_WORKERS: 1 });
  const claims = [];
  for (const [who, tok] of [['A', tokA], ['B', tokB]]) {
    for (;;) {
      const res = await request(api, 'GET', '/api/v1/workflows/runs?limit=200', { token: tok });
      if (res.json.items.every((r) => r.status === 'completed')) {
        for (const r of res.json.items) claims.push({ who, at: Date.parse(r.steps?.[0]?.started_at ?? r.started_at) });
        break;
      }
      await sleep(50);
    }
  }
  claims.sort((x, y) => x.at - y.at);
  const firstA = claims.slice(0, 24).filter((c) => c.who === 'A').length;
  // stride scheduling gives exactly 18 of the first 24 to A (12 with equal weights)
  assert.ok(firstA >= 17 && firstA <= 19, `A got ${firstA} of the first 24 claims: ${claims.slice(0, 24).map((c) => c.who).join('')}`);
  w.proc.kill('SIGTERM');
  assert.equal((await w.exited).code, 0);
});
