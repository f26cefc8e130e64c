// crm_pipeline.test.mjs — the rest of the CRM over real HTTP: companies,
// contacts, deals (minor units + ISO 4217, stage, probability, expected
// close, owner), per-tenant pipeline stages seeded on first use and
// editable, GET /pipeline counts and values, activities on leads, contacts
// and deals, DealStageChanged events, CSV import (text/csv and multipart)
// with a per-row report, CSV export, `bizosaas import leads` (summary,
// bad lines, a progress bar on a terminal), and the demo
// data. Tenant isolation for every resource.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { assertError, show } from './lib/expect.mjs';
import { superAdminToken, tenantToken } from './lib/jwt.mjs';
import { BIN, baseEnv, isPostgres, request, runCli, startServer, tempDir, testDb } from './lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer();
});
after(async () => {
  if (srv) assert.equal(await srv.stop(), 0, `stderr:\n${srv.stderr().join('\n')}`);
});

const uid = () => crypto.randomUUID();
const manager = (t) => tenantToken(t, ['manager'], { sub: uid() });
const call = (token, method, p, body, headers) => request(srv, method, `/api/v1/crm${p}`, { token, body, headers });
const payload = (p) => (typeof p === 'string' ? JSON.parse(p) : p);

test('pipeline stages: seeded per tenant on first use, ordered, editable', async () => {
  const T = uid();
  const t = manager(T);
  const admin = tenantToken(T, ['tenant_admin']);
  const s = await call(t, 'GET', '/pipeline/stages');
  assert.equal(s.status, 200, show(s));
  assert.deepEqual(s.json.items.map((x) => x.name), ['Prospecting', 'Qualification', 'Proposal', 'Negotiation', 'Closed Won', 'Closed Lost']);
  assert.deepEqual(s.json.items.map((x) => x.position), [1, 2, 3, 4, 5, 6]);
  // a second read does not seed again
  assert.equal((await call(t, 'GET', '/pipeline/stages')).json.items.length, 6);
  // managers may not edit stages; the tenant admin may
  assertError(await call(t, 'POST', '/pipeline/stages', { name: 'Demo' }), 403, 'forbidden');
  const add = await call(admin, 'POST', '/pipeline/stages', { name: 'Demo', position: 2, probability: 20 });
  assert.equal(add.status, 201, show(add));
  const order = (await call(t, 'GET', '/pipeline/stages')).json.items;
  assert.deepEqual(order.map((x) => x.name).slice(0, 3), ['Prospecting', 'Demo', 'Qualification']);
  assertError(await call(admin, 'POST', '/pipeline/stages', { name: 'Demo' }), 409, 'already_exists');
  const ren = await call(admin, 'PATCH', `/pipeline/stages/${add.json.id}`, { name: 'Product demo', probability: 30 });
  assert.equal(ren.status, 200, show(ren));
  assert.equal(ren.json.name, 'Product demo');
  assertError(await call(admin, 'PATCH', `/pipeline/stages/${add.json.id}`, { probability: 101 }), 422, 'validation_failed');
  // another tenant sees its own default stages only
  const other = await call(manager(uid()), 'GET', '/pipeline/stages');
  assert.equal(other.json.items.length, 6);
  assertError(await call(tenantToken(uid(), ['tenant_admin']), 'PATCH', `/pipeline/stages/${add.json.id}`, { name: 'x' }), 404, 'not_found');
  const del = await call(admin, 'DELETE', `/pipeline/stages/${add.json.id}`);
  assert.equal(del.status, 204, show(del));
  assert.equal(del.headers.get('content-length'), null, 'no Content-Length on a 204 (RFC 9110 8.6)');
});

