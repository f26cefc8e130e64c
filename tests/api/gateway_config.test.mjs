// gateway_config.test.mjs — the registry bootstrapped from [service.NAME]
// sections of the INI file, the platform admin token, and X-Tenant-ID: honored
// only for super_admin / the platform token (and logged), ignored otherwise.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';

import { show } from './lib/expect.mjs';
import { superAdminToken, tenantToken } from './lib/jwt.mjs';
import { configFile, freePort, request, serveOnce, startServer } from './lib/server.mjs';

const ADMIN_TOKEN = crypto.randomBytes(24).toString('hex'); // 48 characters

/** logged: whether a stderr line matching pred shows up within 2 s (the
 * log line is written before the response, but read by us asynchronously). */
async function logged(srv, pred) {
  for (let i = 0; i < 100; i++) {
    if (srv.stderr().some(pred)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

const ini = configFile;

test('[service.NAME] sections register services at start; the config wins', async () => {
  const port = await freePort();
  const name = `cfg-${crypto.randomBytes(3).toString('hex')}`;
  const file = ini(`[service.${name}]\ntarget = http://127.0.0.1:${port}/base\nrate_limit_per_min = 7\n` +
    `breaker_failures = 2\ncache_ttl_s = 30\n[service.auth-service]\ntarget = builtin:identity\nrate_limit_per_min = 500\n`);
  const srv = await startServer({ args: ['--config', file], env: { BIZOSAAS_ADMIN_TOKEN: ADMIN_TOKEN } });
  try {
    const r = await request(srv, 'GET', `/api/brain/services/${name}`, { token: ADMIN_TOKEN });
    assert.equal(r.status, 200, show(r));
    assert.equal(r.json.target, `http://127.0.0.1:${port}/base`);
    assert.equal(r.json.rate_limit_per_min, 7);
    assert.equal(r.json.breaker.failures, 2);
    assert.equal(r.json.cache_ttl_s, 30);
    const auth = await request(srv, 'GET', '/api/brain/services/auth-service', { token: ADMIN_TOKEN });
    assert.equal(auth.json.rate_limit_per_min, 500);
  } finally {
    assert.equal(await srv.stop(), 0);
  }
});

test('a bad [service.NAME] section stops the start and names it', async () => {
  for (const [text, needle] of [
    ['[service.x]\nbogus = 1\n', 'bogus'],
    ['[service.x]\nrate_limit_per_min = lots\n', 'rate_limit_per_min'],
    ['[service.x]\ntarget = http://127.0.0.1:9/b\ncache_ttl_s = 86401\n', 'cache_ttl_s'],
    ['[service.x]\ntarget = builtin:identity\ncache_ttl_s = 5\n', 'cache_ttl_s'],
    ['[service.x]\ntarget = builtin:nope\n', 'service.x'],
    ['[service.x]\nenabled = true\n', 'needs a target'],
    ['[service.Bad_Name]\ntarget = builtin:identity\n', 'service.Bad_Name'],
  ]) {
    const r = await serveOnce(['--config', ini(text)]);
    assert.notEqual(r.code, 0, text);
    assert.match(r.stderr, new RegExp(needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), `${text}: ${r.stderr}`);
  }
});

test('the platform admin token manages the registry; a short one stops the start', async () => {
  const srv = await startServer({ env: { BIZOSAAS_ADMIN_TOKEN: ADMIN_TOKEN } });
  try {
    const ok = await request(srv, 'GET', '/api/brain/services', { token: ADMIN_TOKEN });
    assert.equal(ok.status, 200, show(ok));
    const wrong = await request(srv, 'GET', '/api/brain/services', { token: `${ADMIN_TOKEN.slice(0, -1)}x` });
    assert.equal(wrong.status, 401, show(wrong));
    assert.ok(await logged(srv, (l) => l.includes('platform admin token used')), 'each use is logged');
    assert.ok(!srv.stderr().some((l) => l.includes(ADMIN_TOKEN)), 'the token itself never is');
  } finally {
    assert.equal(await srv.stop(), 0);
  }
  const r = await serveOnce([], { BIZOSAAS_ADMIN_TOKEN: 'short' });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /BIZOSAAS_ADMIN_TOKEN/);
});

test('X-Tenant-ID: honored for super_admin (logged), ignored for a tenant user', async () => {
  const srv = await startServer();
  try {
    const admin = superAdminToken();
    const a = await request(srv, 'POST', '/api/v1/auth/tenants', { token: admin, body: { name: 'A', slug: `xa-${crypto.randomBytes(3).toString('hex')}` } });
    const b = await request(srv, 'POST', '/api/v1/auth/tenants', { token: admin, body: { name: 'B', slug: `xb-${crypto.randomBytes(3).toString('hex')}` } });
    // a tenant_admin of A naming B gets A's view: B stays 404
    const ta = tenantToken(a.json.id);
    const forged = await request(srv, 'GET', `/api/v1/auth/tenants/${b.json.id}`, { token: ta, headers: { 'X-Tenant-ID': b.json.id } });
    assert.equal(forged.status, 404, show(forged));
    const own = await request(srv, 'GET', '/api/v1/auth/tenants', { token: ta, headers: { 'X-Tenant-ID': b.json.id } });
    assert.deepEqual(own.json.items.map((t) => t.id), [a.json.id]);
    // a super_admin may act inside a tenant: the choice is logged
    const idem = await request(srv, 'POST', '/api/v1/auth/tenants', {
      token: admin,
      headers: { 'X-Tenant-ID': b.json.id, 'Idempotency-Key': 'k1' },
      body: { name: 'C', slug: `xc-${crypto.randomBytes(3).toString('hex')}` },
    });
    assert.equal(idem.status, 201, show(idem));
    assert.ok(await logged(srv, (l) => l.includes('tenant chosen by X-Tenant-ID') && l.includes(b.json.id)));
    const bad = await request(srv, 'GET', '/api/v1/auth/tenants', { token: admin, headers: { 'X-Tenant-ID': 'no spaces allowed' } });
    assert.equal(bad.status, 422, show(bad));
  } finally {
    assert.equal(await srv.stop(), 0);
  }
});
