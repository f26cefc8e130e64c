// workflows_api.test.mjs — durable workflows over HTTP on the real binary
// (SQLite, or PostgreSQL with BIZOSAAS_TEST_DB): runs, step history,
// retries with backoff, timeouts, parallel groups, signals with deadlines,
// cancel, idempotency keys, listing with filters and keyset pages, tenant
// isolation, permissions, the built-in definitions and the SSE progress
// stream.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { after, before, test } from 'node:test';

import { assertError, show } from './lib/expect.mjs';
import { superAdminToken, tenantToken } from './lib/jwt.mjs';
import { request, startServer } from './lib/server.mjs';

let srv;
const A = `t-${crypto.randomUUID()}`;
const B = `t-${crypto.randomUUID()}`;
const adminA = tenantToken(A, ['tenant_admin']);
const managerA = tenantToken(A, ['manager']);
const clientA = tenantToken(A, ['client']);
const adminB = tenantToken(B, ['tenant_admin']);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  srv = await startServer({ env: { BIZOSAAS_WORKFLOW_TEST_DEFS: 'true', BIZOSAAS_WORKFLOW_WORKERS: 2, BIZOSAAS_WORKFLOW_POLL_MS: 10 } });
});
after(async () => {
  if (srv) await srv.stop();
});

const start = (name, body = {}, token = adminA) =>
  request(srv, 'POST', `/api/v1/workflows/${name}/runs`, { token, body });
const get = (id, token = adminA) => request(srv, 'GET', `/api/v1/workflows/runs/${id}`, { token });

async function waitRun(id, pred = (r) => ['completed', 'failed', 'canceled'].includes(r.status), timeoutMs = 20000, token = adminA) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await get(id, token);
    assert.equal(res.status, 200, show(res));
    if (pred(res.json)) return res.json;
    if (Date.now() > deadline) throw new Error(`run ${id} still ${res.json.status}: ${JSON.stringify(res.json)}`);
    await sleep(25);
  }
}

