// lib.mjs — helpers shared by the Node benchmarks (crm.mjs, contact.mjs):
// a free port, bench tokens, and one wrk run parsed into numbers.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const SECRET = 'bench-secret-0123456789abcdef0123456789abcdef';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** token: an HS256 token under SECRET for tenant (none: a platform token) with roles. */
export function token(tenant, roles = ['manager']) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: crypto.randomUUID(), ...(tenant ? { tenant_id: tenant } : {}), roles, iat: now, exp: now + 3600, iss: 'bizosaas', aud: 'bizosaas' };
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${body}.${crypto.createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

/** freePort: a loopback port that was free a moment ago. */
export function freePort() {
  return new Promise((r) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => r(p));
    });
  });
}

/** wrk: one `wrk -t2 -c32 -d10s --latency` run against url with the extra
 * header (e.g. "Authorization: Bearer …") and an optional Lua script
 * (written into dir) → {rps, p50, p99, non2xx}. */
export function wrk(url, header, script, dir) {
  const args = ['-t2', '-c32', '-d10s', '--latency', '-H', header];
  if (script) {
    const f = path.join(dir, 'post.lua');
    fs.writeFileSync(f, script);
    args.push('-s', f);
  }
  const out = execFileSync('wrk', [...args, url], { encoding: 'utf8' });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1];
  const p50 = /^\s+50%\s+(\S+)/m.exec(out)?.[1];
  const p99 = /^\s+99%\s+(\S+)/m.exec(out)?.[1];
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] || '0';
  return { rps: Number(rps), p50, p99, non2xx: Number(non2xx) };
}
