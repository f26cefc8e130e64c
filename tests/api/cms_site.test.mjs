// cms_site.test.mjs — the server-rendered marketing site: SEO and Open
// Graph tags, escaping, published-only pages, the page cache following
// publishes, blog pagination, sitemap/robots, routing next to the APIs,
// tenants by host, and the contact form without JavaScript.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { assertError } from './lib/expect.mjs';
import { isPostgres, request, startServer } from './lib/server.mjs';
import { cms, hostReq, html, makeSite, page, publish, uniq } from './cms_helpers.mjs';

let srv;
let A;
let B;

before(async () => {
  srv = await startServer({ env: { BIZOSAAS_CMS_BLOG_PAGE_SIZE: '2' } });
  A = await makeSite(srv);
  B = await makeSite(srv);
});

after(async () => {
  if (srv) await srv.stop();
});

function meta(text, attr, name) {
  const re = new RegExp(`<meta ${attr}="${name}" content="([^"]*)">`);
  const m = re.exec(text);
  return m && m[1];
}

test('a published page renders with title, description, canonical and Open Graph tags, escaped', async () => {
  const p = await page(srv, A, {
    slug: `seo-${uniq()}`,
    title: 'Growth <b>"now"</b>',
    seo_title: 'SEO & <script>alert(1)</script>',
    meta_description: 'Fast "growth" & <more>',
    body: [
      { type: 'rich_text', html: '<p>Hello <em>world</em></p><script>alert(2)</script><img src=x onerror=alert(3)>' },
      { type: 'cta', text: 'Call <us>', url: '/contact', description: 'Now & "then"' },
    ],
  });
  await publish(srv, A, p.id);
  const r = await html(srv, A.host, p.path);
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'], /^text\/html/);
  assert.match(r.text, /<title>SEO &amp; &lt;script&gt;alert\(1\)&lt;\/script&gt;<\/title>/);
  assert.equal(meta(r.text, 'name', 'description'), 'Fast &quot;growth&quot; &amp; &lt;more&gt;');
  assert.match(r.text, new RegExp(`<link rel="canonical" href="http://${A.host}${p.path}">`));
  assert.equal(meta(r.text, 'property', 'og:title'), 'SEO &amp; &lt;script&gt;alert(1)&lt;/script&gt;');
  assert.equal(meta(r.text, 'property', 'og:url'), `http://${A.host}${p.path}`);
  assert.equal(meta(r.text, 'property', 'og:type'), 'website');
  assert.match(r.text, /<h1>Growth &lt;b&gt;&quot;now&quot;&lt;\/b&gt;<\/h1>/);
  assert.match(r.text, /<p>Hello <em>world<\/em><\/p><img src="x">/);
  assert.match(r.text, /<a class="button" href="\/contact">Call &lt;us&gt;<\/a>/);
  assert.ok(!/<script/i.test(r.text), 'no script element on a page without a form');
  const csp = r.headers['content-security-policy'];
  assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'/);
  assert.ok(!/script-src[^;]*unsafe/.test(csp), csp);
  assert.ok(!/onerror|alert\(2\)/.test(r.text));
  // behind a TLS proxy the canonical URL is https
  const tls = await hostReq(srv, 'GET', p.path, { host: A.host, headers: { Accept: 'text/html', 'X-Forwarded-Proto': 'https' } });
  assert.match(tls.text, new RegExp(`<link rel="canonical" href="https://${A.host}${p.path}">`));
  // a trailing slash redirects to the one address
  const slash = await html(srv, A.host, `${p.path}/`);
  assert.equal(slash.status, 301);
  assert.equal(slash.headers.location, p.path);
});

test('unpublished and missing pages are 404; the cache follows publish and unpublish', async () => {
  const p = await page(srv, A, { slug: `cache-${uniq()}`, title: 'First title' });
  let r = await html(srv, A.host, p.path);
  assert.equal(r.status, 404);
  assert.match(r.text, /Page not found/);
  assert.match(r.headers['content-type'], /^text\/html/);
  assertError(await hostReq(srv, 'GET', p.path, { host: A.host }), 404, 'not_found');
  await publish(srv, A, p.id);
  r = await html(srv, A.host, p.path);
  assert.equal(r.status, 200);
  assert.match(r.text, /<h1>First title<\/h1>/);
  assert.match((await html(srv, A.host, p.path)).text, /<h1>First title<\/h1>/); // cached
  await cms(srv, 'PATCH', `/pages/${p.id}`, { token: A.manager, body: { title: 'Second title' } });
  assert.match((await html(srv, A.host, p.path)).text, /<h1>First title<\/h1>/, 'a draft edit is not public');
  await publish(srv, A, p.id);
  assert.match((await html(srv, A.host, p.path)).text, /<h1>Second title<\/h1>/);
  await cms(srv, 'POST', `/pages/${p.id}/unpublish`, { token: A.manager });
  assert.equal((await html(srv, A.host, p.path)).status, 404);
  // a page of tenant A is not a page of tenant B
  await publish(srv, A, p.id);
  assert.equal((await html(srv, A.host, p.path)).status, 200);
  assert.equal((await html(srv, B.host, p.path)).status, 404);
  // an unknown host has no site
  assert.equal((await html(srv, `nobody-${uniq()}.test`, '/')).status, 404);
});

