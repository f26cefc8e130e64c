// web_static.test.mjs — the portals' static file server (src/web/) over
// real HTTP: a web root built here with known files, symlinks and hidden
// names. Traversal in every spelling and symlinks leaving the root answer
// 404; content types; ETag / Last-Modified with 304; gzip negotiation;
// immutable caching only for the current ?v= version; HTML rewritten with
// versioned URLs and an import map whose hash is in the CSP; SPA fallback.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, test } from 'node:test';

import { show } from './lib/expect.mjs';
import { rawRequest, req } from './lib/raw.mjs';
import { request, startServer, tempDir } from './lib/server.mjs';

let srv;
let root;
let outside;
const css = `/* a stylesheet */\n${'.a { color: red; }\n'.repeat(200)}`;
const js = `export const x = 1;\n${'// filler line for compression\n'.repeat(50)}`;
const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');

function write(rel, content) {
  const f = path.join(root, rel);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, content);
}

const page = (name) => `<!doctype html><html><head><title>${name}</title>
<link rel="stylesheet" href="/assets/shared/site.css">
<!--bz:importmap-->
<script type="module" src="/assets/shared/app.js"></script>
<img src="/assets/shared/missing.png" alt="">
</head><body>${name}</body></html>`;

before(async () => {
  root = tempDir('bizosaas-web-');
  outside = tempDir('bizosaas-outside-');
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'TOP SECRET outside the root');
  write('shared/site.css', css);
  write('shared/app.js', js);
  write('shared/logo.png', png);
  write('shared/icon.svg', '<svg xmlns="http://www.w3.org/2000/svg"/>');
  write('shared/data.json', '{"a":1}');
  write('shared/blob.bin', 'bytes');
  write('portal/index.html', page('portal'));
  write('admin/index.html', page('admin'));
  write('login/index.html', page('login'));
  write('.env', 'HIDDEN=1');
  write('shared/.secret', 'hidden');
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'shared', 'escape.txt'));
  fs.symlinkSync(outside, path.join(root, 'shared', 'outdir'));
  fs.symlinkSync(path.join(root, 'shared', 'site.css'), path.join(root, 'shared', 'alias.css')); // inside: fine
  srv = await startServer({ env: { BIZOSAAS_WEB_ROOT: root } });
});
after(async () => {
  await srv?.stop();
});

// fetch asks for gzip by default: these checks want the identity representation
const get = (p, headers = {}) => request(srv, 'GET', p, { headers: { 'Accept-Encoding': 'identity', ...headers } });

test('content types of each kind of file', async () => {
  const cases = {
    '/assets/shared/site.css': 'text/css; charset=utf-8',
    '/assets/shared/app.js': 'text/javascript; charset=utf-8',
    '/assets/shared/logo.png': 'image/png',
    '/assets/shared/icon.svg': 'image/svg+xml',
    '/assets/shared/data.json': 'application/json',
    '/assets/shared/blob.bin': 'application/octet-stream',
    '/portal': 'text/html; charset=utf-8',
    '/login': 'text/html; charset=utf-8',
  };
  for (const [p, type] of Object.entries(cases)) {
    const r = await get(p);
    assert.equal(r.status, 200, `${p}: ${show(r)}`);
    assert.equal(r.headers.get('content-type'), type, p);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  }
  const img = await fetch(`${srv.url}/assets/shared/logo.png`);
  assert.deepEqual(Buffer.from(await img.arrayBuffer()), png);
  const alias = await get('/assets/shared/alias.css');
  assert.equal(alias.status, 200, 'a symlink that stays inside the root is served');
});

