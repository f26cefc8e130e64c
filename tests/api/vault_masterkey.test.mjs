// vault_masterkey.test.mjs — the vault's master key at startup: a generated
// key file (mode 0600) on the embedded default's first start, a server
// started with another master key refuses to start with a clear message,
// `bizosaas admin rotate-master-key` keeps every secret readable (also for
// a server running through the rotation) and `verify-audit` passes.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';

import { show } from './lib/expect.mjs';
import { superAdminToken } from './lib/jwt.mjs';
import { request, runCli, startServer, tempDir, testDb, TEST_JWT_SECRET } from './lib/server.mjs';

const schemas = [];
after(() => {
  for (const s of schemas) execFileSync('psql', [testDb(), '-qc', `DROP SCHEMA ${s} CASCADE`]);
});

/** privateDb: a database no other test uses (SQLite file or PostgreSQL schema). */
function privateDb() {
  const db = testDb();
  if (db === 'sqlite') return `sqlite:${path.join(tempDir('bizosaas-vault-mk-'), 'v.db')}`;
  const schema = `vault_mk_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  execFileSync('psql', [db, '-v', 'ON_ERROR_STOP=1', '-qc', `CREATE SCHEMA ${schema}`]);
  schemas.push(schema);
  return `${db}${db.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`;
}

const KEY1 = '1f'.repeat(32);
const KEY2 = '2e'.repeat(32);
const writeSecret = (srv, p, value) =>
  request(srv, 'PUT', `/v1/secret/data/${p}`, { token: superAdminToken(), body: { data: { value } } });

test('a wrong master key: the server refuses to start and says why', async () => {
  const db = privateDb();
  let srv = await startServer({ db, env: { BIZOSAAS_MASTER_KEY: KEY1 } });
  assert.equal((await writeSecret(srv, 'platform/k', 'v1')).status, 200);
  assert.equal(await srv.stop(), 0);

  srv = await startServer({ db, env: { BIZOSAAS_MASTER_KEY: KEY2 }, waitReady: false });
  const exited = await Promise.race([srv.exited, new Promise((r) => setTimeout(() => r(null), 15000))]);
  if (!exited) await srv.stop('SIGKILL');
  assert.ok(exited, 'the server with the wrong master key kept running');
  assert.notEqual(exited.code, 0, 'the server with the wrong master key exited 0');
  const stderr = srv.stderr().join('\n');
  assert.match(stderr, /master key does not match/, stderr);

  srv = await startServer({ db, env: { BIZOSAAS_MASTER_KEY: KEY1 } });
  const r = await request(srv, 'GET', '/v1/secret/data/platform/k', { token: superAdminToken() });
  assert.equal(r.status, 200, show(r));
  assert.deepEqual(r.json.data.data, { value: 'v1' });
  assert.equal(await srv.stop(), 0);
});

test('the key file is generated with mode 0600 and used on the next start', async () => {
  const db = privateDb();
  const dataDir = tempDir('bizosaas-vault-dd-');
  const env = { BIZOSAAS_MASTER_KEY: null, BIZOSAAS_DATA_DIR: dataDir };
  let srv = await startServer({ db, env });
  const keyFile = path.join(dataDir, 'master.key');
  assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
  assert.match(fs.readFileSync(keyFile, 'utf8'), /^[0-9a-f]{64}$/);
  assert.equal((await writeSecret(srv, 'platform/f', 'from-file')).status, 200);
  assert.equal(await srv.stop(), 0);
  srv = await startServer({ db, env });
  const r = await request(srv, 'GET', '/v1/secret/data/platform/f', { token: superAdminToken() });
  assert.deepEqual(r.json?.data?.data, { value: 'from-file' }, show(r));
  assert.equal(await srv.stop(), 0);
});

test('admin rotate-master-key keeps every secret readable; verify-audit', async () => {
  const db = privateDb();
  const dataDir = tempDir('bizosaas-vault-rot-');
  const env = { BIZOSAAS_MASTER_KEY: null, BIZOSAAS_DATA_DIR: dataDir };
  let srv = await startServer({ db, env });
  for (let i = 0; i < 5; i++) assert.equal((await writeSecret(srv, `platform/r${i}`, `value-${i}`)).status, 200);
  const before = fs.readFileSync(path.join(dataDir, 'master.key'), 'utf8');
  const cliEnv = { BIZOSAAS_DATABASE_URL: db, BIZOSAAS_DATA_DIR: dataDir, BIZOSAAS_JWT_SECRET: TEST_JWT_SECRET };
  let run = await runCli(['admin', 'rotate-master-key'], { env: cliEnv });
  assert.equal(run.code, 0, run.stderr);
  assert.notEqual(fs.readFileSync(path.join(dataDir, 'master.key'), 'utf8'), before);
  // the running server keeps working (its data keys did not change)
  let r = await request(srv, 'GET', '/v1/secret/data/platform/r0', { token: superAdminToken() });
  assert.deepEqual(r.json?.data?.data, { value: 'value-0' }, show(r));
  assert.equal(await srv.stop(), 0);
  srv = await startServer({ db, env });
  for (let i = 0; i < 5; i++) {
    r = await request(srv, 'GET', `/v1/secret/data/platform/r${i}`, { token: superAdminToken() });
    assert.deepEqual(r.json?.data?.data, { value: `value-${i}` }, show(r));
  }
  assert.equal(await srv.stop(), 0);
  run = await runCli(['admin', 'verify-audit'], { env: cliEnv });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /intact/);
});
