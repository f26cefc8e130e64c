// cms_pages.test.mjs — the CMS API (/api/v1/cms) and the delivery API
// (/api/v2): the page tree, revisions, publishing (also scheduled), rich
// text sanitizing, media, menus, forms, permissions and tenant isolation.
// Runs on SQLite and PostgreSQL (BIZOSAAS_TEST_DB).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { assertError } from './lib/expect.mjs';
import { request, startServer } from './lib/server.mjs';
import { PNG, cms, hostReq, makeSite, page, publish, uniq } from './cms_helpers.mjs';

let srv;
let A;
let B;

before(async () => {
  srv = await startServer({
    env: { BIZOSAAS_CMS_SCHEDULE_INTERVAL_MS: '100', BIZOSAAS_CMS_MEDIA_MAX_BYTES: '4096' },
  });
  A = await makeSite(srv);
  B = await makeSite(srv);
});

after(async () => {
  if (srv) await srv.stop();
});

const v2 = (site, path) => hostReq(srv, 'GET', `/api/v2${path}`, { host: site.host });

test('page tree: slug paths, uniqueness, validation', async () => {
  const home = await page(srv, A, { slug: '', title: 'Home', type: 'landing' });
  assert.equal(home.path, '/');
  assert.equal(home.status, 'draft');
  assert.equal(home.revision, 1);
  const blog = await page(srv, A, { slug: 'blog', title: 'Blog' });
  const post = await page(srv, A, { slug: 'first', title: 'First', type: 'blog_post', parent_id: blog.id });
  assert.equal(post.path, '/blog/first');
  assert.equal(post.parent_id, blog.id);
  const dup = await cms(srv, 'POST', '/pages', { token: A.manager, body: { slug: 'first', title: 'x', parent_id: blog.id } });
  assertError(dup, 409, 'already_exists');
  for (const body of [
    { slug: 'Bad Slug', title: 'x' },
    { slug: 'ok', title: '' },
    { slug: 'ok', title: 'x', type: 'weird' },
    { slug: 'ok', title: 'x', colour: 'red' },
    { slug: 'ok', title: 'x', body: [{ type: 'video', src: 'x' }] },
    { slug: 'ok', title: 'x', body: 'not blocks' },
    { slug: 'ok', title: 'x', parent_id: 'no-such-page' },
    { slug: 'ok', title: 'x', body: [{ type: 'cta', text: 'Go', url: 'javascript:alert(1)' }] },
  ]) {
    const r = await cms(srv, 'POST', '/pages', { token: A.manager, body });
    assertError(r, 422, 'validation_failed');
  }
  // a page cannot move below its own descendant
  const cyc = await cms(srv, 'PATCH', `/pages/${blog.id}`, { token: A.manager, body: { parent_id: post.id } });
  assertError(cyc, 422, 'validation_failed');
  const list = await cms(srv, 'GET', '/pages?limit=200', { token: A.manager });
  assert.equal(list.status, 200);
  assert.deepEqual(list.json.items.map((p) => p.path).filter((p) => ['/', '/blog', '/blog/first'].includes(p)), ['/', '/blog', '/blog/first']);
  const withKids = await cms(srv, 'DELETE', `/pages/${blog.id}`, { token: A.manager });
  assertError(withKids, 409, 'conflict');
});

