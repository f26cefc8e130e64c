// gateway_cache.test.mjs — the gateway's response cache against a real
// HTTP upstream started here that counts the requests it sees: a repeated
// GET is answered from memory (X-Cache: HIT, Age, the same body and
// headers) while different users, tenants and Accept values never share an
// answer; no-store, Set-Cookie and non-200 answers are not kept; max-age
// shortens the life of an entry; a write through the gateway, an admin
// update and a client's no-cache refresh it; cache_ttl_s 0 never caches; a
// bad cache_ttl_s is refused and changes nothing; /api/brain/metrics and
// /metrics count the hits seen here.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { after, before, test } from 'node:test';

import { header, show } from './lib/expect.mjs';
import { superAdminToken, tenantToken } from './lib/jwt.mjs';
import { freePort, request, startServer } from './lib/server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// The registry lives in the database, which PostgreSQL runs share: unique names.
const sfx = crypto.randomBytes(3).toString('hex');
const UP = `cache-${sfx}`; // cache_ttl_s 30
const UP0 = `nocache-${sfx}`; // cache_ttl_s 0 (the default)
const admin = superAdminToken();
let srv;
let upstream;
let upPort;
let seen = 0; // requests the upstream answered
let hitsSeen = 0; // X-Cache: HIT answers this file received
const hitsBy = {}; // ... per service

function startUpstream(port) {
  const s = http.createServer((req, res) => {
    seen++;
    const n = seen;
    req.resume();
    req.on('end', () => {
      const url = req.url;
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('X-Upstream', 'yes');
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.statusCode = 201;
        return res.end(JSON.stringify({ wrote: url, n }));
      }
      if (url.includes('/nostore')) res.setHeader('Cache-Control', 'no-store');
      if (url.includes('/private')) res.setHeader('Cache-Control', 'private');
      if (url.includes('/cookie')) res.setHeader('Set-Cookie', 'sid=abc; HttpOnly');
      if (url.includes('/short')) res.setHeader('Cache-Control', 'max-age=1');
      if (url.includes('/vary-cookie')) res.setHeader('Vary', 'Cookie');
      if (url.includes('/missing')) res.statusCode = 404;
      if (url.includes('/fail')) res.statusCode = 500;
      res.end(
        JSON.stringify({
          n,
          url,
          user: req.headers['x-user-id'],
          tenant: req.headers['x-tenant-id'] ?? null,
          accept: req.headers.accept ?? null,
        }),
      );
    });
  });
  return new Promise((resolve) => s.listen(port, '127.0.0.1', () => resolve(s)));
}

async function register(body) {
  const r = await request(srv, 'POST', '/api/brain/services', { token: admin, body });
  assert.equal(r.status, 201, show(r));
  return r.json;
}

/** get: one request through the gateway; counts the hits it sees. */
async function get(path, token, { method = 'GET', headers = {} } = {}) {
  const r = await request(srv, method, path, { token, headers });
  if (header(r, 'x-cache') === 'HIT') {
    hitsSeen++;
    const svc = path.split('/')[3];
    hitsBy[svc] = (hitsBy[svc] ?? 0) + 1;
  }
  return r;
}

/** twice: the same GET two times; the upstream's count around them. */
async function twice(path, token, headers = {}) {
  const before = seen;
  const a = await get(path, token, { headers });
  const b = await get(path, token, { headers });
  return { a, b, upstream: seen - before };
}

const tenantA = `t-${crypto.randomBytes(4).toString('hex')}`;
const tenantB = `t-${crypto.randomBytes(4).toString('hex')}`;
const userA1 = tenantToken(tenantA, ['manager'], { sub: crypto.randomUUID() });
const userA2 = tenantToken(tenantA, ['manager'], { sub: crypto.randomUUID() });
const userB1 = tenantToken(tenantB, ['manager'], { sub: crypto.randomUUID() });

before(async () => {
  srv = await startServer();
  upPort = await freePort();
  upstream = await startUpstream(upPort);
  const s = await register({ name: UP, target: `http://127.0.0.1:${upPort}/base`, cache_ttl_s: 30 });
  assert.equal(s.cache_ttl_s, 30);
  assert.deepEqual(s.cache, { hits: 0, misses: 0, stores: 0, evictions: 0 });
  const z = await register({ name: UP0, target: `http://127.0.0.1:${upPort}/base` });
  assert.equal(z.cache_ttl_s, 0, 'off unless asked for');
});
after(async () => {
  upstream?.close();
  assert.equal(await srv.stop(), 0);
});

