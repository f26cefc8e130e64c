// smoke.test.mjs — the browser harness itself: Chromium starts and renders a
// page the real server answers (/version as JSON in the document body).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startServer } from '../api/lib/server.mjs';
import { launch, newPage } from './lib/browser.mjs';

let browser;
let srv;
before(async () => {
  browser = await launch();
  srv = await startServer();
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

test('chromium loads a page from a real bizosaas', async () => {
  const page = await newPage(browser);
  const resp = await page.goto(`${srv.url}/version`);
  assert.equal(resp.status(), 200);
  const body = JSON.parse(await page.locator('body').innerText());
  assert.equal(typeof body.version, 'string');
  await page.context().close();
});
