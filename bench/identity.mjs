#!/usr/bin/env node
// identity.mjs — identity benchmarks (run by hand, never by CI):
//   node bench/identity.mjs [path/to/bizosaas]
// 1. login latency with the argon2id parameters (sequential logins), and
//    GET /livez latency while 8 logins run at once (logins hash on workers;
//    the I/O threads must stay responsive);
// 2. wrk -c64: authenticated GET /api/v1/auth/me vs unauthenticated
//    GET /version, in the same run (the issue's ratio), BENCH_ROUNDS rounds
//    (default 5) of BENCH_DURATION seconds (default 5) each, alternating, so
//    that a noisy shared machine moves both sides alike; medians reported.
//    Besides the issue's case (one client, one token: its repeated answer
//    comes from the I/O thread's memory while the database is unchanged) it
//    measures the path without that memory: /me with 20 tokens of the same
//    user in turn (every answer is recomputed: hook query + user query in a
//    read transaction on the I/O thread), and /auth/verify (the hook only).
// Starts its own bizosaas (SQLite, fresh data dir, demo tenant) and stops it.
// BENCH_PG_URL=postgres://… runs it on that PostgreSQL database instead
// (migrated and demo-seeded with `bizosaas migrate` / `admin seed-demo`;
// the demo tenant's passwords are reset).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const bin = path.resolve(process.argv[2] || 'build/bizosaas');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bizosaas-bench-id-'));
const port = await new Promise((r) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => r(p));
  });
});
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BIZOSAAS_')));
Object.assign(env, {
  BIZOSAAS_LISTEN: `127.0.0.1:${port}`,
  BIZOSAAS_DATA_DIR: dir,
  BIZOSAAS_DATABASE_URL: process.env.BENCH_PG_URL || `sqlite:${dir}/b.db`,
  BIZOSAAS_ACCESS_LOG: 'false',
  BIZOSAAS_THREADS: String(os.cpus().length),
  BIZOSAAS_LOGIN_MAX_FAILURES: '1000',
});
let seeded = null;
if (process.env.BENCH_PG_URL) {
  execFileSync(bin, ['migrate'], { env, cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const out = execFileSync(bin, ['admin', 'seed-demo'], { env, cwd: dir, encoding: 'utf8' });
  const [email, , password] = out.split('\n').find((l) => /\smanager\s/.test(l)).trim().split(/\s+/);
  seeded = { email, password };
}
const child = spawn(bin, ['serve'], { env, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
let err = '';
child.stderr.on('data', (d) => (err += d));
const base = `http://127.0.0.1:${port}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) break;
    } catch {}
    if (i > 300) throw new Error(`server did not start:\n${err}`);
    await sleep(50);
  }
  // the embedded default writes the demo logins to DATA_DIR/demo-logins.txt (never the log)
  const manager = () => {
    const line = fs.readFileSync(path.join(dir, 'demo-logins.txt'), 'utf8').split('\n').find((l) => /\smanager\s/.test(l));
    const [email, , password] = line.trim().split(/\s+/);
    return { email, password };
  };
  const { email, password } = seeded || manager();
  const login = async () => {
    const t0 = performance.now();
    const r = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    const j = await r.json();
    if (r.status !== 200) throw new Error(`login ${r.status} ${JSON.stringify(j)}`);
    return { ms: performance.now() - t0, token: j.access_token };
  };
  const pct = (a, p) => a.slice().sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor((p / 100) * a.length))];
  const seq = [];
  const tokens = [];
  let token;
  for (let i = 0; i < 20; i++) ({ ms: seq[i], token: tokens[i] } = await login());
  token = tokens[tokens.length - 1];
  // /livez while 8 logins hash at once
  const livez = [];
  const burst = Promise.all(Array.from({ length: 8 }, login));
  for (let i = 0; i < 40; i++) {
    const t0 = performance.now();
    await fetch(`${base}/livez`);
    livez.push(performance.now() - t0);
  }
  await burst;
  const duration = Number(process.env.BENCH_DURATION || 5);
  const rounds = Number(process.env.BENCH_ROUNDS || 5);
  const rotate = path.join(dir, 'rotate.lua');
  fs.writeFileSync(
    rotate,
    `local tokens = {${tokens.map((t) => `"${t}"`).join(',')}}
local reqs = {}
local i = 0
init = function()
  for k, t in ipairs(tokens) do
    reqs[k] = wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. t })
  end
end
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
`,
  );
  // server CPU time (user + system, all threads) from /proc: per request,
  // it hardly depends on how busy the rest of the machine is
  const cpuTicks = () => {
    const f = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
  };
  const ticksPerSec = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
  const cpu = { version: [], me: [], meRotating: [], verify: [] };
  const wrk = (url, extra = [], into = null) => {
    const args = ['-t2', '-c64', `-d${duration}s`, ...extra, url];
    const t0 = cpuTicks();
    const out = execFileSync('wrk', args, { encoding: 'utf8' });
    const used = cpuTicks() - t0;
    if (/Non-2xx/.test(out)) throw new Error(`non-2xx answers from ${url}:\n${out}`);
    const n = Number(/(\d+) requests in/.exec(out)[1]);
    if (into) into.push((used / ticksPerSec / n) * 1e6);
    return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  };
  const bearer = ['-H', `Authorization: Bearer ${token}`];
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const runs = { version: [], me: [], meRotating: [], verify: [], ratio: [] };
  for (let r = 0; r < rounds; r++) {
    const v = wrk(`${base}/version`, [], cpu.version);
    const m = wrk(`${base}/api/v1/auth/me`, bearer, cpu.me);
    runs.version.push(v);
    runs.me.push(m);
    runs.ratio.push(m / v);
    runs.meRotating.push(wrk(`${base}/api/v1/auth/me`, ['-s', rotate], cpu.meRotating));
    runs.verify.push(wrk(`${base}/api/v1/auth/verify`, bearer, cpu.verify));
  }
  const med = (a) => pct(a, 50);
  const version = med(runs.version);
  const f = (x) => x.toFixed(1);
  const list = (a, d = 0) => a.map((x) => x.toFixed(d)).join(', ');
  console.log(`# Identity benchmark — ${new Date().toISOString().slice(0, 16)}Z (${process.env.BENCH_PG_URL ? 'PostgreSQL' : 'SQLite'})

Machine: ${os.cpus().length} cores, ${os.cpus()[0].model}; load average before the wrk runs: ${load}, after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}.
wrk -t2 -c64, ${rounds} rounds of ${duration} s each, alternating; medians (each round's values in brackets).
argon2id: libsodium crypto_pwhash, m = 19 MiB, t = 2, p = 1 (OWASP minimum).

| measurement | value |
| --- | ---: |
| login latency, sequential (20) p50 / p99 | ${f(pct(seq, 50))} ms / ${f(pct(seq, 99))} ms |
| GET /livez while 8 logins hash: p50 / max | ${f(pct(livez, 50))} ms / ${f(Math.max(...livez))} ms |
| GET /version | ${version.toFixed(0)} req/s [${list(runs.version)}] |
| GET /api/v1/auth/me, one bearer token | ${med(runs.me).toFixed(0)} req/s [${list(runs.me)}] |
| ratio /auth/me / /version (per round) | **${med(runs.ratio).toFixed(2)}** [${list(runs.ratio, 2)}] (target ≥ 0.8) |
| GET /api/v1/auth/me, 20 tokens of one user in turn (no answer reuse) | ${med(runs.meRotating).toFixed(0)} req/s [${list(runs.meRotating)}] — ${(med(runs.meRotating) / version).toFixed(2)}× /version |
| GET /api/v1/auth/verify (revocation check every time) | ${med(runs.verify).toFixed(0)} req/s [${list(runs.verify)}] — ${(med(runs.verify) / version).toFixed(2)}× /version |

Server CPU time per request (user + system, all threads; median of the rounds):
/version ${f(med(cpu.version))} µs, /auth/me ${f(med(cpu.me))} µs, /auth/me without answer reuse ${f(med(cpu.meRotating))} µs, /auth/verify ${f(med(cpu.verify))} µs.
`);
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.on('close', r));
  fs.rmSync(dir, { recursive: true, force: true });
}