test('a repeated GET is answered from memory with the same body and headers', async () => {
  const path = `/api/brain/${UP}/items/1?page=2`;
  const { a, b, upstream: n } = await twice(path, userA1);
  assert.equal(a.status, 200, show(a));
  assert.equal(header(a, 'x-cache'), 'MISS');
  assert.equal(b.status, 200, show(b));
  assert.equal(header(b, 'x-cache'), 'HIT');
  assert.equal(n, 1, 'the upstream saw only the first request');
  assert.equal(b.text, a.text, 'the same body');
  assert.equal(b.json.url, '/base/items/1?page=2');
  assert.match(header(b, 'age'), /^\d+$/);
  assert.equal(header(b, 'x-upstream'), 'yes', "the upstream's headers come with a hit");
  assert.equal(header(b, 'content-type'), 'application/json');
  assert.ok(header(b, 'x-request-id') && header(b, 'x-request-id') !== header(a, 'x-request-id'));
  assert.ok(header(b, 'ratelimit-remaining'), 'the rate limit still applies to a hit');
  assert.ok(Number(header(b, 'ratelimit-remaining')) < Number(header(a, 'ratelimit-remaining')));

  // HEAD is answered from the cached GET
  const before = seen;
  const h = await get(path, userA1, { method: 'HEAD' });
  assert.equal(h.status, 200);
  assert.equal(header(h, 'x-cache'), 'HIT');
  assert.equal(header(h, 'content-length'), String(Buffer.byteLength(a.text)));
  assert.equal(h.text, '');
  assert.equal(seen, before);
});

test('never another user\'s or tenant\'s answer; Accept is part of the key', async () => {
  const path = `/api/brain/${UP}/me`;
  const a1 = await twice(path, userA1);
  assert.equal(a1.upstream, 1);
  assert.equal(header(a1.b, 'x-cache'), 'HIT');
  const a2 = await twice(path, userA2);
  assert.equal(a2.upstream, 1, 'another user of the same tenant misses first');
  assert.equal(header(a2.a, 'x-cache'), 'MISS');
  assert.notEqual(a2.a.json.user, a1.a.json.user);
  assert.equal(a2.b.json.user, a2.a.json.user, "each user gets the answer made for them");
  const b1 = await twice(path, userB1);
  assert.equal(b1.upstream, 1, 'another tenant misses first');
  assert.equal(b1.b.json.tenant, tenantB);
  // and the first user still gets their own
  const again = await get(path, userA1);
  assert.equal(header(again, 'x-cache'), 'HIT');
  assert.equal(again.json.user, a1.a.json.user);

  const acc = await twice(path, userA1, { Accept: 'text/plain' });
  assert.equal(acc.upstream, 1, 'another Accept is another entry');
  assert.equal(acc.a.json.accept, 'text/plain');
  assert.equal(header(acc.b, 'x-cache'), 'HIT');
});

test('no-store, private, Set-Cookie, Vary, non-200 answers and the uncached service', async () => {
  for (const p of ['nostore', 'cookie', 'missing', 'vary-cookie']) {
    const r = await twice(`/api/brain/${UP}/${p}`, userA1);
    assert.equal(r.upstream, 2, `${p}: both requests reach the upstream`);
    assert.equal(header(r.b, 'x-cache'), 'MISS', p);
  }
  // private is kept: the key is per user, so only this user ever gets it
  const priv = await twice(`/api/brain/${UP}/private`, userA1);
  assert.equal(priv.upstream, 1);
  assert.equal(header(priv.b, 'x-cache'), 'HIT');
  const other = await get(`/api/brain/${UP}/private`, userA2);
  assert.equal(header(other, 'x-cache'), 'MISS');

  const off = await twice(`/api/brain/${UP0}/items/1`, userA1);
  assert.equal(off.upstream, 2, 'cache_ttl_s 0 never caches');
  assert.equal(header(off.b, 'x-cache'), undefined);
});

test('max-age shorter than cache_ttl_s ends the entry sooner', async () => {
  const path = `/api/brain/${UP}/short`;
  const first = await get(path, userA1);
  assert.equal(header(first, 'x-cache'), 'MISS');
  // max-age=1 against cache_ttl_s 30: within a few seconds the upstream is asked again
  const before = seen;
  const deadline = Date.now() + 10000;
  let r;
  do {
    await sleep(200);
    r = await get(path, userA1);
  } while (header(r, 'x-cache') === 'HIT' && Date.now() < deadline);
  assert.equal(header(r, 'x-cache'), 'MISS', 'the entry expired with max-age');
  assert.ok(seen > before);
  assert.notEqual(r.json.n, first.json.n);
});

test("a write invalidates the tenant's entries of the service; no-cache refreshes", async () => {
  const path = `/api/brain/${UP}/orders`;
  const a = await twice(path, userA1);
  assert.equal(header(a.b, 'x-cache'), 'HIT');
  const b = await twice(path, userB1);
  assert.equal(header(b.b, 'x-cache'), 'HIT');

  const w = await request(srv, 'POST', `/api/brain/${UP}/orders`, { token: userA2, body: { x: 1 } });
  assert.equal(w.status, 201, show(w));
  assert.equal(header(w, 'x-cache'), undefined);
  const before = seen;
  const after1 = await get(path, userA1);
  assert.equal(header(after1, 'x-cache'), 'MISS', 'the write is visible on the next read');
  assert.equal(seen, before + 1);
  assert.notEqual(after1.json.n, a.a.json.n);
  const otherTenant = await get(path, userB1);
  assert.equal(header(otherTenant, 'x-cache'), 'HIT', "another tenant's entry stays");

  // Cache-Control: no-cache from the client: fetched again, and the entry refreshed
  const fresh = await get(path, userA1, { headers: { 'Cache-Control': 'no-cache' } });
  assert.equal(header(fresh, 'x-cache'), 'MISS');
  assert.equal(seen, before + 2);
  const next = await get(path, userA1);
  assert.equal(header(next, 'x-cache'), 'HIT');
  assert.equal(next.json.n, fresh.json.n, 'the refreshed answer');
});

