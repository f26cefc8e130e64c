#!/usr/bin/env node
// workflows.mjs — workflow and event throughput (run by hand, never by CI):
//   node bench/workflows.mjs [path/to/bizosaas]
// Environment: BENCH_PG_URL (a PostgreSQL URL whose role may CREATE SCHEMA;
// without it only SQLite is measured), BENCH_REDIS_PORT (default 56463: a
// redis-server is started there and stopped at the end), BENCH_RUNS (2000),
// BENCH_EVENTS (3000).
//
// 1. Workflow steps per second: BENCH_RUNS one-step runs (`delay`, 0 ms) are
//    queued through the API of a server without workers, then one
//    `bizosaas worker` process with 1, then 2, worker threads drains them;
//    steps/s = runs / time to drain.
// 2. Events per second from commit to a subscriber: BENCH_EVENTS events are
//    published over HTTP (16 concurrent clients, one transaction each) to a
//    server relaying to Redis; the relay (subscriber `redis-relay`) is the
//    subscriber measured. Latency commit -> delivery per event = the Redis
//    stream entry's time (XADD) minus the event's created_at (set inside the
//    committing transaction); p50/p99 over all events; events/s = events /
//    (last delivery - first publish).
// 3. Next to it: raw `redis-benchmark` XADD throughput on the same machine,
//    the ceiling of the relay.
// Everything started here is stopped here, by pid. The report goes to stdout.
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const bin = path.resolve(process.argv[2] || 'build/bizosaas');
const pgBase = process.env.BENCH_PG_URL || '';
const redisPort = Number(process.env.BENCH_REDIS_PORT || 56463);
const RUNS = Number(process.env.BENCH_RUNS || 2000);
const EVENTS = Number(process.env.BENCH_EVENTS || 3000);
const secret = 'bench-jwt-secret-0123456789abcdef0123456789abcdef';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (s) => process.stderr.write(`[bench] ${s}\n`);
const procs = [];
const schemas = [];

function token(claims) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'bench', iat: now, exp: now + 6 * 3600, iss: 'bizosaas', aud: 'bizosaas', ...claims })}`;
  return `${input}.${crypto.createHmac('sha256', secret).update(input).digest('base64url')}`;
}
const TENANT = `bench-${crypto.randomUUID()}`;
const tenantTok = token({ roles: ['tenant_admin'], tenant_id: TENANT });
const adminTok = token({ roles: ['super_admin'] });

const freePort = () =>
  new Promise((r) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => r(p));
    });
  });

function baseEnv(extra) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BIZOSAAS_')));
  return { ...env, BIZOSAAS_JWT_SECRET: secret, BIZOSAAS_ACCESS_LOG: 'false', BIZOSAAS_LOG_LEVEL: 'warn', ...extra };
}

function dbUrl(kind, dir) {
  if (kind === 'sqlite') return `sqlite:${dir}/bench.db`;
  const schema = `bench_wf_${process.pid}_${crypto.randomBytes(3).toString('hex')}`;
  execFileSync('psql', [pgBase, '-qc', `CREATE SCHEMA ${schema}`]);
  schemas.push(schema);
  return `${pgBase}${pgBase.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`;
}

async function serve(db, extra = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bizosaas-bench-wf-'));
  const port = await freePort();
  const env = baseEnv({ BIZOSAAS_LISTEN: `127.0.0.1:${port}`, BIZOSAAS_DATA_DIR: dir, BIZOSAAS_DATABASE_URL: db, ...extra });
  const p = spawn(bin, ['serve', '--migrate'], { env, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  procs.push(p);
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) break;
    } catch {}
    if (i > 400) throw new Error(`server did not start:\n${err}`);
    await sleep(50);
  }
  return { base, proc: p, dir };
}

async function stop(p) {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const done = new Promise((r) => p.on('close', r));
  p.kill('SIGTERM');
  await done;
}

async function post(base, pathname, body, tok) {
  const r = await fetch(base + pathname, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tok}` },
    body: JSON.stringify(body),
  });
  if (r.status >= 300) throw new Error(`${pathname}: ${r.status} ${await r.text()}`);
  return r.json();
}

async function parallel(n, conc, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: conc }, async () => {
    for (let i = next++; i < n; i = next++) await fn(i);
  }));
}

async function pending(base) {
  for (const st of ['queued', 'running']) {
    const r = await fetch(`${base}/api/v1/workflows/runs?status=${st}&limit=1`, { headers: { authorization: `Bearer ${tenantTok}` } });
    if ((await r.json()).items.length) return true;
  }
  return false;
}

async function stepsPerSecond(kind, threads) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bizosaas-bench-wfdb-'));
  const db = dbUrl(kind, dir);
  const api = await serve(db, { BIZOSAAS_WORKFLOW_WORKERS: '0' });
  await parallel(RUNS, 16, () => post(api.base, '/api/v1/workflows/delay/runs', { input: { ms: 0 } }, tenantTok));
  const w = spawn(bin, ['worker'], { env: baseEnv({ BIZOSAAS_DATABASE_URL: db, BIZOSAAS_DATA_DIR: dir, BIZOSAAS_WORKFLOW_WORKERS: String(threads), BIZOSAAS_WORKFLOW_POLL_MS: '5' }), stdio: 'ignore' });
  procs.push(w);
  const t0 = performance.now();
  while (await pending(api.base)) await sleep(20);
  const s = (performance.now() - t0) / 1000;
  await stop(w);
  await stop(api.proc);
  return RUNS / s;
}

