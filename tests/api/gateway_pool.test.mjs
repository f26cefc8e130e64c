// gateway_pool.test.mjs — upstream keep-alive pools and retries: connections
// to an upstream are reused (the upstream counts its connections); an
// idempotent request whose reused connection is reset before any answer is
// retried on a new connection, but retries stay within the service's budget
// (at most 20% of its requests) however often the upstream resets; POST is
// never retried. Pool use shows in /metrics.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';

import { show } from './lib/expect.mjs';
import { superAdminToken } from './lib/jwt.mjs';
import { freePort, request, startServer } from './lib/server.mjs';

const sfx = crypto.randomBytes(3).toString('hex');
const admin = superAdminToken();
let srv;
const closers = [];

before(async () => {
  srv = await startServer();
});
after(async () => {
  for (const c of closers) c();
  assert.equal(await srv.stop(), 0);
});

// One client connection for every proxied request, so that they all land on
// the same I/O thread and its pool (fetch may spread them over several).
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
closers.push(() => agent.destroy());
function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const headers = { Authorization: `Bearer ${admin}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const req = http.request(`${srv.url}${path}`, { method, headers, agent }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function register(name, port) {
  const r = await request(srv, 'POST', '/api/brain/services', {
    token: admin,
    body: { name, target: `http://127.0.0.1:${port}`, rate_limit_per_min: 100000, breaker_failures: 1000 },
  });
  assert.equal(r.status, 201, show(r));
}

/** metric: the value of one series of /metrics for a service. */
async function metric(series, service, extra = '') {
  const r = await request(srv, 'GET', '/metrics');
  const want = `${series}{service="${service}"${extra}} `;
  const line = r.text.split('\n').find((l) => l.startsWith(want));
  assert.ok(line, `no ${want} in /metrics`);
  return Number(line.slice(want.length));
}

/**
 * resetUpstream: a raw HTTP/1.1 upstream that answers "ok" with keep-alive
 * and counts connections and requests. While `resetting` is on, a request
 * that arrives on a connection that has already served one is answered with
 * a TCP reset instead — what a reused connection sees when the upstream has
 * dropped it.
 */
async function resetUpstream() {
  const port = await freePort();
  const st = { port, conns: 0, requests: 0, resets: 0, resetting: false, methods: [] };
  const s = net.createServer((sock) => {
    st.conns++;
    let served = 0;
    let buf = '';
    sock.on('error', () => {});
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.slice(0, end);
        const m = /\r\ncontent-length: *(\d+)/i.exec(head);
        const len = m ? Number(m[1]) : 0;
        if (buf.length < end + 4 + len) return;
        buf = buf.slice(end + 4 + len);
        st.requests++;
        st.methods.push(head.split(' ')[0]);
        if (st.resetting && served > 0) {
          st.resets++;
          sock.resetAndDestroy();
          return;
        }
        served++;
        sock.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok');
      }
    });
  });
  await new Promise((r) => s.listen(port, '127.0.0.1', r));
  closers.push(() => s.close());
  return st;
}

test('connections to an upstream are kept alive and reused', async () => {
  const name = `pool-${sfx}`;
  let conns = 0;
  let requests = 0;
  const up = http.createServer((req, res) => {
    requests++;
    res.setHeader('Content-Type', 'application/json');
    res.end('{"ok":true}');
  });
  up.keepAliveTimeout = 60000;
  up.on('connection', () => conns++);
  const port = await freePort();
  await new Promise((r) => up.listen(port, '127.0.0.1', r));
  closers.push(() => up.close());
  await register(name, port);
  const N = 30;
  for (let i = 0; i < N; i++) {
    const r = await call('GET', `/api/brain/${name}/item/${i}`);
    assert.equal(r.status, 200, show(r));
    assert.deepEqual(r.json, { ok: true });
  }
  assert.equal(requests, N);
  // sequential requests on one client connection: one upstream connection
  assert.equal(conns, 1, `${N} requests over ${conns} upstream connections`);
  assert.equal(await metric('gateway_upstream_reused_total', name), N - 1);
  assert.equal(await metric('gateway_upstream_connects_total', name), 1);
  assert.equal(await metric('gateway_upstream_connections', name, ',state="open"'), conns);
  assert.equal(await metric('gateway_upstream_connections', name, ',state="idle"'), conns);
  assert.equal(await metric('gateway_upstream_retries_total', name), 0);
});