test('blog index: newest first, paginated, rel prev/next, past the end 404', async () => {
  const s = uniq();
  const blog = await page(srv, B, { slug: `blog-${s}`, title: 'Blog', meta_description: 'All posts' });
  await publish(srv, B, blog.id);
  const titles = [];
  for (let i = 1; i <= 3; i++) {
    const p = await page(srv, B, { slug: `post-${i}`, title: `Post ${i}`, type: 'blog_post', parent_id: blog.id, meta_description: `About ${i}` });
    await publish(srv, B, p.id);
    titles.push(p.title);
  }
  const draft = await page(srv, B, { slug: 'draft-post', title: 'Draft post', type: 'blog_post', parent_id: blog.id });
  const p1 = await html(srv, B.host, blog.path);
  assert.equal(p1.status, 200);
  const listed = [...p1.text.matchAll(/<h2><a href="[^"]+">([^<]+)<\/a><\/h2>/g)].map((m) => m[1]);
  assert.deepEqual(listed, ['Post 3', 'Post 2']);
  assert.match(p1.text, new RegExp(`<a rel="next" href="${blog.path}\\?page=2">`));
  assert.ok(!p1.text.includes('rel="prev"'));
  const p2 = await html(srv, B.host, `${blog.path}?page=2`);
  assert.equal(p2.status, 200);
  assert.deepEqual([...p2.text.matchAll(/<h2><a href="[^"]+">([^<]+)<\/a><\/h2>/g)].map((m) => m[1]), ['Post 1']);
  assert.match(p2.text, new RegExp(`<a rel="prev" href="${blog.path}">`));
  assert.match(p2.text, new RegExp(`<link rel="canonical" href="http://${B.host}${blog.path}\\?page=2">`));
  assert.equal((await html(srv, B.host, `${blog.path}?page=3`)).status, 404);
  assert.equal((await html(srv, B.host, `${blog.path}?page=zero`)).status, 404);
  assert.ok(!p1.text.includes('Draft post'));
  const post = await html(srv, B.host, `${blog.path}/post-1`);
  assert.equal(meta(post.text, 'property', 'og:type'), 'article');
  assert.equal((await html(srv, B.host, draft.path)).status, 404);
});

test('sitemap.xml lists published pages; robots.txt points at it; the menu is rendered', async () => {
  const pub = await page(srv, A, { slug: `map-${uniq()}`, title: 'On the map' });
  await publish(srv, A, pub.id);
  const hidden = await page(srv, A, { slug: `hidden-${uniq()}`, title: 'Hidden' });
  const sm = await hostReq(srv, 'GET', '/sitemap.xml', { host: A.host });
  assert.equal(sm.status, 200);
  assert.match(sm.headers['content-type'], /^application\/xml/);
  assert.ok(sm.text.includes(`<loc>http://${A.host}${pub.path}</loc>`));
  assert.ok(!sm.text.includes(hidden.path));
  const rb = await hostReq(srv, 'GET', '/robots.txt', { host: A.host });
  assert.equal(rb.status, 200);
  assert.ok(rb.text.includes(`Sitemap: http://${A.host}/sitemap.xml`));
  const put = await cms(srv, 'PUT', '/menus/main', {
    token: A.manager,
    body: { title: 'Main', items: [{ label: 'Map <page>', page_id: pub.id }, { label: 'Hidden', page_id: hidden.id }] },
  });
  assert.equal(put.status, 200, put.text);
  const r = await html(srv, A.host, pub.path);
  assert.match(r.text, new RegExp(`<nav aria-label="Main"><ul><li><a href="${pub.path}" aria-current="page">Map &lt;page&gt;</a></li></ul></nav>`));
});

test('the site does not shadow API answers: JSON 404 and 405 stay', async () => {
  assertError(await request(srv, 'GET', '/api/v1/no-such/thing', { headers: { accept: 'text/html' } }), 404, 'not_found');
  assertError(await request(srv, 'GET', '/static/x', { headers: { accept: 'text/html' } }), 404, 'not_found');
  assertError(await request(srv, 'GET', '/api/v1/auth/login'), 405, 'method_not_allowed');
  assertError(await request(srv, 'DELETE', '/livez'), 405, 'method_not_allowed');
  assertError(await request(srv, 'GET', '/nope'), 404, 'not_found');
  assert.equal((await request(srv, 'GET', '/version')).status, 200);
});

test('contact form without JavaScript: thank-you page, stored submission, errors shown escaped', async () => {
  const form = await cms(srv, 'POST', '/forms', {
    token: A.manager,
    body: {
      slug: 'contact',
      title: 'Contact us',
      success_message: 'Thanks, we will call you!',
      fields: [
        { name: 'name', type: 'text', required: true, max_length: 40 },
        { name: 'email', type: 'email', required: true },
        { name: 'services', type: 'select', multiple: true, choices: ['seo', 'ppc'] },
      ],
    },
  });
  assert.equal(form.status, 201, form.text);
  const pg = await page(srv, A, { slug: 'contact', title: 'Contact', body: [{ type: 'form', form: 'contact' }] });
  await publish(srv, A, pg.id);
  const view = await html(srv, A.host, '/contact');
  assert.equal(view.status, 200);
  assert.match(view.text, /<form class="cms-form" method="post" action="\/contact" data-cms-form>/);
  const post = (body, headers = {}) =>
    hostReq(srv, 'POST', '/contact', { host: A.host, headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'text/html', ...headers }, body });
  const ok = await post('_form=contact&name=Ann+Lee&email=ann%40example.com&services=seo&services=ppc');
  assert.equal(ok.status, 200, ok.text);
  assert.match(ok.text, /Thanks, we will call you!/);
  const subs = await cms(srv, 'GET', '/forms/contact/submissions', { token: A.manager });
  assert.deepEqual(subs.json.items[0].data, { name: 'Ann Lee', email: 'ann@example.com', services: ['seo', 'ppc'] });
  const bad = await post('name=%3Cscript%3Ealert(1)%3C%2Fscript%3E&email=nope');
  assert.equal(bad.status, 422);
  assert.match(bad.text, /data-error-for="email">must be an e-mail address</);
  assert.ok(bad.text.includes('value="&lt;script&gt;alert(1)&lt;/script&gt;"'));
  assert.ok(!bad.text.includes('<script>alert(1)'));
  assert.equal((await cms(srv, 'GET', '/forms/contact/submissions', { token: A.manager })).json.items.length, 1);
  // JSON (the progressive enhancement)
  const js = await hostReq(srv, 'POST', '/contact', { host: A.host, body: { _form: 'contact', name: 'Bo', email: 'bo@example.com', services: 'seo' } });
  assert.equal(js.status, 201, js.text);
  assert.equal(js.json.success, true);
  assert.equal(js.json.message, 'Thanks, we will call you!');
  const jbad = await hostReq(srv, 'POST', '/contact', { host: A.host, body: { name: '' } });
  assert.equal(jbad.status, 422);
  assert.equal(jbad.json.error.fields.email, 'is required');
  // another tenant's host has no such form
  const other = await hostReq(srv, 'POST', '/contact', { host: B.host, body: { name: 'x', email: 'x@y.co' } });
  assertError(other, 404, 'not_found');
});

test('localhost and 127.0.0.1 show the demo tenant\'s seeded site', { skip: isPostgres() && 'the demo tenant is seeded on the embedded default only' }, async () => {
  const home = await html(srv, `127.0.0.1:${srv.port}`, '/');
  assert.equal(home.status, 200);
  assert.match(home.text, /<title>Bizoholic — AI-powered digital marketing agency \| Bizoholic<\/title>/);
  assert.match(home.text, /<meta property="og:image" content="http:\/\/127\.0\.0\.1:\d+\/media\/[0-9a-f-]+\/[0-9a-f-]+\.png">/);
  for (const p of ['/services', '/about', '/blog', '/contact', '/blog/seo-checklist-2026']) {
    assert.equal((await html(srv, `localhost:${srv.port}`, p)).status, 200, p);
  }
  const posts = await hostReq(srv, 'GET', '/api/v2/pages?type=blog_post', { host: 'localhost' });
  assert.ok(posts.json.meta.total_count >= 3);
});

test('public form submissions are rate-limited per client address', async () => {
  const s2 = await startServer({ env: { BIZOSAAS_CMS_FORM_RATE_PER_MIN: '3' } });
  try {
    const site = await makeSite(s2);
    const f = await cms(s2, 'POST', '/forms', { token: site.manager, body: { slug: 'contact', title: 'C', fields: [{ name: 'email', type: 'email', required: true }] } });
    assert.equal(f.status, 201, f.text);
    const codes = [];
    for (let i = 0; i < 3; i++) {
      codes.push((await hostReq(s2, 'POST', '/contact', { host: site.host, body: { email: `r${i}@example.com` } })).status);
    }
    assert.deepEqual(codes, [201, 201, 201]);
    const limited = await hostReq(s2, 'POST', '/contact', { host: site.host, body: { email: 'r9@example.com' } });
    assert.equal(limited.status, 429);
    assert.equal(limited.json.error.code, 'rate_limited');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    const v2 = await hostReq(s2, 'POST', '/api/v2/forms/contact/submissions', { host: site.host, body: { email: 'r10@example.com' } });
    assert.equal(v2.status, 429);
    const subs = await cms(s2, 'GET', '/forms/contact/submissions', { token: site.manager });
    assert.equal(subs.json.items.length, 3);
  } finally {
    await s2.stop();
  }
});
