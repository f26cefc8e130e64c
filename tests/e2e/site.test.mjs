// site.test.mjs — the marketing site in Chromium: the seeded demo site's
// title and meta tags, the menu and blog pagination, and the contact form
// submitted with JavaScript disabled (a plain form POST answered with the
// thank-you page; the submission is stored) and enabled (JSON, answered in
// place).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { superAdminToken, tenantToken } from '../api/lib/jwt.mjs';
import { request, startServer } from '../api/lib/server.mjs';
import { launch, newPage } from './lib/browser.mjs';

let browser;
let srv;
let manager;

before(async () => {
  browser = await launch();
  srv = await startServer({ db: 'sqlite', env: { BIZOSAAS_CMS_BLOG_PAGE_SIZE: '3' } });
  const r = await request(srv, 'GET', '/api/v1/auth/tenants?limit=200', { token: superAdminToken() });
  const demo = r.json.items.find((t) => t.slug === 'demo');
  assert.ok(demo, 'the demo tenant is seeded');
  manager = tenantToken(demo.id, ['manager']);
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

async function submissions() {
  const r = await request(srv, 'GET', '/api/v1/cms/forms/contact/submissions', { token: manager });
  assert.equal(r.status, 200, r.text);
  return r.json.items;
}

test('home page: title, description, canonical, Open Graph and the menu', async () => {
  const page = await newPage(browser);
  const resp = await page.goto(`${srv.url}/`);
  assert.equal(resp.status(), 200);
  assert.equal(await page.title(), 'Bizoholic — AI-powered digital marketing agency | Bizoholic');
  const content = (sel) => page.locator(sel).getAttribute('content');
  assert.match(await content('meta[name="description"]'), /^Bizoholic combines senior marketers/);
  assert.equal(await page.locator('link[rel="canonical"]').getAttribute('href'), `${srv.url}/`);
  assert.equal(await content('meta[property="og:title"]'), 'Bizoholic — AI-powered digital marketing agency');
  assert.equal(await content('meta[property="og:type"]'), 'website');
  assert.equal(await content('meta[property="og:site_name"]'), 'Bizoholic');
  const og = await content('meta[property="og:image"]');
  assert.match(og, /\/media\/.+\.png$/);
  const img = await request(srv, 'GET', new URL(og).pathname);
  assert.equal(img.status, 200);
  const menu = await page.locator('nav[aria-label="Main"] a').allInnerTexts();
  assert.deepEqual(menu, ['Home', 'Services', 'About', 'Blog', 'Contact']);
  await page.context().close();
});

test('blog: posts newest first, pagination, a post is an article', async () => {
  const page = await newPage(browser);
  await page.goto(`${srv.url}/`);
  await page.locator('nav[aria-label="Main"] a', { hasText: 'Blog' }).click();
  await page.waitForURL(`${srv.url}/blog`);
  assert.equal(await page.title(), 'Marketing blog | Bizoholic');
  const first = await page.locator('.posts h2').allInnerTexts();
  assert.equal(first.length, 3);
  assert.equal(first[0], 'Lead scoring basics for small teams');
  await page.locator('a[rel="next"]').click();
  await page.waitForURL(`${srv.url}/blog?page=2`);
  const second = await page.locator('.posts h2').allInnerTexts();
  assert.deepEqual(second, ['The SEO checklist we use for every new client']);
  assert.equal(await page.locator('link[rel="canonical"]').getAttribute('href'), `${srv.url}/blog?page=2`);
  await page.locator('.posts h2 a').click();
  await page.waitForURL(`${srv.url}/blog/seo-checklist-2026`);
  assert.equal(await page.locator('meta[property="og:type"]').getAttribute('content'), 'article');
  assert.equal(await page.title(), 'The SEO checklist we use for every new client | Bizoholic');
  const missing = await page.goto(`${srv.url}/no-such-page`);
  assert.equal(missing.status(), 404);
  assert.equal(await page.locator('h1').innerText(), 'Page not found');
  await page.context().close();
});

test('contact form with JavaScript disabled: the thank-you page, and the submission is stored', async () => {
  const before1 = (await submissions()).length;
  const page = await newPage(browser, { javaScriptEnabled: false });
  await page.goto(`${srv.url}/contact`);
  assert.equal(await page.title(), 'Contact Bizoholic | Bizoholic');
  await page.fill('#f-name', 'Grace Hopper');
  await page.fill('#f-email', 'grace@example.com');
  await page.fill('#f-phone', '+1 555 0100');
  await page.fill('#f-company', 'Navy Labs');
  await page.fill('#f-budget', '15000');
  await page.check('input[name="services"][value="seo"]');
  await page.check('input[name="services"][value="ppc"]');
  await page.fill('#f-message', 'We need more leads.');
  const [resp] = await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  assert.equal(resp.status(), 200);
  assert.equal(resp.request().method(), 'POST');
  assert.equal(await page.locator('h1').innerText(), 'Thank you');
  assert.match(await page.locator('.thanks').innerText(), /Thank you! A Bizoholic strategist will contact you/);
  const items = await submissions();
  assert.equal(items.length, before1 + 1);
  assert.deepEqual(items[0].data, {
    name: 'Grace Hopper',
    email: 'grace@example.com',
    phone: '+1 555 0100',
    company: 'Navy Labs',
    budget: 15000,
    services: ['seo', 'ppc'],
    message: 'We need more leads.',
  });
  await page.context().close();
});

test('contact form with JavaScript: posted as JSON, answered in place', async () => {
  const before1 = (await submissions()).length;
  const page = await newPage(browser);
  await page.goto(`${srv.url}/contact`);
  await page.fill('#f-name', 'Ada');
  await page.fill('#f-email', 'ada@example.com');
  await page.check('input[name="services"][value="analytics"]');
  const posted = page.waitForRequest((r) => r.url() === `${srv.url}/contact` && r.method() === 'POST');
  await page.click('button[type="submit"]');
  const req = await posted;
  assert.equal(req.headers()['content-type'], 'application/json');
  await page.locator('.thanks[role="status"]').waitFor();
  assert.equal(page.url(), `${srv.url}/contact`);
  assert.equal(await page.locator('form[data-cms-form]').count(), 0);
  const items = await submissions();
  assert.equal(items.length, before1 + 1);
  assert.deepEqual(items[0].data.services, ['analytics']);
  await page.context().close();
});
