// gateway_plans.test.mjs — per-plan rate limits and the tenant distribution
// of the Brain gateway: a tenant on a plan with a limit of its own gets it
// (exact at the boundary), others the service's; a plan change through the
// tenant admin API reaches the gateway within
// BIZOSAAS_GATEWAY_PLAN_REFRESH_MS; plan_limits is validated, persisted and
// settable from [service.NAME]; /api/brain/metrics counts requests per tenant.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { header, show } from './lib/expect.mjs';
import { superAdminToken, tenantToken } from './lib/jwt.mjs';
import { ROOT, configFile, freePort, request, serveOnce, startServer, tempDir } from './lib/server.mjs';

const REFRESH_MS = 200;
const admin = superAdminToken();
const suffix = () => crypto.randomBytes(3).toString('hex');

let srv;
before(async () => {
  srv = await startServer({ env: { BIZOSAAS_GATEWAY_PLAN_REFRESH_MS: REFRESH_MS } });
});
after(async () => {
  assert.equal(await srv.stop(), 0);
});

async function service(body) {
  const r = await request(srv, 'POST', '/api/brain/services', { token: admin, body: { target: 'builtin:identity', ...body } });
  assert.equal(r.status, 201, show(r));
  return r.json;
}

async function tenant(plan) {
  const slug = `pl-${suffix()}`;
  const r = await request(srv, 'POST', '/api/v1/auth/tenants', { token: admin, body: { name: slug, slug, plan } });
  assert.equal(r.status, 201, show(r));
  return { id: r.json.id, token: tenantToken(r.json.id) };
}

const get = (svc, t) => request(srv, 'GET', `/api/brain/${svc}/tenants/${t.id}`, { token: t.token });

/** untilLimit: polls a service with a large budget until the tenant's
 * RateLimit-Limit is want (the monitor has read the tenant's plan), without
 * spending the budget of the service under test. Never asserts a time. */