test('publish, unpublish and the delivery API show published content only', async () => {
  const p = await page(srv, A, { slug: `pub-${uniq()}`, title: 'Draft title', meta_description: 'desc' });
  let r = await v2(A, `/pages/find?path=${p.path}`);
  assertError(r, 404, 'not_found');
  assertError(await v2(A, `/pages/${p.id}`), 404, 'not_found');
  const pub = await publish(srv, A, p.id);
  assert.equal(pub.status, 'published');
  assert.equal(pub.has_unpublished_changes, false);
  r = await v2(A, `/pages/find?path=${p.path}`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.title, 'Draft title');
  assert.equal(r.json.meta_description, 'desc');
  // a draft edit is not public until published again
  const ed = await cms(srv, 'PATCH', `/pages/${p.id}`, { token: A.manager, body: { title: 'Edited' } });
  assert.equal(ed.status, 200, ed.text);
  assert.equal(ed.json.has_unpublished_changes, true);
  assert.equal((await v2(A, `/pages/${p.id}`)).json.title, 'Draft title');
  await publish(srv, A, p.id);
  assert.equal((await v2(A, `/pages/${p.id}`)).json.title, 'Edited');
  const list = await v2(A, '/pages?limit=100');
  assert.equal(list.status, 200);
  assert.ok(list.json.items.some((i) => i.id === p.id));
  assert.ok(list.json.items.every((i) => i.body === undefined), 'listings carry summaries');
  const evs = await request(srv, 'GET', `/api/v1/events?type=PagePublished&aggregate_id=${p.id}`, { token: A.admin });
  assert.equal(evs.json.items.length, 2);
  const evb = await request(srv, 'GET', `/api/v1/events?type=PagePublished&aggregate_id=${p.id}`, { token: B.admin });
  assert.equal(evb.json.items.length, 0, 'another tenant sees none of its events');
  const un = await cms(srv, 'POST', `/pages/${p.id}/unpublish`, { token: A.manager });
  assert.equal(un.status, 200);
  assert.equal(un.json.status, 'draft');
  assertError(await v2(A, `/pages/${p.id}`), 404, 'not_found');
  assert.ok(!(await v2(A, '/pages?limit=100')).json.items.some((i) => i.id === p.id));
  // an unknown host has no site
  const none = await hostReq(srv, 'GET', '/api/v2/pages', { host: `nobody-${uniq()}.test` });
  assertError(none, 404, 'not_found');
});

test('another tenant: its pages are 404 through the API and invisible by host', async () => {
  const p = await page(srv, A, { slug: `secret-${uniq()}`, title: 'A only' });
  await publish(srv, A, p.id);
  assertError(await cms(srv, 'GET', `/pages/${p.id}`, { token: B.manager }), 404, 'not_found');
  assertError(await cms(srv, 'PATCH', `/pages/${p.id}`, { token: B.manager, body: { title: 'pwned' } }), 404, 'not_found');
  assertError(await cms(srv, 'POST', `/pages/${p.id}/publish`, { token: B.manager }), 404, 'not_found');
  assertError(await cms(srv, 'DELETE', `/pages/${p.id}`, { token: B.manager }), 404, 'not_found');
  assertError(await cms(srv, 'GET', `/pages/${p.id}/revisions`, { token: B.manager }), 404, 'not_found');
  assertError(await v2(B, `/pages/${p.id}`), 404, 'not_found');
  assertError(await v2(B, `/pages/find?path=${p.path}`), 404, 'not_found');
  // B cannot hang A's page under its own tree either
  const r = await cms(srv, 'POST', '/pages', { token: B.manager, body: { slug: 'x', title: 'x', parent_id: p.id } });
  assertError(r, 422, 'validation_failed');
  assert.equal((await cms(srv, 'GET', `/pages/${p.id}`, { token: A.manager })).json.title, 'A only');
});

test('permissions: clients read, managers and admins edit, anonymous is 401', async () => {
  const r = await cms(srv, 'POST', '/pages', { token: A.client, body: { slug: 'c', title: 'c' } });
  assertError(r, 403, 'forbidden');
  assert.equal((await cms(srv, 'GET', '/pages', { token: A.client })).status, 200);
  const p = await page(srv, A, { slug: `perm-${uniq()}`, title: 't' });
  assertError(await cms(srv, 'PATCH', `/pages/${p.id}`, { token: A.client, body: { title: 'no' } }), 403, 'forbidden');
  assertError(await cms(srv, 'POST', `/pages/${p.id}/publish`, { token: A.client }), 403, 'forbidden');
  assertError(await cms(srv, 'GET', '/forms/contact/submissions', { token: A.client }), 403, 'forbidden');
  assertError(await cms(srv, 'GET', '/pages'), 401, 'unauthorized');
  const admin = await cms(srv, 'PATCH', `/pages/${p.id}`, { token: A.admin, body: { title: 'admin edit' } });
  assert.equal(admin.status, 200, admin.text);
  // through the gateway under the original service name
  const gw = await request(srv, 'GET', `/api/brain/wagtail-cms/pages/${p.id}`, { token: A.client });
  assert.equal(gw.status, 200, gw.text);
  assert.equal(gw.json.title, 'admin edit');
});

