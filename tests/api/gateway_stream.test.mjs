// gateway_stream.test.mjs — bodies streamed through the proxy with bounded
// memory: 100 MB up (Content-Length and chunked) and 100 MB down (both
// framings), each while the receiving side stalls for a while, so that
// without backpressure the proxy would have to hold most of it. The proxy's
// peak RSS (VmHWM in /proc/PID/status) must stay far below the body size.
// An upstream that dies in the middle of a streamed answer cuts the client's
// response short (the connection closes); the server keeps serving.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';

import { show } from './lib/expect.mjs';
import { superAdminToken } from './lib/jwt.mjs';
import { freePort, request, startServer } from './lib/server.mjs';

const sfx = crypto.randomBytes(3).toString('hex');
const admin = superAdminToken();
const SIZE = 100 * 1024 * 1024;
const BOUND = 40 * 1024 * 1024; // allowed growth of the proxy's peak RSS
const STALL_AT = 8 * 1024 * 1024;
const STALL_MS = 1500;
const SVC = `stream-${sfx}`;
let srv;
let upstream;

/** mem: VmRSS and VmHWM (peak) of the server, in bytes. With reset, the
 * peak is first set back to the current RSS (clear_refs 5, Linux >= 4.0). */
function mem(reset = false) {
  if (reset) fs.writeFileSync(`/proc/${srv.proc.pid}/clear_refs`, '5');
  const text = fs.readFileSync(`/proc/${srv.proc.pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)[1]) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** pattern: a deterministic 64 KiB block, so both ends can hash the body. */
const block = crypto.createHash('sha512').update('block').digest();
const BLOCK = Buffer.alloc(65536);
for (let i = 0; i < BLOCK.length; i += block.length) block.copy(BLOCK, i);

function source(size) {
  let left = size;
  return new Readable({
    read() {
      if (left === 0) return this.push(null);
      const n = Math.min(left, BLOCK.length);
      left -= n;
      this.push(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n));
    },
  });
}

let expected;
function expectedHash() {
  if (!expected) {
    const h = crypto.createHash('sha256');
    for (let left = SIZE; left > 0; left -= BLOCK.length) h.update(BLOCK.subarray(0, Math.min(left, BLOCK.length)));
    expected = h.digest('hex');
  }
  return expected;
}

/** The upstream: /sink reads the body (stalling once), answers its size and
 * hash; /source?chunked=0|1 sends SIZE bytes; /die sends half and resets. */
function startUpstream(port) {
  const s = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/sink') {
      const h = crypto.createHash('sha256');
      let n = 0;
      let stalled = false;
      req.on('data', (d) => {
        h.update(d);
        n += d.length;
        if (!stalled && n >= STALL_AT) {
          stalled = true;
          req.pause();
          setTimeout(() => req.resume(), STALL_MS);
        }
      });
      req.on('end', () => {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ bytes: n, sha256: h.digest('hex'), te: req.headers['transfer-encoding'] ?? null, cl: req.headers['content-length'] ?? null }));
      });
      return;
    }
    if (url.pathname === '/source') {
      const size = Number(url.searchParams.get('size') ?? SIZE);
      res.setHeader('Content-Type', 'application/octet-stream');
      if (url.searchParams.get('chunked') !== '1') res.setHeader('Content-Length', String(size));
      source(size).pipe(res);
      return;
    }
    if (url.pathname === '/die') {
      res.setHeader('Content-Length', String(SIZE));
      res.write(BLOCK);
      res.write(BLOCK, () => setTimeout(() => req.socket.destroy(), 50));
      return;
    }
    res.end('?');
  });
  return new Promise((resolve) => s.listen(port, '127.0.0.1', () => resolve(s)));
}

before(async () => {
  // ASan keeps freed memory in quarantine (256 MB by default), which would
  // count as RSS here; a small quarantine keeps the check meaningful there.
  const asan = process.env.ASAN_OPTIONS ? `${process.env.ASAN_OPTIONS}:` : '';
  srv = await startServer({ env: { ASAN_OPTIONS: `${asan}quarantine_size_mb=4` } });
  const port = await freePort();
  upstream = await startUpstream(port);
  const r = await request(srv, 'POST', '/api/brain/services', {
    token: admin,
    body: { name: SVC, target: `http://127.0.0.1:${port}`, response_timeout_ms: 20000, rate_limit_per_min: 100000 },
  });
  assert.equal(r.status, 201, show(r));
});
after(async () => {
  upstream?.close();
  const code = await srv.stop();
  assert.equal(code, 0, srv.stderr().slice(-60).join('\n'));
});