async function untilLimit(probe, t, want) {
  let last;
  for (let i = 0; i < 500; i++) {
    last = await get(probe, t);
    if (header(last, 'ratelimit-limit') === String(want)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`RateLimit-Limit never became ${want}: ${show(last)}`);
}

/** spend: n requests that must all pass, then one that must be refused. */
async function spend(svc, t, n, limit) {
  for (let i = 0; i < n; i++) {
    const r = await get(svc, t);
    assert.equal(r.status, 200, `request ${i + 1} of ${n}: ${show(r)}`);
    assert.equal(header(r, 'ratelimit-limit'), String(limit));
  }
  const over = await get(svc, t);
  assert.equal(over.status, 429, show(over));
  assert.equal(over.json.error.code, 'rate_limited');
  assert.ok(Number(header(over, 'retry-after')) >= 1, show(over));
  assert.equal(header(over, 'ratelimit-limit'), String(limit));
  assert.equal(header(over, 'ratelimit-remaining'), '0');
  assert.ok(header(over, 'ratelimit-reset') !== undefined);
}

test('a tenant gets its plan limit, exact at the boundary; others the service limit', async () => {
  const name = `plan-${suffix()}`;
  const probe = `probe-${suffix()}`;
  const made = await service({ name, rate_limit_per_min: 3, plan_limits: { professional: 6, enterprise: 9 } });
  assert.deepEqual(made.plan_limits, { professional: 6, enterprise: 9 });
  await service({ name: probe, rate_limit_per_min: 100000, plan_limits: { professional: 200000 } });
  const got = await request(srv, 'GET', `/api/brain/services/${name}`, { token: admin });
  assert.deepEqual(got.json.plan_limits, { professional: 6, enterprise: 9 });

  const pro = await tenant('professional');
  const free = await tenant('free');
  await untilLimit(probe, pro, 200000);
  const first = await get(name, pro);
  assert.equal(first.status, 200, show(first));
  assert.equal(header(first, 'ratelimit-remaining'), '5');
  await spend(name, pro, 5, 6);
  // a free tenant (no limit for its plan) gets the service's
  await spend(name, free, 3, 3);
  // a token for a tenant the gateway does not know: the service's limit
  const stranger = await get(name, { id: 'no-such-tenant', token: tenantToken('no-such-tenant') });
  assert.equal(header(stranger, 'ratelimit-limit'), '3', show(stranger));
});

test('a plan change through the tenant admin API changes the limit', async () => {
  const name = `chg-${suffix()}`;
  const probe = `probe-${suffix()}`;
  await service({ name, rate_limit_per_min: 2, plan_limits: { enterprise: 5 } });
  await service({ name: probe, rate_limit_per_min: 100000, plan_limits: { enterprise: 200000 } });
  const t = await tenant('starter');
  await spend(name, t, 2, 2);

  const up = await request(srv, 'PATCH', `/api/v1/auth/tenants/${t.id}`, { token: admin, body: { plan: 'enterprise' } });
  assert.equal(up.status, 200, show(up));
  await untilLimit(probe, t, 200000);
  // the same window goes on: 2 spent, 3 more up to 5
  await spend(name, t, 3, 5);

  const down = await request(srv, 'PATCH', `/api/v1/auth/tenants/${t.id}`, { token: admin, body: { plan: 'free' } });
  assert.equal(down.status, 200, show(down));
  await untilLimit(probe, t, 100000);
  const r = await get(name, t);
  assert.equal(r.status, 429, show(r));
  assert.equal(header(r, 'ratelimit-limit'), '2');
});

test('a plan set through this process\'s tenant API applies at once, without a refresh', async () => {
  // no refresh within the test: only the after-commit hook can tell the gateway
  const s = await startServer({ env: { BIZOSAAS_GATEWAY_PLAN_REFRESH_MS: 3600000 } });
  try {
    const name = `now-${suffix()}`;
    const made = await request(s, 'POST', '/api/brain/services', {
      token: admin,
      body: { name, target: 'builtin:identity', rate_limit_per_min: 50, plan_limits: { professional: 60, enterprise: 70 } },
    });
    assert.equal(made.status, 201, show(made));
    const slug = `now-${suffix()}`;
    const t = await request(s, 'POST', '/api/v1/auth/tenants', { token: admin, body: { name: slug, slug, plan: 'professional' } });
    assert.equal(t.status, 201, show(t));
    const hit = () => request(s, 'GET', `/api/brain/${name}/tenants/${t.json.id}`, { token: tenantToken(t.json.id) });
    assert.equal(header(await hit(), 'ratelimit-limit'), '60');
    const up = await request(s, 'PATCH', `/api/v1/auth/tenants/${t.json.id}`, { token: admin, body: { plan: 'enterprise' } });
    assert.equal(up.status, 200, show(up));
    assert.equal(header(await hit(), 'ratelimit-limit'), '70');
    // a refused change (validation: nothing committed) changes nothing
    const bad = await request(s, 'PATCH', `/api/v1/auth/tenants/${t.json.id}`, { token: admin, body: { plan: 'gold' } });
    assert.equal(bad.status, 422, show(bad));
    assert.equal(header(await hit(), 'ratelimit-limit'), '70');
    // a name change does not touch the plan
    const renamed = await request(s, 'PATCH', `/api/v1/auth/tenants/${t.json.id}`, { token: admin, body: { name: 'Renamed' } });
    assert.equal(renamed.status, 200, show(renamed));
    const down = await request(s, 'PATCH', `/api/v1/auth/tenants/${t.json.id}`, { token: admin, body: { plan: 'free' } });
    assert.equal(down.status, 200, show(down));
    assert.equal(header(await hit(), 'ratelimit-limit'), '50');
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('a service update changes the plan limits at once; bad plan_limits are 422 and change nothing', async () => {
  const name = `val-${suffix()}`;
  await service({ name, rate_limit_per_min: 10, plan_limits: { starter: 20 } });
  const bad = [
    { gold: 5 },
    { professional: 0 },
    { professional: 1000001 },
    { professional: '100' },
    { professional: 1.5 },
    [100],
    'professional',
  ];
  for (const plan_limits of bad) {
    const p = await request(srv, 'POST', '/api/brain/services', {
      token: admin,
      body: { name: `bad-${suffix()}`, target: 'builtin:identity', plan_limits },
    });
    assert.equal(p.status, 422, `${JSON.stringify(plan_limits)}: ${show(p)}`);
    assert.equal(p.json.error.code, 'validation_failed');
    assert.match(p.json.error.message, /plan_limits/, show(p));
    const u = await request(srv, 'PUT', `/api/brain/services/${name}`, {
      token: admin,
      body: { target: 'builtin:identity', rate_limit_per_min: 11, plan_limits },
    });
    assert.equal(u.status, 422, `${JSON.stringify(plan_limits)}: ${show(u)}`);
  }
  const same = await request(srv, 'GET', `/api/brain/services/${name}`, { token: admin });
  assert.deepEqual(same.json.plan_limits, { starter: 20 });
  assert.equal(same.json.rate_limit_per_min, 10);
  const list = await request(srv, 'GET', '/api/brain/services', { token: admin });
  assert.equal(list.json.items.filter((s) => s.name.startsWith('bad-')).length, 0);

  const t = await tenant('starter');
  const probe = `probe-${suffix()}`;
  await service({ name: probe, rate_limit_per_min: 100000, plan_limits: { starter: 200000 } });
  await untilLimit(probe, t, 200000);
  assert.equal(header(await get(name, t), 'ratelimit-limit'), '20');
  const put = await request(srv, 'PUT', `/api/brain/services/${name}`, {
    token: admin,
    body: { target: 'builtin:identity', rate_limit_per_min: 10, plan_limits: { starter: 30 } },
  });
  assert.equal(put.status, 200, show(put));
  assert.deepEqual(put.json.plan_limits, { starter: 30 });
  assert.equal(header(await get(name, t), 'ratelimit-limit'), '30');
  // a PUT replaces the entry: without plan_limits there are none
  const cleared = await request(srv, 'PUT', `/api/brain/services/${name}`, { token: admin, body: { target: 'builtin:identity', rate_limit_per_min: 10 } });
  assert.deepEqual(cleared.json.plan_limits, {});
  assert.equal(header(await get(name, t), 'ratelimit-limit'), '10');
});

test('tenant distribution counts the requests of each tenant', async () => {
  // a server of its own, so that the counts are this test's only
  const s = await startServer();
  try {
    const a = `ta-${suffix()}`;
    const b = `tb-${suffix()}`;
    for (let i = 0; i < 3; i++) {
      const r = await request(s, 'GET', `/api/brain/auth-service/tenants/${a}`, { token: tenantToken(a) });
      assert.equal(r.status, 404, show(r));
    }
    for (let i = 0; i < 5; i++) await request(s, 'GET', `/api/brain/auth-service/tenants/${b}`, { token: tenantToken(b) });
    for (let i = 0; i < 2; i++) {
      const r = await request(s, 'POST', '/api/brain/auth-service/password/forgot', { body: { email: 'nobody@example.com' } });
      assert.ok(r.status < 300, show(r));
    }
    const m = await request(s, 'GET', '/api/brain/metrics', { token: admin });
    assert.equal(m.status, 200, show(m));
    assert.deepEqual(m.json.tenant_distribution, { [b]: 5, [a]: 3, anonymous: 2 });
    const top1 = await request(s, 'GET', '/api/brain/metrics?top=1', { token: admin });
    assert.deepEqual(top1.json.tenant_distribution, { [b]: 5, anonymous: 2, other: 3 });
    const bad = await request(s, 'GET', '/api/brain/metrics?top=-1', { token: admin });
    assert.equal(bad.status, 422, show(bad));
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

const ini = configFile;

test('plan limits from [service.NAME]; persisted across a restart', async () => {
  const name = `cfgp-${suffix()}`;
  const file = ini(`[service.${name}]\ntarget = builtin:identity\nrate_limit_per_min = 2\n` +
    'rate_limit_per_min.enterprise = 4\nrate_limit_per_min.starter = 3\n');
  const dir = tempDir();
  const env = { BIZOSAAS_GATEWAY_PLAN_REFRESH_MS: REFRESH_MS };
  if (!process.env.BIZOSAAS_TEST_DB || process.env.BIZOSAAS_TEST_DB === 'sqlite')
    env.BIZOSAAS_DATABASE_URL = `sqlite:${dir}/b.db`;
  const s1 = await startServer({ args: ['--config', file], env });
  let id;
  try {
    const r = await request(s1, 'GET', `/api/brain/services/${name}`, { token: admin });
    assert.equal(r.status, 200, show(r));
    assert.deepEqual(r.json.plan_limits, { starter: 3, enterprise: 4 });
    const slug = `cfg-${suffix()}`;
    const t = await request(s1, 'POST', '/api/v1/auth/tenants', { token: admin, body: { name: slug, slug, plan: 'enterprise' } });
    assert.equal(t.status, 201, show(t));
    id = t.json.id;
    // polls the service under test itself: its 429s carry the limit too
    let last;
    for (let i = 0; i < 500; i++) {
      last = await request(s1, 'GET', `/api/brain/${name}/tenants/${id}`, { token: tenantToken(id) });
      if (header(last, 'ratelimit-limit') === '4') break;
      await new Promise((res) => setTimeout(res, 20));
    }
    assert.equal(header(last, 'ratelimit-limit'), '4', show(last));
    // set through the admin API, read back after a restart (without the config)
    const put = await request(s1, 'PUT', `/api/brain/services/${name}`, {
      token: admin,
      body: { target: 'builtin:identity', rate_limit_per_min: 2, plan_limits: { enterprise: 70 } },
    });
    assert.equal(put.status, 200, show(put));
  } finally {
    assert.equal(await s1.stop(), 0);
  }
  // no refresh within the test: the plan must come from the read at start
  const s2 = await startServer({ env: { ...env, BIZOSAAS_GATEWAY_PLAN_REFRESH_MS: 3600000 } });
  try {
    const r = await request(s2, 'GET', `/api/brain/services/${name}`, { token: admin });
    assert.equal(r.status, 200, show(r));
    assert.deepEqual(r.json.plan_limits, { enterprise: 70 });
    const g = await request(s2, 'GET', `/api/brain/${name}/tenants/${id}`, { token: tenantToken(id) });
    assert.equal(g.status, 200, show(g));
    assert.equal(header(g, 'ratelimit-limit'), '70');
  } finally {
    assert.equal(await s2.stop(), 0);
  }
});

test('a bad plan limit in [service.NAME] stops the start and names it', async () => {
  for (const [text, needle] of [
    ['[service.x]\ntarget = builtin:identity\nrate_limit_per_min.gold = 5\n', 'rate_limit_per_min.gold'],
    ['[service.x]\ntarget = builtin:identity\nrate_limit_per_min.professional = 0\n', 'rate_limit_per_min.professional'],
    ['[service.x]\ntarget = builtin:identity\nrate_limit_per_min.starter = many\n', 'rate_limit_per_min.starter'],
    ['[service.x]\ntarget = builtin:identity\nrate_limit_per_min.enterprise = 1000001\n', 'rate_limit_per_min.enterprise'],
  ]) {
    const r = await serveOnce(['--config', ini(text)]);
    assert.notEqual(r.code, 0, text);
    assert.match(r.stderr, new RegExp(needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), `${text}: ${r.stderr}`);
  }
  const r = await serveOnce([], { BIZOSAAS_GATEWAY_PLAN_REFRESH_MS: '5' });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /BIZOSAAS_GATEWAY_PLAN_REFRESH_MS/, r.stderr);
});

test('per-plan limits hold across two processes sharing Redis', async () => {
  const redisDir = tempDir('bizosaas-redis-');
  const redisPort = await freePort();
  execFileSync(path.join(ROOT, 'scripts/redis-start.sh'), [redisDir, String(redisPort)], { encoding: 'utf8' });
  const name = `shp-${suffix()}`;
  const probe = `shprobe-${suffix()}`;
  const file = ini(`[service.${name}]\ntarget = builtin:identity\nrate_limit_per_min = 2\n` +
    `rate_limit_per_min.professional = 6\n[service.${probe}]\ntarget = builtin:identity\n` +
    'rate_limit_per_min = 100000\nrate_limit_per_min.professional = 200000\n');
  const env = { BIZOSAAS_REDIS_URL: `redis://127.0.0.1:${redisPort}`, BIZOSAAS_GATEWAY_PLAN_REFRESH_MS: REFRESH_MS };
  // one database for both, so that both learn the tenant's plan
  if (!process.env.BIZOSAAS_TEST_DB || process.env.BIZOSAAS_TEST_DB === 'sqlite')
    env.BIZOSAAS_DATABASE_URL = `sqlite:${tempDir()}/shared.db`;
  const servers = [];
  try {
    servers.push(await startServer({ args: ['--config', file], env }));
    servers.push(await startServer({ args: ['--config', file], env }));
    const [a, b] = servers;
    const slug = `shp-${suffix()}`;
    const made = await request(a, 'POST', '/api/v1/auth/tenants', { token: admin, body: { name: slug, slug, plan: 'professional' } });
    assert.equal(made.status, 201, show(made));
    const t = { id: made.json.id, token: tenantToken(made.json.id) };
    const hit = (srv, svc) => request(srv, 'GET', `/api/brain/${svc}/tenants/${t.id}`, { token: t.token });
    for (const srv of servers) {
      let last;
      for (let i = 0; i < 500; i++) {
        last = await hit(srv, probe);
        if (header(last, 'ratelimit-limit') === '200000') break;
        await new Promise((res) => setTimeout(res, 20));
      }
      assert.equal(header(last, 'ratelimit-limit'), '200000', show(last));
    }
    for (let i = 0; i < 6; i++) {
      const r = await hit(i % 2 ? b : a, name);
      assert.equal(r.status, 200, `request ${i + 1}: ${show(r)}`);
      assert.equal(header(r, 'ratelimit-limit'), '6');
      assert.equal(header(r, 'ratelimit-remaining'), String(5 - i), 'one count for both processes');
    }
    for (const srv of servers) {
      const r = await hit(srv, name);
      assert.equal(r.status, 429, show(r));
      assert.equal(header(r, 'ratelimit-limit'), '6');
    }
    for (const srv of servers) {
      const m = await request(srv, 'GET', '/metrics');
      assert.match(m.text, /^gateway_ratelimit_redis_failures_total 0$/m);
    }
  } finally {
    for (const srv of servers) assert.equal(await srv.stop(), 0);
    execFileSync(path.join(ROOT, 'scripts/redis-stop.sh'), [redisDir]);
  }
});
