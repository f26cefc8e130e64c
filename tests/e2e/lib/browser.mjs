// browser.mjs — launch Debian's Chromium through playwright-core for the
// browser tests. One browser per test file; a fresh context (cookies,
// storage) per test via newPage().
//
// Servers come from ../../api/lib/server.mjs (a real `bizosaas serve` on
// SQLite with a free port), so the browser talks to the real thing over
// loopback.

import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.BIZOSAAS_CHROMIUM || '/usr/bin/chromium';

/** launch: a headless Chromium. Close it in an after() hook. */
export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** newPage: a page in a fresh context; the caller closes page.context(). */
export async function newPage(browser, opts = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...opts });
  return context.newPage();
}
