// kernel_cli.test.mjs — the command line and configuration: --help, version,
// routes --json, and startup refusal of unknown or malformed settings from
// the environment or an INI file; INI values take effect and env wins.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { freePort, request, runCli, startServer, tempDir } from './lib/server.mjs';

const VARIABLES = [
  ['BIZOSAAS_ENV', 'development'],
  ['BIZOSAAS_LISTEN', '127.0.0.1:8001'],
  ['BIZOSAAS_THREADS', '0'],
  ['BIZOSAAS_WORKERS', '0'],
  ['BIZOSAAS_DATABASE_URL', 'sqlite:./data/bizosaas.db'],
  ['BIZOSAAS_DATA_DIR', './data'],
  ['BIZOSAAS_MAX_CONNECTIONS', '16384'],
  ['BIZOSAAS_MAX_BODY_BYTES', '1048576'],
  ['BIZOSAAS_MAX_REQUEST_LINE', '8192'],
  ['BIZOSAAS_MAX_HEADER_BYTES', '16384'],
  ['BIZOSAAS_MAX_HEADERS', '100'],
  ['BIZOSAAS_HEADER_TIMEOUT_MS', '10000'],
  ['BIZOSAAS_BODY_TIMEOUT_MS', '30000'],
  ['BIZOSAAS_IDLE_TIMEOUT_MS', '60000'],
  ['BIZOSAAS_SHUTDOWN_TIMEOUT_MS', '10000'],
  ['BIZOSAAS_QUEUE_MAX', '1024'],
  ['BIZOSAAS_DB_TIMEOUT_MS', '1000'],
  ['BIZOSAAS_LOG_LEVEL', 'info'],
  ['BIZOSAAS_ACCESS_LOG', 'true'],
  ['BIZOSAAS_JWT_SECRET', null], // generated: no literal default
  ['BIZOSAAS_JWT_ISSUER', 'bizosaas'],
  ['BIZOSAAS_JWT_AUDIENCE', 'bizosaas'],
  ['BIZOSAAS_IDEMPOTENCY_TTL_S', '86400'],
];

test('--help lists every variable with its default and exits 0', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0, `exit code; stderr: ${r.stderr}`);
  const text = r.stdout + r.stderr;
  assert.match(text, /usage/i);
  assert.match(text, /serve/);
  assert.match(text, /migrate/);
  for (const [name, def] of VARIABLES) {
    // The description of name runs from its mention to the next variable's.
    const re = new RegExp(`${name}(?![A-Z_])`);
    const m = re.exec(text);
    assert.ok(m, `--help does not mention ${name}`);
    const rest = text.slice(m.index + name.length);
    const next = rest.search(/BIZOSAAS_[A-Z]/);
    const section = next < 0 ? rest : rest.slice(0, next);
    if (def !== null) assert.ok(section.includes(def), `--help: default "${def}" not shown for ${name}: ${section}`);
  }
});

test('version prints the version and exits 0', async () => {
  const r = await runCli(['version']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /0\.1\.0/);
});

test('an unknown command exits non-zero', async () => {
  const r = await runCli(['no-such-command']);
  assert.notEqual(r.code, 0);
  assert.equal(r.timedOut, false);
});