test('companies, contacts and deals; GET /pipeline counts and sums per stage', async () => {
  const T = uid();
  const t = manager(T);
  const co = await call(t, 'POST', '/companies', { name: 'Acme', website: 'https://acme.example', size: 40 });
  assert.equal(co.status, 201, show(co));
  const ct = await call(t, 'POST', '/contacts', { name: 'Wile E.', email: 'wile@acme.example', company_id: co.json.id });
  assert.equal(ct.status, 201, show(ct));
  assertError(await call(t, 'POST', '/contacts', { name: 'x', company_id: uid() }), 422, 'validation_failed');
  const stages = (await call(t, 'GET', '/pipeline/stages')).json.items;
  const d1 = await call(t, 'POST', '/deals', { name: 'Rockets', value_minor: 150000, currency: 'USD', contact_id: ct.json.id, company_id: co.json.id, expected_close: '2030-01-31' });
  assert.equal(d1.status, 201, show(d1));
  assert.equal(d1.json.stage_id, stages[0].id);
  assert.equal(d1.json.probability, 10);
  assert.match(d1.json.owner_id, /^[0-9a-f-]{36}$/);
  const d2 = await call(t, 'POST', '/deals', { name: 'Anvils', value_minor: 2500, currency: 'EUR', stage_id: stages[2].id, probability: 60 });
  assert.equal(d2.status, 201, show(d2));
  const d3 = await call(t, 'POST', '/deals', { name: 'Magnets', value_minor: 50000 });
  assert.equal(d3.json.currency, 'USD');
  for (const [body, field] of [
    [{ name: 'x', currency: 'dollars' }, 'currency'],
    [{ name: 'x', value_minor: 1.5 }, 'value_minor'],
    [{ name: 'x', value_minor: -1 }, 'value_minor'],
    [{ name: 'x', probability: 101 }, 'probability'],
    [{ name: 'x', expected_close: '2030-13-01' }, 'expected_close'],
    [{ name: 'x', stage_id: uid() }, 'stage_id'],
    [{ value_minor: 1 }, 'name'],
  ]) {
    const r = await call(t, 'POST', '/deals', body);
    assertError(r, 422, 'validation_failed');
    assert.match(r.json.error.message, new RegExp(field));
  }
  // moving a stage takes the stage's probability and raises DealStageChanged
  const mv = await call(t, 'PATCH', `/deals/${d3.json.id}`, { stage_id: stages[3].id });
  assert.equal(mv.status, 200, show(mv));
  assert.equal(mv.json.probability, 75);
  const ev = await request(srv, 'GET', `/api/v1/events?tenant_id=${T}&type=DealStageChanged&aggregate_id=${d3.json.id}`, { token: superAdminToken() });
  assert.deepEqual(ev.json.items.map((e) => payload(e.payload).to_stage_id), [stages[3].id, stages[0].id]);
  assert.equal(payload(ev.json.items[0].payload).from_stage_id, stages[0].id);
  assertError(await call(t, 'PATCH', `/deals/${d3.json.id}`, { stage_id: null }), 422, 'validation_failed');
  const p = await call(t, 'GET', '/pipeline');
  assert.equal(p.status, 200, show(p));
  const by = Object.fromEntries(p.json.stages.map((s) => [s.name, s]));
  assert.equal(by.Prospecting.count, 1);
  assert.deepEqual(by.Prospecting.value_minor, { USD: 150000 });
  assert.deepEqual(by.Proposal.value_minor, { EUR: 2500 });
  assert.deepEqual(by.Negotiation.value_minor, { USD: 50000 });
  assert.equal(by['Closed Won'].count, 0);
  assert.equal(p.json.deals, 3);
  assert.deepEqual(p.json.value_minor, { USD: 200000, EUR: 2500 });
  // a stage holding deals cannot be deleted
  assertError(await call(tenantToken(T, ['tenant_admin']), 'DELETE', `/pipeline/stages/${stages[0].id}`), 409, 'conflict');
  // lists and filters
  assert.deepEqual((await call(t, 'GET', `/deals?stage_id=${stages[2].id}`)).json.items.map((d) => d.name), ['Anvils']);
  assert.deepEqual((await call(t, 'GET', '/contacts?q=WILE')).json.items.map((c) => c.name), ['Wile E.']);
  assert.deepEqual((await call(t, 'GET', '/companies?q=acm')).json.items.map((c) => c.name), ['Acme']);
  // deleting a company leaves its contact without one
  assert.equal((await call(t, 'DELETE', `/companies/${co.json.id}`)).status, 204);
  assert.equal((await call(t, 'GET', `/contacts/${ct.json.id}`)).json.company_id, null);
  // isolation and roles
  const o = manager(uid());
  for (const p2 of [`/deals/${d1.json.id}`, `/contacts/${ct.json.id}`]) {
    assertError(await call(o, 'GET', p2), 404, 'not_found');
    assertError(await call(o, 'PATCH', p2, { name: 'x' }), 404, 'not_found');
    assertError(await call(o, 'DELETE', p2), 404, 'not_found');
  }
  assert.equal((await call(o, 'GET', '/pipeline')).json.deals, 0);
  const c = tenantToken(T, ['client']);
  assert.equal((await call(c, 'GET', '/pipeline')).status, 200);
  assert.equal((await call(c, 'GET', `/deals/${d1.json.id}`)).status, 200);
  assertError(await call(c, 'POST', '/deals', { name: 'x' }), 403, 'forbidden');
  assertError(await call(c, 'PATCH', `/deals/${d1.json.id}`, { name: 'x' }), 403, 'forbidden');
});

