// raw.mjs — HTTP/1.1 over a bare TCP socket, for tests that must control the
// exact bytes: malformed framing, pipelining, slow clients, limits.
//
// rawRequest() is the one-shot form (write, then collect until the server
// closes or the timeout); RawConn is the interactive form (write, wait for a
// response or for the close, write more). parseResponses() is a small
// response parser: status line, headers, Content-Length or chunked bodies,
// several pipelined responses, 1xx interim responses as their own entries.

import net from 'node:net';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function indexOfCrlfCrlf(buf, from) {
  return buf.indexOf('\r\n\r\n', from, 'latin1');
}

/**
 * parseResponses: parses buf (a Buffer) into [{status, reason, version,
 * headers (lower-case name -> value; repeats joined by ', '), rawHeaders
 * ([[name, value]]), body (string), bodyBytes (Buffer), json, complete}].
 * head: a list of booleans or a predicate(i) telling which final responses
 * answer HEAD requests (they carry no body). A trailing partial response is
 * included with complete: false.
 */
export function parseResponses(buf, { head = () => false } = {}) {
  const isHead = Array.isArray(head) ? (i) => Boolean(head[i]) : head;
  const out = [];
  let pos = 0;
  let finalIndex = 0; // index among final (non-1xx) responses, for isHead
  while (pos < buf.length) {
    const end = indexOfCrlfCrlf(buf, pos);
    if (end < 0) {
      out.push({ complete: false, partial: buf.subarray(pos).toString('latin1') });
      break;
    }
    const headText = buf.subarray(pos, end).toString('latin1');
    const lines = headText.split('\r\n');
    const m = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(lines[0]);
    if (!m) {
      out.push({ complete: false, partial: buf.subarray(pos).toString('latin1'), error: 'bad status line' });
      break;
    }
    const headers = {};
    const rawHeaders = [];
    for (const line of lines.slice(1)) {
      const c = line.indexOf(':');
      const name = line.slice(0, c).trim();
      const value = line.slice(c + 1).trim();
      rawHeaders.push([name, value]);
      const k = name.toLowerCase();
      headers[k] = k in headers ? `${headers[k]}, ${value}` : value;
    }
    const status = Number(m[2]);
    const res = { version: m[1], status, reason: m[3] || '', headers, rawHeaders, complete: true };
    pos = end + 4;
    let bodyBytes = Buffer.alloc(0);
    const noBody = (status >= 100 && status < 200) || status === 204 || status === 304 || isHead(finalIndex);
    if (!noBody) {
      if ((headers['transfer-encoding'] || '').toLowerCase() === 'chunked') {
        const parts = [];
        let p = pos;
        let ok = false;
        for (;;) {
          const le = buf.indexOf('\r\n', p, 'latin1');
          if (le < 0) break;
          const size = parseInt(buf.subarray(p, le).toString('latin1').split(';')[0], 16);
          if (Number.isNaN(size)) break;
          if (size === 0) {
            const te = indexOfCrlfCrlf(buf, le);
            // no trailers: "0\r\n\r\n"
            const tEnd = buf.subarray(le, le + 4).toString('latin1') === '\r\n\r\n' ? le + 4 : te >= 0 ? te + 4 : -1;
            if (tEnd < 0) break;
            p = tEnd;
            ok = true;
            break;
          }
          if (le + 2 + size + 2 > buf.length) break;
          parts.push(buf.subarray(le + 2, le + 2 + size));
          p = le + 2 + size + 2;
        }
        bodyBytes = Buffer.concat(parts);
        res.complete = ok;
        pos = ok ? p : buf.length;
      } else if ('content-length' in headers) {
        const n = Number(headers['content-length']);
        bodyBytes = buf.subarray(pos, Math.min(buf.length, pos + n));
        res.complete = bodyBytes.length === n;
        pos += bodyBytes.length;
      } else {
        // Close-delimited body: everything that is left.
        bodyBytes = buf.subarray(pos);
        pos = buf.length;
      }
    }
    res.bodyBytes = bodyBytes;
    res.body = bodyBytes.toString('utf8');
    try {
      res.json = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      res.json = undefined;
    }
    out.push(res);
    if (status >= 200 || status < 100) finalIndex += 1;
  }
  return out;
}

/**
 * RawConn: one client connection. Use `await RawConn.open(port)`, then
 * write(), waitResponses(n), waitClose(), end(), destroy().
 */
