// identity_cli.test.mjs — `bizosaas admin …` against a running server's
// database: seed-demo prints logins that work, create-tenant/create-user
// make an account that logs in, reset-password invalidates the old one,
// unlock-user lifts a lockout.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { login, uniq } from './identity_helpers.mjs';
import { assertError } from './lib/expect.mjs';
import { runCli, startServer, testDb } from './lib/server.mjs';

let srv;
let env;
before(async () => {
  srv = await startServer({ env: { BIZOSAAS_LOGIN_MAX_FAILURES: '2' } });
  env = { BIZOSAAS_DATABASE_URL: testDb() === 'sqlite' ? `sqlite:${srv.dataDir}/bizosaas.db` : testDb() };
});
after(async () => {
  await srv?.stop();
});

test('admin seed-demo prints a login per role that works', async () => {
  const r = await runCli(['admin', 'seed-demo'], { env });
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.split('\n').filter((l) => l.includes('@demo.bizosaas.local')).map((l) => l.trim().split(/\s+/));
  assert.deepEqual(rows.map((x) => x[1]).sort(), ['client', 'manager', 'super_admin', 'tenant_admin']);
  for (const [email, , password] of rows) assert.equal((await login(srv, email, password)).status, 200);
});

test('admin create-tenant, create-user, reset-password and unlock-user', async () => {
  const slug = `cli-${uniq()}`;
  const email = `owner-${uniq()}@example.com`;
  let r = await runCli(['admin', 'create-tenant', '--name', 'CLI Co', '--slug', slug], { env });
  assert.equal(r.code, 0, r.stderr);
  r = await runCli(['admin', 'create-user', '--tenant', slug, '--email', email, '--role', 'tenant_admin', '--password', 'first cli passphrase'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await login(srv, email, 'first cli passphrase')).status, 200);
  r = await runCli(['admin', 'reset-password', '--tenant', slug, '--email', email], { env });
  assert.equal(r.code, 0, r.stderr);
  const pw = /password: (\S+)/.exec(r.stdout)[1];
  assertError(await login(srv, email, 'first cli passphrase'), 401, 'unauthorized');
  // lock the account, then unlock it from the command line
  assertError(await login(srv, email, 'wrong wrong wrong'), 401, 'unauthorized');
  assertError(await login(srv, email, pw), 429, 'rate_limited');
  r = await runCli(['admin', 'unlock-user', '--email', email], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await login(srv, email, pw)).status, 200);
  r = await runCli(['admin', 'create-user', '--tenant', 'no-such-tenant', '--email', email, '--role', 'client'], { env });
  assert.equal(r.code, 1);
  r = await runCli(['admin', 'nonsense'], { env });
  assert.equal(r.code, 2);
});
