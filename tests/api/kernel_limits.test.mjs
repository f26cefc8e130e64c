// kernel_limits.test.mjs — request size limits (414, 431, 413), the
// 100-continue handshake, and chunked request bodies.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';

import { assertError } from './lib/expect.mjs';
import { superAdminToken } from './lib/jwt.mjs';
import { RawConn, chunked, rawRequest, req } from './lib/raw.mjs';
import { startServer } from './lib/server.mjs';

const MAX_BODY = 1024;
let srv;
let token;
before(async () => {
  srv = await startServer({ env: { BIZOSAAS_MAX_BODY_BYTES: String(MAX_BODY) } });
  token = superAdminToken();
});
after(async () => {
  if (srv) assert.equal(await srv.stop(), 0, `exit code; stderr:\n${srv.stderr().join('\n')}`);
});

const slug = () => `acme-${crypto.randomBytes(6).toString('hex')}`;
const FOLLOW = req('GET', '/livez');

function createHead(extra = {}) {
  return {
    Authorization: `Bearer ${token}`,
    'Content-Type': 'application/json',
    ...extra,
  };
}

test('a request line over the limit is 414 uri_too_long, then close', async () => {
  const r = await rawRequest(srv.port, req('GET', `/${'a'.repeat(9000)}`) + FOLLOW);
  assert.equal(r.responses.length, 1, r.data.slice(0, 500));
  assertError(r.responses[0], 414, 'uri_too_long');
  assert.equal(r.closed, true);
});

test('a request line just under the limit is routed normally', async () => {
  const target = `/${'a'.repeat(8000)}`;
  const r = await rawRequest(srv.port, req('GET', target, { headers: { Connection: 'close' } }));
  assertError(r.responses[0], 404, 'not_found');
});

test('a header section over the limit is 431 headers_too_large, then close', async () => {
  const r = await rawRequest(srv.port, req('GET', '/livez', { headers: { 'X-Big': 'b'.repeat(17000) } }) + FOLLOW);
  assert.equal(r.responses.length, 1, r.data.slice(0, 500));
  assertError(r.responses[0], 431, 'headers_too_large');
  assert.equal(r.closed, true);
});

test('many headers summing over the byte limit are 431', async () => {
  const headers = {};
  for (let i = 0; i < 90; i++) headers[`X-H${i}`] = 'v'.repeat(200); // ~18 KB
  const r = await rawRequest(srv.port, req('GET', '/livez', { headers }) + FOLLOW);
  assert.equal(r.responses.length, 1, r.data.slice(0, 500));
  assertError(r.responses[0], 431, 'headers_too_large');
  assert.equal(r.closed, true);
});

test('exactly BIZOSAAS_MAX_HEADERS headers is fine; one more is 431, then close', async () => {
  const make = (n) => {
    const h = {};
    for (let i = 0; i < n; i++) h[`X-H${i}`] = '1'; // plus Host
    return h;
  };
  const okr = await rawRequest(srv.port, req('GET', '/livez', { headers: { ...make(98), Connection: 'close' } }));
  assert.equal(okr.responses[0]?.status, 200, `100 headers refused: ${okr.data.slice(0, 300)}`);
  const bad = await rawRequest(srv.port, req('GET', '/livez', { headers: make(100) }) + FOLLOW);
  assert.equal(bad.responses.length, 1, bad.data.slice(0, 500));
  assertError(bad.responses[0], 431, 'headers_too_large');
  assert.equal(bad.closed, true);
});

test('Content-Length over the limit is 413 before any body byte is sent, then close', async () => {
  const head = req('POST', '/api/v1/auth/tenants', { headers: createHead({ 'Content-Length': String(MAX_BODY + 1) }) });
  const r = await rawRequest(srv.port, head, { timeoutMs: 5000 });
  assert.equal(r.responses.length, 1, `no response to the head alone: ${JSON.stringify(r.data)}`);
  assertError(r.responses[0], 413, 'payload_too_large');
  assert.equal(r.closed, true);
});

test('a huge Content-Length is 413 too', async () => {
  const head = req('POST', '/api/v1/auth/tenants', { headers: createHead({ 'Content-Length': '1000000000000' }) });
  const r = await rawRequest(srv.port, head);
  assertError(r.responses[0], 413, 'payload_too_large');
  assert.equal(r.closed, true);
});