test('lead_scoring computes the CRM rule and the run is persisted with its step history', async () => {
  const input = {
    company_size: 500, // 10
    budget: 12000, // 25
    services: ['seo', 'ads', 'social', 'email', 'web'], // 20 (capped)
    phone: '+1 555 0100', // 10
    website: 'https://example.com', // 10
    message: 'x'.repeat(101), // 15
  };
  const res = await start('lead_scoring', { input });
  assert.equal(res.status, 201, show(res));
  assert.equal(res.json.status, 'queued');
  assert.equal(res.json.workflow, 'lead_scoring');
  assert.match(res.headers.get('location'), /\/api\/v1\/workflows\/runs\//);
  const run = await waitRun(res.json.id);
  assert.equal(run.status, 'completed', JSON.stringify(run));
  assert.equal(run.output.score, 90);
  assert.equal(run.output.priority, 'high');
  assert.deepEqual(run.output.breakdown, { company_size: 10, budget: 25, services: 20, phone: 10, website: 10, message: 15 });
  assert.equal(run.steps.length, 1);
  const step = run.steps[0];
  assert.equal(step.status, 'completed');
  assert.equal(step.attempts, 1);
  assert.equal(step.history.length, 1);
  assert.equal(step.history[0].status, 'completed');
  assert.ok(step.history[0].started_at && step.history[0].finished_at);
  assert.ok(run.started_at && run.finished_at && run.duration_ms >= 0);
  // the minimum and the cap
  const low = await waitRun((await start('lead_scoring', { input: {} })).json.id);
  assert.equal(low.output.score, 0);
  assert.equal(low.output.priority, 'low');
  const mid = await waitRun((await start('lead_scoring', { input: { budget: 5000, company_size: 2000, phone: '1', website: 'w' } })).json.id);
  assert.equal(mid.output.score, 60);
  assert.equal(mid.output.priority, 'medium');
});

test('a failing step is retried with exponential backoff and jitter, then succeeds', async () => {
  const res = await start('test.flaky', { input: { fail_times: 2 } });
  assert.equal(res.status, 201, show(res));
  const run = await waitRun(res.json.id);
  assert.equal(run.status, 'completed', JSON.stringify(run));
  const h = run.steps[0].history;
  assert.equal(h.length, 3);
  assert.deepEqual(h.map((a) => a.status), ['failed', 'failed', 'completed']);
  assert.match(h[0].error, /planned failure on attempt 1/);
  // backoff 200 ms doubling, drawn in [d/2, d]: gap1 >= 100, gap2 >= 200
  const t = h.map((a) => Date.parse(a.started_at));
  const f = h.map((a) => Date.parse(a.finished_at));
  assert.ok(t[1] - f[0] >= 100, `first backoff ${t[1] - f[0]} ms`);
  assert.ok(t[2] - f[1] >= 200, `second backoff ${t[2] - f[1]} ms`);
  assert.equal(run.output.attempt, 3);
});

test('retries exhausted: the run fails with the step error and WorkflowRunFailed is raised', async () => {
  const res = await start('test.flaky', { input: { fail_times: 10 } });
  const run = await waitRun(res.json.id);
  assert.equal(run.status, 'failed');
  assert.equal(run.steps[0].attempts, 4);
  assert.match(run.error, /step flaky: planned failure on attempt 4/);
  const ev = await request(srv, 'GET', `/api/v1/events?aggregate_id=${res.json.id}`, { token: adminA });
  assert.equal(ev.status, 200, show(ev));
  const types = ev.json.items.map((e) => e.event_type).sort();
  assert.deepEqual(types, ['WorkflowRunFailed', 'WorkflowRunStarted']);
});

test('a step that overruns its timeout fails the attempt and is retried, then the run fails', async () => {
  const res = await start('test.slow', { input: { ms: 600 } });
  const run = await waitRun(res.json.id);
  assert.equal(run.status, 'failed', JSON.stringify(run));
  const h = run.steps[0].history;
  assert.equal(h.length, 2);
  for (const a of h) assert.match(a.error, /timed out: took \d+ ms, the limit is 300 ms/);
  const ok = await waitRun((await start('test.slow', { input: { ms: 10 } })).json.id);
  assert.equal(ok.status, 'completed');
});

test('sequential and parallel groups: b and c see a; d sees a, b and c', async () => {
  const res = await start('test.parallel', { input: { sleep_ms: 800 } });
  const run = await waitRun(res.json.id);
  assert.equal(run.status, 'completed', JSON.stringify(run));
  const [a, b, c, d] = run.steps;
  assert.deepEqual([a.group, b.group, c.group, d.group], [0, 1, 1, 2]);
  assert.deepEqual(Object.keys(b.output.prev), ['a']);
  assert.deepEqual(Object.keys(c.output.prev), ['a']);
  assert.deepEqual(Object.keys(d.output.prev).sort(), ['a', 'b', 'c']);
  // b and c ran at the same time (two workers); d started after both finished
  const [bs, bf, cs, cf] = [b.started_at, b.finished_at, c.started_at, c.finished_at].map(Date.parse);
  assert.ok(bs < cf && cs < bf, `b ${b.started_at}..${b.finished_at} and c ${c.started_at}..${c.finished_at} did not overlap`);
  assert.ok(Date.parse(d.started_at) >= Math.max(Date.parse(b.finished_at), Date.parse(c.finished_at)));
  assert.deepEqual(Object.keys(run.output.prev).sort(), ['a', 'b', 'c']); // the last group's output
});

test('a signal step waits for its signal; the payload becomes its output', async () => {
  const res = await start('test.approval', { input: {} });
  const id = res.json.id;
  const waiting = await waitRun(id, (r) => r.status === 'waiting');
  assert.equal(waiting.steps[1].status, 'waiting');
  assert.equal(waiting.steps[2].status, 'pending');
  await sleep(300);
  assert.equal((await get(id)).json.status, 'waiting');
  const bad = await request(srv, 'POST', `/api/v1/workflows/runs/${id}/signals/Bad%20Name`, { token: adminA, body: {} });
  assertError(bad, 422, 'validation_failed');
  const sig = await request(srv, 'POST', `/api/v1/workflows/runs/${id}/signals/approve`, { token: managerA, body: { payload: { by: 'boss' } } });
  assert.equal(sig.status, 202, show(sig));
  const again = await request(srv, 'POST', `/api/v1/workflows/runs/${id}/signals/approve`, { token: adminA, body: {} });
  assertError(again, 409, 'conflict');
  const run = await waitRun(id);
  assert.equal(run.status, 'completed');
  assert.deepEqual(run.steps[1].output, { by: 'boss' });
  assert.deepEqual(run.steps[2].output.prev.approval, { by: 'boss' });
});

test('a signal sent before the step waits is kept; a missed deadline fails the run', async () => {
  const early = await start('test.approval', { input: { sleep_ms: 300 } });
  const s = await request(srv, 'POST', `/api/v1/workflows/runs/${early.json.id}/signals/approve`, { token: adminA });
  assert.equal(s.status, 202, show(s));
  assert.equal((await waitRun(early.json.id)).status, 'completed');
  const dl = await start('test.deadline');
  const run = await waitRun(dl.json.id);
  assert.equal(run.status, 'failed');
  assert.match(run.error, /signal approve was not received before the deadline/);
});

test('cancel stops a run: no further steps run, a second cancel is 409', async () => {
  const res = await start('test.approval', { input: {} });
  await waitRun(res.json.id, (r) => r.status === 'waiting');
  const c = await request(srv, 'POST', `/api/v1/workflows/runs/${res.json.id}/cancel`, { token: adminA });
  assert.equal(c.status, 200, show(c));
  assert.equal(c.json.status, 'canceled');
  assert.deepEqual(c.json.steps.map((s) => s.status), ['completed', 'canceled', 'canceled']);
  assertError(await request(srv, 'POST', `/api/v1/workflows/runs/${res.json.id}/cancel`, { token: adminA }), 409, 'conflict');
  assertError(await request(srv, 'POST', `/api/v1/workflows/runs/${res.json.id}/signals/approve`, { token: adminA }), 409, 'conflict');
  await sleep(200);
  const run = (await get(res.json.id)).json;
  assert.equal(run.status, 'canceled');
  assert.equal(run.steps[2].history.length, 0);
  // a running step's late result is discarded
  const d = await start('delay', { input: { ms: 400 } });
  await waitRun(d.json.id, (r) => r.steps[0].status === 'running');
  assert.equal((await request(srv, 'POST', `/api/v1/workflows/runs/${d.json.id}/cancel`, { token: adminA })).status, 200);
  await sleep(700);
  const dr = (await get(d.json.id)).json;
  assert.equal(dr.status, 'canceled');
  assert.equal(dr.output, null);
  assert.equal(dr.steps[0].history[0].status, 'canceled');
});

test('the same idempotency key returns the same run', async () => {
  const key = `k-${crypto.randomUUID()}`;
  const a = await start('lead_scoring', { input: { budget: 1 }, idempotency_key: key });
  assert.equal(a.status, 201, show(a));
  const b = await start('lead_scoring', { input: { budget: 2 }, idempotency_key: key });
  assert.equal(b.status, 200, show(b));
  assert.equal(b.json.id, a.json.id);
  assert.equal(b.headers.get('idempotent-replayed'), 'true');
  assert.equal(b.json.idempotency_key, key);
  // the key is per tenant
  const c = await start('lead_scoring', { input: {}, idempotency_key: key }, adminB);
  assert.equal(c.status, 201);
  assert.notEqual(c.json.id, a.json.id);
});

test('validation: unknown definition 404, bad bodies 422, unknown fields rejected', async () => {
  assertError(await start('nope', {}), 404, 'not_found');
  assertError(await start('lead_scoring', { input: [1] }), 422, 'validation_failed');
  assertError(await start('lead_scoring', { inputs: {} }), 422, 'validation_failed');
  assertError(await start('lead_scoring', { idempotency_key: 5 }), 422, 'validation_failed');
  const raw = await request(srv, 'POST', '/api/v1/workflows/lead_scoring/runs', { token: adminA, body: 'nope', headers: { 'content-type': 'application/json' } });
  assert.equal(raw.status, 400, show(raw));
  assertError(await get('not-a-uuid'), 404, 'not_found');
  assertError(await get(crypto.randomUUID()), 404, 'not_found');
  const noTenant = await start('lead_scoring', {}, superAdminToken());
  assertError(noTenant, 422, 'validation_failed');
});

test('tenant isolation: another tenant\'s run is 404 everywhere and never listed', async () => {
  const res = await start('test.approval', { input: {} });
  const id = res.json.id;
  assertError(await get(id, adminB), 404, 'not_found');
  assertError(await request(srv, 'POST', `/api/v1/workflows/runs/${id}/cancel`, { token: adminB }), 404, 'not_found');
  assertError(await request(srv, 'POST', `/api/v1/workflows/runs/${id}/signals/approve`, { token: adminB }), 404, 'not_found');
  assertError(await request(srv, 'GET', `/api/v1/workflows/runs/${id}/events`, { token: adminB }), 404, 'not_found');
  const list = await request(srv, 'GET', '/api/v1/workflows/runs?limit=200', { token: adminB });
  assert.ok(!list.json.items.some((r) => r.id === id));
  // a platform caller acts inside a tenant with X-Tenant-ID
  const sa = await request(srv, 'GET', `/api/v1/workflows/runs/${id}`, { token: superAdminToken(), headers: { 'X-Tenant-ID': A } });
  assert.equal(sa.status, 200, show(sa));
  await request(srv, 'POST', `/api/v1/workflows/runs/${id}/cancel`, { token: adminA });
});

test('permissions: client has no access; manager and tenant_admin manage', async () => {
  assertError(await request(srv, 'GET', '/api/v1/workflows/runs', { token: clientA }), 403, 'forbidden');
  assertError(await start('lead_scoring', {}, clientA), 403, 'forbidden');
  assertError(await request(srv, 'GET', '/api/v1/workflows/definitions', { token: clientA }), 403, 'forbidden');
  assert.equal((await start('lead_scoring', {}, managerA)).status, 201);
  const defs = await request(srv, 'GET', '/api/v1/workflows/definitions', { token: managerA });
  assert.equal(defs.status, 200);
  const names = defs.json.items.map((d) => d.name);
  for (const n of ['lead_scoring', 'daily_report', 'delay']) assert.ok(names.includes(n), n);
  assertError(await request(srv, 'GET', '/api/v1/workflows/runs'), 401, 'unauthorized');
});

test('listing: filters by name, status and time; keyset pages cover every run once', async () => {
  const T = `t-${crypto.randomUUID()}`;
  const tok = tenantToken(T, ['tenant_admin']);
  const ids = [];
  for (let i = 0; i < 7; i++) ids.push((await start('lead_scoring', { input: {} }, tok)).json.id);
  const f = await start('test.flaky', { input: { fail_times: 9 } }, tok);
  for (const id of [...ids, f.json.id]) await waitRun(id, undefined, 20000, tok);
  const seen = [];
  let cursor = null;
  for (let page = 0; page < 10; page++) {
    const q = `/api/v1/workflows/runs?limit=3&name=lead_scoring${cursor ? `&cursor=${cursor}` : ''}`;
    const res = await request(srv, 'GET', q, { token: tok });
    assert.equal(res.status, 200, show(res));
    seen.push(...res.json.items.map((r) => r.id));
    cursor = res.json.next_cursor;
    if (!cursor) break;
  }
  assert.deepEqual(seen, [...ids].reverse()); // newest first, each once
  const failed = await request(srv, 'GET', '/api/v1/workflows/runs?status=failed', { token: tok });
  assert.deepEqual(failed.json.items.map((r) => r.id), [f.json.id]);
  const future = await request(srv, 'GET', '/api/v1/workflows/runs?created_after=2999-01-01T00:00:00Z', { token: tok });
  assert.equal(future.json.items.length, 0);
  const past = await request(srv, 'GET', '/api/v1/workflows/runs?created_before=2000-01-01T00:00:00Z', { token: tok });
  assert.equal(past.json.items.length, 0);
  const all = await request(srv, 'GET', '/api/v1/workflows/runs?created_after=2000-01-01T00:00:00.000Z', { token: tok });
  assert.equal(all.json.items.length, 8);
  assertError(await request(srv, 'GET', '/api/v1/workflows/runs?status=bogus', { token: tok }), 422, 'validation_failed');
  assertError(await request(srv, 'GET', '/api/v1/workflows/runs?limit=0', { token: tok }), 422, 'validation_failed');
  assertError(await request(srv, 'GET', '/api/v1/workflows/runs?created_after=yesterday', { token: tok }), 422, 'validation_failed');
  assertError(await request(srv, 'GET', '/api/v1/workflows/runs?cursor=x', { token: tok }), 422, 'validation_failed');
});

test('daily_report counts the tenant\'s events and runs of the last day', async () => {
  const T = `t-${crypto.randomUUID()}`;
  const tok = tenantToken(T, ['tenant_admin']);
  for (let i = 0; i < 2; i++) await waitRun((await start('lead_scoring', { input: {} }, tok)).json.id, undefined, 20000, tok);
  const run = await waitRun((await start('daily_report', {}, tok)).json.id, undefined, 20000, tok);
  assert.equal(run.status, 'completed', JSON.stringify(run));
  assert.equal(run.output.runs.completed, 2);
  assert.equal(run.output.runs.running, 1); // itself
  assert.equal(run.output.events.WorkflowRunCompleted, 2);
  assert.equal(run.output.events.WorkflowRunStarted, 3);
  assert.equal(run.output.events_total, 5);
});

// sse: reads a stream to its end; onData(bodySoFar) sees it as it arrives
function sse(path, token, onData = () => {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.port, path, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        body += d;
        onData(body);
      });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.setTimeout(20000, () => req.destroy(new Error('SSE timeout')));
    req.end();
  });
}

