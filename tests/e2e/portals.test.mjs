// portals.test.mjs — the login page, the client portal and the admin
// dashboard in a real Chromium against a real bizosaas on SQLite (demo
// tenant seeded; its logins read from the server's log).
//
// Covered: each demo role signs in and sees exactly its portals; a client
// gets no admin; super_admin creates and suspends a tenant (with an inline
// API validation error on the way); super_admin registers an upstream,
// stops it and watches its breaker open on the services page; a reload
// keeps the session and a broken access token is refreshed silently;
// logout clears everything (and the refresh token is revoked); the lockout
// message and the two-factor step of the login page; 375 px wide; every
// control has an accessible name.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';

import { PASSWORD, call, makeUser, totp, uniq } from '../api/identity_helpers.mjs';
import { superAdminToken } from '../api/lib/jwt.mjs';
import { demoLogins, freePort, request, startServer } from '../api/lib/server.mjs';
import { launch, newPage } from './lib/browser.mjs';

let browser;
let srv;
const demo = {}; // role -> {email, password}
let demoTenant;

before(async () => {
  browser = await launch();
  srv = await startServer({ env: { BIZOSAAS_HEALTH_INTERVAL_MS: '200' } });
  for (const j of Object.values(demoLogins(srv))) demo[j.role] = { email: j.email, password: j.password };
  assert.equal(Object.keys(demo).length, 4, srv.stderr().join('\n'));
  const t = await call(srv, 'GET', '/tenants?limit=200', { token: superAdminToken() });
  demoTenant = t.json.items.find((x) => x.slug === 'demo');
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

const url = (p) => `${srv.url}${p}`;

// settled: no loading state left. Not page.waitForFunction: when it has to
// poll it evaluates a string in the page, which the portals' CSP refuses.
async function settled(p) {
  while (await p.locator('[aria-busy="true"], .loading').count()) await p.waitForTimeout(50);
}

async function page(opts) {
  const p = await newPage(browser, opts);
  p.errors = [];
  p.on('pageerror', (e) => p.errors.push(e.message));
  return p;
}

async function signIn(p, who, next = '') {
  await p.goto(url(`/login${next ? `?next=${encodeURIComponent(next)}` : ''}`));
  await p.getByLabel('E-mail').fill(who.email);
  await p.getByLabel('Password').fill(who.password);
  await p.getByRole('button', { name: 'Sign in' }).click();
}

async function portalIds(p) {
  await p.getByRole('button', { name: 'Switch portal' }).click();
  const ids = await p.locator('#portal-menu a').evaluateAll((as) => as.map((a) => a.dataset.platform));
  await p.keyboard.press('Escape');
  return ids.sort();
}

// The portal switcher shows what /auth/sso/platforms allows (identity's role
// matrix, pinned by its own tests); the admin dashboard itself is
// super_admin only, and users/audit are for tenant_admin and super_admin.
const EXPECT = {
  super_admin: { home: '/admin', admin: true, team: true },
  tenant_admin: { home: '/portal', admin: false, team: true },
  manager: { home: '/portal', admin: false, team: false },
  client: { home: '/portal', admin: false, team: false },
};

for (const [role, want] of Object.entries(EXPECT)) {
  test(`${role} signs in and sees exactly the allowed portals`, async () => {
    const p = await page();
    try {
      await signIn(p, demo[role]);
      await p.waitForURL(url(want.home));
      const token = await p.evaluate(() => JSON.parse(localStorage.getItem('bz.session')).access_token);
      const sso = await request(srv, 'GET', '/api/v1/auth/sso/platforms', { token });
      const allowed = sso.json.platforms.filter((x) => x.accessible).map((x) => x.id).sort();
      assert.ok(allowed.includes('client-portal'));
      if (role === 'client') assert.ok(!allowed.includes('admin') && !allowed.includes('trading'), 'the list is filtered');
      assert.deepEqual(await portalIds(p), allowed);

      await p.goto(url('/portal'));
      await p.getByRole('heading', { level: 1, name: /Welcome/ }).waitFor();
      const nav = await p.locator('#sidebar a').allTextContents();
      assert.equal(nav.includes('Users & invitations'), want.team, `${role} nav: ${nav}`);
      assert.equal(nav.includes('Audit log'), want.team, `${role} nav: ${nav}`);

      await p.goto(url('/admin'));
      if (want.admin) {
        await p.getByRole('heading', { level: 1, name: 'Platform overview' }).waitFor();
      } else {
        await p.getByRole('heading', { level: 1, name: '403 — no access' }).waitFor();
        assert.equal(await p.locator('#sidebar').count(), 0, 'no admin navigation');
        await p.locator('main a[data-platform="client-portal"]').waitFor(); // where to go instead
      }
      assert.deepEqual(p.errors, []);
    } finally {
      await p.context().close();
    }
  });
}

test('a client gets no access to admin: no screen, no data, even by deep link', async () => {
  const p = await page();
  try {
    const calls = [];
    p.on('response', (r) => r.url().includes('/api/') && calls.push(`${r.status()} ${new URL(r.url()).pathname}`));
    await signIn(p, demo.client, '/admin/tenants');
    await p.waitForURL(url('/admin/tenants'));
    await p.getByRole('heading', { level: 1, name: '403 — no access' }).waitFor();
    assert.ok(!calls.some((c) => /\/tenants|\/brain\/services|dead-letters/.test(c)), `admin data requested: ${calls}`);
    // the API refuses it anyway
    const token = await p.evaluate(() => JSON.parse(localStorage.getItem('bz.session')).access_token);
    assert.equal((await request(srv, 'GET', '/api/v1/auth/tenants', { token })).status, 403);
    assert.equal((await request(srv, 'GET', '/api/brain/services', { token })).status, 403);
  } finally {
    await p.context().close();
  }
});

test('signed out, the portals send you to the login page and back', async () => {
  const p = await page();
  try {
    await p.goto(url('/admin/services'));
    await p.waitForURL(/\/login\?next=%2Fadmin%2Fservices$/);
    await p.getByLabel('E-mail').fill(demo.super_admin.email);
    await p.getByLabel('Password').fill(demo.super_admin.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.waitForURL(url('/admin/services'));
    await p.getByRole('heading', { level: 1, name: 'Services' }).waitFor();
  } finally {
    await p.context().close();
  }
});

test('super_admin creates a tenant (inline API error first) and suspends it', async () => {
  const p = await page();
  try {
    await signIn(p, demo.super_admin);
    await p.waitForURL(url('/admin'));
    await p.locator('#sidebar').getByRole('link', { name: 'Tenants', exact: true }).click();
    await p.getByRole('heading', { level: 1, name: 'Tenants' }).waitFor();
    await p.getByRole('button', { name: 'Create tenant' }).click();
    const dlg = p.getByRole('dialog', { name: 'Create a tenant' });
    const slug = `e2e-${uniq()}`;
    // the API's validation error lands under the field it names
    await dlg.getByLabel('Name').fill('x'.repeat(250));
    await dlg.getByLabel('Slug').fill(slug);
    await dlg.getByRole('button', { name: 'Create tenant' }).click();
    const name = dlg.getByLabel('Name');
    await p.locator('dialog input[name="name"][aria-invalid="true"]').waitFor();
    const errId = (await name.getAttribute('aria-describedby')).split(' ').pop();
    assert.match(await p.locator(`#${errId}`).textContent(), /field 'name' must be at most/);
    // client-side: a required field left empty
    await name.fill('');
    await dlg.getByRole('button', { name: 'Create tenant' }).click();
    assert.match(await p.locator(`#${errId}`).textContent(), /Name is required/);

    await name.fill(`E2E ${slug}`);
    await dlg.getByLabel('Plan').selectOption('starter');
    await dlg.getByRole('button', { name: 'Create tenant' }).click();
    await p.getByText(`Tenant E2E ${slug} created`).waitFor();
    const row = p.locator(`tr[data-key="${slug}"]`);
    await row.getByText('active').waitFor();

    await row.getByRole('button', { name: `Suspend E2E ${slug}` }).click();
    await p.getByRole('dialog', { name: `Suspend E2E ${slug}` }).getByRole('button', { name: 'Suspend' }).click();
    await row.getByText('suspended').waitFor();
    const t = await call(srv, 'GET', '/tenants?limit=200', { token: superAdminToken() });
    assert.equal(t.json.items.find((x) => x.slug === slug).status, 'suspended');
    assert.equal(t.json.items.find((x) => x.slug === slug).plan, 'starter');
  } finally {
    await p.context().close();
  }
});

test('super_admin stops an upstream and watches its breaker open on the services page', async () => {
  const port = await freePort();
  const upstream = http.createServer((req, res) => res.end('{"status":"ok"}'));
  await new Promise((r) => upstream.listen(port, '127.0.0.1', r));
  const name = `up-${uniq()}`;
  const p = await page();
  try {
    await signIn(p, demo.super_admin, '/admin/services');
    await p.waitForURL(url('/admin/services'));
    await p.getByRole('button', { name: 'Register service' }).click();
    const dlg = p.getByRole('dialog', { name: 'Register a service' });
    await dlg.getByLabel('Name').fill(name);
    await dlg.getByLabel('Target').fill(`http://127.0.0.1:${port}`);
    await dlg.getByLabel('Health path').fill('/health');
    await dlg.getByLabel('Breaker: failures before it opens').fill('2');
    await dlg.getByRole('button', { name: 'Register' }).click();
    const breaker = p.locator(`[data-breaker="${name}"]`);
    await breaker.getByText('closed').waitFor();
    // a passing health check shows up
    await p.locator(`tr[data-key="${name}"]`).getByText(/^ok · 200/).waitFor({ timeout: 15000 });

    upstream.close();
    upstream.closeAllConnections();
    await breaker.getByText('open', { exact: true }).waitFor({ timeout: 20000 });
    await p.locator(`[data-health="${name}"]`).getByText('down').waitFor();
    await p.getByText(`${name}: breaker open`).waitFor(); // announced

    // disable it from the page: the registry says so
    await p.getByRole('button', { name: `Disable ${name}` }).click();
    await p.locator(`[data-health="${name}"]`).getByText('disabled').waitFor();
    const r = await request(srv, 'GET', `/api/brain/services/${name}`, { token: superAdminToken() });
    assert.equal(r.json.enabled, false);
    assert.equal(r.json.health_path, '/health', 'the rest of the configuration is kept');
    assert.equal(r.json.breaker.failures, 2);
  } finally {
    upstream.close();
    await p.context().close();
  }
});

test('a reload keeps the session; a dead access token is refreshed silently', async () => {
  const p = await page();
  try {
    await signIn(p, demo.tenant_admin);
    await p.waitForURL(url('/portal'));
    await p.getByRole('link', { name: 'Users & invitations' }).click();
    await p.getByRole('heading', { level: 1, name: 'Users & invitations' }).waitFor();
    await p.reload();
    await p.getByRole('heading', { level: 1, name: 'Users & invitations' }).waitFor();
    await p.locator('tr[data-key="client@demo.bizosaas.local"]').waitFor();

    const before = await p.evaluate(() => JSON.parse(localStorage.getItem('bz.session')));
    await p.evaluate(() => {
      const s = JSON.parse(localStorage.getItem('bz.session'));
      s.access_token = 'broken.token.value';
      localStorage.setItem('bz.session', JSON.stringify(s));
    });
    await p.reload();
    await p.locator('tr[data-key="client@demo.bizosaas.local"]').waitFor();
    const afterS = await p.evaluate(() => JSON.parse(localStorage.getItem('bz.session')));
    assert.notEqual(afterS.access_token, 'broken.token.value');
    assert.notEqual(afterS.refresh_token, before.refresh_token, 'the refresh token rotated');
    assert.equal(p.url(), url('/portal/users'));
  } finally {
    await p.context().close();
  }
});

test('logout clears the session here and revokes it on the server', async () => {
  const p = await page();
  try {
    await signIn(p, demo.manager);
    await p.waitForURL(url('/portal'));
    const s = await p.evaluate(() => JSON.parse(localStorage.getItem('bz.session')));
    await p.getByRole('button', { name: /^Account:/ }).click();
    await p.getByRole('link', { name: 'Sign out' }).click();
    await p.waitForURL(url('/login'));
    const left = await p.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('bz.session')).length + sessionStorage.length);
    assert.equal(left, 0);
    await p.goto(url('/portal'));
    await p.waitForURL(/\/login\?next=%2Fportal$/);
    const r = await call(srv, 'POST', '/refresh', { body: { refresh_token: s.refresh_token } });
    assert.equal(r.status, 401, 'the refresh token is revoked');
  } finally {
    await p.context().close();
  }
});

test('the login page asks for the two-factor code, then shows the lockout with its wait', async () => {
  const tenant = demoTenant;
  const u = await makeUser(srv, tenant, ['manager'], { email: `mfa-${uniq()}@example.com` });
  const lr = await call(srv, 'POST', '/login', { body: { email: u.email, password: PASSWORD } });
  const tok = lr.json.access_token;
  const en = await call(srv, 'POST', '/mfa/totp/enroll', { token: tok, body: {} });
  const cf = await call(srv, 'POST', '/mfa/totp/confirm', { token: tok, body: { code: totp(en.json.secret) } });
  assert.equal(cf.status, 200, cf.text);
  const p = await page();
  try {
    await signIn(p, { email: u.email, password: PASSWORD });
    const code = p.getByLabel('Two-factor code');
    await code.waitFor();
    assert.equal(await p.evaluate(() => document.activeElement.name), 'totp_code');
    await code.fill('000000');
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByText('the two-factor code is incorrect').waitFor();
    await code.fill(cf.json.recovery_codes[0]);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.waitForURL(url('/portal'));
    // the portal has started (a page still booting would itself go to /login once storage is empty)
    await p.locator('main h1').waitFor();
    await p.evaluate(() => localStorage.clear());

    // wrong passwords until the account locks
    const victim = await makeUser(srv, tenant, ['client'], { email: `lock-${uniq()}@example.com` });
    await p.goto(url('/login'));
    for (let i = 0; i < 6; i++) {
      await p.getByLabel('E-mail').fill(victim.email);
      await p.getByLabel('Password').fill('wrong password');
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.locator('.form-error:not([hidden])').waitFor();
      if (/locked/.test(await p.locator('.form-error').textContent())) break;
      assert.match(await p.locator('.form-error').textContent(), /incorrect/);
    }
    assert.match(await p.locator('.form-error').textContent(), /locked\. Try again in 15 minutes/);
    assert.ok(await p.getByRole('button', { name: 'Sign in' }).isDisabled());
  } finally {
    await p.context().close();
  }
});

test('375 px wide: the menu opens the sidebar; nothing overflows; every control is named', async () => {
  const p = await page({ viewport: { width: 375, height: 740 } });
  try {
    await signIn(p, demo.super_admin);
    await p.waitForURL(url('/admin'));
    const nav = p.locator('#sidebar');
    assert.ok(!(await nav.getByRole('link', { name: 'Services' }).isVisible()), 'sidebar hidden at first');
    await p.getByRole('button', { name: 'Menu' }).click();
    await nav.getByRole('link', { name: 'Services' }).click();
    await p.getByRole('heading', { level: 1, name: 'Services' }).waitFor();
    await p.locator('[data-breaker="auth-service"]').waitFor();
    for (const path of ['/admin', '/admin/services', '/admin/tenants', '/admin/users', '/admin/audit', '/admin/events', '/admin/events/dead-letters', '/admin/account', '/portal', '/portal/users', '/portal/api-keys', '/portal/audit', '/portal/events', '/portal/account']) {
      await p.goto(url(path));
      await p.locator('main h1').waitFor();
      await settled(p);
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
    // keyboard: the skip link comes first and moves focus to the content
    await p.goto(url('/admin'));
    await p.locator('main h1').waitFor();
    await p.keyboard.press('Tab');
    assert.equal(await p.evaluate(() => document.activeElement.textContent), 'Skip to content');
    assert.deepEqual(p.errors, []);
  } finally {
    await p.context().close();
  }
});

test('the theme toggle persists across reloads', async () => {
  const p = await page({ colorScheme: 'light' });
  try {
    await signIn(p, demo.manager);
    await p.waitForURL(url('/portal'));
    const toggle = p.getByRole('button', { name: 'Dark theme' });
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
    await toggle.click();
    await p.reload();
    await p.getByRole('heading', { level: 1, name: /Welcome/ }).waitFor();
    assert.equal(await p.evaluate(() => document.documentElement.dataset.theme), 'dark');
    assert.equal(await p.getByRole('button', { name: 'Dark theme' }).getAttribute('aria-pressed'), 'true');
  } finally {
    await p.context().close();
  }
});

test('tenant_admin creates an API key (shown once, it works) and revokes it', async () => {
  const p = await page();
  try {
    await signIn(p, demo.tenant_admin, '/portal/api-keys');
    await p.getByRole('heading', { level: 1, name: 'API keys' }).waitFor();
    await p.getByRole('button', { name: 'Create API key' }).click();
    const dlg = p.getByRole('dialog', { name: 'Create an API key' });
    const name = `e2e key ${uniq()}`;
    await dlg.getByLabel('Name').fill(name);
    await dlg.getByLabel('Role').selectOption('manager');
    await dlg.getByRole('button', { name: 'Create key' }).click();
    const key = await dlg.locator('#new-api-key').textContent();
    assert.match(key, /^bzk_/);
    await dlg.getByRole('button', { name: 'Done' }).click();
    assert.equal((await request(srv, 'GET', '/api/v1/auth/verify', { token: key })).status, 200);
    const row = p.locator(`tr[data-key="${name}"]`);
    await row.getByText('active').waitFor();
    await row.getByRole('button', { name: `Revoke ${name}` }).click();
    await p.getByRole('dialog', { name: `Revoke ${name}` }).getByRole('button', { name: 'Revoke' }).click();
    await row.getByText('revoked').waitFor();
    assert.equal((await request(srv, 'GET', '/api/v1/auth/verify', { token: key })).status, 401);
  } finally {
    await p.context().close();
  }
});

test('a user turns on two-factor sign-in from their account page', async () => {
  const u = await makeUser(srv, demoTenant, ['client'], { email: `acct-${uniq()}@example.com` });
  const p = await page();
  try {
    await signIn(p, { email: u.email, password: PASSWORD });
    await p.waitForURL(url('/portal'));
    await p.getByRole('button', { name: /^Account:/ }).click();
    await p.locator('#user-menu').getByRole('link', { name: 'Your account' }).click();
    await p.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();
    await p.getByLabel('Name').fill('Account Tester');
    await p.getByRole('button', { name: 'Save profile' }).click();
    await p.getByText('Profile saved').waitFor();
    await p.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
    const secret = await p.locator('#totp-secret').textContent();
    await p.getByLabel('Code from the app').fill(totp(secret));
    await p.getByRole('button', { name: 'Turn on two-factor' }).click();
    await p.locator('#recovery-codes li').first().waitFor();
    const r = await call(srv, 'POST', '/login', { body: { email: u.email, password: PASSWORD } });
    assert.equal(r.status, 401);
    assert.match(r.json.error.message, /two-factor code is required/);
    const me = await call(srv, 'GET', `/users/${u.id}`, { token: superAdminToken() });
    assert.equal(me.json.name, 'Account Tester');
    assert.equal(me.json.totp_enabled, true);
  } finally {
    await p.context().close();
  }
});

test('super_admin sees domain events across tenants; tenant_admin sees their own activity', async () => {
  // one event in the demo tenant, one in another
  const other = (await call(srv, 'POST', '/tenants', { token: superAdminToken(), body: { name: 'Other', slug: `o-${uniq()}` } })).json;
  const mark = uniq();
  for (const [tenant, type] of [[demoTenant.id, `Mine${mark}`], [other.id, `Theirs${mark}`]]) {
    const r = await request(srv, 'POST', '/api/v1/events', {
      token: superAdminToken(),
      body: { tenant_id: tenant, aggregate_type: 'note', aggregate_id: mark, event_type: type, payload: {} },
    });
    assert.equal(r.status, 201, r.text);
  }
  const p = await page();
  try {
    await signIn(p, demo.super_admin, '/admin/events');
    await p.getByRole('heading', { level: 1, name: 'Domain events' }).waitFor();
    await p.getByLabel('Event type').fill(`Theirs${mark}`);
    await p.getByLabel('Tenant id').fill(other.id);
    await p.getByRole('button', { name: 'Filter' }).click();
    await p.locator('table').last().getByText(`Theirs${mark}`).waitFor();
  } finally {
    await p.context().close();
  }
  const q = await page();
  try {
    await signIn(q, demo.tenant_admin, '/portal/events');
    await q.getByRole('heading', { level: 1, name: 'Activity' }).waitFor();
    await q.getByLabel('Aggregate').fill('note');
    await q.getByRole('button', { name: 'Filter' }).click();
    await q.getByText(`Mine${mark}`).waitFor();
    assert.equal(await q.getByText(`Theirs${mark}`).count(), 0);
  } finally {
    await q.context().close();
  }
});

test('tables sort and page with the keyboard (cursor pagination from the API)', async () => {
  // 60 users in a fresh tenant: more than one page of 50
  const t = (await call(srv, 'POST', '/tenants', { token: superAdminToken(), body: { name: 'Paging', slug: `pg-${uniq()}` } })).json;
  const mark = uniq();
  for (let i = 0; i < 60; i++) {
    const r = await call(srv, 'POST', '/users', {
      token: superAdminToken(),
      body: { email: `p${String(i).padStart(2, '0')}-${mark}@example.com`, roles: ['client'], tenant_id: t.id },
    });
    assert.equal(r.status, 201, r.text);
  }
  const p = await page();
  try {
    await signIn(p, demo.super_admin, '/admin/users');
    await p.getByRole('heading', { level: 1, name: 'Users (all tenants)' }).waitFor();
    await p.locator('tbody tr').first().waitFor();
    const firstPage = await p.locator('tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.key));
    assert.equal(firstPage.length, 50);
    // next page by keyboard
    const next = p.getByRole('button', { name: 'Next' });
    await next.focus();
    await p.keyboard.press('Enter');
    await p.getByText('Page 2').waitFor();
    const second = await p.locator('tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.key));
    assert.ok(second.length > 0);
    assert.ok(second.every((k) => !firstPage.includes(k)), 'page 2 holds other users');
    await p.getByRole('button', { name: 'Previous' }).click();
    await p.getByText('Page 1').waitFor();
    assert.deepEqual(await p.locator('tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.key)), firstPage);

    // sort by e-mail with the keyboard: ascending, then descending
    const th = p.locator('th', { has: p.getByRole('button', { name: 'E-mail' }) });
    await p.getByRole('button', { name: 'E-mail' }).focus();
    await p.keyboard.press('Enter');
    assert.equal(await th.getAttribute('aria-sort'), 'ascending');
    const asc = await p.locator('tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.key));
    assert.deepEqual(asc, [...firstPage].sort((a, b) => a.localeCompare(b)));
    await p.keyboard.press('Enter'); // focus stays on the sort button
    assert.equal(await th.getAttribute('aria-sort'), 'descending');
    const desc = await p.locator('tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.key));
    assert.deepEqual(desc, [...asc].reverse());
  } finally {
    await p.context().close();
  }
});

async function mailTo(address) {
  const r = await call(srv, 'GET', `/dev/mailbox?to=${encodeURIComponent(address)}`);
  assert.equal(r.status, 200, r.text);
  return r.json.items[0];
}
const tokenIn = (mail) => /\b([0-9a-f]{64})\b/.exec(mail.body)[1];

test('forgotten password and invitation flows on the login page, with the mailed tokens', async () => {
  const u = await makeUser(srv, demoTenant, ['client'], { email: `forgot-${uniq()}@example.com` });
  const p = await page();
  try {
    await p.goto(url('/login'));
    await p.getByRole('link', { name: 'Forgot your password?' }).click();
    await p.getByRole('heading', { name: 'Reset your password' }).waitFor();
    await p.getByLabel('E-mail').fill(u.email);
    await p.getByRole('button', { name: 'Mail me a reset token' }).click();
    await p.getByText(/reset token was sent/).waitFor();
    await p.getByRole('link', { name: 'I have a token' }).click();
    await p.getByLabel('Reset token').fill('0'.repeat(64));
    await p.locator('input[name="password"]').fill('a brand new password 123');
    await p.getByRole('button', { name: 'Set password' }).click();
    await p.locator('.form-error:not([hidden])').waitFor(); // a wrong token: the API's message
    await p.getByLabel('Reset token').fill(tokenIn(await mailTo(u.email)));
    await p.getByRole('button', { name: 'Set password' }).click();
    await p.getByText('Your password is set').waitFor();
    await p.getByRole('link', { name: 'Sign in' }).click();
    await signIn(p, { email: u.email, password: 'a brand new password 123' });
    await p.waitForURL(url('/portal'));
    await p.locator('main h1').waitFor(); // started (see above)

    // the tenant admin invites someone from the portal; they join from the login page
    await p.evaluate(() => localStorage.clear());
    await signIn(p, demo.tenant_admin, '/portal/users');
    await p.getByRole('heading', { level: 1, name: 'Users & invitations' }).waitFor();
    await p.getByRole('button', { name: 'Invite' }).click();
    const dlg = p.getByRole('dialog', { name: 'Invite someone' });
    const email = `invited-${uniq()}@example.com`;
    await dlg.getByLabel('E-mail').fill(email);
    await dlg.getByLabel('Role').selectOption('manager');
    await dlg.getByRole('button', { name: 'Send invitation' }).click();
    await p.getByText(`Invitation sent to ${email}`).waitFor();
    await p.evaluate(() => localStorage.clear());

    await p.goto(url('/login#invite'));
    await p.getByLabel('Invitation token').fill(tokenIn(await mailTo(email)));
    await p.getByLabel('E-mail').fill(email);
    await p.getByLabel('Your name').fill('Invited Person');
    await p.getByLabel('Choose a password').fill('invited person password 1');
    await p.getByRole('button', { name: 'Join' }).click();
    await p.waitForURL(url('/portal'));
    const me = await p.evaluate(() => JSON.parse(localStorage.getItem('bz.session')).user);
    assert.deepEqual(me.roles, ['manager']);
    assert.equal(me.tenant_id, demoTenant.id);
  } finally {
    await p.context().close();
  }
});
