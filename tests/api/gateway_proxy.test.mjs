// gateway_proxy.test.mjs — /api/brain/{service}/{path} to real HTTP
// upstreams started here on 127.0.0.1: forwarding and header hygiene, 504 on
// a slow upstream, 502 on refused / garbled / truncated answers, and the
// circuit breaker opening, refusing fast without touching the upstream, and
// closing again after a half-open probe.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';

import { header, show } from './lib/expect.mjs';
import { superAdminToken, tenantToken } from './lib/jwt.mjs';
import { freePort, request, startServer } from './lib/server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// The registry lives in the database, which PostgreSQL runs share: unique names.
const sfx = crypto.randomBytes(3).toString('hex');
const UP = `up-${sfx}`;
const admin = superAdminToken();
let srv;
let hits = 0;

function startUpstream(port) {
  const s = http.createServer((req, res) => {
    hits++;
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.url.startsWith('/base/slow')) return setTimeout(() => res.end('late'), 1500);
      if (req.url.startsWith('/base/fail')) {
        res.statusCode = 500;
        return res.end('{"upstream":"failed"}');
      }
      if (req.url.startsWith('/base/chunked')) {
        res.setHeader('Content-Type', 'text/plain');
        res.write('hello ');
        return setTimeout(() => res.end('world'), 20);
      }
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('X-Upstream', 'yes');
      res.setHeader('Keep-Alive', 'timeout=5');
      res.statusCode = req.method === 'POST' ? 201 : 200;
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
    });
  });
  return new Promise((resolve) => s.listen(port, '127.0.0.1', () => resolve(s)));
}

function rawUpstream(port, reply) {
  const s = net.createServer((sock) => {
    sock.once('data', () => {
      sock.write(reply);
      sock.end();
    });
  });
  return new Promise((resolve) => s.listen(port, '127.0.0.1', () => resolve(s)));
}

async function register(body) {
  const r = await request(srv, 'POST', '/api/brain/services', { token: admin, body });
  assert.equal(r.status, 201, show(r));
}

let upPort;
let upstream;
before(async () => {
  srv = await startServer();
  upPort = await freePort();
  upstream = await startUpstream(upPort);
  await register({ name: UP, target: `http://127.0.0.1:${upPort}/base`, response_timeout_ms: 500 });
});
after(async () => {
  upstream?.close();
  assert.equal(await srv.stop(), 0);
});

