// kernel_malformed.test.mjs — ambiguous or malformed framing is refused with
// 400 bad_request (501 for an unsupported Transfer-Encoding) and the
// connection is closed: a second request pipelined in the same write must
// never be answered, since after a framing error the server cannot know
// where it starts (request smuggling).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { assertError } from './lib/expect.mjs';
import { superAdminToken } from './lib/jwt.mjs';
import { rawRequest } from './lib/raw.mjs';
import { startServer } from './lib/server.mjs';

let srv;
let auth;
before(async () => {
  srv = await startServer();
  auth = `Authorization: Bearer ${superAdminToken()}\r\nContent-Type: application/json\r\n`;
});
after(async () => {
  if (srv) assert.equal(await srv.stop(), 0, `exit code; stderr:\n${srv.stderr().join('\n')}`);
});

// The request that must NOT be answered after the malformed one.
const SMUGGLED = 'GET /livez HTTP/1.1\r\nHost: test\r\nX-Request-ID: smuggled\r\n\r\n';
const POST = 'POST /api/v1/auth/tenants HTTP/1.1\r\nHost: test\r\n';
const BODY = '{"name":"Bad","slug":"bad-framing"}';

const cases = [
  ['Content-Length with Transfer-Encoding', () => `${POST}${auth}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
  ['Transfer-Encoding with Content-Length (reversed order)', () => `${POST}${auth}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`],
  ['two different Content-Length headers', () => `${POST}${auth}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`],
  ['a Content-Length list with different values', () => `${POST}${auth}Content-Length: 5, 6\r\n\r\nhello!`],
  ['a non-numeric Content-Length', () => `${POST}${auth}Content-Length: abc\r\n\r\n`],
  ['a negative Content-Length', () => `${POST}${auth}Content-Length: -1\r\n\r\n`],
  ['a Content-Length with trailing junk', () => `${POST}${auth}Content-Length: 1x\r\n\r\nx`],
  ['a non-hex chunk size', () => `${POST}${auth}Transfer-Encoding: chunked\r\n\r\nzz\r\n${BODY}\r\n0\r\n\r\n`],
  ['an overflowing chunk size', () => `${POST}${auth}Transfer-Encoding: chunked\r\n\r\n${'f'.repeat(40)}\r\nabc\r\n0\r\n\r\n`],
  ['a negative chunk size', () => `${POST}${auth}Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n`],
  ['junk instead of CRLF after chunk data', () => `${POST}${auth}Transfer-Encoding: chunked\r\n\r\n${BODY.length.toString(16)}\r\n${BODY}XX0\r\n\r\n`],
  ['bare LF line endings in the head', () => 'GET /livez HTTP/1.1\nHost: test\n\n'],
  ['a bare LF ending one header line', () => 'GET /livez HTTP/1.1\r\nHost: test\nX-A: b\r\n\r\n'],
  ['a bare CR in a header line', () => 'GET /livez HTTP/1.1\r\nHost: test\r\nX-A: b\rc\r\n\r\n'],
  ['missing Host on HTTP/1.1', () => 'GET /livez HTTP/1.1\r\nX-A: b\r\n\r\n'],
  ['two Host headers', () => 'GET /livez HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
  ['obs-fold (a continuation line)', () => 'GET /livez HTTP/1.1\r\nHost: test\r\nX-A: b\r\n  c\r\n\r\n'],
  ['whitespace before the header colon', () => 'GET /livez HTTP/1.1\r\nHost : test\r\n\r\n'],
  ['a header line without a colon', () => 'GET /livez HTTP/1.1\r\nHost: test\r\nNoColonHere\r\n\r\n'],
  ['an unknown HTTP version', () => 'GET /livez HTTP/1.2\r\nHost: test\r\n\r\n'],
  ['a malformed request line', () => 'GET  /livez HTTP/1.1\r\nHost: test\r\n\r\n'],
  ['a control character in the target', () => 'GET /li\x01vez HTTP/1.1\r\nHost: test\r\n\r\n'],
];

for (const [name, build] of cases) {
  test(`400 bad_request and close: ${name}`, async () => {
    const r = await rawRequest(srv.port, build() + SMUGGLED, { timeoutMs: 5000 });
    assert.ok(r.responses.length >= 1, `no response (closed=${r.closed}): ${JSON.stringify(r.data)}`);
    assertError(r.responses[0], 400, 'bad_request');
    assert.equal(r.responses.length, 1, `the pipelined request was answered:\n${r.data}`);
    assert.ok(!r.data.includes('smuggled'), 'the smuggled request was answered');
    assert.equal(r.closed, true, 'the connection was left open after a framing error');
  });
}

test('Transfer-Encoding: gzip is 501, then close', async () => {
  const r = await rawRequest(srv.port, `${POST}${auth}Transfer-Encoding: gzip\r\n\r\nxxxx${SMUGGLED}`, { timeoutMs: 5000 });
  assert.ok(r.responses.length >= 1, JSON.stringify(r.data));
  assert.equal(r.responses[0].status, 501, r.data);
  assert.equal(r.responses[0].json?.error?.code, 'not_implemented', r.data);
  assert.equal(r.responses.length, 1, r.data);
  assert.equal(r.closed, true);
});

test('Transfer-Encoding: gzip, chunked is 501 too', async () => {
  const r = await rawRequest(srv.port, `${POST}${auth}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`);
  assert.equal(r.responses[0]?.status, 501, r.data);
  assert.equal(r.responses.length, 1, r.data);
  assert.equal(r.closed, true);
});

test('the server keeps serving after malformed requests', async () => {
  const r = await rawRequest(srv.port, 'GET /livez HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n');
  assert.equal(r.responses[0]?.status, 200, r.data);
});
