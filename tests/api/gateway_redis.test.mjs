// gateway_redis.test.mjs — rate limits shared through Redis: two bizosaas
// processes against one real redis-server count one window per tenant and
// service; with Redis gone the gateway keeps serving and limits fall back to
// each process's own window (fail-open to local limits, see
// docs/ARCHITECTURE.md); with Redis back the limit is shared again.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { show } from './lib/expect.mjs';
import { tenantToken } from './lib/jwt.mjs';
import { ROOT, freePort, request, startServer, tempDir } from './lib/server.mjs';

const sfx = crypto.randomBytes(3).toString('hex');
const SVC = `shared-${sfx}`;
const LIMIT = 10;
let a;
let b;
let upstream;
let redisDir;
let redisPort;

const redisStart = () => execFileSync(path.join(ROOT, 'scripts/redis-start.sh'), [redisDir, String(redisPort)], { encoding: 'utf8' });
const redisStop = () => execFileSync(path.join(ROOT, 'scripts/redis-stop.sh'), [redisDir]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  redisDir = tempDir('bizosaas-redis-');
  redisPort = await freePort();
  redisStart();
  const upPort = await freePort();
  upstream = http.createServer((req, res) => res.end('{"ok":true}'));
  await new Promise((r) => upstream.listen(upPort, '127.0.0.1', r));
  const file = path.join(tempDir('bizosaas-ini-'), 'bizosaas.ini');
  fs.writeFileSync(file, `[service.${SVC}]\ntarget = http://127.0.0.1:${upPort}\nrate_limit_per_min = ${LIMIT}\n`);
  const env = { BIZOSAAS_REDIS_URL: `redis://127.0.0.1:${redisPort}` };
  a = await startServer({ args: ['--config', file], env });
  b = await startServer({ args: ['--config', file], env });
});
after(async () => {
  upstream?.close();
  for (const s of [a, b]) if (s) assert.equal(await s.stop(), 0, s.stderr().slice(-30).join('\n'));
  if (redisDir) redisStop();
});

const hit = (srv, token) => request(srv, 'GET', `/api/brain/${SVC}/x`, { token });

async function redisFailures(srv) {
  const r = await request(srv, 'GET', '/metrics');
  return Number(/^gateway_ratelimit_redis_failures_total (\d+)$/m.exec(r.text)[1]);
}

/** shared: LIMIT requests spread over both processes pass, the next one is
 * refused by either process. */
async function assertShared(token) {
  for (let i = 0; i < LIMIT; i++) {
    const r = await hit(i % 2 ? b : a, token);
    assert.equal(r.status, 200, `request ${i + 1}: ${show(r)}`);
    assert.equal(r.headers.get('ratelimit-limit'), String(LIMIT));
    assert.equal(r.headers.get('ratelimit-remaining'), String(LIMIT - i - 1), 'one count for both processes');
  }
  for (const srv of [a, b]) {
    const r = await hit(srv, token);
    assert.equal(r.status, 429, show(r));
    assert.equal(r.json.error.code, 'rate_limited');
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    assert.equal(r.headers.get('ratelimit-remaining'), '0');
    assert.ok(Number(r.headers.get('ratelimit-reset')) >= 1);
  }
}

test('two processes share one sliding window through Redis', async () => {
  await assertShared(tenantToken(`t-${crypto.randomBytes(4).toString('hex')}`, ['manager']));
  assert.equal(await redisFailures(a), 0);
  assert.equal(await redisFailures(b), 0);
});

test('Redis down: the gateway keeps serving with per-process limits; Redis back: shared again', async () => {
  redisStop();
  const token = tenantToken(`t-${crypto.randomBytes(4).toString('hex')}`, ['manager']);
  // each process now counts on its own: LIMIT requests pass on each
  for (const srv of [a, b]) {
    for (let i = 0; i < LIMIT; i++) {
      const r = await hit(srv, token);
      assert.equal(r.status, 200, `request ${i + 1} with Redis down: ${show(r)}`);
    }
    const r = await hit(srv, token);
    assert.equal(r.status, 429, 'the local window still limits');
    assert.ok(r.headers.get('retry-after'));
  }
  assert.ok((await redisFailures(a)) >= 1, 'the failures are counted');
  assert.ok((await redisFailures(b)) >= 1);

  redisStart();
  await sleep(1200); // past the back-off after a failure (GW_RL_REDIS_BACKOFF_MS)
  const before = [await redisFailures(a), await redisFailures(b)];
  await assertShared(tenantToken(`t-${crypto.randomBytes(4).toString('hex')}`, ['manager']));
  assert.deepEqual([await redisFailures(a), await redisFailures(b)], before, 'no failures once it is back');
});