test('bad cache_ttl_s is refused and changes nothing; an update drops the entries', async () => {
  const target = `http://127.0.0.1:${upPort}/base`;
  const path = `/api/brain/${UP}/items/1?page=2`;
  await get(path, userA1); // stored (again: the write above dropped tenant A's entries)
  for (const v of [-1, 86401, 'ten', 1.5, true]) {
    const put = await request(srv, 'PUT', `/api/brain/services/${UP}`, { token: admin, body: { target, cache_ttl_s: v } });
    assert.equal(put.status, 422, `${v}: ${show(put)}`);
    assert.match(put.json.error.message, /cache_ttl_s/);
    const post = await request(srv, 'POST', '/api/brain/services', {
      token: admin,
      body: { name: `bad-${sfx}`, target, cache_ttl_s: v },
    });
    assert.equal(post.status, 422, `${v}: ${show(post)}`);
  }
  const builtin = await request(srv, 'POST', '/api/brain/services', {
    token: admin,
    body: { name: `bad-${sfx}`, target: 'builtin:identity', cache_ttl_s: 10 },
  });
  assert.equal(builtin.status, 422, show(builtin));
  assert.match(builtin.json.error.message, /cache_ttl_s/);
  assert.equal((await request(srv, 'GET', `/api/brain/services/bad-${sfx}`, { token: admin })).status, 404);
  const s = await request(srv, 'GET', `/api/brain/services/${UP}`, { token: admin });
  assert.equal(s.json.cache_ttl_s, 30, 'unchanged');

  // entries survived the refused updates ...
  assert.equal(header(await get(path, userA1), 'x-cache'), 'HIT');
  // ... and go with an accepted one
  const put = await request(srv, 'PUT', `/api/brain/services/${UP}`, { token: admin, body: { target, cache_ttl_s: 30 } });
  assert.equal(put.status, 200, show(put));
  assert.equal(header(await get(path, userA1), 'x-cache'), 'MISS');
  assert.equal(header(await get(path, userA1), 'x-cache'), 'HIT');
});

test('the breaker comes before a hit, and hits never feed it', async () => {
  const name = `brk-${sfx}`;
  await register({
    name,
    target: `http://127.0.0.1:${upPort}/base`,
    cache_ttl_s: 60,
    breaker_failures: 2,
    breaker_cooldown_ms: 600000,
  });
  const ok = `/api/brain/${name}/ok`;
  assert.equal(header(await get(ok, userA1), 'x-cache'), 'MISS');
  assert.equal((await get(`/api/brain/${name}/fail`, userA1)).status, 500);
  // a hit between two failures must not reset the count of failures in a row
  assert.equal(header(await get(ok, userA1), 'x-cache'), 'HIT');
  assert.equal((await get(`/api/brain/${name}/fail`, userA1)).status, 500);
  const s = await request(srv, 'GET', `/api/brain/services/${name}`, { token: admin });
  assert.equal(s.json.breaker.state, 'open', JSON.stringify(s.json.breaker));
  // open: refused before the cache is asked
  const refused = await get(ok, userA1);
  assert.equal(refused.status, 503, show(refused));
  assert.equal(header(refused, 'x-cache'), undefined);
  assert.equal(s.json.stats.requests, 4, 'the hit counts as a request');
  assert.equal(s.json.stats.ok, 2);
});

test('/api/brain/metrics and /metrics count the hits', async () => {
  assert.ok(hitsSeen >= 10, `hits seen: ${hitsSeen}`);
  const m = await request(srv, 'GET', '/api/brain/metrics', { token: admin });
  assert.equal(m.status, 200, show(m));
  assert.equal(m.json.cache_hits, hitsSeen);
  const c = m.json.services[UP].cache;
  assert.equal(c.hits, hitsBy[UP]);
  assert.equal(m.json.services[`brk-${sfx}`].cache.hits, hitsBy[`brk-${sfx}`]);
  assert.ok(c.misses > 0 && c.stores > 0, JSON.stringify(c));
  assert.equal(m.json.services[UP0].cache.hits, 0);
  const prom = await request(srv, 'GET', '/metrics');
  assert.match(prom.text, new RegExp(`gateway_cache_hits_total\\{service="${UP}"\\} ${hitsBy[UP]}\\n`));
  assert.match(prom.text, new RegExp(`gateway_cache_stores_total\\{service="${UP}"\\} ${c.stores}\\n`));
  assert.match(prom.text, /gateway_cache_bytes \d+\n/);
});