test('revisions: list, view and revert', async () => {
  const p = await page(srv, A, { slug: `rev-${uniq()}`, title: 'v1', body: [{ type: 'rich_text', html: '<p>one</p>' }] });
  await cms(srv, 'PATCH', `/pages/${p.id}`, { token: A.manager, body: { title: 'v2' } });
  await cms(srv, 'PATCH', `/pages/${p.id}`, { token: A.manager, body: { title: 'v3', body: [{ type: 'rich_text', html: '<p>three</p>' }] } });
  const list = await cms(srv, 'GET', `/pages/${p.id}/revisions`, { token: A.manager });
  assert.equal(list.status, 200);
  assert.deepEqual(list.json.items.map((r) => r.number), [3, 2, 1]);
  const one = await cms(srv, 'GET', `/pages/${p.id}/revisions/1`, { token: A.client });
  assert.equal(one.status, 200);
  assert.equal(one.json.content.title, 'v1');
  assert.equal(one.json.content.body[0].html, '<p>one</p>');
  assertError(await cms(srv, 'GET', `/pages/${p.id}/revisions/99`, { token: A.manager }), 404, 'not_found');
  const rv = await cms(srv, 'POST', `/pages/${p.id}/revisions/1/revert`, { token: A.manager });
  assert.equal(rv.status, 200, rv.text);
  assert.equal(rv.json.title, 'v1');
  assert.equal(rv.json.body[0].html, '<p>one</p>');
  assert.equal(rv.json.revision, 4);
  const after4 = await cms(srv, 'GET', `/pages/${p.id}/revisions`, { token: A.manager });
  assert.match(after4.json.items[0].note, /revert/);
});

test('moves rewrite descendant paths and leave 301 redirects', async () => {
  const s = uniq();
  const sec = await page(srv, A, { slug: `sec-${s}`, title: 'Section' });
  const kid = await page(srv, A, { slug: 'kid', title: 'Kid', parent_id: sec.id });
  await publish(srv, A, sec.id);
  await publish(srv, A, kid.id);
  const mv = await cms(srv, 'PATCH', `/pages/${sec.id}`, { token: A.manager, body: { slug: `moved-${s}` } });
  assert.equal(mv.status, 200, mv.text);
  assert.equal(mv.json.path, `/moved-${s}`);
  assert.equal((await cms(srv, 'GET', `/pages/${kid.id}`, { token: A.manager })).json.path, `/moved-${s}/kid`);
  const reds = (await cms(srv, 'GET', '/redirects', { token: A.manager })).json.items;
  const pairs = reds.map((r) => `${r.old_path}>${r.new_path}`);
  assert.ok(pairs.includes(`/sec-${s}>/moved-${s}`), pairs.join(' '));
  assert.ok(pairs.includes(`/sec-${s}/kid>/moved-${s}/kid`));
  const old = await hostReq(srv, 'GET', `/sec-${s}/kid`, { host: A.host, headers: { Accept: 'text/html' } });
  assert.equal(old.status, 301);
  assert.equal(old.headers.location, `/moved-${s}/kid`);
  // a second move re-points the old redirect (no chains)
  await cms(srv, 'PATCH', `/pages/${sec.id}`, { token: A.manager, body: { slug: `again-${s}` } });
  const reds2 = (await cms(srv, 'GET', '/redirects', { token: A.manager })).json.items;
  assert.equal(reds2.find((r) => r.old_path === `/sec-${s}`).new_path, `/again-${s}`);
  // manual redirects
  const mk = await cms(srv, 'POST', '/redirects', { token: A.manager, body: { old_path: `/promo-${s}`, new_path: `/again-${s}` } });
  assert.equal(mk.status, 201, mk.text);
  assertError(await cms(srv, 'POST', '/redirects', { token: A.manager, body: { old_path: 'nope', new_path: '/x' } }), 422, 'validation_failed');
  assertError(await cms(srv, 'POST', '/redirects', { token: A.manager, body: { old_path: '/x', new_path: 'javascript:alert(1)' } }), 422, 'validation_failed');
  assertError(await cms(srv, 'DELETE', `/redirects/${mk.json.id}`, { token: B.manager }), 404, 'not_found');
  assert.equal((await cms(srv, 'DELETE', `/redirects/${mk.json.id}`, { token: A.manager })).status, 204);
});

