// kernel_conn.test.mjs — connection handling: keep-alive, Connection: close,
// HTTP/1.0, pipelining, and the open-connection limit.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { assertError } from './lib/expect.mjs';
import { RawConn, rawRequest, req, sleep } from './lib/raw.mjs';
import { startServer } from './lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer();
});
after(async () => {
  if (srv) assert.equal(await srv.stop(), 0, `exit code; stderr:\n${srv.stderr().join('\n')}`);
});

test('HTTP/1.1 keeps the connection alive by default', async () => {
  const conn = await RawConn.open(srv.port);
  try {
    await conn.write(req('GET', '/livez'));
    let rs = await conn.waitResponses(1);
    assert.equal(rs[0]?.status, 200, conn.text());
    assert.equal(conn.closed, false);
    await conn.write(req('GET', '/version'));
    rs = await conn.waitResponses(2);
    assert.equal(rs.length, 2, conn.text());
    assert.equal(rs[1].status, 200);
    assert.equal(rs[1].json.name, 'bizosaas');
    assert.equal(await conn.waitClose(300), false, 'server closed a keep-alive connection');
  } finally {
    conn.destroy();
  }
});

test('Connection: close is honored', async () => {
  const r = await rawRequest(srv.port, req('GET', '/livez', { headers: { Connection: 'close' } }));
  assert.equal(r.closed, true, 'connection left open');
  assert.equal(r.responses.length, 1);
  assert.equal(r.responses[0].status, 200);
  assert.match(r.responses[0].headers.connection || '', /close/i);
});

test('Connection: close stops a pipeline after that request', async () => {
  const r = await rawRequest(
    srv.port,
    req('GET', '/livez', { headers: { Connection: 'close' } }) + req('GET', '/version'),
  );
  assert.equal(r.closed, true);
  assert.equal(r.responses.length, 1, `answered past Connection: close:\n${r.data}`);
});

test('HTTP/1.0 closes unless keep-alive is asked for', async () => {
  const plain = await rawRequest(srv.port, req('GET', '/livez', { version: '1.0', host: null }));
  assert.equal(plain.closed, true, 'HTTP/1.0 connection left open');
  assert.equal(plain.responses[0]?.status, 200, plain.data);

  const conn = await RawConn.open(srv.port);
  try {
    await conn.write(req('GET', '/livez', { version: '1.0', host: null, headers: { Connection: 'keep-alive' } }));
    let rs = await conn.waitResponses(1);
    assert.equal(rs[0]?.status, 200, conn.text());
    assert.match(rs[0].headers.connection || '', /keep-alive/i);
    assert.equal(conn.closed, false);
    await conn.write(req('GET', '/livez', { version: '1.0', host: null, headers: { Connection: 'keep-alive' } }));
    rs = await conn.waitResponses(2);
    assert.equal(rs.length, 2, conn.text());
    assert.equal(rs[1].status, 200);
  } finally {
    conn.destroy();
  }
});

test('pipelined requests are answered in order', async () => {
  const ids = ['p1', 'p2', 'p3', 'p4'];
  const payload =
    req('GET', '/livez', { headers: { 'X-Request-ID': ids[0] } }) +
    req('GET', '/version', { headers: { 'X-Request-ID': ids[1] } }) +
    req('GET', '/nope', { headers: { 'X-Request-ID': ids[2] } }) +
    req('GET', '/readyz', { headers: { 'X-Request-ID': ids[3], Connection: 'close' } });
  const r = await rawRequest(srv.port, payload);
  assert.equal(r.responses.length, 4, r.data);
  assert.deepEqual(
    r.responses.map((x) => x.headers['x-request-id']),
    ids,
  );
  assert.deepEqual(
    r.responses.map((x) => x.status),
    [200, 200, 404, 200],
  );
  assert.equal(r.responses[1].json.name, 'bizosaas');
  assert.equal(r.closed, true);
});

test('a pipeline split at odd byte boundaries is still answered in order', async () => {
  const payload = req('GET', '/livez', { headers: { 'X-Request-ID': 's1' } }) + req('GET', '/version', { headers: { 'X-Request-ID': 's2', Connection: 'close' } });
  const chunks = [];
  for (let i = 0; i < payload.length; i += 7) chunks.push(payload.slice(i, i + 7));
  const r = await rawRequest(srv.port, chunks, { delayMs: 2 });
  assert.deepEqual(
    r.responses.map((x) => [x.status, x.headers['x-request-id']]),
    [
      [200, 's1'],
      [200, 's2'],
    ],
    r.data,
  );
});

test('connections over BIZOSAAS_MAX_CONNECTIONS get 503 overloaded; existing ones keep working', async () => {
  const limited = await startServer({ env: { BIZOSAAS_MAX_CONNECTIONS: '4' } });
  const conns = [];
  try {
    for (let i = 0; i < 4; i++) {
      const c = await RawConn.open(limited.port);
      conns.push(c);
      await c.write(req('GET', '/livez'));
      const rs = await c.waitResponses(1);
      assert.equal(rs[0]?.status, 200, `connection ${i + 1}: ${c.text()}`);
    }
    const extra = await RawConn.open(limited.port);
    try {
      // The server may answer at accept time or on the first request.
      let rs = await extra.waitResponses(1, { timeoutMs: 1000 });
      if (rs.length === 0 && !extra.closed) {
        await extra.write(req('GET', '/livez'));
        rs = await extra.waitResponses(1, { timeoutMs: 3000 });
      }
      assert.ok(rs.length >= 1, `no response on the connection over the limit: ${JSON.stringify(extra.text())}`);
      assertError(rs[0], 503, 'overloaded');
      assert.equal(await extra.waitClose(3000), true, 'the connection over the limit was not closed');
    } finally {
      extra.destroy();
    }
    for (const [i, c] of conns.entries()) {
      await c.write(req('GET', '/version'));
      const rs = await c.waitResponses(2);
      assert.equal(rs[1]?.status, 200, `existing connection ${i + 1} after overload: ${c.text()}`);
    }
    // Closing one frees a slot (polled: the server notices the close asynchronously).
    conns.pop().destroy();
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      await sleep(50);
      const r = await rawRequest(limited.port, req('GET', '/livez', { headers: { Connection: 'close' } }));
      ok = r.responses[0]?.status === 200;
    }
    assert.ok(ok, 'a slot was not freed after a connection closed');
  } finally {
    for (const c of conns) c.destroy();
    assert.equal(await limited.stop(), 0);
  }
});
