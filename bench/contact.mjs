#!/usr/bin/env node
// contact.mjs — contact-flow throughput (run by hand, never by CI):
//   node bench/contact.mjs [path/to/bizosaas] [postgres://…]
// For SQLite (a fresh file) and, when a PostgreSQL URL is given (or
// BIZOSAAS_BENCH_PG_URL is set), for PostgreSQL: starts bizosaas, makes a
// tenant with the domain bench-<id>.test and its contact form, then with wrk
// (-t2 -c32, 10 s) posts submissions to POST /api/brain/contact/submit with
// that Host: each one is validated and stored (CMS), raises its event, and
// becomes a scored lead (CRM) in the same transaction; every fourth is
// high-value (score 100), so its alert (notification + mail) is written by
// the event subscriber. Prints submissions/s, latency and the leads counted
// afterwards; the load average too, since numbers mean little on a busy
// machine. The per-IP rate limit is lifted for the run.
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
  local high = counter % 4 == 0
  local body = string.format('{"name":"Visitor %d","email":"v%d-%d@bench.example","phone":"+1 555 %07d","budget":"%d","company_size":"%d","website":"%s","services":%s,"message":"%s"}',
    counter, counter, math.random(1, 1000000000), counter % 10000000, high and 12000 or 1000, high and 1000 or 10,
    high and "bench.example" or "", high and '["seo","ppc","analytics","social_media"]' or '[]',
    high and string.rep("we need help with marketing ", 5) or "hi")
  wrk.headers["Content-Type"] = "application/json"
  return wrk.format("POST", nil, nil, body)
end
`;

const FORM = {
  slug: 'contact',
  title: 'Contact',
  fields: [
    { name: 'name', type: 'text', required: true, max_length: 120 },
    { name: 'email', type: 'email', required: true },
    { name: 'phone', type: 'tel', max_length: 40 },
    { name: 'website', type: 'text', max_length: 300 },
    { name: 'company_size', type: 'number' },
    { name: 'budget', type: 'number' },
    { name: 'services', type: 'select', multiple: true, choices: ['seo', 'ppc', 'analytics', 'social_media'] },
    { name: 'message', type: 'textarea', max_length: 5000 },
  ],
};

async function api(base, method, p, tok, body) {
  const r = await fetch(base + p, {
    method,
    headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  const j = await r.json();
  if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(j)}`);
  return j;
}

async function run(label, dbUrl) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bizosaas-bench-contact-'));
  const port = await freePort();
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BIZOSAAS_')));
  Object.assign(env, {
    BIZOSAAS_LISTEN: `127.0.0.1:${port}`,
    BIZOSAAS_DATA_DIR: dir,
    BIZOSAAS_DATABASE_URL: dbUrl || `sqlite:${dir}/b.db`,
    BIZOSAAS_ACCESS_LOG: 'false',
    BIZOSAAS_JWT_SECRET: SECRET,
    BIZOSAAS_LOG_LEVEL: 'warn',
    BIZOSAAS_CONTACT_RATE_PER_MIN: '1000000',
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
    const id = crypto.randomBytes(4).toString('hex');
    const host = `bench-${id}.test`;
    const t = await api(base, 'POST', '/api/v1/auth/tenants', token(null, ['super_admin']), { name: `Bench ${id}`, slug: `bench-${id}`, domains: [host] });
    const tok = token(t.id);
    await api(base, 'POST', '/api/v1/cms/forms', tok, FORM);
    const r = wrk(`${base}/api/brain/contact/submit`, `Host: ${host}`, POST, dir);
    const leads = await api(base, 'GET', '/api/v1/crm/leads?limit=1', tok);
    if (!leads.items?.length) throw new Error('no leads were created');
    console.log(`${label.padEnd(10)} contact submit: ${r.rps.toFixed(0).padStart(6)} req/s (p50 ${r.p50}, p99 ${r.p99}, non-2xx ${r.non2xx})`);
  } catch (e) {
    console.error(`${label}: ${e.message}\n${err.slice(-2000)}`);
    process.exitCode = 1;
  } finally {
    const closed = child.exitCode !== null ? Promise.resolve() : new Promise((res) => child.on('close', res));
    child.kill('SIGTERM');
    await closed;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`load average before: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}, ${os.cpus().length} cores`);
await run('SQLite', '');
if (pgUrl) await run('PostgreSQL', pgUrl);
console.log(`load average after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