test('scheduled publishing: publish_at in the future, published by the timer', async () => {
  const p = await page(srv, A, { slug: `later-${uniq()}`, title: 'Later' });
  const at = new Date(Date.now() + 1500).toISOString();
  const r = await publish(srv, A, p.id, { at });
  assert.equal(r.status, 'draft');
  assert.equal(r.publish_at, at);
  assertError(await v2(A, `/pages/${p.id}`), 404, 'not_found');
  assertError(await cms(srv, 'POST', `/pages/${p.id}/publish`, { token: A.manager, body: { at: 'tomorrow' } }), 422, 'validation_failed');
  const deadline = Date.now() + 15000;
  let got;
  do {
    await new Promise((res) => setTimeout(res, 200));
    got = await v2(A, `/pages/${p.id}`);
  } while (got.status !== 200 && Date.now() < deadline);
  assert.equal(got.status, 200, 'the scheduled page was never published');
  const after1 = await cms(srv, 'GET', `/pages/${p.id}`, { token: A.manager });
  assert.equal(after1.json.status, 'published');
  assert.equal(after1.json.publish_at, null);
});

test('XSS payloads in page bodies come back sanitized', async () => {
  const payloads = [
    '<script>alert(1)</script><p>ok</p>',
    '<img src=x onerror=alert(1)>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<svg onload=alert(1)>',
    '<iframe src="https://evil.example"></iframe>',
    '<p style="x" onclick="alert(1)">p</p>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">d</a>',
  ];
  const body = payloads.map((html) => ({ type: 'rich_text', html }));
  const p = await page(srv, A, { slug: `xss-${uniq()}`, title: '<script>alert("t")</script>', body });
  const got = await cms(srv, 'GET', `/pages/${p.id}`, { token: A.manager });
  const all = got.json.body.map((b) => b.html).join('\n');
  for (const bad of ['<script', 'onerror', 'onload', 'onclick', 'javascript:', 'data:', '<iframe', '<svg', 'style=']) {
    assert.ok(!all.toLowerCase().includes(bad), `${bad} survived: ${all}`);
  }
  assert.equal(got.json.body[0].html, '<p>ok</p>');
  assert.equal(got.json.body[1].html, '<img src="x">');
  assert.equal(got.json.body[2].html, '<a>x</a>');
  // the title is text: stored as given, escaped when rendered (cms_site tests)
  assert.equal(got.json.title, '<script>alert("t")</script>');
});