/** raw: node's http client (fetch refuses hop-by-hop request headers). */
function raw(method, path, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${srv.url}${path}`, { method, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('forwards method, path, query and body; the gateway sets the identity headers', async () => {
  const tenant = `t-${crypto.randomBytes(4).toString('hex')}`;
  const r = await raw('POST', `/api/brain/${UP}/orders/7?x=1&y=%20`, {
    body: '{"a":1}',
    headers: {
      Authorization: `Bearer ${tenantToken(tenant, ['manager'])}`,
      'Content-Type': 'application/json',
      'X-Tenant-ID': 'forged-tenant',
      'X-User-ID': 'forged-user',
      'X-Forwarded-For': '6.6.6.6',
      'X-Request-ID': 'client-chosen-id',
      Connection: 'keep-alive, X-Hop',
      'X-Hop': 'must-not-pass',
      'X-Custom': 'passes',
    },
  });
  assert.equal(r.status, 201, r.text);
  const seen = r.json;
  assert.equal(seen.method, 'POST');
  assert.equal(seen.url, '/base/orders/7?x=1&y=%20');
  assert.equal(seen.body, '{"a":1}');
  assert.equal(seen.headers['x-tenant-id'], tenant, 'the tenant comes from the token');
  assert.ok(seen.headers['x-user-id'] && seen.headers['x-user-id'] !== 'forged-user', 'the user comes from the token');
  assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
  assert.equal(seen.headers['x-request-id'], 'client-chosen-id', 'a well-formed client id is kept end to end');
  assert.equal(r.headers['x-request-id'], 'client-chosen-id');
  assert.equal(seen.headers['x-hop'], undefined, 'a header named in Connection is hop-by-hop');
  assert.equal(seen.headers['x-custom'], 'passes');
  assert.equal(r.headers['x-upstream'], 'yes');
  assert.equal(r.headers['keep-alive'], undefined, 'hop-by-hop response headers are dropped');
  assert.ok(r.headers['ratelimit-limit']);
});

test('a chunked upstream answer is decoded; no token is 401', async () => {
  const r = await request(srv, 'GET', `/api/brain/${UP}/chunked`, { token: admin });
  assert.equal(r.status, 200, show(r));
  assert.equal(r.text, 'hello world');
  assert.equal(header(r, 'content-type'), 'text/plain');
  const anon = await request(srv, 'GET', `/api/brain/${UP}/anything`);
  assert.equal(anon.status, 401, show(anon));
});

test('a slow upstream is 504 at the timeout and the server keeps serving', async () => {
  const t0 = Date.now();
  const r = await request(srv, 'GET', `/api/brain/${UP}/slow`, { token: admin });
  assert.equal(r.status, 504, show(r));
  assert.equal(r.json.error.code, 'gateway_timeout');
  assert.ok(Date.now() - t0 < 1400, 'answered at the 500 ms timeout, before the upstream');
  assert.equal((await request(srv, 'GET', `/api/brain/${UP}/ok`, { token: admin })).status, 200);
});

test('garbled, truncated and refused upstreams are 502 JSON errors', async () => {
  const cases = [
    ['garbage', 'this is not http\r\n\r\n'],
    ['bare-lf', 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok'],
    ['truncated', 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b'],
    ['cl-and-te', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ];
  for (const [name, reply] of cases) {
    const port = await freePort();
    const s = await rawUpstream(port, reply);
    await register({ name: `raw-${name}-${sfx}`, target: `http://127.0.0.1:${port}` });
    const r = await request(srv, 'GET', `/api/brain/raw-${name}-${sfx}/x`, { token: admin });
    s.close();
    assert.equal(r.status, 502, `${name}: ${show(r)}`);
    assert.equal(r.json.error.code, 'bad_gateway', name);
  }
  const dead = await freePort();
  await register({ name: `refused-${sfx}`, target: `http://127.0.0.1:${dead}` });
  const r = await request(srv, 'GET', `/api/brain/refused-${sfx}/x`, { token: admin });
  assert.equal(r.status, 502, show(r));
});

test('breaker: opens after N failures, refuses fast without the upstream, closes after a good probe', async () => {
  await register({
    name: `flaky-${sfx}`,
    target: `http://127.0.0.1:${upPort}/base`,
    breaker_failures: 3,
    breaker_cooldown_ms: 300,
  });
  for (let i = 0; i < 3; i++) {
    const r = await request(srv, 'GET', `/api/brain/flaky-${sfx}/fail`, { token: admin });
    assert.equal(r.status, 500, `failure ${i + 1} passes through: ${show(r)}`);
  }
  const before = hits;
  const t0 = process.hrtime.bigint();
  const open = await request(srv, 'GET', `/api/brain/flaky-${sfx}/ok`, { token: admin });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.equal(open.status, 503, show(open));
  assert.equal(hits, before, 'an open breaker does not touch the upstream');
  assert.ok(ms < 500, `refused at once (${ms.toFixed(1)} ms)`);
  const svc = await request(srv, 'GET', `/api/brain/services/flaky-${sfx}`, { token: admin });
  assert.equal(svc.json.breaker.state, 'open');
  const health = await request(srv, 'GET', '/health');
  assert.equal(health.json.status, 'degraded');
  assert.equal(health.json.services[`flaky-${sfx}`].status, 'down');

  await sleep(350);
  const probe = await request(srv, 'GET', `/api/brain/flaky-${sfx}/ok`, { token: admin });
  assert.equal(probe.status, 200, show(probe));
  const closed = await request(srv, 'GET', `/api/brain/services/flaky-${sfx}`, { token: admin });
  assert.equal(closed.json.breaker.state, 'closed');
  assert.equal(closed.json.breaker.activations, 1);
});
