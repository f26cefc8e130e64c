// startup.mjs — time from spawning `bizosaas serve` to its first 200 on
// GET /livez, with a fresh data directory (SQLite, migrations included) each
// run. Prints one JSON line {runs_ms: [...], median_ms}.
//
// Usage: node bench/lib/startup.mjs BIN RUNS
// Polls over raw TCP every millisecond so the measurement is not dominated
// by the poller. Every child started here is stopped here, by its pid.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const bin = process.argv[2];
const runs = Number(process.argv[3] || 5);

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function livez(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    s.on('connect', () => s.write('GET /livez HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n'));
    s.on('data', (d) => (buf += d));
    s.on('error', () => resolve(false));
    s.on('close', () => resolve(buf.startsWith('HTTP/1.1 200 ')));
  });
}

const env = {};
for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BIZOSAAS_')) env[k] = v;

const times = [];
for (let i = 0; i < runs; i++) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bizosaas-startup-'));
  const port = await freePort();
  const t0 = process.hrtime.bigint();
  const child = spawn(bin, ['serve'], {
    cwd: dir,
    stdio: 'ignore',
    env: {
      ...env,
      BIZOSAAS_LISTEN: `127.0.0.1:${port}`,
      BIZOSAAS_DATA_DIR: dir,
      BIZOSAAS_DATABASE_URL: `sqlite:${path.join(dir, 'bizosaas.db')}`,
      BIZOSAAS_ACCESS_LOG: 'false',
    },
  });
  const exited = new Promise((r) => child.on('close', r));
  const deadline = Date.now() + 30000;
  let ok = false;
  while (!ok && Date.now() < deadline && child.exitCode === null) {
    ok = await livez(port);
    if (!ok) await new Promise((r) => setTimeout(r, 1));
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  child.kill('SIGTERM');
  await exited;
  fs.rmSync(dir, { recursive: true, force: true });
  if (!ok) {
    console.error(`run ${i + 1}: no 200 on /livez`);
    process.exit(1);
  }
  times.push(Math.round(ms * 10) / 10);
}
const sorted = [...times].sort((a, b) => a - b);
const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
console.log(JSON.stringify({ runs_ms: times, median_ms: median }));
