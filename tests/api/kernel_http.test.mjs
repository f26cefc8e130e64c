// kernel_http.test.mjs — the kernel's own endpoints and the rules every
// response follows: X-Request-ID, Content-Type/Content-Length, the JSON error
// envelope, 404/405, HEAD, metrics and the access log.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { assertError, header, isUuidV7 } from './lib/expect.mjs';
import { RawConn, rawRequest, req, sleep } from './lib/raw.mjs';
import { isPostgres, request, startServer } from './lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer();
});
after(async () => {
  if (srv) assert.equal(await srv.stop(), 0, `exit code; stderr:\n${srv.stderr().join('\n')}`);
});

function assertCommonHeaders(r) {
  assert.ok(header(r, 'x-request-id'), 'no X-Request-ID');
  assert.ok(header(r, 'content-type'), 'no Content-Type');
  assert.equal(Number(header(r, 'content-length')), Buffer.byteLength(r.text ?? r.body ?? ''), 'Content-Length');
  assert.equal(header(r, 'transfer-encoding'), undefined, 'kernel responses are never chunked');
}

test('GET /livez is 200 {"status":"ok"}', async () => {
  const r = await request(srv, 'GET', '/livez');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { status: 'ok' });
  assert.match(header(r, 'content-type'), /^application\/json/);
  assertCommonHeaders(r);
});

test('GET /readyz is 200 {"status":"ready"}', async () => {
  const r = await request(srv, 'GET', '/readyz');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { status: 'ready' });
  assertCommonHeaders(r);
});

test('GET /health reports healthy with a database section', async () => {
  const r = await request(srv, 'GET', '/health');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'healthy', r.text);
  assert.equal(typeof r.json.database, 'object');
  assert.notEqual(r.json.database, null);
  if ('backend' in r.json.database) {
    assert.match(r.json.database.backend, isPostgres() ? /^postgres/ : /^sqlite$/, `database.backend: ${r.text}`);
  }
  assertCommonHeaders(r);
});

test('GET /version names bizosaas 0.1.0', async () => {
  const r = await request(srv, 'GET', '/version');
  assert.equal(r.status, 200);
  assert.equal(r.json.name, 'bizosaas');
  assert.equal(r.json.version, '0.1.0');
  assertCommonHeaders(r);
});

test('X-Request-ID: a valid client id is echoed, in headers and error bodies', async () => {
  const id = 'client-Id_1.2:3';
  const ok = await request(srv, 'GET', '/livez', { headers: { 'x-request-id': id } });
  assert.equal(header(ok, 'x-request-id'), id);
  const nf = await request(srv, 'GET', '/no/such/path', { headers: { 'x-request-id': id } });
  assertError(nf, 404, 'not_found');
  assert.equal(nf.json.error.request_id, id);
  const longest = 'a'.repeat(128);
  const r = await request(srv, 'GET', '/livez', { headers: { 'x-request-id': longest } });
  assert.equal(header(r, 'x-request-id'), longest);
});

test('X-Request-ID: missing or invalid ids are replaced by a fresh UUIDv7', async () => {
  const a = await request(srv, 'GET', '/livez');
  const b = await request(srv, 'GET', '/livez');
  assert.ok(isUuidV7(header(a, 'x-request-id')), header(a, 'x-request-id'));
  assert.ok(isUuidV7(header(b, 'x-request-id')));
  assert.notEqual(header(a, 'x-request-id'), header(b, 'x-request-id'));
  for (const bad of ['has space', 'semi;colon', 'x'.repeat(129), 'quote"d', 'slash/ed']) {
    const r = await request(srv, 'GET', '/livez', { headers: { 'x-request-id': bad } });
    const got = header(r, 'x-request-id');
    assert.notEqual(got, bad, `invalid id ${JSON.stringify(bad)} was echoed`);
    assert.ok(isUuidV7(got), `not a UUIDv7 for ${JSON.stringify(bad)}: ${got}`);
  }
});

test('an unknown path is 404 not_found', async () => {
  assertError(await request(srv, 'GET', '/nope'), 404, 'not_found');
  assertError(await request(srv, 'POST', '/api/v1/no-such-context/things', { body: {} }), 404, 'not_found');
});

test('a known path with a wrong method is 405 with Allow', async () => {
  const r = await request(srv, 'DELETE', '/livez');
  assertError(r, 405, 'method_not_allowed');
  const allow = (header(r, 'allow') || '').split(',').map((s) => s.trim());
  assert.ok(allow.includes('GET'), `Allow: ${header(r, 'allow')}`);
  assert.ok(allow.includes('HEAD'), `Allow: ${header(r, 'allow')}`);
  assert.ok(!allow.includes('DELETE'));
  const p = await request(srv, 'PUT', '/version', { body: {} });
  assertError(p, 405, 'method_not_allowed');
});

