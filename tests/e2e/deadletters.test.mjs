// deadletters.test.mjs — the admin dashboard's event dead letters: a real
// event fails a real (test) subscriber until it is dead-lettered; super_admin
// finds it on the page and replays it, and the subscriber receives it.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { superAdminToken } from '../api/lib/jwt.mjs';
import { demoLogins, request, startServer, tempDir } from '../api/lib/server.mjs';
import { launch, newPage } from './lib/browser.mjs';

let browser;
let srv;
let evDir;
let admin;

before(async () => {
  browser = await launch();
  evDir = tempDir('bizosaas-e2e-events-');
  srv = await startServer({
    env: { BIZOSAAS_EVENTS_TEST_DIR: evDir, BIZOSAAS_EVENTS_MAX_ATTEMPTS: '2', BIZOSAAS_EVENTS_RETRY_BASE_MS: '10' },
  });
  admin = demoLogins(srv).super_admin;
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, fn, ms = 15000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test('super_admin replays a dead letter from the dashboard', async () => {
  const tok = superAdminToken();
  const tenants = await request(srv, 'GET', '/api/v1/auth/tenants', { token: tok });
  const tenant = tenants.json.items[0].id;
  fs.writeFileSync(path.join(evDir, 'fail'), '');
  const ev = await request(srv, 'POST', '/api/v1/events', {
    token: tok,
    body: { tenant_id: tenant, aggregate_type: 'order', aggregate_id: 'e2e-1', event_type: 'OrderPaid', payload: { n: 1 } },
  });
  assert.equal(ev.status, 201, ev.text);
  const dl = await until('the dead letter', async () => {
    const r = await request(srv, 'GET', '/api/v1/events/dead-letters?subscriber=test.flaky', { token: tok });
    return r.json.items.find((d) => d.event_id === ev.json.id);
  });
  fs.rmSync(path.join(evDir, 'fail'));

  const p = await newPage(browser);
  try {
    await p.goto(`${srv.url}/login?next=/admin/events/dead-letters`);
    await p.getByLabel('E-mail').fill(admin.email);
    await p.getByLabel('Password').fill(admin.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { level: 1, name: 'Event dead letters' }).waitFor();
    const row = p.locator(`tr[data-key="${dl.id}"]`);
    await row.getByText('fail exists').waitFor();
    await row.getByRole('button', { name: 'Replay OrderPaid to test.flaky' }).click();
    await p.getByText('OrderPaid queued for test.flaky').waitFor();
    await until('the replayed delivery', () => {
      const log = path.join(evDir, 'flaky.log');
      return fs.existsSync(log) && fs.readFileSync(log, 'utf8').split('\n').some((l) => l.startsWith(ev.json.id) && l.endsWith('replay'));
    });
    await p.getByLabel('Status').selectOption('replayed');
    await p.locator(`tr[data-key="${dl.id}"]`).getByText('replayed').waitFor();
  } finally {
    await p.context().close();
  }
});