function redisCmd(...args) {
  return execFileSync('redis-cli', ['-p', String(redisPort), '--no-raw', ...args], { encoding: 'utf8' });
}

async function eventsBench(kind) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bizosaas-bench-evdb-'));
  const db = dbUrl(kind, dir);
  const tenant = `ev-${crypto.randomUUID()}`;
  const s = await serve(db, { BIZOSAAS_REDIS_URL: `redis://127.0.0.1:${redisPort}`, BIZOSAAS_EVENTS_POLL_MS: '5', BIZOSAAS_WORKFLOW_WORKERS: '0' });
  const stream = `bizosaas:events:${tenant}`;
  const t0 = Date.now();
  await parallel(EVENTS, 16, (i) => post(s.base, '/api/v1/events', { tenant_id: tenant, aggregate_type: 'bench', aggregate_id: `b${i % 50}`, event_type: 'BenchPing', payload: { i } }, adminTok));
  for (let i = 0; ; i++) {
    if (Number(execFileSync('redis-cli', ['-p', String(redisPort), 'XLEN', stream], { encoding: 'utf8' })) >= EVENTS) break;
    if (i > 3000) throw new Error('relay did not deliver every event');
    await sleep(10);
  }
  // every entry: id "<ms>-<n>" and its created_at field
  const out = execFileSync('redis-cli', ['-p', String(redisPort), '--json', 'XRANGE', stream, '-', '+'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const entries = JSON.parse(out);
  const lat = [];
  let last = 0;
  for (const [id, fields] of entries) {
    const at = Number(id.split('-')[0]);
    const f = {};
    for (let k = 0; k < fields.length; k += 2) f[fields[k]] = fields[k + 1];
    const created = Date.parse(f.created_at.replace(' ', 'T').replace(/\+00$/, 'Z'));
    lat.push(at - created);
    last = Math.max(last, at);
  }
  await stop(s.proc);
  lat.sort((a, b) => a - b);
  const p = (q) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))];
  return { eps: entries.length / ((last - t0) / 1000), p50: p(0.5), p99: p(0.99), n: entries.length };
}

const load0 = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const redis = spawn('redis-server', ['--port', String(redisPort), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], { stdio: 'ignore' });
procs.push(redis);
const rows = [];
try {
  for (let i = 0; i < 100; i++) {
    try {
      redisCmd('PING');
      break;
    } catch {
      await sleep(50);
    }
  }
  const kinds = ['sqlite', ...(pgBase ? ['postgres'] : [])];
  for (const kind of kinds) {
    for (const threads of [1, 2]) {
      say(`${kind}: workflow steps, ${threads} worker thread(s)`);
      rows.push(`| workflow steps/s, ${kind}, 1 process × ${threads} worker thread(s) | ${(await stepsPerSecond(kind, threads)).toFixed(0)} |`);
    }
  }
  for (const kind of kinds) {
    say(`${kind}: events commit -> redis-relay`);
    const e = await eventsBench(kind);
    rows.push(`| events/s commit → subscriber (redis-relay), ${kind}, ${e.n} events, 16 publishers | ${e.eps.toFixed(0)} (p50 ${e.p50} ms, p99 ${e.p99} ms) |`);
  }
  say('redis-benchmark XADD');
  const rb = execFileSync('redis-benchmark', ['-p', String(redisPort), '-q', '-n', '200000', '-c', '50', 'XADD', 'bench:raw', '*', 'field', 'value'], { encoding: 'utf8' });
  const rps = /([\d.]+) requests per second/.exec(rb);
  rows.push(`| raw redis-benchmark XADD (-c 50, no pipelining) | ${rps ? Number(rps[1]).toFixed(0) : rb.trim()} |`);
  const rbp = execFileSync('redis-benchmark', ['-p', String(redisPort), '-q', '-n', '200000', '-c', '50', '-P', '16', 'XADD', 'bench:raw', '*', 'field', 'value'], { encoding: 'utf8' });
  const rpsp = /([\d.]+) requests per second/.exec(rbp);
  rows.push(`| raw redis-benchmark XADD (-c 50, -P 16 pipelined, like the relay's batches) | ${rpsp ? Number(rpsp[1]).toFixed(0) : rbp.trim()} |`);
} finally {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
  for (const s of schemas) {
    try {
      execFileSync('psql', [pgBase, '-qc', `DROP SCHEMA ${s} CASCADE`]);
    } catch {}
  }
}
const load1 = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`Workflows and events — ${new Date().toISOString()}, ${os.cpus().length} cores, load average ${load0} at start, ${load1} at end\n`);
console.log('| measurement | result |\n|---|---|');
for (const r of rows) console.log(r);
