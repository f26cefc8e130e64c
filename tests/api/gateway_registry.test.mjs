// gateway_registry.test.mjs — the Brain gateway's registry and routing:
// builtin services are registered at start, /api/brain/{service}/{path}
// reaches the context's own mount, unknown and disabled services answer
// 404 / 503, the per-tenant sliding-window limit is exact at its boundary,
// and the admin API validates everything and is super_admin only.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';

import { header, show } from './lib/expect.mjs';
import { superAdminToken, tenantToken } from './lib/jwt.mjs';
import { request, startServer } from './lib/server.mjs';

let srv;
const admin = superAdminToken();
before(async () => {
  srv = await startServer();
});
after(async () => {
  assert.equal(await srv.stop(), 0);
});

test('builtin contexts are registered at start with their targets', async () => {
  const r = await request(srv, 'GET', '/api/brain/services', { token: admin });
  assert.equal(r.status, 200, show(r));
  const byName = Object.fromEntries(r.json.items.map((s) => [s.name, s]));
  assert.equal(byName['auth-service']?.target, 'builtin:identity');
  assert.equal(byName['auth-service'].breaker.state, 'closed');
  // a context this build does not have is not served as a stub
  assert.equal(byName['saleor-backend'], undefined);
  const h = await request(srv, 'GET', '/health');
  assert.equal(h.json.services['auth-service'].status, 'healthy', show(h));
  assert.equal(h.json.services['auth-service'].breaker, 'closed');
});

test('/api/brain/{service}/{path} reaches the context, with RateLimit headers', async () => {
  const direct = await request(srv, 'GET', '/api/v1/auth/tenants?limit=5', { token: admin });
  const via = await request(srv, 'GET', '/api/brain/auth-service/tenants?limit=5', { token: admin });
  assert.equal(via.status, 200, show(via));
  assert.deepEqual(via.json, direct.json);
  assert.ok(Number(header(via, 'ratelimit-limit')) > 0);
  assert.ok(header(via, 'ratelimit-remaining') !== undefined);
  assert.ok(header(via, 'ratelimit-reset') !== undefined);
  // the target route's own permission applies: a client may not list tenants
  const client = await request(srv, 'GET', '/api/brain/auth-service/tenants', { token: tenantToken('t-x', ['client']) });
  assert.equal(client.status, 403, show(client));
  const anon = await request(srv, 'GET', '/api/brain/auth-service/tenants');
  assert.equal(anon.status, 401, show(anon));
  const unknown = await request(srv, 'GET', '/api/brain/no-such-service/x', { token: admin });
  assert.equal(unknown.status, 404, show(unknown));
  assert.equal(unknown.json.error.code, 'not_found');
  const noRoute = await request(srv, 'GET', '/api/brain/auth-service/no/such/route', { token: admin });
  assert.equal(noRoute.status, 404, show(noRoute));
});