test('a body at exactly the limit is accepted', async () => {
  // Trailing whitespace is valid JSON; the server must read it all (no 413).
  const jsonBody = JSON.stringify({ name: 'Exact', slug: slug() }).padEnd(MAX_BODY, ' ');
  assert.equal(Buffer.byteLength(jsonBody), MAX_BODY);
  const r = await rawRequest(
    srv.port,
    req('POST', '/api/v1/auth/tenants', { headers: createHead({ Connection: 'close' }), body: jsonBody }),
  );
  assert.equal(r.responses[0]?.status, 201, r.data);
});

test('a chunked body over the limit is 413, then close', async () => {
  const part = 'x'.repeat(400);
  const body = chunked([part, part, part, part]); // 1600 > 1024
  const r = await rawRequest(
    srv.port,
    req('POST', '/api/v1/auth/tenants', { headers: createHead({ 'Transfer-Encoding': 'chunked' }) }) + body + FOLLOW,
  );
  assert.equal(r.responses.length, 1, r.data);
  assertError(r.responses[0], 413, 'payload_too_large');
  assert.equal(r.closed, true);
});

test('a chunked JSON body split in several chunks creates the tenant', async () => {
  const s = slug();
  const json = JSON.stringify({ name: 'Chunky', slug: s });
  const parts = [json.slice(0, 5), json.slice(5, 11), json.slice(11, 12), json.slice(12)];
  const head = req('POST', '/api/v1/auth/tenants', { headers: createHead({ 'Transfer-Encoding': 'chunked' }) });
  const conn = await RawConn.open(srv.port);
  try {
    // Sent in pieces with pauses, including a chunk-size line split in two.
    const bodyText = chunked(parts);
    await conn.write(head);
    await conn.write(bodyText.slice(0, 3));
    await new Promise((r) => setTimeout(r, 30));
    await conn.write(bodyText.slice(3, 20));
    await new Promise((r) => setTimeout(r, 30));
    await conn.write(bodyText.slice(20));
    const rs = await conn.waitResponses(1);
    assert.equal(rs[0]?.status, 201, conn.text());
    assert.equal(rs[0].json.slug, s);
    assert.equal(rs[0].json.name, 'Chunky');
    // The connection stays usable after a chunked request.
    await conn.write(req('GET', '/livez'));
    const rs2 = await conn.waitResponses(2);
    assert.equal(rs2[1]?.status, 200, conn.text());
  } finally {
    conn.destroy();
  }
});

test('chunk extensions and trailers are accepted and ignored', async () => {
  const s = slug();
  const json = JSON.stringify({ name: 'Ext', slug: s });
  const body = `${json.length.toString(16)};ext=1\r\n${json}\r\n0\r\nX-Trailer: yes\r\n\r\n`;
  const r = await rawRequest(
    srv.port,
    req('POST', '/api/v1/auth/tenants', { headers: createHead({ 'Transfer-Encoding': 'chunked', Connection: 'close' }) }) + body,
  );
  assert.equal(r.responses[0]?.status, 201, r.data);
});

test('Expect: 100-continue gets an interim 100 before the body, then the final response', async () => {
  const s = slug();
  const json = JSON.stringify({ name: 'Continue', slug: s });
  const conn = await RawConn.open(srv.port);
  try {
    await conn.write(
      req('POST', '/api/v1/auth/tenants', {
        headers: createHead({ Expect: '100-continue', 'Content-Length': String(json.length) }),
      }),
    );
    const got100 = await conn.until(() => conn.text().includes('\r\n\r\n'), 5000);
    assert.ok(got100, `no interim response before the body: ${JSON.stringify(conn.text())}`);
    assert.equal(conn.text(), 'HTTP/1.1 100 Continue\r\n\r\n');
    await conn.write(json);
    const rs = await conn.waitResponses(2);
    assert.equal(rs.length, 2, conn.text());
    assert.equal(rs[0].status, 100);
    assert.equal(rs[1].status, 201, conn.text());
    assert.equal(rs[1].json.slug, s);
  } finally {
    conn.destroy();
  }
});

test('Expect: 100-continue with Content-Length over the limit is 413 without a 100', async () => {
  const r = await rawRequest(
    srv.port,
    req('POST', '/api/v1/auth/tenants', {
      headers: createHead({ Expect: '100-continue', 'Content-Length': String(MAX_BODY * 10) }),
    }),
  );
  assert.doesNotMatch(r.data, /^HTTP\/1\.1 100/m, 'sent 100 Continue for a refused body');
  assert.equal(r.responses.length, 1, r.data);
  assertError(r.responses[0], 413, 'payload_too_large');
  assert.equal(r.closed, true);
});