test('traversal, hidden files and symlinks out of the root are 404 in every spelling', async () => {
  const targets = [
    '/assets/../../etc/passwd',
    '/assets/shared/../../../etc/passwd',
    '/assets/%2e%2e/%2e%2e/etc/passwd',
    '/assets/shared/%2e%2e/%2e%2e/etc/passwd',
    '/assets/shared%2f..%2f..%2fetc%2fpasswd',
    '/assets/..%2f..%2fetc%2fpasswd',
    '/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/assets/shared/..%5c..%5cetc%5cpasswd',
    '/assets/shared\\..\\..\\etc\\passwd',
    '/assets//etc/passwd',
    '/assets/%2fetc%2fpasswd',
    '/assets/shared/./site.css',
    '/assets/.env',
    '/assets/shared/.secret',
    '/assets/shared/escape.txt',
    '/assets/shared/outdir/secret.txt',
    '/assets/shared/site.css%00.png',
    '/assets/shared/',
    '/assets/',
  ];
  for (const t of targets) {
    const r = await rawRequest(srv.port, req('GET', t, { headers: { Connection: 'close' } }));
    const res = r.responses[0];
    assert.ok(res, `${t}: no response: ${r.data}`);
    assert.ok([400, 404].includes(res.status), `${t} answered ${res.status}: ${res.body.slice(0, 200)}`);
    assert.ok(!/SECRET|root:|HIDDEN|hidden/.test(res.body), `${t} leaked: ${res.body}`);
  }
  assert.ok(srv.stderr().some((l) => l.includes('outside the web root')), 'the escaping symlink is logged');
});

test('ETag and Last-Modified answer 304 to conditional requests', async () => {
  const r = await get('/assets/shared/site.css');
  const etag = r.headers.get('etag');
  const lm = r.headers.get('last-modified');
  assert.match(etag, /^"[0-9a-f]{16}"$/);
  assert.ok(!Number.isNaN(Date.parse(lm)), lm);

  for (const inm of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
    const c = await get('/assets/shared/site.css', { 'If-None-Match': inm });
    assert.equal(c.status, 304, `If-None-Match: ${inm}`);
    assert.equal(c.text, '');
    assert.equal(c.headers.get('content-length'), null, 'no Content-Length on a 304 (RFC 9110 8.6)');
    assert.equal(c.headers.get('etag'), etag);
    assert.equal(c.headers.get('content-type'), 'text/css; charset=utf-8');
  }
  assert.equal((await get('/assets/shared/site.css', { 'If-None-Match': '"other"' })).status, 200);
  assert.equal((await get('/assets/shared/site.css', { 'If-Modified-Since': lm })).status, 304);
  const later = new Date(Date.parse(lm) + 3600e3).toUTCString();
  assert.equal((await get('/assets/shared/site.css', { 'If-Modified-Since': later })).status, 304);
  const earlier = new Date(Date.parse(lm) - 3600e3).toUTCString();
  assert.equal((await get('/assets/shared/site.css', { 'If-Modified-Since': earlier })).status, 200);
  assert.equal((await get('/assets/shared/site.css', { 'If-Modified-Since': 'garbage' })).status, 200);
  // If-None-Match wins over If-Modified-Since
  assert.equal((await get('/assets/shared/site.css', { 'If-None-Match': '"other"', 'If-Modified-Since': later })).status, 200);
  // pages too
  const p = await get('/portal/x');
  assert.equal((await get('/portal/y', { 'If-None-Match': p.headers.get('etag') })).status, 304);
});