test('HEAD answers like GET without a body', async () => {
  const conn = await RawConn.open(srv.port);
  try {
    // HEAD then GET in one write: if HEAD wrongly carried a body, the second
    // response would not parse as a response.
    await conn.write(req('HEAD', '/version') + req('GET', '/version'));
    const rs = await conn.waitResponses(2, { head: [true, false] });
    assert.equal(rs.length, 2, conn.text());
    const [h, g] = rs;
    assert.equal(h.status, 200);
    assert.equal(h.bodyBytes.length, 0);
    assert.equal(g.status, 200);
    assert.equal(g.json.name, 'bizosaas');
    assert.equal(h.headers['content-length'], g.headers['content-length'], 'HEAD Content-Length should equal GET');
    assert.equal(h.headers['content-type'], g.headers['content-type']);
  } finally {
    conn.destroy();
  }
});

test('HEAD on an unknown path is 404 without a body', async () => {
  const r = await rawRequest(srv.port, req('HEAD', '/nope') + req('GET', '/livez'), {
    untilResponses: 2,
    head: [true, false],
  });
  assert.equal(r.responses.length, 2, r.data);
  assert.equal(r.responses[0].status, 404);
  assert.equal(r.responses[0].bodyBytes.length, 0);
  assert.equal(r.responses[1].status, 200);
});

function metricValue(text, name, labels) {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.indexOf('}');
    const labelText = line.slice(name.length + 1, close);
    const have = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(line.slice(close + 1).trim());
  }
  return undefined;
}

test('GET /metrics is Prometheus text with the kernel series', async () => {
  await request(srv, 'GET', '/version');
  const r = await request(srv, 'GET', '/metrics');
  assert.equal(r.status, 200);
  assert.match(header(r, 'content-type'), /^text\/plain; version=0\.0\.4/);
  const t = r.text;
  const labels = { route: '/version', method: 'GET', status: '200' };
  const n = metricValue(t, 'http_requests_total', labels);
  assert.ok(n >= 1, `http_requests_total for GET /version 200 missing or 0:\n${t}`);
  assert.match(t, /^http_request_duration_seconds_bucket\{[^}]*le="[^"]+"[^}]*\} \d+/m);
  assert.match(t, /^http_request_duration_seconds_bucket\{[^}]*le="\+Inf"[^}]*\} \d+/m);
  assert.match(t, /^http_open_connections(\{[^}]*\})? \d+/m);
  assert.match(t, /^worker_queue_depth(\{[^}]*\})? \d+/m);
  assert.match(t, /^db_pool_in_use(\{[^}]*\})? \d+/m);

  // The counter counts: three more requests, three more in the series
  // (polled, since a response can reach us before it is counted).
  for (let i = 0; i < 3; i++) assert.equal((await request(srv, 'GET', '/version')).status, 200);
  let now;
  for (let i = 0; i < 50; i++) {
    now = metricValue((await request(srv, 'GET', '/metrics')).text, 'http_requests_total', labels);
    if (now >= n + 3) break;
    await sleep(20);
  }
  assert.equal(now, n + 3);
});

test('metrics label unknown paths by a fixed route label, not the raw path', async () => {
  const junk = `/zz-unique-${Date.now()}`;
  await request(srv, 'GET', junk);
  const t = (await request(srv, 'GET', '/metrics')).text;
  assert.ok(!t.includes(junk), 'the raw unknown path leaked into a metric label (unbounded cardinality)');
});

test('one JSON access-log line per request on stdout', async () => {
  const id = `access-log-${Date.now()}`;
  const r = await request(srv, 'GET', '/version?x=1', { headers: { 'x-request-id': id } });
  assert.equal(r.status, 200);
  const line = await srv.waitForStdout((l) => l.includes(id));
  const rec = JSON.parse(line);
  assert.equal(rec.method, 'GET');
  assert.match(rec.path, /^\/version/);
  assert.equal(rec.status, 200);
  assert.equal(typeof rec.bytes, 'number');
  assert.ok(rec.bytes >= Buffer.byteLength(r.text), `bytes ${rec.bytes} < body length`);
  assert.equal(typeof rec.us, 'number');
  assert.equal(rec.request_id, id);
  assert.ok('tenant_id' in rec);
  assert.equal(srv.stdout().filter((l) => l.includes(id)).length, 1, 'more than one access line');

  const id2 = `access-log-404-${Date.now()}`;
  await request(srv, 'GET', '/nope', { headers: { 'x-request-id': id2 } });
  const rec2 = JSON.parse(await srv.waitForStdout((l) => l.includes(id2)));
  assert.equal(rec2.status, 404);
});

test('the access log can be turned off', async () => {
  const quiet = await startServer({ env: { BIZOSAAS_ACCESS_LOG: 'false' } });
  try {
    const id = `no-access-log-${Date.now()}`;
    assert.equal((await request(quiet, 'GET', '/livez', { headers: { 'x-request-id': id } })).status, 200);
    await sleep(200);
    assert.equal(quiet.stdout().filter((l) => l.includes(id)).length, 0);
  } finally {
    assert.equal(await quiet.stop(), 0);
  }
});
