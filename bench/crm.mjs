#!/usr/bin/env node
// crm.mjs — CRM throughput (run by hand, never by CI):
//   node bench/crm.mjs [path/to/bizosaas] [postgres://…]
// For SQLite (a fresh file) and, when a PostgreSQL URL is given (or
// BIZOSAAS_BENCH_PG_URL is set), for PostgreSQL: starts bizosaas, then with
// wrk (-t2 -c32, 10 s each)
//   1. POST /api/v1/crm/leads — lead creation (validate, score, duplicate
//      lookup, insert, LeadCreated + LeadScored in the outbox, one commit);
//      every request a different lead (a Lua counter in the body);
//   2. GET /api/v1/crm/leads?limit=50&sort=score — a page of 50 from the
//      leads created in step 1.
// Prints requests/s and latency; the machine's load average is printed too,
// since the numbers mean little on a busy machine.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { SECRET, freePort, sleep, token, wrk } from './lib.mjs';

const bin = path.resolve(process.argv[2] || 'build/bizosaas');
const pgUrl = process.argv[3] || process.env.BIZOSAAS_BENCH_PG_URL || '';

const POST = `
counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"name":"Bench Lead %d","email":"lead%d-%d@bench.example","phone":"+1 555 %07d","company":"Co %d","company_size":%d,"budget":%d,"services":["seo","ppc"],"message":"bench"}',
    counter, counter, math.random(1, 1000000000), counter % 10000000, counter % 97, (counter * 7) % 2000, (counter * 13) % 20000)
  -- the -H headers live in wrk.headers; a headers argument would replace them
  wrk.headers["Content-Type"] = "application/json"
  return wrk.format("POST", nil, nil, body)
end
`;

async function run(label, dbUrl) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bizosaas-bench-crm-'));
  const port = await freePort();
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BIZOSAAS_')));
  Object.assign(env, {
    BIZOSAAS_LISTEN: `127.0.0.1:${port}`,
    BIZOSAAS_DATA_DIR: dir,
    BIZOSAAS_DATABASE_URL: dbUrl || `sqlite:${dir}/b.db`,
    BIZOSAAS_ACCESS_LOG: 'false',
    BIZOSAAS_JWT_SECRET: SECRET,
    BIZOSAAS_LOG_LEVEL: 'warn',
  });
  const child = spawn(bin, ['serve', ...(dbUrl ? ['--migrate'] : [])], { env, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/readyz`)).status === 200) break;
      } catch {}
      if (i > 300) throw new Error(`server did not start:\n${err}`);
      await sleep(50);
    }
    const tok = token(crypto.randomUUID());
    const create = wrk(`${base}/api/v1/crm/leads`, `Authorization: Bearer ${tok}`, POST, dir);
    const list = wrk(`${base}/api/v1/crm/leads?limit=50&sort=score`, `Authorization: Bearer ${tok}`, null, dir);
    const n = await (await fetch(`${base}/api/v1/crm/leads?limit=1`, { headers: { authorization: `Bearer ${tok}` } })).json();
    if (!n.items?.length) throw new Error(`no leads were created: ${JSON.stringify(n)} ${JSON.stringify(create)}`);
    console.log(`${label.padEnd(10)} create: ${create.rps.toFixed(0).padStart(6)} req/s (p50 ${create.p50}, p99 ${create.p99}, non-2xx ${create.non2xx})`);
    console.log(`${''.padEnd(10)} list 50: ${list.rps.toFixed(0).padStart(6)} req/s (p50 ${list.p50}, p99 ${list.p99}, non-2xx ${list.non2xx})`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.on('close', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`load average before: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}, ${os.cpus().length} cores`);
await run('SQLite', '');
if (pgUrl) await run('PostgreSQL', pgUrl);
console.log(`load average after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