test('gzip for text when accepted, identity otherwise; each with its own ETag', async () => {
  const raw = async (headers) => {
    const r = await rawRequest(srv.port, req('GET', '/assets/shared/site.css', { headers: { Connection: 'close', ...headers } }));
    return r.responses[0];
  };
  const gz = await raw({ 'Accept-Encoding': 'gzip, deflate, br' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(gz.headers.vary, 'Accept-Encoding');
  assert.ok(gz.bodyBytes.length < css.length / 4, `compressed to ${gz.bodyBytes.length}`);
  assert.equal(zlib.gunzipSync(gz.bodyBytes).toString(), css);
  assert.match(gz.headers.etag, /^"[0-9a-f]{16}-gz"$/);

  const plain = await raw({});
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(plain.body, css);
  assert.notEqual(plain.headers.etag, gz.headers.etag);
  for (const ae of ['gzip;q=0', 'identity', 'br', 'gzip; q=0.0, br']) {
    const r = await raw({ 'Accept-Encoding': ae });
    assert.equal(r.headers['content-encoding'], undefined, ae);
  }
  assert.equal((await raw({ 'Accept-Encoding': 'x-gzip' })).headers['content-encoding'], 'gzip');
  assert.equal((await raw({ 'Accept-Encoding': 'GZIP;q=0.5' })).headers['content-encoding'], 'gzip');
  // images are never gzipped
  const img = await rawRequest(srv.port, req('GET', '/assets/shared/logo.png', { headers: { Connection: 'close', 'Accept-Encoding': 'gzip' } }));
  assert.equal(img.responses[0].headers['content-encoding'], undefined);
  // HEAD: the headers of GET, no body
  const head = await rawRequest(srv.port, req('HEAD', '/assets/shared/site.css', { headers: { Connection: 'close' } }), { head: [true] });
  assert.equal(head.responses[0].status, 200);
  assert.equal(Number(head.responses[0].headers['content-length']), css.length);
  assert.equal(head.responses[0].body, '');
});

test('versioned URLs are immutable for a year; HTML and unversioned URLs revalidate', async () => {
  const html = await get('/portal');
  assert.equal(html.headers.get('cache-control'), 'no-cache');
  const m = /href="\/assets\/shared\/site\.css\?v=([0-9a-f]{16})"/.exec(html.text);
  assert.ok(m, html.text);
  const v = m[1];
  assert.equal((await get('/assets/shared/site.css')).headers.get('etag'), `"${v}"`, 'the version is the content hash');
  const vers = await get(`/assets/shared/site.css?v=${v}`);
  assert.equal(vers.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal((await get('/assets/shared/site.css?v=0000000000000000')).headers.get('cache-control'), 'no-cache');
  assert.equal((await get('/assets/shared/site.css')).headers.get('cache-control'), 'no-cache');
  // unknown assets keep their URL; the module entry is versioned
  assert.match(html.text, /src="\/assets\/shared\/missing\.png"/);
  assert.match(html.text, /src="\/assets\/shared\/app\.js\?v=[0-9a-f]{16}"/);
});

test('HTML carries an import map of every module and a CSP with its hash', async () => {
  const r = await get('/admin');
  const m = /<script type="importmap">(.*?)<\/script>/s.exec(r.text);
  assert.ok(m, r.text);
  const map = JSON.parse(m[1]);
  const js = (await get('/assets/shared/app.js')).headers.get('etag').replaceAll('"', '');
  assert.equal(map.imports['/assets/shared/app.js'], `/assets/shared/app.js?v=${js}`);
  assert.ok(!r.text.includes('<!--bz:importmap-->'));
  const csp = r.headers.get('content-security-policy');
  const hash = crypto.createHash('sha256').update(m[1]).digest('base64');
  assert.ok(csp.includes(`'sha256-${hash}'`), csp);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(r.headers.get('x-frame-options'), 'DENY');
});

test('every path under /portal and /admin is its page (client-side routes); /login is the login page', async () => {
  for (const [p, name] of [
    ['/portal', 'portal'],
    ['/portal/', 'portal'],
    ['/portal/users/123', 'portal'],
    ['/admin', 'admin'],
    ['/admin/services', 'admin'],
    ['/login', 'login'],
  ]) {
    const r = await get(p);
    assert.equal(r.status, 200, p);
    assert.match(r.text, new RegExp(`<title>${name}</title>`), p);
  }
  const post = await request(srv, 'POST', '/portal', { body: {} });
  assert.equal(post.status, 405);
});

test('a web root that cannot be read, or is larger than the cache limit, stops the start', async () => {
  const bad = await startServer({ env: { BIZOSAAS_WEB_ROOT: path.join(root, 'does-not-exist') }, waitReady: false });
  const e1 = await bad.exited;
  assert.notEqual(e1.code, 0);
  assert.ok(bad.stderr().some((l) => l.includes('web root')), bad.stderr().join('\n'));
  const big = await startServer({ env: { BIZOSAAS_WEB_ROOT: root, BIZOSAAS_WEB_CACHE_MAX_BYTES: '2048' }, waitReady: false });
  const e2 = await big.exited;
  assert.notEqual(e2.code, 0);
  assert.ok(big.stderr().some((l) => l.includes('BIZOSAAS_WEB_CACHE_MAX_BYTES')), big.stderr().join('\n'));
});

test('the repository web root is found by default and serves the real portals', async () => {
  const dflt = await startServer(); // cwd is a temp dir: found next to the build directory
  try {
    for (const p of ['/login', '/portal', '/admin']) {
      const r = await request(dflt, 'GET', p);
      assert.equal(r.status, 200, `${p}: ${show(r)}`);
      assert.match(r.text, /<script type="importmap">/);
    }
    const css2 = await request(dflt, 'GET', '/assets/shared/bz.css');
    assert.equal(css2.status, 200);
  } finally {
    await dflt.stop();
  }
});