function upload(chunked) {
  return new Promise((resolve, reject) => {
    const headers = { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/octet-stream' };
    if (!chunked) headers['Content-Length'] = String(SIZE);
    const req = http.request(`${srv.url}/api/brain/${SVC}/sink`, { method: 'PUT', headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, text, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    source(SIZE).pipe(req);
  });
}

function download(chunked) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${srv.url}/api/brain/${SVC}/source?chunked=${chunked ? 1 : 0}`, {
      headers: { Authorization: `Bearer ${admin}` },
    });
    req.on('response', (res) => {
      const h = crypto.createHash('sha256');
      let n = 0;
      let stalled = false;
      res.on('data', (d) => {
        h.update(d);
        n += d.length;
        if (!stalled && n >= STALL_AT) {
          stalled = true;
          res.pause();
          setTimeout(() => res.resume(), STALL_MS);
        }
      });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, bytes: n, sha256: h.digest('hex') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

for (const chunked of [false, true]) {
  const framing = chunked ? 'chunked' : 'Content-Length';
  test(`100 MB upload (${framing}) streams to the upstream with bounded memory`, async () => {
    const m0 = mem(true);
    const r = await upload(chunked);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.bytes, SIZE);
    assert.equal(r.json.sha256, expectedHash());
    if (chunked) assert.equal(r.json.te, 'chunked');
    else assert.equal(r.json.cl, String(SIZE));
    const m1 = mem();
    assert.ok(m1.hwm - m0.rss < BOUND, `peak RSS grew by ${((m1.hwm - m0.rss) / 2 ** 20).toFixed(1)} MiB`);
  });

  test(`100 MB download (${framing}) streams to the client with bounded memory`, async () => {
    const m0 = mem(true);
    const r = await download(chunked);
    assert.equal(r.status, 200);
    assert.equal(r.bytes, SIZE);
    assert.equal(r.sha256, expectedHash());
    if (chunked) assert.equal(r.headers['transfer-encoding'], 'chunked');
    else assert.equal(r.headers['content-length'], String(SIZE));
    assert.ok(r.headers['x-request-id']);
    // the access log counts the streamed bytes (the kernel did not write them)
    const id = r.headers['x-request-id'];
    let line;
    for (let i = 0; i < 100 && !line; i++) {
      line = [...srv.stdout(), ...srv.stderr()].find((l) => l.includes(`"request_id":"${id}"`) && l.includes('"bytes"'));
      if (!line) await new Promise((res) => setTimeout(res, 50));
    }
    assert.ok(line, 'an access log line for the request');
    assert.equal(JSON.parse(line).bytes, SIZE, line);
    const m1 = mem();
    assert.ok(m1.hwm - m0.rss < BOUND, `peak RSS grew by ${((m1.hwm - m0.rss) / 2 ** 20).toFixed(1)} MiB`);
  });
}

test('an upstream dying mid-body cuts the streamed answer short; the server keeps serving', async () => {
  const outcome = await new Promise((resolve) => {
    const req = http.request(`${srv.url}/api/brain/${SVC}/die`, { headers: { Authorization: `Bearer ${admin}` } });
    req.on('response', (res) => {
      let n = 0;
      res.on('data', (d) => (n += d.length));
      res.on('end', () => resolve({ status: res.statusCode, n, complete: res.complete }));
      res.on('aborted', () => resolve({ status: res.statusCode, n, complete: false }));
      res.on('error', () => resolve({ status: res.statusCode, n, complete: false }));
    });
    req.on('error', (e) => resolve({ error: e.code }));
    req.end();
  });
  assert.equal(outcome.status, 200, JSON.stringify(outcome));
  assert.equal(outcome.complete, false, 'the client can tell the body is incomplete');
  assert.ok(outcome.n < SIZE);
  const ok = await request(srv, 'GET', `/api/brain/${SVC}/other`, { token: admin });
  assert.equal(ok.status, 200, show(ok));
});

test('a client leaving in the middle of an upload or a download leaves the server healthy', async () => {
  // upload: half the body, then the client resets
  await new Promise((resolve) => {
    const sock = net.connect(srv.port, '127.0.0.1', () => {
      sock.write(
        `PUT /api/brain/${SVC}/sink HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin}\r\nContent-Length: ${SIZE}\r\n\r\n`,
      );
      sock.write(Buffer.alloc(4 * 65536), () => setTimeout(() => (sock.destroy(), resolve()), 100));
    });
    sock.on('error', resolve);
  });
  // download: the client reads a little and leaves
  await new Promise((resolve) => {
    const req = http.request(`${srv.url}/api/brain/${SVC}/source?chunked=1`, { headers: { Authorization: `Bearer ${admin}` } });
    req.on('response', (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', resolve);
    req.end();
  });
  await new Promise((r) => setTimeout(r, 200));
  const ok = await request(srv, 'GET', `/api/brain/${SVC}/other`, { token: admin });
  assert.equal(ok.status, 200, show(ok));
  const health = await request(srv, 'GET', '/health');
  assert.equal(health.status, 200);
});

test('a large body refused at the head (no token) is 401 and the connection closes; a small chunked body passes', async () => {
  const reply = await new Promise((resolve) => {
    let text = '';
    const sock = net.connect(srv.port, '127.0.0.1', () => {
      sock.write(`PUT /api/brain/${SVC}/sink HTTP/1.1\r\nHost: x\r\nContent-Length: ${SIZE}\r\n\r\n`);
      sock.write(BLOCK);
    });
    sock.on('data', (d) => (text += d));
    sock.on('end', () => resolve(text));
    sock.on('error', () => resolve(text));
  });
  assert.match(reply, /^HTTP\/1\.1 401 /);
  assert.match(reply, /\r\nConnection: close\r\n/i, 'the unread body ends the connection');

  const small = await new Promise((resolve, reject) => {
    const req = http.request(`${srv.url}/api/brain/${SVC}/sink`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${admin}`, 'Transfer-Encoding': 'chunked' },
    }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.write('abc');
    req.end('def');
  });
  assert.equal(small.status, 200);
  assert.equal(small.json.bytes, 6);
  assert.equal(small.json.te, 'chunked');
});

