// workflows.test.mjs — the admin dashboard's workflows monitor in Chromium
// against a real bizosaas (SQLite, the test.* workflow definitions on): a
// waiting run is listed under its status filter, its step history shown,
// signalled from the UI until it completes; another run is canceled.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { superAdminToken } from '../api/lib/jwt.mjs';
import { demoLogins, request, startServer } from '../api/lib/server.mjs';
import { launch, newPage } from './lib/browser.mjs';

let browser;
let srv;
let admin;
let demoTenant;

before(async () => {
  browser = await launch();
  srv = await startServer({ db: 'sqlite', env: { BIZOSAAS_WORKFLOW_TEST_DEFS: 'true', BIZOSAAS_WORKFLOW_POLL_MS: 20 } });
  admin = Object.values(demoLogins(srv)).find((j) => j.role === 'super_admin');
  const t = await request(srv, 'GET', '/api/v1/auth/tenants?limit=200', { token: superAdminToken() });
  demoTenant = t.json.items.find((x) => x.slug === 'demo');
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

const start = (name, input) =>
  request(srv, 'POST', `/api/v1/workflows/${name}/runs`, { token: superAdminToken(), headers: { 'X-Tenant-ID': demoTenant.id }, body: { input } });
const getRun = (id) => request(srv, 'GET', `/api/v1/workflows/runs/${id}`, { token: superAdminToken(), headers: { 'X-Tenant-ID': demoTenant.id } });

async function until(cond, ms = 20000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out: ${cond}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('runs by status, step history, a signal from the UI completes a run, another is canceled', async () => {
  const a = await start('test.approval', {});
  const b = await start('test.approval', {});
  assert.equal(a.status, 201, a.text);
  await until(async () => (await getRun(a.json.id)).json.status === 'waiting' && (await getRun(b.json.id)).json.status === 'waiting');

  const p = await newPage(browser);
  const errors = [];
  p.on('pageerror', (e) => errors.push(e.message));
  await p.goto(`${srv.url}/login?next=/admin/workflows`);
  await p.getByLabel('E-mail').fill(admin.email);
  await p.getByLabel('Password').fill(admin.password);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.waitForURL(`${srv.url}/admin/workflows`);
  await p.getByLabel('Tenant').selectOption(demoTenant.id);
  await p.getByLabel('Status').selectOption('waiting');
  await p.getByRole('button', { name: `Open test.approval run ${a.json.id}` }).click();
  const dlg = p.locator('dialog');
  await dlg.getByText('Steps and attempts').waitFor();
  assert.match(await dlg.locator('tbody').innerText(), /waits for approve/);
  await dlg.getByRole('button', { name: 'Send approve' }).click();
  await dlg.locator('dd .badge', { hasText: 'completed' }).waitFor();
  assert.equal((await getRun(a.json.id)).json.status, 'completed');
  await dlg.getByRole('button', { name: 'Close' }).click();

  await p.getByRole('button', { name: `Open test.approval run ${b.json.id}` }).click();
  await dlg.getByRole('button', { name: 'Cancel run' }).click();
  await p.locator('dialog').last().getByRole('button', { name: 'Cancel run' }).click();
  await p.locator('dialog dd .badge', { hasText: 'canceled' }).waitFor();
  assert.equal((await getRun(b.json.id)).json.status, 'canceled');
  assert.deepEqual(errors, []);
  await p.context().close();
});