test('media: sniffed uploads, limits, serving, references', async () => {
  const up = await request(srv, 'POST', '/api/v1/cms/media?filename=dot.png&alt=Dot', {
    token: A.manager,
    headers: { 'content-type': 'image/png' },
    body: PNG,
  });
  assert.equal(up.status, 201, up.text);
  assert.equal(up.json.content_type, 'image/png');
  assert.equal(up.json.width, 1);
  assert.equal(up.json.alt, 'Dot');
  const file = await fetch(srv.url + up.json.url);
  assert.equal(file.status, 200);
  assert.equal(file.headers.get('content-type'), 'image/png');
  assert.deepEqual(Buffer.from(await file.arrayBuffer()), PNG);
  // the bytes decide
  const lie = await request(srv, 'POST', '/api/v1/cms/media', { token: A.manager, headers: { 'content-type': 'image/jpeg' }, body: PNG });
  assertError(lie, 422, 'validation_failed');
  const text = await request(srv, 'POST', '/api/v1/cms/media', { token: A.manager, headers: { 'content-type': 'image/png' }, body: '<svg onload=alert(1)>' });
  assertError(text, 415, 'unsupported_media_type');
  const htmlType = await request(srv, 'POST', '/api/v1/cms/media', { token: A.manager, headers: { 'content-type': 'text/html' }, body: PNG });
  assertError(htmlType, 415, 'unsupported_media_type');
  const big = Buffer.concat([PNG, Buffer.alloc(5000)]);
  const tooBig = await request(srv, 'POST', '/api/v1/cms/media', { token: A.manager, headers: { 'content-type': 'image/png' }, body: big });
  assertError(tooBig, 413, 'payload_too_large');
  // multipart
  const boundary = `----bz${uniq()}`;
  const mp = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="alt"\r\n\r\nMulti\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="m.png"\r\nContent-Type: image/png\r\n\r\n`),
    PNG,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const mup = await request(srv, 'POST', '/api/v1/cms/media', { token: A.manager, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: mp });
  assert.equal(mup.status, 201, mup.text);
  assert.equal(mup.json.filename, 'm.png');
  assert.equal(mup.json.alt, 'Multi');
  assert.equal(mup.json.size, PNG.length);
  // permissions and tenants
  assertError(await request(srv, 'POST', '/api/v1/cms/media', { token: A.client, headers: { 'content-type': 'image/png' }, body: PNG }), 403, 'forbidden');
  assertError(await cms(srv, 'GET', `/media/${up.json.id}`, { token: B.manager }), 404, 'not_found');
  // image blocks and og_image resolve the URL; another tenant's media is refused
  const p = await page(srv, A, { slug: `img-${uniq()}`, title: 'img', og_image: up.json.id, body: [{ type: 'image', media_id: up.json.id, alt: 'a dot' }] });
  assert.equal(p.body[0].url, up.json.url);
  const pub = await publish(srv, A, p.id);
  assert.equal(pub.og_image, up.json.id);
  assert.equal((await v2(A, `/pages/${p.id}`)).json.og_image_url, up.json.url);
  const cross = await cms(srv, 'POST', '/pages', { token: B.manager, body: { slug: 'x', title: 'x', og_image: up.json.id } });
  assertError(cross, 422, 'validation_failed');
  const del = await cms(srv, 'DELETE', `/media/${mup.json.id}`, { token: A.manager });
  assert.equal(del.status, 204);
  assert.equal((await fetch(srv.url + mup.json.url)).status, 404);
});

test('menus: nested items, page items resolved, public side published only', async () => {
  const pubp = await page(srv, A, { slug: `m1-${uniq()}`, title: 'Published' });
  await publish(srv, A, pubp.id);
  const draft = await page(srv, A, { slug: `m2-${uniq()}`, title: 'Draft' });
  const body = {
    title: 'Main',
    items: [
      { label: 'Published', page_id: pubp.id, children: [{ label: 'Docs', url: 'https://docs.example/' }] },
      { label: 'Draft', page_id: draft.id },
      { label: 'Mail', url: 'mailto:hi@example.com' },
    ],
  };
  const put = await cms(srv, 'PUT', '/menus/main', { token: A.manager, body });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.json.items[0].url, pubp.path);
  assert.equal(put.json.items[0].children[0].url, 'https://docs.example/');
  const pub = await v2(A, '/menus/main');
  assert.equal(pub.status, 200);
  assert.deepEqual(pub.json.items.map((i) => i.label), ['Published', 'Mail']);
  for (const bad of [
    { title: 'x', items: [{ label: 'x', url: 'javascript:alert(1)' }] },
    { title: 'x', items: [{ label: 'x' }] },
    { title: 'x', items: [{ label: 'x', url: '/a', page_id: pubp.id }] },
    { title: 'x', items: [{ label: 'a', url: '/a', children: [{ label: 'b', url: '/b', children: [{ label: 'c', url: '/c', children: [{ label: 'd', url: '/d' }] }] }] }] },
  ]) {
    assertError(await cms(srv, 'PUT', '/menus/bad', { token: A.manager, body: bad }), 422, 'validation_failed');
  }
  assertError(await cms(srv, 'PUT', '/menus/main', { token: B.manager, body: { title: 'x', items: [{ label: 'x', page_id: pubp.id }] } }), 422, 'validation_failed');
  assertError(await cms(srv, 'GET', '/menus/main', { token: B.manager }), 404, 'not_found');
});

test('forms: schema, validated submissions, listing for managers', async () => {
  const slug = `f-${uniq()}`;
  const form = {
    slug,
    title: 'Quote',
    fields: [
      { name: 'name', label: 'Name', type: 'text', required: true, max_length: 20 },
      { name: 'email', type: 'email', required: true },
      { name: 'phone', type: 'tel' },
      { name: 'budget', type: 'number' },
      { name: 'plan', type: 'select', choices: ['basic', 'pro'] },
      { name: 'services', type: 'select', multiple: true, choices: ['seo', 'ppc'] },
      { name: 'message', type: 'textarea', max_length: 50 },
    ],
  };
  const c = await cms(srv, 'POST', '/forms', { token: A.manager, body: form });
  assert.equal(c.status, 201, c.text);
  assertError(await cms(srv, 'POST', '/forms', { token: A.manager, body: form }), 409, 'already_exists');
  assertError(await cms(srv, 'POST', '/forms', { token: A.manager, body: { slug: 'x', title: 'x', fields: [{ name: 'a', type: 'date' }] } }), 422, 'validation_failed');
  assertError(await cms(srv, 'POST', '/forms', { token: A.manager, body: { slug: 'y', title: 'y', fields: [{ name: 'a', type: 'select' }] } }), 422, 'validation_failed');
  const sub = (body) => hostReq(srv, 'POST', `/api/v2/forms/${slug}/submissions`, { host: A.host, body });
  const ok = await sub({ name: ' Ann ', email: 'ann@example.com', budget: '12000', services: ['seo', 'ppc'], plan: 'pro', phone: '+1 (555) 010-2000' });
  assert.equal(ok.status, 201, ok.text);
  const bad = await sub({ name: 'x'.repeat(21), email: 'not-mail', budget: 'lots', plan: 'gold', services: ['tv'], extra: 1, phone: 'call me' });
  assertError(bad, 422, 'validation_failed');
  assert.deepEqual(Object.keys(bad.json.error.fields).sort(), ['budget', 'email', 'extra', 'name', 'phone', 'plan', 'services']);
  assert.match(bad.json.error.fields.name, /longer/);
  const missing = await sub({});
  assert.deepEqual(Object.keys(missing.json.error.fields).sort(), ['email', 'name']);
  assertError(await hostReq(srv, 'POST', `/api/v2/forms/${slug}/submissions`, { host: B.host, body: { name: 'a', email: 'a@b.co' } }), 404, 'not_found');
  const list = await cms(srv, 'GET', `/forms/${slug}/submissions`, { token: A.manager });
  assert.equal(list.status, 200);
  assert.equal(list.json.items.length, 1);
  // FormSubmitted is in the outbox with the submission (the contact flow consumes it)
  const ev = await request(srv, 'GET', `/api/v1/events?type=FormSubmitted&aggregate_id=${list.json.items[0].id}`, { token: A.admin });
  assert.equal(ev.status, 200, ev.text);
  assert.equal(ev.json.items.length, 1);
  assert.equal(ev.json.items[0].payload.form, slug);
  assert.equal(ev.json.items[0].payload.data.email, 'ann@example.com');
  assert.deepEqual(list.json.items[0].data, { name: 'Ann', email: 'ann@example.com', budget: 12000, services: ['seo', 'ppc'], plan: 'pro', phone: '+1 (555) 010-2000' });
  assert.ok(list.json.items[0].remote_addr.length > 0);
  assertError(await cms(srv, 'GET', `/forms/${slug}/submissions`, { token: B.manager }), 404, 'not_found');
  // a form block must name an existing form
  assertError(await cms(srv, 'POST', '/pages', { token: A.manager, body: { slug: 'fb', title: 'fb', body: [{ type: 'form', form: 'nope' }] } }), 422, 'validation_failed');
});