test('activities on leads, contacts and deals: tasks with due dates and a done flag', async () => {
  const T = uid();
  const t = manager(T);
  const lead = (await call(t, 'POST', '/leads', { name: 'Act' })).json;
  const deal = (await call(t, 'POST', '/deals', { name: 'Act deal' })).json;
  const task = await call(t, 'POST', '/activities', { kind: 'task', subject: 'Call back', due_at: '2030-02-01T09:30:00+01:00', lead_id: lead.id });
  assert.equal(task.status, 201, show(task));
  assert.equal(task.json.due_at, '2030-02-01T08:30:00.000Z');
  assert.equal(task.json.done, false);
  const meet = await call(t, 'POST', '/activities', { kind: 'meeting', subject: 'Kick-off', deal_id: deal.id });
  assert.equal(meet.status, 201, show(meet));
  for (const body of [
    { kind: 'task', subject: 'orphan' },
    { kind: 'task', subject: 'two parents', lead_id: lead.id, deal_id: deal.id },
    { kind: 'fax', subject: 'x', lead_id: lead.id },
    { kind: 'task', subject: 'x', lead_id: uid() },
    { kind: 'task', subject: 'x', lead_id: lead.id, due_at: 'soon' },
  ]) assertError(await call(t, 'POST', '/activities', body), 422, 'validation_failed');
  const done = await call(t, 'PATCH', `/activities/${task.json.id}`, { done: true });
  assert.equal(done.status, 200, show(done));
  assert.equal(done.json.done, true);
  assert.deepEqual((await call(t, 'GET', `/activities?lead_id=${lead.id}&done=true`)).json.items.map((a) => a.subject), ['Call back']);
  assert.deepEqual((await call(t, 'GET', `/activities?deal_id=${deal.id}`)).json.items.map((a) => a.kind), ['meeting']);
  assertError(await call(manager(uid()), 'PATCH', `/activities/${task.json.id}`, { done: false }), 404, 'not_found');
  // deleting the lead takes its activities
  assert.equal((await call(t, 'DELETE', `/leads/${lead.id}`)).status, 204);
  assertError(await call(t, 'GET', `/activities/${task.json.id}`), 404, 'not_found');
});

const CSV = [
  'Name,Email,Phone,Company,Budget,Services,Message',
  'Good One,one@csv.example,+1 212 555 0101,"Quote, Inc",12000,seo;ppc,"multi',
  'line ""message"""',
  'No Email,,,,500,,',
  ',missing@name.example,,,,,',
  'Bad Budget,bb@csv.example,,,lots,,',
  'Bad Quote,x"y,,,,,',
  'Short,row',
  'Dup One,ONE@csv.example,,,,,',
  "Formula,'=HYPERLINK(1),,,,,",
].join('\r\n') + '\r\n';

