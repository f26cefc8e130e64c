// kernel_migrate.test.mjs — `bizosaas migrate [--status]` on a fresh
// database, and readiness while migrations are pending. The SQLite part
// always runs; the PostgreSQL part runs when the suite is on PostgreSQL and
// BIZOSAAS_TEST_PG_ADMIN_URL is set (it creates and drops its own database).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { test } from 'node:test';

import { assertError } from './lib/expect.mjs';
import { sleep } from './lib/raw.mjs';
import { isPostgres, request, runCli, startServer, tempDir, testDb } from './lib/server.mjs';

function statusLines(stdout) {
  return stdout.split('\n').filter((l) => /^\d{4} /.test(l));
}

async function migrateCycle(env) {
  const st = await runCli(['migrate', '--status'], { env });
  assert.equal(st.code, 0, st.stderr);
  const pending = statusLines(st.stdout);
  assert.ok(pending.length >= 1, `no migrations listed: ${st.stdout}`);
  for (const l of pending) assert.match(l, /pending/, `fresh database, not pending: ${l}`);

  const ap = await runCli(['migrate'], { env });
  assert.equal(ap.code, 0, ap.stderr);
  assert.match(ap.stdout, new RegExp(`applied ${pending.length} migration`));

  const st2 = await runCli(['migrate', '--status'], { env });
  assert.equal(st2.code, 0, st2.stderr);
  const after = statusLines(st2.stdout);
  assert.equal(after.length, pending.length);
  for (const l of after) assert.match(l, /applied/);
  assert.doesNotMatch(st2.stdout, /pending/);

  const again = await runCli(['migrate'], { env });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /applied 0 migration/);
}

test('migrate on a fresh SQLite database: status, apply, idempotent', async () => {
  const dir = tempDir();
  const db = `sqlite:${path.join(dir, 'm.db')}`;
  await migrateCycle({ BIZOSAAS_DATABASE_URL: db, BIZOSAAS_DATA_DIR: dir });
  const srv = await startServer({ db: 'sqlite', env: { BIZOSAAS_DATABASE_URL: db } });
  try {
    assert.equal((await request(srv, 'GET', '/readyz')).status, 200);
  } finally {
    assert.equal(await srv.stop(), 0);
  }
});

const adminUrl = process.env.BIZOSAAS_TEST_PG_ADMIN_URL;
const skipPg = !isPostgres() ? 'PostgreSQL only' : !adminUrl ? 'BIZOSAAS_TEST_PG_ADMIN_URL is not set' : false;

function withDb(url, name) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

function psqlAdmin(sql) {
  execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql, withDb(adminUrl, 'postgres')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

test('PostgreSQL: pending migrations keep serve from being ready until `migrate`', { skip: skipPg }, async () => {
  const name = `bizosaas_mig_${crypto.randomBytes(4).toString('hex')}`;
  const appUser = new URL(testDb()).username;
  psqlAdmin(`CREATE DATABASE ${name} OWNER ${appUser}`);
  const url = withDb(testDb(), name);
  let srv;
  try {
    // Without --migrate, serve must not report ready: it either refuses to
    // start (naming the remedy) or runs with /readyz 503.
    srv = await startServer({ db: url, migrate: false, waitReady: false });
    let live = false;
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline && srv.proc.exitCode === null) {
      try {
        live = (await request(srv, 'GET', '/livez', { timeoutMs: 1000 })).status === 200;
      } catch {
        live = false;
      }
      if (live) break;
      await sleep(50);
    }
    if (live) {
      assertError(await request(srv, 'GET', '/readyz'), 503, 'service_unavailable');
      assert.equal(await srv.stop(), 0);
    } else {
      const { code } = await srv.exited;
      assert.notEqual(code, 0, 'serve exited 0 with pending migrations');
      assert.match(srv.stderr().join('\n'), /migrat/i);
    }
    srv = null;

    await migrateCycle({ BIZOSAAS_DATABASE_URL: url, BIZOSAAS_DATA_DIR: tempDir() });

    srv = await startServer({ db: url, migrate: false });
    assert.equal((await request(srv, 'GET', '/readyz')).status, 200);
    assert.equal(await srv.stop(), 0);
    srv = null;
  } finally {
    if (srv) await srv.stop('SIGKILL');
    psqlAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
});
