// kernel_storage.test.mjs — what the kernel gives every context through the
// database: Idempotency-Key replay, tenant isolation (another tenant's
// object is 404, lists show only one's own), the PostgreSQL role check, and
// pending migrations. Runs on SQLite and PostgreSQL (BIZOSAAS_TEST_DB).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';

import { header, show } from './lib/expect.mjs';
import { superAdminToken, tenantToken } from './lib/jwt.mjs';
import { isPostgres, request, runCli, startServer } from './lib/server.mjs';

const slug = (p) => `${p}-${crypto.randomBytes(5).toString('hex')}`;
let srv;

before(async () => {
  srv = await startServer();
});
after(async () => {
  assert.equal(await srv.stop(), 0);
});

test('Idempotency-Key: a retry replays, a different body is 422, no key runs twice', async () => {
  const token = superAdminToken();
  const key = crypto.randomUUID();
  const body = { name: 'Idem', slug: slug('idem') };
  const first = await request(srv, 'POST', '/api/v1/auth/tenants', { token, body, headers: { 'Idempotency-Key': key } });
  assert.equal(first.status, 201, show(first));
  assert.equal(header(first, 'idempotent-replayed'), undefined);
  const again = await request(srv, 'POST', '/api/v1/auth/tenants', { token, body, headers: { 'Idempotency-Key': key } });
  assert.equal(again.status, 201, show(again));
  assert.equal(again.json.id, first.json.id, 'the replay returns the stored response');
  assert.equal(header(again, 'idempotent-replayed'), 'true');

  const other = await request(srv, 'POST', '/api/v1/auth/tenants', {
    token,
    body: { ...body, name: 'Other' },
    headers: { 'Idempotency-Key': key },
  });
  assert.equal(other.status, 422, show(other));
  assert.equal(other.json.error.code, 'idempotency_key_reused');

  // The failed request changed nothing: exactly one tenant has that slug.
  const list = await request(srv, 'GET', '/api/v1/auth/tenants?limit=200', { token });
  assert.equal(list.json.items.filter((t) => t.slug === body.slug).length, 1);

  // A request that fails releases its key: the corrected retry runs.
  const key2 = crypto.randomUUID();
  const bad = await request(srv, 'POST', '/api/v1/auth/tenants', { token, body: { slug: slug('x') }, headers: { 'Idempotency-Key': key2 } });
  assert.equal(bad.status, 422, show(bad));
  const good = await request(srv, 'POST', '/api/v1/auth/tenants', {
    token,
    body: { name: 'Fixed', slug: slug('fixed') },
    headers: { 'Idempotency-Key': key2 },
  });
  assert.equal(good.status, 201, `the failed request released its key: ${show(good)}`);

  const malformed = await request(srv, 'POST', '/api/v1/auth/tenants', { token, body, headers: { 'Idempotency-Key': 'has space' } });
  assert.equal(malformed.status, 422, show(malformed));
});

test('tenant isolation: another tenant is 404, a list shows only your own', async () => {
  const admin = superAdminToken();
  const a = await request(srv, 'POST', '/api/v1/auth/tenants', { token: admin, body: { name: 'A', slug: slug('a') } });
  const b = await request(srv, 'POST', '/api/v1/auth/tenants', { token: admin, body: { name: 'B', slug: slug('b') } });
  assert.equal(a.status, 201);
  assert.equal(b.status, 201);
  const ta = tenantToken(a.json.id);
  const own = await request(srv, 'GET', `/api/v1/auth/tenants/${a.json.id}`, { token: ta });
  assert.equal(own.status, 200, show(own));
  const theirs = await request(srv, 'GET', `/api/v1/auth/tenants/${b.json.id}`, { token: ta });
  assert.equal(theirs.status, 404, show(theirs));
  assert.equal(theirs.json.error.code, 'not_found');
  const list = await request(srv, 'GET', '/api/v1/auth/tenants', { token: ta });
  assert.deepEqual(list.json.items.map((t) => t.id), [a.json.id]);
  // A tenant_admin may not create or change tenants.
  const create = await request(srv, 'POST', '/api/v1/auth/tenants', { token: ta, body: { name: 'C', slug: slug('c') } });
  assert.equal(create.status, 403, show(create));
  const patch = await request(srv, 'PATCH', `/api/v1/auth/tenants/${b.json.id}`, { token: ta, body: { name: 'pwned' } });
  assert.equal(patch.status, 403, show(patch));
  const still = await request(srv, 'GET', `/api/v1/auth/tenants/${b.json.id}`, { token: admin });
  assert.equal(still.json.name, 'B');
});