export class RawConn {
  constructor(socket) {
    this.socket = socket;
    this.chunks = [];
    this.closed = false;
    this.error = null;
    this.waiters = new Set();
    socket.on('data', (d) => {
      this.chunks.push(d);
      this.notify();
    });
    socket.on('error', (e) => {
      this.error = e;
      this.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  /** open: connects to 127.0.0.1:port; rejects with the connect error. */
  static open(port, { timeoutMs = 5000 } = {}) {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.setNoDelay(true);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`connect to port ${port} timed out`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeListener('error', reject);
        resolve(new RawConn(s));
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  notify() {
    for (const w of this.waiters) w();
  }

  /** data: every byte received so far. */
  data() {
    return Buffer.concat(this.chunks);
  }

  text() {
    return this.data().toString('latin1');
  }

  responses(opts) {
    return parseResponses(this.data(), opts);
  }

  /** write: sends bytes (string as latin1 bytes, or a Buffer); resolves when
   * flushed to the kernel. Errors (EPIPE, reset) are recorded, not thrown. */
  write(bytes) {
    return new Promise((resolve) => {
      if (this.closed || this.socket.destroyed) {
        resolve(false);
        return;
      }
      const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1');
      this.socket.write(b, (err) => {
        if (err) this.error = err;
        resolve(!err);
      });
    });
  }

  /** until: resolves true when pred() holds, false on timeout. */
  until(pred, timeoutMs) {
    if (pred()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w = () => {
        if (pred()) {
          clearTimeout(timer);
          this.waiters.delete(w);
          resolve(true);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        resolve(pred());
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  /** waitResponses: waits until n complete responses (counting 1xx) have
   * arrived or the connection closed; returns the parsed responses. */
  async waitResponses(n, { timeoutMs = 5000, head } = {}) {
    await this.until(() => {
      const rs = this.responses({ head });
      return this.closed || rs.filter((r) => r.complete).length >= n;
    }, timeoutMs);
    return this.responses({ head });
  }

  /** waitClose: resolves true once the peer closed the connection. */
  waitClose(timeoutMs = 5000) {
    return this.until(() => this.closed, timeoutMs);
  }

  /** end: half-closes our side (FIN). */
  end() {
    this.socket.end();
  }

  destroy() {
    this.socket.destroy();
  }
}

/**
 * rawRequest: writes bytesOrChunks (a string/Buffer, or an array of them
 * written one by one with delayMs between), then collects the reply until the
 * server closes the connection or timeoutMs passes (then we close). With
 * untilResponses: n, it stops as soon as n complete responses arrived.
 * Returns {data (latin1 string), raw (Buffer), closed (server closed),
 * responses, error}.
 */
export async function rawRequest(
  port,
  bytesOrChunks,
  { delayMs = 0, timeoutMs = 3000, untilResponses, head } = {},
) {
  const conn = await RawConn.open(port);
  const chunks = Array.isArray(bytesOrChunks) ? bytesOrChunks : [bytesOrChunks];
  for (let i = 0; i < chunks.length; i++) {
    if (i > 0 && delayMs > 0) await sleep(delayMs);
    if (conn.closed) break;
    await conn.write(chunks[i]);
  }
  if (untilResponses) await conn.waitResponses(untilResponses, { timeoutMs, head });
  else await conn.waitClose(timeoutMs);
  const closed = conn.closed;
  conn.destroy();
  const raw = conn.data();
  return { data: raw.toString('latin1'), raw, closed, responses: parseResponses(raw, { head }), error: conn.error };
}

/** req: builds a request head (and optional body) as a string. */
export function req(method, target, { headers = {}, body, version = '1.1', host = 'test' } = {}) {
  const lines = [`${method} ${target} HTTP/${version}`];
  if (host !== null) lines.push(`Host: ${host}`);
  for (const [k, v] of Object.entries(headers)) {
    for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
  }
  const b = body === undefined ? '' : body;
  if (body !== undefined && !Object.keys(headers).some((k) => /^(content-length|transfer-encoding)$/i.test(k))) {
    lines.push(`Content-Length: ${Buffer.byteLength(b, 'latin1')}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n${b}`;
}

/** chunked: encodes parts as a chunked body (with the final 0-chunk). */
export function chunked(parts) {
  return parts.map((p) => `${Buffer.byteLength(p, 'latin1').toString(16)}\r\n${p}\r\n`).join('') + '0\r\n\r\n';
}

export { sleep };
