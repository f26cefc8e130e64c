// server.mjs — start and stop a real `bizosaas serve` for black-box API tests.
//
// Each server gets a free loopback port, a fresh temporary data directory and
// a database chosen by BIZOSAAS_TEST_DB ("sqlite" / unset: a file in the data
// dir; otherwise a PostgreSQL URL, with --migrate). The child's environment
// is the test runner's minus every BIZOSAAS_* variable (the server refuses
// unknown ones), plus the settings below and the caller's overrides; an
// override whose value is null removes that variable.
//
// Only the children started here are ever killed: each one is tracked and
// SIGKILLed if the test process exits while it still runs. A running child
// keeps its test file's process alive, so a test that fails before stopping
// its server would hang the file: run with --test-force-exit (scripts/test.sh
// does) so the file exits once its tests are done and the children die.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BIN = process.env.BIZOSAAS_BIN || path.join(ROOT, 'build', 'bizosaas');
export const TEST_JWT_SECRET = 'bizosaas-api-test-secret-0123456789abcdef-not-for-production';

const children = new Set();
const tempDirs = new Set();
process.on('exit', () => {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** testDb: "sqlite" or the PostgreSQL URL the API tests run against. */
export function testDb() {
  const v = process.env.BIZOSAAS_TEST_DB;
  return !v || v === 'sqlite' ? 'sqlite' : v;
}

/** isPostgres: true when the suite runs against PostgreSQL. */
export function isPostgres() {
  return testDb() !== 'sqlite';
}

/** freePort: a TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** tempDir: a fresh directory under the OS temp dir, removed at exit. */
export function tempDir(prefix = 'bizosaas-api-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** baseEnv: the runner's environment without any BIZOSAAS_* variable. */
export function baseEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('BIZOSAAS_')) env[k] = v;
  }
  return env;
}

function applyOverrides(env, overrides) {
  for (const [k, v] of Object.entries(overrides || {})) {
    if (v === null || v === undefined) delete env[k];
    else env[k] = String(v);
  }
  return env;
}