test('GET on a reset reused connection is retried, within a 20% retry budget', async () => {
  const name = `reset-${sfx}`;
  const up = await resetUpstream();
  up.resetting = true; // every second request on a connection is reset
  await register(name, up.port);
  const N = 40;
  const statuses = [];
  for (let i = 0; i < N; i++) {
    const r = await call('GET', `/api/brain/${name}/x`);
    statuses.push(r.status);
    if (r.status !== 200) {
      assert.equal(r.status, 502, show(r));
      assert.equal(r.json.error.code, 'bad_gateway');
    } else {
      assert.equal(r.text, 'ok');
    }
  }
  const retries = await metric('gateway_upstream_retries_total', name);
  const exhausted = await metric('gateway_upstream_retry_budget_exhausted_total', name);
  const failed = statuses.filter((s) => s === 502).length;
  assert.ok(retries >= 1, 'some requests were retried and answered');
  assert.ok(retries <= N * 0.2, `${retries} retries for ${N} requests stay within the budget`);
  assert.ok(exhausted >= 1, 'the budget refused retries: the upstream is failing too often');
  assert.equal(failed, exhausted, 'every refused retry is a 502, every granted one a 200');
  assert.equal(up.resets, retries + exhausted, 'each reset was either retried or refused');
  assert.equal(up.requests, N + retries, 'no request was sent more than twice');
});

test('POST is never retried; an idempotent request with budget left is', async () => {
  const name = `post-${sfx}`;
  const up = await resetUpstream();
  await register(name, up.port);
  for (let i = 0; i < 10; i++) {
    const r = await call('GET', `/api/brain/${name}/warm`);
    assert.equal(r.status, 200, show(r));
  }
  up.resetting = true;
  const before = up.requests;
  const post = await call('POST', `/api/brain/${name}/orders`, { a: 1 });
  assert.equal(post.status, 502, show(post));
  assert.equal(up.requests - before, 1, 'the POST reached the upstream once and was not sent again');
  assert.equal(await metric('gateway_upstream_retries_total', name), 0);
  assert.equal(await metric('gateway_upstream_retry_budget_exhausted_total', name), 0);

  // the same failure on a DELETE is retried (the budget has room: 13
  // requests). First a connection that has served one request:
  assert.equal((await call('GET', `/api/brain/${name}/fresh`)).status, 200);
  const del = await call('DELETE', `/api/brain/${name}/orders/1`);
  assert.equal(del.status, 200, show(del));
  assert.equal(await metric('gateway_upstream_retries_total', name), 1);
  assert.deepEqual(up.methods.slice(-2), ['DELETE', 'DELETE']);
});

test('an upstream that closes idle connections: the pool notices, requests still pass', async () => {
  const name = `idle-${sfx}`;
  let conns = 0;
  // closes each connection shortly after answering, as an upstream's idle
  // timeout does (node's own keepAliveTimeout counts whole seconds)
  const up = http.createServer((req, res) => {
    res.on('finish', () => setTimeout(() => req.socket.end(), 30));
    res.end('fine');
  });
  up.on('connection', () => conns++);
  const port = await freePort();
  await new Promise((r) => up.listen(port, '127.0.0.1', r));
  closers.push(() => up.close());
  await register(name, port);
  for (let i = 0; i < 5; i++) {
    const r = await call('GET', `/api/brain/${name}/a`);
    assert.equal(r.status, 200, show(r));
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.ok(conns >= 3, 'the upstream closed idle connections');
  assert.equal(await metric('gateway_upstream_connections', name, ',state="idle"'), 0);
  assert.equal(await metric('gateway_upstream_connections', name, ',state="open"'), 0);
});
