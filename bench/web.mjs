#!/usr/bin/env node
// web.mjs — first-load weight of each portal, measured in a real Chromium.
//
// Starts a real bizosaas (SQLite, demo tenant), signs in once per role
// (the client portal as the demo tenant_admin: the heaviest home, with the
// CRM cards and the notifications bell; the admin dashboard as
// super_admin), then opens each page in a fresh browser context (empty
// cache) with the session put into localStorage, waits until the screen has
// loaded (no busy or loading state; the network idle, except the bell's
// open notification stream) and sums what the browser fetched for the page
// itself — the HTML document,
// scripts and modules, stylesheets — from the Resource Timing entries
// (decodedBodySize = bytes as written, encodedBodySize = bytes on the wire,
// gzip). API calls (fetch) and images are not counted. A second visit in
// the same context shows what revalidation costs (304s, immutable hits).
//
// Budget: 150 KB (153,600 bytes) of HTML+JS+CSS, uncompressed, per page.
// Usage: node bench/web.mjs [--json]   (BIZOSAAS_BIN overrides the binary)
// Needs: npm ci --prefix tests/e2e (playwright-core) and /usr/bin/chromium.

import os from 'node:os';

import { demoLogins, startServer } from '../tests/api/lib/server.mjs';
import { launch } from '../tests/e2e/lib/browser.mjs';

const BUDGET = 150 * 1024;
// [name, path, role (null = signed out)]; the screens loaded lazily are
// measured as first loads of their own URL (the portal plus the screen)
const PAGES = [
  ['login', '/login', null],
  ['client portal', '/portal', 'tenant_admin'],
  ['client portal: leads', '/portal/leads', 'tenant_admin'],
  ['client portal: pipeline', '/portal/pipeline', 'tenant_admin'],
  ['client portal: pages (CMS)', '/portal/pages', 'tenant_admin'],
  ['admin dashboard', '/admin', 'super_admin'],
  ['admin dashboard: workflows', '/admin/workflows', 'super_admin'],
];

const srv = await startServer();
const browser = await launch();
const rows = [];
try {
  const sessions = {};
  for (const role of ['tenant_admin', 'super_admin']) {
    const demo = demoLogins(srv)[role];
    const login = await fetch(`${srv.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: demo.email, password: demo.password }),
    }).then((r) => r.json());
    sessions[role] = JSON.stringify({
      access_token: login.access_token,
      refresh_token: login.refresh_token,
      expires_at: Date.now() + login.expires_in * 1000,
      user: login.user,
    });
  }

  for (const [name, path, role] of PAGES) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    if (role) await ctx.addInitScript((s) => localStorage.setItem('bz.session', s), sessions[role]);
    const page = await ctx.newPage();
    const measure = async () => {
      await page.goto(srv.url + path, { waitUntil: 'load' });
      await page.locator('h1').first().waitFor();
      // the bell's stream never goes idle: wait for it to be live instead
      if (role === 'tenant_admin') await page.locator('.notif[data-live="on"]').waitFor();
      await page.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {});
      for (let i = 0; i < 100 && (await page.locator('[aria-busy="true"], .loading').count()); i++) await page.waitForTimeout(50);
      return page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const res = performance
          .getEntriesByType('resource')
          .filter((e) => !['fetch', 'xmlhttprequest', 'img', 'image'].includes(e.initiatorType) && !/\.(png|svg|jpe?g|gif|webp|ico)(\?|$)/.test(e.name));
        const all = [nav, ...res];
        return {
          files: all.length,
          decoded: all.reduce((a, e) => a + e.decodedBodySize, 0),
          encoded: all.reduce((a, e) => a + e.encodedBodySize, 0),
          transfer: all.reduce((a, e) => a + e.transferSize, 0),
          list: all.map((e) => `${new URL(e.name).pathname} ${e.decodedBodySize}/${e.encodedBodySize}`),
        };
      });
    };
    const first = await measure();
    const again = await measure();
    await ctx.close();
    rows.push({ name, path, ...first, revisit_transfer: again.transfer, ok: first.decoded <= BUDGET });
  }
} finally {
  await browser.close();
  await srv.stop();
}

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  console.log(`# portal first load (budget ${BUDGET} bytes of HTML+JS+CSS, uncompressed)`);
  console.log(`# load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} cores`);
  console.log('| page | files | HTML+JS+CSS (bytes) | on the wire, gzip (bytes) | reload: bytes transferred | within budget |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.name} (\`${r.path}\`) | ${r.files} | ${r.decoded} | ${r.encoded} | ${r.revisit_transfer} | ${r.ok ? 'yes' : 'NO'} |`);
  }
  if (process.env.VERBOSE) for (const r of rows) console.log(r.name, r.list);
}
process.exit(rows.every((r) => r.ok) ? 0 : 1);