test('GET /runs/{id}/events streams live progress as Server-Sent Events until the run ends', async () => {
  const res = await start('test.approval', { input: { sleep_ms: 100 } });
  const id = res.json.id;
  let signaled = false;
  // the signal goes out once the stream itself has shown the run waiting
  const stream = sse(`/api/v1/workflows/runs/${id}/events`, adminA, (body) => {
    if (!signaled && /event: run\ndata: \{[^\n]*"status":"waiting"/.test(body)) {
      signaled = true;
      request(srv, 'POST', `/api/v1/workflows/runs/${id}/signals/approve`, { token: adminA, body: { payload: { ok: true } } });
    }
  });
  const out = await stream;
  assert.ok(signaled);
  assert.equal(out.status, 200);
  assert.equal(out.headers['content-type'], 'text/event-stream');
  const events = out.body
    .split('\n\n')
    .filter((b) => b.startsWith('event:'))
    .map((b) => {
      const [e, d] = b.split('\n');
      return { type: e.slice(7), data: JSON.parse(d.slice(6)) };
    });
  const types = events.map((e) => e.type);
  assert.equal(types[0], 'run');
  assert.equal(types[types.length - 1], 'end');
  assert.equal(events[events.length - 1].data.status, 'completed');
  const runStates = events.filter((e) => e.type === 'run').map((e) => e.data.status);
  assert.ok(runStates.includes('waiting'), runStates.join());
  const publish = events.filter((e) => e.type === 'step' && e.data.name === 'publish').map((e) => e.data.status);
  assert.ok(publish.includes('completed'), publish.join());
  // not found and not permitted are ordinary JSON errors
  assertError(await request(srv, 'GET', `/api/v1/workflows/runs/${crypto.randomUUID()}/events`, { token: adminA }), 404, 'not_found');
  assertError(await request(srv, 'GET', `/api/v1/workflows/runs/${id}/events`, { token: clientA }), 403, 'forbidden');
  // the server still answers on the connection pool afterwards
  assert.equal((await get(id)).status, 200);
});

test('the gateway serves the workflows as registry service temporal', async () => {
  const res = await request(srv, 'POST', '/api/brain/temporal/lead_scoring/runs', { token: adminA, body: { input: { budget: 20000 } } });
  assert.equal(res.status, 201, show(res));
  const run = await waitRun(res.json.id);
  assert.equal(run.output.score, 25);
  const via = await request(srv, 'GET', `/api/brain/temporal/runs/${res.json.id}`, { token: adminA });
  assert.equal(via.status, 200);
  assert.equal(via.json.id, res.json.id);
  const health = await request(srv, 'GET', '/health');
  assert.ok(health.json.services.temporal, JSON.stringify(health.json));
});