function lineCollector() {
  const lines = [];
  let partial = '';
  return {
    lines,
    push(chunk) {
      partial += chunk.toString('utf8');
      const parts = partial.split('\n');
      partial = parts.pop();
      for (const p of parts) lines.push(p);
    },
    all() {
      return partial ? [...lines, partial] : [...lines];
    },
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** configFile: an INI file holding text, in a fresh temporary directory. */
export function configFile(text) {
  const file = path.join(tempDir('bizosaas-ini-'), 'bizosaas.ini');
  fs.writeFileSync(file, text);
  return file;
}

/**
 * serveOnce: `bizosaas serve ...args` on SQLite in a fresh directory, run to
 * completion — for settings the server must refuse at start (it exits with
 * the reason on stderr). Returns runCli's result.
 */
export function serveOnce(args = [], env = {}) {
  const dir = tempDir();
  return runCli(['serve', ...args], {
    env: {
      BIZOSAAS_LISTEN: '127.0.0.1:0',
      BIZOSAAS_DATA_DIR: dir,
      BIZOSAAS_DATABASE_URL: `sqlite:${dir}/b.db`,
      BIZOSAAS_JWT_SECRET: 'x'.repeat(40),
      ...env,
    },
  });
}

/**
 * runCli: runs the binary to completion (SIGKILL after timeoutMs) and returns
 * {code, signal, stdout, stderr, timedOut}. env is applied on top of
 * baseEnv() (null removes a variable); with {cwd} it runs in that directory.
 */
export function runCli(args, { env = {}, timeoutMs = 15000, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, {
      env: applyOverrides(baseEnv(), env),
      cwd: cwd || tempDir('bizosaas-cli-'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      children.delete(child);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** probe: the status of GET /readyz over a fresh connection that is closed
 * afterwards (fetch would keep it open in its pool, which would count
 * against BIZOSAAS_MAX_CONNECTIONS in the tests); 0 when it fails. */
function probe(port, timeoutMs) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (status) => {
      clearTimeout(timer);
      s.destroy();
      resolve(status);
    };
    const timer = setTimeout(() => done(0), timeoutMs);
    s.on('connect', () => s.write('GET /readyz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n'));
    s.on('data', (d) => {
      buf += d.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3}) /.exec(buf);
      if (m) done(Number(m[1]));
    });
    s.on('error', () => done(0));
    s.on('close', () => done(0));
  });
}

/**
 * startServer: spawns `bizosaas serve` and waits until GET /readyz is 200.
 *
 * Options: env (overrides; null removes), args (extra CLI args), db
 * ("sqlite" or a PostgreSQL URL; default testDb()), port (default: a free
 * one), readyTimeoutMs (15000), waitReady (true; false returns as soon as
 * the process is spawned), cwd (default: the data dir), migrate (default
 * true: pass --migrate on PostgreSQL).
 *
 * Returns {url, port, dataDir, proc, stdout(), stderr(), waitForStdout(pred),
 * exited (a promise of {code, signal}), stop(signal='SIGTERM')}. stop
 * resolves to the exit code (or the signal name when killed by one).
 */
export async function startServer({
  env = {},
  args = [],
  db = testDb(),
  port,
  readyTimeoutMs = 15000,
  waitReady = true,
  cwd,
  migrate = true,
} = {}) {
  port = port || (await freePort());
  const dataDir = tempDir();
  const childEnv = baseEnv();
  Object.assign(childEnv, {
    BIZOSAAS_LISTEN: `127.0.0.1:${port}`,
    BIZOSAAS_DATA_DIR: dataDir,
    BIZOSAAS_DATABASE_URL: db === 'sqlite' ? `sqlite:${path.join(dataDir, 'bizosaas.db')}` : db,
    BIZOSAAS_JWT_SECRET: TEST_JWT_SECRET,
    BIZOSAAS_THREADS: '2',
    BIZOSAAS_LOG_LEVEL: 'info',
  });
  applyOverrides(childEnv, env);
  const argv = ['serve', ...(db === 'sqlite' || !migrate ? [] : ['--migrate']), ...args];

  const child = spawn(BIN, argv, {
    env: childEnv,
    cwd: cwd || dataDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const out = lineCollector();
  const err = lineCollector();
  child.stdout.on('data', (d) => out.push(d));
  child.stderr.on('data', (d) => err.push(d));
  const exited = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  let exitInfo = null;
  exited.then((e) => (exitInfo = e));
  const spawnError = new Promise((resolve) => child.on('error', resolve));

  const url = `http://127.0.0.1:${port}`;
  const server = {
    url,
    port,
    dataDir,
    proc: child,
    exited,
    stdout: () => out.all(),
    stderr: () => err.all(),
    /** waitForStdout: resolves to the first stdout line matching pred (a
     * RegExp or a function of the line), or throws after timeoutMs. */
    async waitForStdout(pred, timeoutMs = 5000) {
      const test = typeof pred === 'function' ? pred : (l) => pred.test(l);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = out.all().find(test);
        if (hit !== undefined) return hit;
        if (Date.now() > deadline) {
          throw new Error(`no stdout line matched ${pred} within ${timeoutMs} ms; stdout:\n${out.all().join('\n')}`);
        }
        await sleep(20);
      }
    },
    async stop(signal = 'SIGTERM', timeoutMs = 20000) {
      if (!exitInfo && child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const e = await exited;
      clearTimeout(timer);
      return e.code === null ? e.signal : e.code;
    },
  };

  if (!waitReady) return server;

  const deadline = Date.now() + readyTimeoutMs;
  let lastStatus = 0;
  for (;;) {
    const failed = await Promise.race([spawnError, sleep(0).then(() => null)]);
    if (failed) throw new Error(`cannot spawn ${BIN}: ${failed.message}`);
    if (exitInfo || child.exitCode !== null || child.signalCode !== null) {
      await exited;
      throw new Error(
        `bizosaas exited before ready (code ${exitInfo?.code}, signal ${exitInfo?.signal}); stderr:\n${err.all().join('\n')}`,
      );
    }
    lastStatus = await probe(port, 1000);
    if (lastStatus === 200) return server;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(
        `bizosaas not ready within ${readyTimeoutMs} ms (last /readyz status ${lastStatus}); stderr:\n${err.all().join('\n')}`,
      );
    }
    await sleep(50);
  }
}

/** request: fetch against a server with sensible defaults; returns
 * {status, headers, text, json} (json is undefined when the body is not JSON). */
export async function request(server, method, pathname, { headers = {}, body, token, timeoutMs = 10000 } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload = body;
  if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) {
    payload = JSON.stringify(body);
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['content-type'] = 'application/json';
  }
  const res = await fetch(server.url + pathname, {
    method,
    headers: h,
    body: payload,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/**
 * demoLogins: the demo tenant's logins a server seeded on its first start
 * (embedded default), read from DATA_DIR/demo-logins.txt (passwords never go
 * to the log) → {role: {email, role, password}}.
 */
export function demoLogins(server) {
  const text = fs.readFileSync(path.join(server.dataDir, 'demo-logins.txt'), 'utf8');
  const out = {};
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const [email, role, password] = line.trim().split(/\s+/);
    out[role] = { email, role, password };
  }
  return out;
}
