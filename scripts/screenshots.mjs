#!/usr/bin/env node
// screenshots.mjs — writes docs/screenshots/<screen>.png of each main
// screen of the portals, taken in Chromium from a real bizosaas (SQLite,
// demo tenant) with a little real data: a second tenant, a registered HTTP
// upstream (a Node server started here). The PNGs are not committed
// (.gitignore); the README links to them.
//
// Usage: node scripts/screenshots.mjs   (after npm ci --prefix tests/e2e)

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { ROOT, demoLogins, freePort, startServer } from '../tests/api/lib/server.mjs';
import { launch } from '../tests/e2e/lib/browser.mjs';

const OUT = path.join(ROOT, 'docs', 'screenshots');
fs.mkdirSync(OUT, { recursive: true });

const srv = await startServer({ env: { BIZOSAAS_HEALTH_INTERVAL_MS: '500' } });
const upPort = await freePort();
const upstream = http.createServer((req, res) => res.end('{"status":"ok"}'));
await new Promise((r) => upstream.listen(upPort, '127.0.0.1', r));
const browser = await launch();
const logins = demoLogins(srv);

async function signedIn(role, opts = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...opts });
  const page = await ctx.newPage();
  page.setDefaultTimeout(60000); // the machine may be busy; this is not a test
  await page.goto(`${srv.url}/login`);
  await page.getByLabel('E-mail').fill(logins[role].email);
  await page.getByLabel('Password').fill(logins[role].password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/(admin|portal)$/);
  return page;
}

async function shot(page, route, name, { ready } = {}) {
  if (route) await page.goto(srv.url + route);
  await page.locator('main h1').first().waitFor();
  if (ready) await ready(page);
  // not page.waitForFunction: its polling evaluates a string, which the CSP refuses
  while (await page.locator('[aria-busy="true"], .loading').count()) await page.waitForTimeout(50);
  await page.screenshot({ path: path.join(OUT, `${name}.png`) });
  console.log(`docs/screenshots/${name}.png`);
}

try {
  // login
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const lp = await ctx.newPage();
  await shot(lp, '/login', 'login');
  await ctx.close();

  const admin = await signedIn('super_admin');
  const token = await admin.evaluate(() => JSON.parse(localStorage.getItem('bz.session')).access_token);
  const call = (method, p, body) =>
    fetch(srv.url + p, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await call('POST', '/api/v1/auth/tenants', { name: 'Acme Retail', slug: 'acme', plan: 'starter', domains: ['acme.example'] });
  await call('POST', '/api/brain/services', { name: 'billing-upstream', target: `http://127.0.0.1:${upPort}`, health_path: '/health' });

  await shot(admin, '/admin', 'admin-overview');
  await shot(admin, '/admin/tenants', 'admin-tenants');
  await shot(admin, '/admin/services', 'admin-services', {
    ready: (p) => p.locator('tr[data-key="billing-upstream"]').getByText(/^ok · 200/).waitFor({ timeout: 15000 }),
  });
  await shot(admin, '/admin/users', 'admin-users');
  await shot(admin, '/admin/events', 'admin-events');
  await shot(admin, '/admin/events/dead-letters', 'admin-dead-letters');
  await shot(admin, '/admin/audit', 'admin-audit');
  const demoId = (await (await call('GET', '/api/v1/auth/tenants?limit=200')).json()).items.find((t) => t.slug === 'demo').id;
  await fetch(`${srv.url}/api/v1/workflows/lead_scoring/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-tenant-id': demoId },
    body: JSON.stringify({ input: { company_size: 500, budget: 8000, services: ['seo'] } }),
  });
  await shot(admin, '/admin/workflows', 'admin-workflows', { ready: (p) => p.locator('table tbody tr').first().waitFor() });

  const ta = await signedIn('tenant_admin', { colorScheme: 'dark' });
  await shot(ta, '/portal', 'portal-dashboard-dark');
  await shot(ta, '/portal/users', 'portal-users-dark');
  await shot(ta, '/portal/api-keys', 'portal-api-keys-dark');
  await shot(ta, '/portal/account', 'portal-account-dark');

  const mgr = await signedIn('manager');
  await shot(mgr, '/portal', 'portal-dashboard-crm', { ready: (p) => p.locator('.chart svg[role="img"]').waitFor() });
  await shot(mgr, '/portal/leads', 'portal-leads');
  await mgr.locator('table tbody tr a').first().click();
  await shot(mgr, null, 'portal-lead', { ready: (p) => p.locator('table.breakdown').waitFor() });
  await shot(mgr, '/portal/pipeline', 'portal-pipeline', { ready: (p) => p.locator('.stage').first().waitFor() });
  await shot(mgr, '/portal/pages', 'portal-pages');
  await mgr.locator('table tbody tr a').first().click();
  await shot(mgr, null, 'portal-page-editor', { ready: (p) => p.locator('fieldset.block').first().waitFor() });
  await mgr.goto(`${srv.url}/portal`);
  await mgr.locator('.notif[data-live="on"]').waitFor();
  // a high-value lead through the marketing site's contact endpoint: it arrives live
  await fetch(`${srv.url}/api/brain/contact/submit`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'Grace Hopper', email: 'grace@example.com', phone: '+1 555 0100', website: 'compilers.example',
      company_size: '1000', budget: '12000', services: ['seo', 'ppc', 'analytics', 'social_media'],
      message: 'We need a full-funnel relaunch of our marketing: SEO, paid search, analytics and social. '.repeat(2),
    }),
  });
  await mgr.locator('.bell .count:not([hidden])').waitFor();
  await mgr.locator('button.bell').click();
  await shot(mgr, null, 'portal-notifications');

  const client = await signedIn('client');
  await shot(client, '/admin', 'admin-403-client');

  const narrow = await signedIn('super_admin', { viewport: { width: 375, height: 740 } });
  await shot(narrow, '/admin/services', 'admin-services-375px');
} finally {
  await browser.close();
  upstream.close();
  await srv.stop();
}
