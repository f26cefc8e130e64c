// crm_cms.test.mjs — the client portal's CRM, CMS and notification screens
// in a real Chromium against a real bizosaas on SQLite (demo tenant seeded;
// its logins read from DATA_DIR/demo-logins.txt):
//   - a manager creates a lead in the portal and sees its score and breakdown,
//     qualifies it and converts it (its deal is then on the pipeline board);
//   - a deal moved across stages (its "Move to" list, and by dragging)
//     changes the pipeline's per-stage totals;
//   - a page edited and published in the portal is served by the public
//     marketing site;
//   - a manager's bell shows a high-value lead live after the real contact
//     form is submitted in another page;
//   - the dashboard's KPI cards and SVG chart;
//   - at 375 px the new screens do not overflow and every control is named.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { uniq } from '../api/identity_helpers.mjs';
import { tenantToken } from '../api/lib/jwt.mjs';
import { demoLogins, request, startServer } from '../api/lib/server.mjs';
import { launch, newPage } from './lib/browser.mjs';

let browser;
let srv;
const demo = {};
let manager; // an API token for the demo tenant

before(async () => {
  browser = await launch();
  // every portal page of a manager holds a notification stream (a worker)
  srv = await startServer({ db: 'sqlite', env: { BIZOSAAS_WORKERS: '12', BIZOSAAS_NOTIFY_SSE_MAX: '8' } });
  for (const j of Object.values(demoLogins(srv))) demo[j.role] = { email: j.email, password: j.password };
  assert.ok(demo.manager, srv.stderr().join('\n'));
  const me = await request(srv, 'POST', '/api/v1/auth/login', { body: demo.manager });
  assert.equal(me.status, 200, me.text);
  manager = me.json.access_token;
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

const url = (p) => `${srv.url}${p}`;

/** until: polls cond (page.waitForFunction evaluates strings, which the portals' CSP refuses). */
async function until(cond, ms = 20000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out: ${cond}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function signedIn(who = demo.manager, path = '/portal') {
  const p = await newPage(browser);
  p.errors = [];
  p.on('pageerror', (e) => p.errors.push(e.message));
  await p.goto(url(`/login?next=${encodeURIComponent(path)}`));
  await p.getByLabel('E-mail').fill(who.email);
  await p.getByLabel('Password').fill(who.password);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.waitForURL(url(path));
  return p;
}

test('a manager creates a lead and sees its score and breakdown', async () => {
  const p = await signedIn(demo.manager, '/portal/leads');
  await p.getByRole('button', { name: 'New lead' }).click();
  const dlg = p.locator('dialog');
  const name = `Lin ${uniq()}`;
  await dlg.getByLabel('Name').fill(name);
  await dlg.getByLabel('E-mail').fill(`${uniq()}@example.com`);
  await dlg.getByLabel('Phone').fill('+1 555 0111');
  await dlg.getByLabel('Website').fill('lin.example');
  await dlg.getByLabel('Company size (employees)').fill('1000');
  await dlg.getByLabel('Monthly budget').fill('12000');
  await dlg.getByRole('button', { name: 'Create lead' }).click();
  // company size 20 + budget 25 + phone 10 + website 10 (the CRM's scoring rules)
  await p.getByRole('heading', { name, level: 1 }).waitFor();
  assert.equal(await p.locator('.score').innerText(), '65 / 100');
  const rows = await p.locator('table.breakdown tbody tr').allInnerTexts();
  assert.ok(rows.some((r) => /budget\s+25/.test(r)), rows.join('|'));
  assert.ok(rows.some((r) => /company size\s+20/.test(r)), rows.join('|'));
  // it is in the list, found by the search box
  await p.goto(url('/portal/leads'));
  await p.getByLabel('Search').fill(name);
  await until(async () => (await p.locator('table tbody tr').count()) === 1 && (await p.locator('table tbody tr').innerText()).includes(name));
  // a status change along the allowed transitions
  await p.getByRole('link', { name }).click();
  // the list has a "Status" filter too: wait for the lead's own page first
  await p.getByRole('heading', { name, level: 1 }).waitFor();
  await p.getByLabel('Status', { exact: true }).selectOption('contacted');
  await p.getByRole('button', { name: 'Change status' }).click();
  await p.locator('p .badge', { hasText: 'contacted' }).waitFor();
  await p.getByLabel('Status', { exact: true }).selectOption('qualified');
  await p.getByRole('button', { name: 'Change status' }).click();
  await p.locator('p .badge', { hasText: 'qualified' }).waitFor();
  // conversion: a contact and a deal; the lead says so and the deal is on the board
  await p.getByRole('button', { name: 'Convert to contact and deal' }).click();
  await p.locator('p .badge', { hasText: 'converted' }).waitFor();
  await p.locator('main').getByRole('link', { name: 'pipeline', exact: true }).click();
  await p.locator('.deal', { hasText: name }).waitFor();
  assert.deepEqual(p.errors, []);
  await p.context().close();
});

async function stageTotal(p, stage) {
  return p.locator(`section.stage[data-stage="${stage}"] .stage-total`).innerText();
}

test('moving a deal across stages changes the pipeline totals (keyboard and drag)', async () => {
  const stages = (await request(srv, 'GET', '/api/v1/crm/pipeline/stages', { token: manager })).json.items;
  const [first, second, third] = stages;
  const name = `Deal ${uniq()}`;
  const d = await request(srv, 'POST', '/api/v1/crm/deals', { token: manager, body: { name, value_minor: 123400, currency: 'EUR', stage_id: first.id } });
  assert.equal(d.status, 201, d.text);
  const p = await signedIn(demo.manager, '/portal/pipeline');
  const card = p.locator('.deal', { hasText: name });
  await card.waitFor();
  assert.equal(await card.evaluate((el) => el.closest('section').dataset.stage), first.name);
  const before2 = await stageTotal(p, second.name);
  assert.doesNotMatch(before2, /1,234\.00|1\.234,00/);
  // the keyboard path: the card's "Move to" list
  await card.getByLabel('Move to').selectOption({ label: second.name });
  await p.locator(`section.stage[data-stage="${second.name}"] .deal`, { hasText: name }).waitFor();
  const after2 = await stageTotal(p, second.name);
  assert.notEqual(after2, before2);
  assert.match(after2, /1,234\.00/);
  // dragging it on to the third stage
  const before3 = await stageTotal(p, third.name);
  await p.dragAndDrop(`section.stage[data-stage="${second.name}"] .deal:has-text("${name}")`, `section.stage[data-stage="${third.name}"]`);
  await p.locator(`section.stage[data-stage="${third.name}"] .deal`, { hasText: name }).waitFor();
  assert.notEqual(await stageTotal(p, third.name), before3);
  assert.doesNotMatch(await stageTotal(p, second.name), /1,234\.00/);
  const api = await request(srv, 'GET', `/api/v1/crm/deals/${d.json.id}`, { token: manager });
  assert.equal(api.json.stage_id, third.id);
  assert.deepEqual(p.errors, []);
  await p.context().close();
});

test('a page edited and published in the portal is on the public site', async () => {
  const p = await signedIn(demo.manager, '/portal/pages');
  const slug = `launch-${uniq()}`;
  await p.getByRole('button', { name: 'New page' }).click();
  const dlg = p.locator('dialog');
  await dlg.getByLabel('Title').fill('Launch week');
  await dlg.getByLabel('Slug').fill(slug);
  await dlg.getByRole('button', { name: 'Create page' }).click();
  await p.getByRole('heading', { name: 'Launch week', level: 1 }).waitFor();
  // not public yet
  const hidden = await p.context().request.get(url(`/${slug}`));
  assert.equal(hidden.status(), 404);
  await p.getByRole('button', { name: 'Add rich text' }).click();
  await p.getByLabel('Text (HTML)').fill('<p>Our <strong>launch week</strong> starts now.</p><script>alert(1)</script>');
  await p.getByRole('button', { name: 'Add call to action' }).click();
  await p.getByLabel('Button text').fill('Talk to us');
  await p.getByLabel('Link').fill('/contact');
  await p.getByRole('button', { name: 'Save draft' }).click();
  await p.getByText('draft revision 2').waitFor();
  // the preview shows the saved draft (the script is gone)
  await p.getByRole('button', { name: 'Preview draft' }).click();
  const prev = p.locator('dialog .preview');
  await prev.getByText('launch week starts now').waitFor();
  assert.equal(await prev.locator('script').count(), 0);
  await p.keyboard.press('Escape');
  await p.getByRole('button', { name: 'Publish' }).click();
  await p.getByRole('link', { name: 'View live page' }).waitFor();
  // the public marketing site, in the browser
  const site = await newPage(browser);
  const resp = await site.goto(url(`/${slug}`));
  assert.equal(resp.status(), 200);
  assert.match(await site.locator('h1').innerText(), /Launch week/);
  await site.getByText('starts now').waitFor();
  assert.equal(await site.getByRole('link', { name: 'Talk to us' }).getAttribute('href'), '/contact');
  await site.context().close();
  // revisions: view, then revert to the empty first revision
  await p.getByRole('button', { name: 'Revisions' }).click();
  await p.getByRole('button', { name: 'View revision 2' }).click();
  await p.locator('dialog').last().locator('.preview').getByText('launch week starts now').waitFor();
  await p.keyboard.press('Escape');
  await p.getByRole('button', { name: 'Revert to revision 1' }).click();
  await p.locator('dialog').last().getByRole('button', { name: 'Revert', exact: true }).click();
  await p.getByText('draft revision 3').waitFor();
  await p.getByText('unpublished changes').first().waitFor();
  assert.deepEqual(p.errors, []);
  await p.context().close();
});

test('a manager sees a high-value lead notification appear live after a contact-form submission', async () => {
  const p = await signedIn(demo.manager, '/portal');
  const bell = p.locator('button.bell');
  await bell.waitFor();
  await p.locator('.notif[data-live="on"]').waitFor();
  const before1 = Number((await bell.getAttribute('aria-label')).match(/(\d+) unread/)[1]);
  // the real marketing site's contact form, in another page
  const site = await newPage(browser);
  await site.goto(url('/contact'));
  const who = `Grace ${uniq()}`;
  await site.fill('#f-name', who);
  await site.fill('#f-email', `${uniq()}@example.com`);
  await site.fill('#f-phone', '+1 555 0100');
  await site.fill('#f-website', 'compilers.example');
  await site.fill('#f-company_size', '1000');
  await site.fill('#f-budget', '12000');
  for (const s of ['seo', 'ppc', 'analytics', 'social_media']) await site.check(`input[name="services"][value="${s}"]`);
  await site.fill('#f-message', 'We need a full-funnel relaunch of our marketing: SEO, paid search, analytics and social. '.repeat(2));
  await site.click('button[type="submit"]');
  await site.locator('.thanks[role="status"]').waitFor();
  await site.context().close();
  // no reload: the bell's count and list change by themselves
  const unread = async () => Number((await bell.getAttribute('aria-label')).match(/(\d+) unread/)[1]);
  await until(async () => (await unread()) === before1 + 1);
  await bell.click();
  const item = p.locator('.notif-list li', { hasText: who });
  await item.waitFor();
  assert.match(await item.innerText(), /High-value lead/);
  // it links to the lead; marking it read lowers the count
  await item.getByRole('button', { name: 'Mark read' }).click();
  await until(async () => (await unread()) === before1);
  assert.deepEqual(p.errors, []);
  await p.context().close();
});

test('the dashboard shows the CRM KPIs and the leads chart', async () => {
  const p = await signedIn(demo.manager, '/portal');
  await p.locator('[data-kpi="new-leads"] .value').waitFor();
  const leads = (await request(srv, 'GET', '/api/v1/crm/leads?limit=200', { token: manager })).json.items;
  const week = leads.filter((l) => Date.parse(l.created_at) >= Date.now() - 7 * 86400000).length;
  assert.equal(await p.locator('[data-kpi="new-leads"] .value').innerText(), String(week));
  for (const k of ['pipeline', 'conversion', 'high-value']) assert.ok((await p.locator(`[data-kpi="${k}"] .value`).innerText()).length);
  const bars = p.locator('.chart svg rect[data-source]');
  assert.ok((await bars.count()) > 0);
  assert.match(await p.locator('.chart svg title').first().innerText().catch(() => p.locator('.chart svg title').first().textContent()), /Leads per day/);
  assert.deepEqual(p.errors, []);
  await p.context().close();
});

test('375 px wide: the new screens do not overflow and every control is named', async () => {
  const lead = (await request(srv, 'GET', '/api/v1/crm/leads?limit=1', { token: manager })).json.items[0];
  const pg = (await request(srv, 'GET', '/api/v1/cms/pages?limit=1', { token: manager })).json.items[0];
  const p = await newPage(browser, { viewport: { width: 375, height: 740 } });
  const errors = [];
  p.on('pageerror', (e) => errors.push(e.message));
  await p.goto(url('/login?next=/portal'));
  await p.getByLabel('E-mail').fill(demo.manager.email);
  await p.getByLabel('Password').fill(demo.manager.password);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.waitForURL(url('/portal'));
  for (const path of ['/portal', '/portal/leads', `/portal/leads/${lead.id}`, '/portal/pipeline', '/portal/pages', `/portal/pages/${pg.id}`]) {
    await p.goto(url(path));
    await p.locator('main h1').waitFor();
    await until(async () => (await p.locator('[aria-busy="true"], .loading').count()) === 0);
    const wide = await p.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 375, `${path} is ${wide}px wide`);
    const unnamed = await p.evaluate(() =>
      [...document.querySelectorAll('input, select, textarea, button, a[href]')]
        .filter((el) => {
          const label = el.labels && el.labels.length ? el.labels[0].textContent : '';
          return !(label || el.getAttribute('aria-label') || el.textContent.trim() || el.getAttribute('aria-labelledby'));
        })
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    assert.deepEqual(unnamed, [], path);
  }
  assert.deepEqual(errors, []);
  await p.context().close();
});