test('admin API: validation, duplicates, permission', async () => {
  const post = (body, token = admin) => request(srv, 'POST', '/api/brain/services', { token, body });
  for (const [body, field] of [
    [{ name: 'Bad Name', target: 'builtin:identity' }, 'name'],
    [{ name: 'services', target: 'builtin:identity' }, 'name'],
    [{ name: 'x1', target: 'builtin:nope' }, 'target'],
    [{ name: 'x2', target: 'builtin:commerce' }, 'target'],
    [{ name: 'x3', target: 'ftp://host/' }, 'target'],
    [{ name: 'x4', target: 'https://127.0.0.1:9/base' }, 'target'],
    [{ name: 'x9', target: 'http://127.0.0.1:99999/base' }, 'target'],
    [{ name: 'x10', target: 'http://host/base?q=1' }, 'target'],
    [{ name: 'x11', target: 'http://:80/' }, 'target'],
    [{ name: 'x5', target: 'builtin:identity', breaker_failures: 0 }, 'breaker_failures'],
    [{ name: 'x6', target: 'builtin:identity', rate_limit_per_min: -1 }, 'rate_limit_per_min'],
    [{ name: 'x7', target: 'builtin:identity', enabled: 'yes' }, 'enabled'],
    [{ name: 'x8', target: 'builtin:identity', surprise: 1 }, 'surprise'],
    [{ target: 'builtin:identity' }, 'name'],
  ]) {
    const r = await post(body);
    assert.equal(r.status, 422, `${JSON.stringify(body)}: ${show(r)}`);
    assert.match(r.json.error.message, new RegExp(field), show(r));
  }
  const name = `ids-${crypto.randomBytes(3).toString('hex')}`;
  const ok = await post({ name, target: 'builtin:identity', rate_limit_per_min: 50 });
  assert.equal(ok.status, 201, show(ok));
  assert.equal(ok.json.rate_limit_per_min, 50);
  assert.equal((await post({ name, target: 'builtin:identity' })).status, 409);
  assert.equal((await post({ name: 'y', target: 'builtin:identity' }, tenantToken('t1'))).status, 403);
  const got = await request(srv, 'GET', `/api/brain/services/${name}`, { token: admin });
  assert.equal(got.json.target, 'builtin:identity');

  // disabled -> 503; removed -> 404
  const off = await request(srv, 'PUT', `/api/brain/services/${name}`, { token: admin, body: { target: 'builtin:identity', enabled: false } });
  assert.equal(off.status, 200, show(off));
  const r503 = await request(srv, 'GET', `/api/brain/${name}/tenants`, { token: admin });
  assert.equal(r503.status, 503, show(r503));
  const del = await request(srv, 'DELETE', `/api/brain/services/${name}`, { token: admin });
  assert.equal(del.status, 204, show(del));
  assert.equal((await request(srv, 'GET', `/api/brain/${name}/tenants`, { token: admin })).status, 404);
  assert.equal((await request(srv, 'DELETE', `/api/brain/services/${name}`, { token: admin })).status, 404);
});

test('rate limit: exact at the boundary, per tenant, with Retry-After', async () => {
  const name = `rl-${crypto.randomBytes(3).toString('hex')}`;
  const made = await request(srv, 'POST', '/api/brain/services', {
    token: admin,
    body: { name, target: 'builtin:identity', rate_limit_per_min: 5 },
  });
  assert.equal(made.status, 201, show(made));
  const t = await request(srv, 'POST', '/api/v1/auth/tenants', { token: admin, body: { name: 'RL', slug: name } });
  const ta = tenantToken(t.json.id);
  for (let i = 0; i < 5; i++) {
    const r = await request(srv, 'GET', `/api/brain/${name}/tenants/${t.json.id}`, { token: ta });
    assert.equal(r.status, 200, `request ${i + 1}: ${show(r)}`);
    assert.equal(header(r, 'ratelimit-remaining'), String(4 - i));
  }
  const over = await request(srv, 'GET', `/api/brain/${name}/tenants/${t.json.id}`, { token: ta });
  assert.equal(over.status, 429, show(over));
  assert.equal(over.json.error.code, 'rate_limited');
  assert.ok(Number(header(over, 'retry-after')) >= 1);
  // another tenant has its own budget
  const other = await request(srv, 'GET', `/api/brain/${name}/tenants/t-other`, { token: tenantToken('t-other') });
  assert.equal(other.status, 404, `another tenant is not limited (and sees 404 for a tenant that is not its own): ${show(other)}`);
  const m = await request(srv, 'GET', '/api/brain/metrics', { token: admin });
  assert.equal(m.status, 200, show(m));
  assert.ok(m.json.services[name].stats.rejected_rate_limit >= 1);
  assert.ok(m.json.total_requests >= 6);
  const prom = await request(srv, 'GET', '/metrics');
  assert.match(prom.text, new RegExp(`gateway_rejected_total\\{service="${name}",reason="rate_limited"\\} 1\\n`));
  assert.match(prom.text, new RegExp(`gateway_requests_total\\{service="${name}",outcome="ok"\\} 5\\n`));
  assert.match(prom.text, new RegExp(`gateway_breaker_state\\{service="${name}"\\} 0\\n`));
});