test('CSV import (text/csv): good rows imported, bad rows reported by line; export round-trips', async () => {
  const T = uid();
  const t = manager(T);
  const r = await request(srv, 'POST', '/api/v1/crm/leads/import', { token: t, body: CSV, headers: { 'content-type': 'text/csv' } });
  assert.equal(r.status, 200, show(r));
  assert.equal(r.json.rows, 8);
  assert.equal(r.json.imported, 3);
  assert.equal(r.json.duplicates, 1);
  assert.deepEqual(r.json.errors.map((e) => e.line), [5, 6, 7, 8, 10]);
  assert.match(r.json.errors[0].error, /name/);
  assert.match(r.json.errors[1].error, /budget/);
  assert.match(r.json.errors[2].error, /quote/);
  assert.match(r.json.errors[3].error, /fields/);
  assert.match(r.json.errors[4].error, /email/);
  const list = (await call(t, 'GET', '/leads?sort=name&order=asc')).json.items;
  assert.deepEqual(list.map((l) => l.name), ['Dup One', 'Good One', 'No Email']);
  const good = list[1];
  assert.equal(good.company, 'Quote, Inc');
  assert.equal(good.message, 'multi\r\nline "message"');
  assert.deepEqual(good.services, ['seo', 'ppc']);
  assert.equal(good.source, 'import');
  assert.equal(good.score, 25 + 10 + 10);
  // a bad header refuses the file, nothing imported
  const bad = await request(srv, 'POST', '/api/v1/crm/leads/import', { token: t, body: 'name,shoe_size\nx,42\n', headers: { 'content-type': 'text/csv' } });
  assertError(bad, 422, 'validation_failed');
  assert.match(bad.json.error.message, /shoe_size/);
  assertError(await request(srv, 'POST', '/api/v1/crm/leads/import', { token: t, body: '{}', headers: { 'content-type': 'application/json' } }), 415, 'unsupported_media_type');
  assertError(await request(srv, 'POST', '/api/v1/crm/leads/import', { token: tenantToken(T, ['client']), body: CSV, headers: { 'content-type': 'text/csv' } }), 403, 'forbidden');
  // export: CSV with the header and every lead; importing it elsewhere gives the same leads
  const ex = await request(srv, 'GET', '/api/v1/crm/leads/export', { token: t });
  assert.equal(ex.status, 200, show(ex));
  assert.match(ex.headers.get('content-type'), /^text\/csv/);
  assert.match(ex.text, /^id,name,email,phone,company,website,company_size,budget,services,message,source,status,score,owner_id,created_at\r\n/);
  assert.ok(ex.text.includes('"Quote, Inc"'));
  assert.ok(ex.text.includes('seo;ppc'));
  assert.equal(ex.text.trim().split('\r\n').length >= 4, true);
  const T2 = uid();
  const again = await request(srv, 'POST', '/api/v1/crm/leads/import', { token: manager(T2), body: ex.text, headers: { 'content-type': 'text/csv' } });
  assert.equal(again.status, 200, show(again));
  assert.equal(again.json.imported, 3, show(again));
  const copy = (await call(manager(T2), 'GET', '/leads?sort=name&order=asc')).json.items;
  assert.deepEqual(copy.map((l) => [l.name, l.score, l.message]), list.map((l) => [l.name, l.score, l.message]));
  // another tenant's export is its own
  const empty = await request(srv, 'GET', '/api/v1/crm/leads/export', { token: manager(uid()) });
  assert.equal(empty.text.trim().split('\r\n').length, 1);
});

test('CSV import as multipart/form-data', async () => {
  const T = uid();
  const form = new FormData();
  form.append('note', 'ignored');
  form.append('file', new Blob(['name,email\nMulti Part,mp@csv.example\n'], { type: 'text/csv' }), 'leads.csv');
  const res = await fetch(`${srv.url}/api/v1/crm/leads/import`, { method: 'POST', body: form, headers: { authorization: `Bearer ${manager(T)}` } });
  const j = await res.json();
  assert.equal(res.status, 200, JSON.stringify(j));
  assert.equal(j.imported, 1);
  assert.equal((await call(manager(T), 'GET', '/leads')).json.items[0].email, 'mp@csv.example');
});

