// gateway_health.test.mjs — active health checks of an HTTP upstream feed
// its circuit breaker without any client traffic, and every breaker change
// becomes a ServiceHealthChanged event in the outbox.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { test } from 'node:test';

import { show } from './lib/expect.mjs';
import { superAdminToken } from './lib/jwt.mjs';
import { freePort, request, startServer } from './lib/server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const admin = superAdminToken();

function upstream(port) {
  const checks = [];
  const s = http.createServer((req, res) => {
    checks.push(req.url);
    res.end('{"status":"ok"}');
  });
  return new Promise((resolve) => s.listen(port, '127.0.0.1', () => resolve({ s, checks })));
}

async function until(what, fn, ms = 8000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test('health checks open and close the breaker; each change is an event', async () => {
  const srv = await startServer({ env: { BIZOSAAS_HEALTH_INTERVAL_MS: '150' } });
  const port = await freePort();
  let up = await upstream(port);
  const name = `hc-${crypto.randomBytes(3).toString('hex')}`;
  try {
    const reg = await request(srv, 'POST', '/api/brain/services', {
      token: admin,
      body: { name, target: `http://127.0.0.1:${port}/base`, health_path: '/healthz', breaker_failures: 2 },
    });
    assert.equal(reg.status, 201, show(reg));

    // a passing check is visible in /health
    const ok = await until('a passing check', async () => {
      const h = await request(srv, 'GET', '/health');
      return h.json.services[name]?.last_check?.ok === true ? h : null;
    });
    assert.equal(ok.json.services[name].status, 'healthy');
    assert.ok(up.checks.includes('/base/healthz'), `checked ${JSON.stringify(up.checks)}`);

    // the upstream dies: two failed checks open the breaker, no client involved
    await new Promise((r) => up.s.close(r));
    up.s.closeAllConnections?.();
    await until('the breaker to open', async () => {
      const r = await request(srv, 'GET', `/api/brain/services/${name}`, { token: admin });
      return r.json.breaker.state === 'open';
    });
    const h = await request(srv, 'GET', '/health');
    assert.equal(h.json.status, 'degraded');
    assert.equal(h.json.services[name].status, 'down');

    // it comes back: a passing check closes the breaker again
    up = await upstream(port);
    await until('the breaker to close', async () => {
      const r = await request(srv, 'GET', `/api/brain/services/${name}`, { token: admin });
      return r.json.breaker.state === 'closed';
    });

    const events = await until('ServiceHealthChanged events', async () => {
      const r = await request(srv, 'GET', `/api/v1/events?type=ServiceHealthChanged&limit=200`, { token: admin });
      assert.equal(r.status, 200, show(r));
      const mine = r.json.items.filter((e) => e.aggregate_id === name);
      return mine.some((e) => e.payload.to === 'closed') ? mine : null;
    });
    const opened = events.find((e) => e.payload.to === 'open');
    assert.ok(opened, JSON.stringify(events));
    assert.equal(opened.payload.from, 'closed');
    assert.equal(opened.payload.reason, 'health check failed');
    assert.equal(events.find((e) => e.payload.to === 'closed').payload.reason, 'health check passed');
  } finally {
    up.s.close();
    assert.equal(await srv.stop(), 0);
  }
});
