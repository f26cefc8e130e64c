// kernel_shutdown.test.mjs — graceful shutdown on SIGTERM: the listener
// closes at once (new connects are refused), idle connections are closed, an
// in-flight request still completes, and the process exits 0; a request that
// never completes does not hold the process past BIZOSAAS_SHUTDOWN_TIMEOUT_MS.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import { test } from 'node:test';

import { superAdminToken } from './lib/jwt.mjs';
import { RawConn, req, sleep } from './lib/raw.mjs';
import { startServer } from './lib/server.mjs';

function tryConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e) => resolve(e.code));
  });
}

async function waitRefused(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await tryConnect(port);
    if (last === 'ECONNREFUSED') return last;
    await sleep(25);
  }
  return last;
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    }),
  ]);
}

test('SIGTERM: listener closes, idle connections close, in-flight request completes, exit 0', async () => {
  const srv = await startServer({ env: { BIZOSAAS_SHUTDOWN_TIMEOUT_MS: '8000' } });
  const idle = await RawConn.open(srv.port);
  const busy = await RawConn.open(srv.port);
  try {
    await idle.write(req('GET', '/livez'));
    assert.equal((await idle.waitResponses(1))[0]?.status, 200);

    const s = `acme-${crypto.randomBytes(6).toString('hex')}`;
    const json = JSON.stringify({ name: 'Shutdown', slug: s });
    // The head now, the body after the signal: the request is in flight.
    // Expect: 100-continue tells us when the server has taken the head.
    await busy.write(
      req('POST', '/api/v1/auth/tenants', {
        headers: {
          Authorization: `Bearer ${superAdminToken()}`,
          'Content-Type': 'application/json',
          'Content-Length': String(json.length),
          Expect: '100-continue',
        },
      }),
    );
    assert.equal((await busy.waitResponses(1))[0]?.status, 100, busy.text());

    srv.proc.kill('SIGTERM');
    assert.equal(await waitRefused(srv.port, 5000), 'ECONNREFUSED', 'new connections still accepted after SIGTERM');
    assert.equal(await idle.waitClose(5000), true, 'idle keep-alive connection not closed on shutdown');
    assert.equal(idle.responses().length, 1, 'bytes sent to the idle connection on shutdown');

    await busy.write(json);
    const rs = await busy.waitResponses(2, { timeoutMs: 5000 });
    assert.equal(rs[1]?.status, 201, `in-flight request: ${JSON.stringify(busy.text())}`);
    assert.equal(rs[1].json.slug, s);
    assert.equal(await busy.waitClose(5000), true, 'connection kept open after the last response during shutdown');

    const { code, signal } = await withTimeout(srv.exited, 10000, 'process exit');
    assert.equal(signal, null, `killed by ${signal}`);
    assert.equal(code, 0, `exit code ${code}; stderr:\n${srv.stderr().join('\n')}`);
  } finally {
    idle.destroy();
    busy.destroy();
    await srv.stop('SIGKILL');
  }
});

test('SIGTERM: a request that never completes does not outlive BIZOSAAS_SHUTDOWN_TIMEOUT_MS', async () => {
  const srv = await startServer({ env: { BIZOSAAS_SHUTDOWN_TIMEOUT_MS: '1000' } });
  const stuck = await RawConn.open(srv.port);
  try {
    await stuck.write(
      req('POST', '/api/v1/auth/tenants', {
        headers: {
          Authorization: `Bearer ${superAdminToken()}`,
          'Content-Type': 'application/json',
          'Content-Length': '100',
          Expect: '100-continue',
        },
      }),
    );
    assert.equal((await stuck.waitResponses(1))[0]?.status, 100, stuck.text());
    srv.proc.kill('SIGTERM');
    // Generous bound: the point is that it exits at all while the client stalls
    // (the body timeout is 30 s by default).
    const { code, signal } = await withTimeout(srv.exited, 15000, 'process exit with a stalled client');
    assert.equal(signal, null);
    assert.equal(code, 0, `exit code ${code}; stderr:\n${srv.stderr().join('\n')}`);
    assert.equal(await stuck.waitClose(2000), true);
  } finally {
    stuck.destroy();
    await srv.stop('SIGKILL');
  }
});

test('SIGINT shuts down cleanly too', async () => {
  const srv = await startServer();
  srv.proc.kill('SIGINT');
  const { code, signal } = await withTimeout(srv.exited, 10000, 'process exit');
  assert.equal(signal, null);
  assert.equal(code, 0, srv.stderr().join('\n'));
});
