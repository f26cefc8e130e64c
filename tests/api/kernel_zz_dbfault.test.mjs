// kernel_zz_dbfault.test.mjs — database faults (PostgreSQL only; runs last,
// by its name). With PostgreSQL stopped under a running bizosaas, /readyz and
// a database route must fail fast with 503 (under one second: a functional
// timeout requirement, BIZOSAAS_DB_TIMEOUT_MS, not a benchmark), /livez stays
// up, and once PostgreSQL is back the same process recovers by itself.
// PostgreSQL is always restarted, whatever happens.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';

import { show } from './lib/expect.mjs';
import { superAdminToken } from './lib/jwt.mjs';
import { pgStart, pgStop } from './lib/pg.mjs';
import { sleep } from './lib/raw.mjs';
import { isPostgres, request, startServer } from './lib/server.mjs';

const pgDir = process.env.BIZOSAAS_TEST_PG_DIR;
const skip = !isPostgres() ? 'PostgreSQL only' : !pgDir ? 'BIZOSAAS_TEST_PG_DIR is not set' : false;

async function timed(fn) {
  const t0 = process.hrtime.bigint();
  const r = await fn();
  return { r, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

function assertUnavailable(r, what) {
  assert.equal(r.status, 503, `${what}: ${show(r)}`);
  assert.ok(
    ['database_unavailable', 'service_unavailable'].includes(r.json?.error?.code),
    `${what}: error code ${show(r)}`,
  );
}

test('PostgreSQL down: 503 within 1 s; back up: recovers without a restart', { skip }, async () => {
  const srv = await startServer({ env: { BIZOSAAS_DB_TIMEOUT_MS: '1000' } });
  const token = superAdminToken();
  let opts = null;
  try {
    const created = await request(srv, 'POST', '/api/v1/auth/tenants', {
      token,
      body: { name: 'Fault', slug: `fault-${crypto.randomBytes(6).toString('hex')}` },
    });
    assert.equal(created.status, 201, show(created));
    const tenantPath = `/api/v1/auth/tenants/${created.json.id}`;
    assert.equal((await request(srv, 'GET', tenantPath, { token })).status, 200);

    opts = pgStop(pgDir);

    for (let round = 1; round <= 2; round++) {
      const ready = await timed(() => request(srv, 'GET', '/readyz'));
      assertUnavailable(ready.r, `/readyz with PostgreSQL down (round ${round})`);
      assert.ok(ready.ms < 1000, `/readyz took ${ready.ms.toFixed(0)} ms with PostgreSQL down (round ${round})`);

      const get = await timed(() => request(srv, 'GET', tenantPath, { token }));
      assertUnavailable(get.r, `GET tenant with PostgreSQL down (round ${round})`);
      assert.ok(get.ms < 1000, `GET tenant took ${get.ms.toFixed(0)} ms with PostgreSQL down (round ${round})`);
    }
    assert.equal((await request(srv, 'GET', '/livez')).status, 200, '/livez must not depend on the database');
    // Checked after the recovery below, so that one failure does not hide the other.
    const health = await request(srv, 'GET', '/health');

    pgStart(pgDir, opts);
    opts = null;

    let last;
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      last = await request(srv, 'GET', '/readyz');
      if (last.status === 200) break;
      await sleep(200);
    }
    assert.equal(last.status, 200, `/readyz did not recover within 10 s: ${show(last)}`);
    const again = await request(srv, 'GET', tenantPath, { token });
    assert.equal(again.status, 200, `database route after recovery: ${show(again)}`);
    assert.equal(again.json.id, created.json.id);
    assert.equal((await request(srv, 'GET', '/health')).json.status, 'healthy');

    assert.equal(health.status, 200, `/health with PostgreSQL down: ${show(health)}`);
    assert.equal(health.json?.status, 'degraded', show(health));
  } finally {
    try {
      if (opts !== null) pgStart(pgDir, opts);
    } finally {
      const code = await srv.stop();
      assert.equal(code, 0, `exit code; stderr:\n${srv.stderr().join('\n')}`);
    }
  }
});