test('routes --json describes every route', async () => {
  const r = await runCli(['routes', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const routes = JSON.parse(r.stdout);
  assert.ok(Array.isArray(routes) && routes.length > 0);
  for (const rt of routes) {
    assert.equal(typeof rt.method, 'string', JSON.stringify(rt));
    assert.equal(typeof rt.pattern, 'string', JSON.stringify(rt));
    assert.ok(rt.permission === null || typeof rt.permission === 'string', JSON.stringify(rt));
    assert.equal(typeof rt.summary, 'string', JSON.stringify(rt));
    assert.ok(rt.summary.length > 0, `empty summary: ${JSON.stringify(rt)}`);
    assert.equal(typeof rt.public, 'boolean', JSON.stringify(rt));
  }
  const find = (m, p) => routes.find((x) => x.method === m && x.pattern === p);
  for (const p of ['/livez', '/readyz', '/health', '/version', '/metrics']) {
    const rt = find('GET', p);
    assert.ok(rt, `GET ${p} is not listed`);
    assert.equal(rt.public, true, `GET ${p} should be public`);
  }
  const create = find('POST', '/api/v1/auth/tenants');
  assert.ok(create, 'POST /api/v1/auth/tenants is not listed');
  assert.equal(create.public, false);
});

// serve must refuse to start; it is given a free port and a temp data dir so
// that, if it wrongly starts, it is killed by the timeout instead of
// colliding with anything.
async function serveRefuses(env, args = []) {
  const port = await freePort();
  const dir = tempDir();
  const r = await runCli(['serve', ...args], {
    env: {
      BIZOSAAS_LISTEN: `127.0.0.1:${port}`,
      BIZOSAAS_DATA_DIR: dir,
      BIZOSAAS_DATABASE_URL: `sqlite:${path.join(dir, 'b.db')}`,
      ...env,
    },
    timeoutMs: 10000,
  });
  assert.equal(r.timedOut, false, `serve started instead of refusing; stderr: ${r.stderr}`);
  assert.notEqual(r.code, 0, 'serve exited 0');
  return r;
}

test('serve refuses an unknown BIZOSAAS_ variable and names it', async () => {
  const r = await serveRefuses({ BIZOSAAS_NO_SUCH_SETTING: '1' });
  assert.match(r.stderr, /BIZOSAAS_NO_SUCH_SETTING/);
});

for (const [name, value] of [
  ['BIZOSAAS_THREADS', 'abc'],
  ['BIZOSAAS_MAX_BODY_BYTES', '-1'],
  ['BIZOSAAS_MAX_CONNECTIONS', '12x'],
  ['BIZOSAAS_HEADER_TIMEOUT_MS', '1.5'],
  ['BIZOSAAS_ACCESS_LOG', 'maybe'],
  ['BIZOSAAS_LOG_LEVEL', 'loud'],
  ['BIZOSAAS_LISTEN', '127.0.0.1:99999'],
  ['BIZOSAAS_ENV', 'staging'],
]) {
  test(`serve refuses ${name}=${JSON.stringify(value)} and names the variable`, async () => {
    const r = await serveRefuses({ [name]: value });
    assert.ok(r.stderr.includes(name), `stderr does not name ${name}: ${r.stderr}`);
  });
}

function writeIni(text) {
  const f = path.join(tempDir(), 'bizosaas.ini');
  fs.writeFileSync(f, text);
  return f;
}

test('serve refuses an unknown INI key and names it', async () => {
  const ini = writeIni('[bizosaas]\nthreads = 2\nno_such_key = 1\n');
  const r = await serveRefuses({}, ['--config', ini]);
  assert.match(r.stderr, /no_such_key/);
});

test('serve refuses a malformed INI value and names the key', async () => {
  const ini = writeIni('max_headers = lots\n');
  const r = await serveRefuses({}, ['--config', ini]);
  assert.match(r.stderr, /max_headers/i);
});

test('INI settings take effect: comments, section, listen and limits', async () => {
  const port = await freePort();
  const ini = writeIni(
    [
      '# a comment',
      '; another comment',
      '[bizosaas]',
      `listen = 127.0.0.1:${port}`,
      'max_body_bytes = 64',
      '',
    ].join('\n'),
  );
  const srv = await startServer({ env: { BIZOSAAS_LISTEN: null }, args: ['--config', ini], port });
  try {
    const r = await request(srv, 'GET', '/livez');
    assert.equal(r.status, 200);
    // max_body_bytes from the file: a 100-byte body is refused.
    const big = await request(srv, 'POST', '/api/v1/auth/tenants', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(80), slug: 'y' }),
    });
    assert.equal(big.status, 413, `INI max_body_bytes=64 not applied: ${big.status} ${big.text}`);
  } finally {
    assert.equal(await srv.stop(), 0);
  }
});

test('the environment overrides the INI file', async () => {
  const filePort = await freePort();
  const envPort = await freePort();
  const ini = writeIni(`listen = 127.0.0.1:${filePort}\n`);
  const srv = await startServer({ env: { BIZOSAAS_LISTEN: `127.0.0.1:${envPort}` }, args: ['--config', ini], port: envPort });
  try {
    assert.equal((await request(srv, 'GET', '/livez')).status, 200);
    await assert.rejects(fetch(`http://127.0.0.1:${filePort}/livez`), 'the file port must not be served');
  } finally {
    assert.equal(await srv.stop(), 0);
  }
});