test('bizosaas import leads FILE --tenant SLUG: imports, reports bad lines, summary', async () => {
  const slug = `crm-${crypto.randomBytes(3).toString('hex')}`;
  const tr = await request(srv, 'POST', '/api/v1/auth/tenants', { token: superAdminToken(), body: { name: 'CSV tenant', slug } });
  assert.equal(tr.status, 201, show(tr));
  const dir = tempDir('bizosaas-crm-csv-');
  const file = path.join(dir, 'leads.csv');
  fs.writeFileSync(file, CSV);
  const dbUrl = testDb() === 'sqlite' ? `sqlite:${path.join(srv.dataDir, 'bizosaas.db')}` : testDb();
  const env = { BIZOSAAS_DATABASE_URL: dbUrl, BIZOSAAS_DATA_DIR: srv.dataDir };
  const r = await runCli(['import', 'leads', file, '--tenant', slug], { env });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /imported 3 of 8 rows into tenant crm-[0-9a-f]+: 5 bad row\(s\) skipped, 1 flagged/);
  for (const line of [5, 6, 7, 8, 10]) assert.match(r.stderr, new RegExp(`leads\\.csv:${line}: `));
  const t = manager(tr.json.id);
  assert.equal((await call(t, 'GET', '/leads')).json.items.length, 3);
  // on a terminal (script(1) gives it one) a progress bar is drawn
  const big = ['name,budget', ...Array.from({ length: 300 }, (_, i) => `Bar ${i},${i}`)].join('\n');
  fs.writeFileSync(file, big);
  const cmd = `${JSON.stringify(BIN)} import leads ${JSON.stringify(file)} --tenant ${slug}`;
  const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], { env: { ...baseEnv(), ...env }, encoding: 'utf8' });
  assert.equal(tty.status, 0, tty.stdout + tty.stderr);
  assert.match(tty.stdout, /\[#{40}\] 100%/);
  assert.match(tty.stdout, /imported 300 of 300 rows/);
  // all good: exit 0
  fs.writeFileSync(file, 'name\nSolo\n');
  const ok = await runCli(['import', 'leads', file, '--tenant', slug], { env });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal((await runCli(['import', 'leads', file], { env })).code, 2);
  const none = await runCli(['import', 'leads', file, '--tenant', 'no-such-tenant'], { env });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no tenant/);
});

test('demo data: the demo tenant has leads and a pipeline on the embedded default', { skip: isPostgres() }, async () => {
  const demo = await startServer({ db: 'sqlite', env: { BIZOSAAS_ENV: 'development' } });
  const dbFile = `sqlite:${path.join(demo.dataDir, 'bizosaas.db')}`;
  let tenantId;
  const count = async (s) => {
    const token = tenantToken(tenantId, ['manager']);
    return (await request(s, 'GET', '/api/v1/crm/leads?sort=score&order=desc', { token })).json.items;
  };
  try {
    const t = await request(demo, 'GET', '/api/v1/auth/tenants', { token: superAdminToken() });
    const tenant = t.json.items.find((x) => x.slug === 'demo');
    assert.ok(tenant, show(t));
    tenantId = tenant.id;
    const leads = await count(demo);
    assert.equal(leads.length, 5);
    assert.ok(leads[0].score > 80);
    const p = await request(demo, 'GET', '/api/v1/crm/pipeline', { token: tenantToken(tenantId, ['manager']) });
    assert.equal(p.json.deals, 1);
    // deleting a demo lead is not undone by a restart: the seed runs once
    await request(demo, 'DELETE', `/api/v1/crm/leads/${leads[4].id}`, { token: tenantToken(tenantId, ['manager']) });
  } finally {
    assert.equal(await demo.stop(), 0);
  }
  const again = await startServer({ db: dbFile, env: { BIZOSAAS_ENV: 'development', BIZOSAAS_DATA_DIR: demo.dataDir } });
  try {
    assert.equal((await count(again)).length, 4);
  } finally {
    assert.equal(await again.stop(), 0);
  }
});