test('Expect: 100-continue on a streamed upload: asked for only once the request is admitted', async () => {
  const talk = (auth) =>
    new Promise((resolve) => {
      let text = '';
      const body = Buffer.alloc(200000, 0x61);
      const sock = net.connect(srv.port, '127.0.0.1', () => {
        sock.write(
          `PUT /api/brain/${SVC}/sink HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: ${body.length}\r\n` +
            'Expect: 100-continue\r\nConnection: close\r\n\r\n',
        );
      });
      sock.on('data', (d) => {
        const first = text === '';
        text += d;
        if (first && text.startsWith('HTTP/1.1 100 ')) sock.write(body);
      });
      sock.on('end', () => resolve(text));
      sock.on('error', () => resolve(text));
    });
  const refused = await talk('');
  assert.match(refused, /^HTTP\/1\.1 401 /, 'no 100 Continue for a request that is refused');
  const ok = await talk(`Authorization: Bearer ${admin}\r\n`);
  assert.match(ok, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
  assert.match(ok, /"bytes":200000/);
});

test('an HTTP/1.0 client gets a chunked upstream answer delimited by the close', async () => {
  const size = 300000;
  const raw = await new Promise((resolve) => {
    const parts = [];
    const sock = net.connect(srv.port, '127.0.0.1', () =>
      sock.write(`GET /api/brain/${SVC}/source?chunked=1&size=${size} HTTP/1.0\r\nAuthorization: Bearer ${admin}\r\n\r\n`),
    );
    sock.on('data', (d) => parts.push(d));
    sock.on('end', () => resolve(Buffer.concat(parts)));
    sock.on('error', () => resolve(Buffer.concat(parts)));
  });
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end).toString('latin1');
  assert.match(head, /^HTTP\/1\.0 200 /);
  assert.doesNotMatch(head, /transfer-encoding/i, 'no chunks for HTTP/1.0');
  assert.doesNotMatch(head, /content-length/i);
  assert.match(head, /\r\nConnection: close/i);
  assert.equal(raw.length - end - 4, size);
});