test('pagination: a cursor walks every tenant once', async () => {
  const admin = superAdminToken();
  for (let i = 0; i < 3; i++) {
    assert.equal((await request(srv, 'POST', '/api/v1/auth/tenants', { token: admin, body: { name: `P${i}`, slug: slug('p') } })).status, 201);
  }
  const seen = new Set();
  let cursor = '';
  for (let page = 0; page < 1000; page++) {
    const r = await request(srv, 'GET', `/api/v1/auth/tenants?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: admin });
    assert.equal(r.status, 200, show(r));
    assert.ok(r.json.items.length <= 2);
    for (const t of r.json.items) {
      assert.ok(!seen.has(t.id), 'no tenant twice');
      seen.add(t.id);
    }
    if (!r.json.next_cursor) break;
    cursor = encodeURIComponent(r.json.next_cursor);
  }
  const all = await request(srv, 'GET', '/api/v1/auth/tenants?limit=200', { token: admin });
  if (!all.json.next_cursor) assert.equal(seen.size, all.json.items.length);
  const bad = await request(srv, 'GET', '/api/v1/auth/tenants?limit=0', { token: admin });
  assert.equal(bad.status, 422);
});

test('migrate --status lists every embedded migration', async () => {
  const r = await runCli(['migrate', '--status'], {
    env: { BIZOSAAS_DATABASE_URL: isPostgres() ? process.env.BIZOSAAS_TEST_DB : `sqlite:${srv.dataDir}/bizosaas.db` },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /0001_init/);
  assert.match(r.stdout, /0002_idempotency/);
  assert.doesNotMatch(r.stdout, /pending/, 'the running server applied them all');
});

const pgOnly = !isPostgres() ? 'PostgreSQL only' : !process.env.BIZOSAAS_TEST_PG_ADMIN_URL ? 'no admin URL' : false;

test('PostgreSQL: serve refuses a superuser role and says how to fix it', { skip: pgOnly }, async () => {
  const r = await runCli(['serve', '--migrate'], {
    env: { BIZOSAAS_DATABASE_URL: process.env.BIZOSAAS_TEST_PG_ADMIN_URL, BIZOSAAS_LISTEN: '127.0.0.1:0' },
  });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /superuser|BYPASSRLS/i);
  assert.match(r.stderr, /NOSUPERUSER/);
});

test('PostgreSQL: pending migrations stop serve unless --migrate', { skip: pgOnly }, () => {
  const dbname = `bz_pending_${crypto.randomBytes(4).toString('hex')}`;
  const admin = process.env.BIZOSAAS_TEST_PG_ADMIN_URL;
  execFileSync('psql', [admin, '-v', 'ON_ERROR_STOP=1', '-c', `CREATE DATABASE ${dbname} OWNER bizosaas_app`]);
  const url = process.env.BIZOSAAS_TEST_DB.replace(/\/[^/?]+(\?|$)/, `/${dbname}$1`);
  return (async () => {
    try {
      const r = await runCli(['serve'], { env: { BIZOSAAS_DATABASE_URL: url, BIZOSAAS_LISTEN: '127.0.0.1:0' } });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /pending/);
      assert.match(r.stderr, /--migrate/);
      const m = await runCli(['migrate'], { env: { BIZOSAAS_DATABASE_URL: url } });
      assert.equal(m.code, 0, m.stderr);
      const s = await runCli(['migrate', '--status'], { env: { BIZOSAAS_DATABASE_URL: url } });
      assert.doesNotMatch(s.stdout, /pending/);
    } finally {
      execFileSync('psql', [admin, '-c', `DROP DATABASE IF EXISTS ${dbname}`]);
    }
  })();
});
