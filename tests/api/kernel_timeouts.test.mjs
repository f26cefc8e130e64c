// kernel_timeouts.test.mjs — slow and idle clients: a head that does not
// complete in BIZOSAAS_HEADER_TIMEOUT_MS gets 408 (even when it trickles in
// byte by byte), a stalled body gets 408 after BIZOSAAS_BODY_TIMEOUT_MS, and
// an idle keep-alive connection is closed silently after
// BIZOSAAS_IDLE_TIMEOUT_MS. The timeouts are set to 500 ms; the tests wait
// far longer before giving up, so they assert behavior, not speed.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { assertError } from './lib/expect.mjs';
import { superAdminToken } from './lib/jwt.mjs';
import { RawConn, req, sleep } from './lib/raw.mjs';
import { startServer } from './lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer({
    env: {
      BIZOSAAS_HEADER_TIMEOUT_MS: '500',
      BIZOSAAS_BODY_TIMEOUT_MS: '500',
      BIZOSAAS_IDLE_TIMEOUT_MS: '500',
    },
  });
});
after(async () => {
  if (srv) assert.equal(await srv.stop(), 0, `exit code; stderr:\n${srv.stderr().join('\n')}`);
});

test('an incomplete head is answered 408 request_timeout, then close', async () => {
  const conn = await RawConn.open(srv.port);
  try {
    await conn.write('GET /livez HTTP/1.1\r\nHo');
    assert.equal(await conn.waitClose(8000), true, 'connection not closed');
    const rs = conn.responses();
    assert.equal(rs.length, 1, JSON.stringify(conn.text()));
    assertError(rs[0], 408, 'request_timeout');
  } finally {
    conn.destroy();
  }
});

test('a head trickling in slowly is still cut off with 408', async () => {
  const conn = await RawConn.open(srv.port);
  try {
    // One byte every 100 ms: each gap is far below the timeout, the whole
    // head (and so the attack) is far above it.
    const head = `GET /livez HTTP/1.1\r\nHost: test\r\nX-Slow: ${'s'.repeat(60)}\r\n\r\n`;
    for (const ch of head) {
      if (conn.closed) break;
      await conn.write(ch);
      await sleep(100);
    }
    assert.equal(await conn.waitClose(5000), true, 'slow head was not cut off');
    const rs = conn.responses();
    assert.equal(rs.length, 1, JSON.stringify(conn.text()));
    assertError(rs[0], 408, 'request_timeout');
  } finally {
    conn.destroy();
  }
});

test('a stalled body is answered 408, then close', async () => {
  const conn = await RawConn.open(srv.port);
  try {
    await conn.write(
      req('POST', '/api/v1/auth/tenants', {
        headers: {
          Authorization: `Bearer ${superAdminToken()}`,
          'Content-Type': 'application/json',
          'Content-Length': '40',
        },
      }) + '{"name":',
    );
    assert.equal(await conn.waitClose(8000), true, 'connection not closed');
    const rs = conn.responses();
    assert.equal(rs.length, 1, JSON.stringify(conn.text()));
    assertError(rs[0], 408, 'request_timeout');
  } finally {
    conn.destroy();
  }
});

test('an idle keep-alive connection is closed without response bytes', async () => {
  const conn = await RawConn.open(srv.port);
  try {
    await conn.write(req('GET', '/livez'));
    const rs = await conn.waitResponses(1);
    assert.equal(rs[0]?.status, 200, conn.text());
    const before = conn.data().length;
    assert.equal(await conn.waitClose(8000), true, 'idle connection not closed');
    assert.equal(conn.data().length, before, `bytes after the response: ${JSON.stringify(conn.data().subarray(before).toString())}`);
  } finally {
    conn.destroy();
  }
});

test('a connection that keeps sending requests is not idle', async () => {
  const conn = await RawConn.open(srv.port);
  try {
    // 8 requests 200 ms apart span 1.6 s, more than three idle timeouts.
    for (let i = 1; i <= 8; i++) {
      await conn.write(req('GET', '/livez'));
      const rs = await conn.waitResponses(i);
      assert.equal(rs[i - 1]?.status, 200, `request ${i}: ${conn.text()}`);
      await sleep(200);
    }
    assert.equal(conn.closed, false);
  } finally {
    conn.destroy();
  }
});
