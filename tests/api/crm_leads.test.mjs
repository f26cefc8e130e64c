// crm_leads.test.mjs — the CRM's leads over real HTTP: create with the
// original's score and its breakdown, validation, status transitions,
// rescoring on change and PUT /score, filters, sorts and cursor pagination
// stable under inserts, duplicates and merge with its audit trail,
// conversion into contact + deal, permissions (client 403) and tenant
// isolation (404), the domain events raised, the gateway route.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';

import { assertError, show } from './lib/expect.mjs';
import { superAdminToken, tenantToken } from './lib/jwt.mjs';
import { request, startServer } from './lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer();
});
after(async () => {
  if (srv) assert.equal(await srv.stop(), 0, `stderr:\n${srv.stderr().join('\n')}`);
});

const A = crypto.randomUUID();
const B = crypto.randomUUID();
const USER = crypto.randomUUID();
const manager = (t = A) => tenantToken(t, ['manager'], { sub: USER });
const client = (t = A) => tenantToken(t, ['client']);
const crm = (method, path, body, token = manager()) => request(srv, method, `/api/v1/crm${path}`, { token, body });
const long = 'x'.repeat(101);
const payload = (p) => (typeof p === 'string' ? JSON.parse(p) : p);

async function lead(body, token) {
  const r = await crm('POST', '/leads', body, token);
  assert.equal(r.status, 201, show(r));
  return r.json;
}

async function events(tenant, type, aggregateId) {
  const q = new URLSearchParams({ tenant_id: tenant, type, aggregate_id: aggregateId, limit: '50' });
  const r = await request(srv, 'GET', `/api/v1/events?${q}`, { token: superAdminToken() });
  assert.equal(r.status, 200, show(r));
  return r.json.items;
}

test('create scores with the original rule and shows the breakdown', async () => {
  const l = await lead({
    name: 'Ann Example', email: 'Ann@Example.com', phone: '+1 415 555 0101', company: 'Acme',
    website: 'acme.example', company_size: 260, budget: 5000, services: ['seo', 'ppc', 'content'], message: long,
  });
  assert.equal(l.status, 'new');
  assert.equal(l.source, 'api');
  assert.equal(l.email, 'ann@example.com');
  assert.deepEqual(l.score_breakdown, { company_size: 5, budget: 20, services: 15, phone: 10, website: 10, message: 15, total: 75 });
  assert.equal(l.score, 75);
  assert.equal(l.priority, 'medium');
  assert.deepEqual(l.duplicates, []);
  assert.deepEqual(l.next_statuses, ['contacted', 'lost']);
  const g = await crm('GET', `/leads/${l.id}`);
  assert.equal(g.status, 200, show(g));
  assert.equal(g.json.score_breakdown.total, 75);
  // the events exist, raised in the same transaction
  assert.equal((await events(A, 'LeadCreated', l.id)).length, 1);
  const scored = await events(A, 'LeadScored', l.id);
  assert.equal(scored.length, 1);
  assert.equal(payload(scored[0].payload).score, 75);
  // the maximum: every part at its cap is exactly 100
  const max = await lead({ name: 'Max', company_size: 100000, budget: 10000, services: ['a', 'b', 'c', 'd', 'e'], phone: '5550100100', website: 'x.io', message: long });
  assert.equal(max.score, 100);
  assert.equal(max.priority, 'high');
});

test('bad input is a 422 naming the field, and changes nothing', async () => {
  for (const [body, field] of [
    [{}, 'name'],
    [{ name: 'x', email: 'nope' }, 'email'],
    [{ name: 'x', budget: -5 }, 'budget'],
    [{ name: 'x', services: 'seo' }, 'services'],
    [{ name: 'x', score: 100 }, 'score'],
    [{ name: 'x', status: 'converted' }, 'convert'],
    [{ name: 'x', surprise: 1 }, 'surprise'],
    [{ name: 'x', website: 'javascript:alert(1)' }, 'website'],
  ]) {
    const r = await crm('POST', '/leads', body);
    assertError(r, 422, 'validation_failed');
    assert.match(r.json.error.message, new RegExp(field), show(r));
  }
  const r = await request(srv, 'POST', '/api/v1/crm/leads', { token: manager(), body: 'name=x', headers: { 'content-type': 'text/plain' } });
  assertError(r, 415, 'unsupported_media_type');
});

test('status transitions: allowed moves only, each raises LeadStatusChanged', async () => {
  const l = await lead({ name: 'Flow' });
  const bad = await crm('PATCH', `/leads/${l.id}`, { status: 'qualified' });
  assertError(bad, 422, 'validation_failed');
  assert.match(bad.json.error.message, /new lead cannot become qualified/);
  for (const s of ['contacted', 'qualified']) {
    const r = await crm('PATCH', `/leads/${l.id}`, { status: s });
    assert.equal(r.status, 200, show(r));
    assert.equal(r.json.status, s);
  }
  assertError(await crm('PATCH', `/leads/${l.id}`, { status: 'converted' }), 422, 'validation_failed');
  assertError(await crm('PATCH', `/leads/${l.id}`, { status: 'new' }), 422, 'validation_failed');
  assert.equal((await crm('PATCH', `/leads/${l.id}`, { status: 'lost' })).json.status, 'lost');
  assert.equal((await crm('PATCH', `/leads/${l.id}`, { status: 'new' })).json.status, 'new');
  const changes = await events(A, 'LeadStatusChanged', l.id);
  assert.equal(changes.length, 4);
  assert.deepEqual(payload(changes[changes.length - 1].payload), { lead_id: l.id, from: 'new', to: 'contacted' });
});

test('rescored on every change; PUT /score recomputes and returns the breakdown', async () => {
  const l = await lead({ name: 'Grow', budget: 999 });
  assert.equal(l.score, 0);
  const u = await crm('PATCH', `/leads/${l.id}`, { budget: 1000, phone: '555 0100 100' });
  assert.equal(u.status, 200, show(u));
  assert.equal(u.json.score, 25);
  assert.equal(u.json.score_breakdown.budget, 15);
  const cleared = await crm('PATCH', `/leads/${l.id}`, { phone: null });
  assert.equal(cleared.json.score, 15);
  const s = await crm('PUT', `/leads/${l.id}/score`);
  assert.equal(s.status, 200, show(s));
  assert.equal(s.json.score, 15);
  assert.equal(s.json.changed, false);
  assert.equal(s.json.breakdown.budget, 15);
  const scored = await events(A, 'LeadScored', l.id);
  assert.deepEqual(scored.map((e) => payload(e.payload).score), [15, 15, 25, 0]);
  assertError(await crm('PUT', `/leads/${crypto.randomUUID()}/score`), 404, 'not_found');
});

test('list: filters, sorts, and a cursor that is stable under inserts', async () => {
  const T = crypto.randomUUID();
  const t = manager(T);
  const names = ['delta', 'alpha', 'echo', 'charlie', 'bravo', 'foxtrot', 'golf'];
  for (const [i, name] of names.entries()) {
    await lead({ name, email: `${name}@list.example`, budget: i * 2000, source: i % 2 ? 'web' : 'event', company: i === 3 ? 'Big 100% Co' : null }, t);
  }
  const list = async (q) => {
    const r = await crm('GET', `/leads?${q}`, undefined, t);
    assert.equal(r.status, 200, show(r));
    return r.json;
  };
  assert.deepEqual((await list('sort=name&order=asc')).items.map((l) => l.name), [...names].sort());
  assert.deepEqual((await list('source=web&sort=name&order=asc')).items.map((l) => l.name), ['alpha', 'charlie', 'foxtrot']);
  assert.deepEqual((await list('score_min=20&score_max=25&sort=name&order=asc')).items.map((l) => l.name), ['bravo', 'charlie', 'foxtrot', 'golf']);
  assert.deepEqual((await list('q=ALPHA')).items.map((l) => l.name), ['alpha']);
  assert.deepEqual((await list('q=100%25')).items.map((l) => l.name), ['charlie']);
  assert.deepEqual((await list('q=_')).items, []);
  const byScore = (await list('sort=score&order=desc')).items.map((l) => l.score);
  assert.deepEqual(byScore, [...byScore].sort((a, b) => b - a));
  // pages of 2 by name; a lead inserted before the cursor does not shift later pages
  const p1 = await list('sort=name&order=asc&limit=2');
  assert.deepEqual(p1.items.map((l) => l.name), ['alpha', 'bravo']);
  await lead({ name: 'aardvark' }, t);
  const p2 = await list(`sort=name&order=asc&limit=2&cursor=${p1.next_cursor}`);
  assert.deepEqual(p2.items.map((l) => l.name), ['charlie', 'delta']);
  // default order is newest first; walking every page sees each lead once
  const seen = [];
  let cursor = '';
  for (;;) {
    const p = await list(`limit=3${cursor ? `&cursor=${cursor}` : ''}`);
    seen.push(...p.items.map((l) => l.name));
    if (!p.next_cursor) break;
    cursor = p.next_cursor;
  }
  assert.equal(seen.length, 8);
  assert.equal(seen[0], 'aardvark');
  assert.equal(new Set(seen).size, 8);
  for (const q of ['sort=size', 'order=up', 'limit=0', 'limit=201', 'score_min=x', 'cursor=garbage', `sort=score&cursor=${p1.next_cursor}`]) {
    assertError(await crm('GET', `/leads?${q}`, undefined, t), 422, 'validation_failed');
  }
});

test('duplicates are flagged on create (same e-mail or phone), and merge keeps an audit trail', async () => {
  const T = crypto.randomUUID();
  const t = manager(T);
  const first = await lead({ name: 'Dana', email: 'dana@dup.example', phone: '+1 (212) 555-0199', services: ['seo'] }, t);
  const byEmail = await lead({ name: 'Dana S.', email: 'DANA@dup.example', company: 'Dup Inc', budget: 12000, services: ['ppc', 'seo'] }, t);
  assert.deepEqual(byEmail.duplicates, [{ id: first.id, match: 'email' }]);
  const byPhone = await lead({ name: 'D', phone: '+1 212 555 0199' }, t);
  assert.deepEqual(byPhone.duplicates, [{ id: first.id, match: 'phone' }]);
  // another tenant's identical lead is not a duplicate
  assert.deepEqual((await lead({ name: 'Dana', email: 'dana@dup.example' }, manager(crypto.randomUUID()))).duplicates, []);
  // an activity on the duplicate moves with the merge
  const act = await crm('POST', '/activities', { kind: 'call', subject: 'first call', lead_id: byEmail.id }, t);
  assert.equal(act.status, 201, show(act));
  const m = await crm('POST', `/leads/${first.id}/merge`, { other_id: byEmail.id }, t);
  assert.equal(m.status, 200, show(m));
  assert.equal(m.json.activities_moved, 1);
  assert.equal(m.json.lead.company, 'Dup Inc');
  assert.equal(m.json.lead.name, 'Dana');
  assert.deepEqual(m.json.lead.services, ['seo', 'ppc']);
  assert.equal(m.json.lead.score, 10 + 25 + 10);
  assert.equal(m.json.lead.merges.length, 1);
  assert.equal(m.json.lead.merges[0].merged.id, byEmail.id);
  assertError(await crm('GET', `/leads/${byEmail.id}`, undefined, t), 404, 'not_found');
  const acts = await crm('GET', `/activities?lead_id=${first.id}`, undefined, t);
  assert.deepEqual(acts.json.items.map((a) => a.subject).sort(), ['Merged lead ' + byEmail.id + ' into this lead', 'first call'].sort());
  assertError(await crm('POST', `/leads/${first.id}/merge`, { other_id: first.id }, t), 422, 'validation_failed');
  assertError(await crm('POST', `/leads/${first.id}/merge`, { other_id: crypto.randomUUID() }, t), 422, 'validation_failed');
  assertError(await crm('POST', `/leads/${first.id}/merge`, {}, t), 422, 'validation_failed');
});

test('conversion: a qualified lead becomes a contact and a deal in the first stage', async () => {
  const l = await lead({ name: 'Conv', email: 'conv@example.com', company: 'Conv Co', budget: 20000 });
  assertError(await crm('POST', `/leads/${l.id}/convert`), 422, 'validation_failed');
  await crm('PATCH', `/leads/${l.id}`, { status: 'contacted' });
  await crm('PATCH', `/leads/${l.id}`, { status: 'qualified' });
  const c = await crm('POST', `/leads/${l.id}/convert`, { expected_close: '2030-06-30' });
  assert.equal(c.status, 201, show(c));
  assert.equal(c.json.lead.status, 'converted');
  assert.equal(c.json.lead.converted_contact_id, c.json.contact.id);
  assert.equal(c.json.lead.converted_deal_id, c.json.deal.id);
  assert.equal(c.json.contact.email, 'conv@example.com');
  assert.equal(c.json.contact.company_id, c.json.company.id);
  assert.equal(c.json.deal.value_minor, 2000000);
  assert.equal(c.json.deal.currency, 'USD');
  assert.equal(c.json.deal.expected_close, '2030-06-30');
  assert.equal(c.json.deal.owner_id, USER);
  const stages = await crm('GET', '/pipeline/stages');
  assert.equal(c.json.deal.stage_id, stages.json.items[0].id);
  assert.equal(c.json.deal.probability, stages.json.items[0].probability);
  assert.equal((await events(A, 'DealStageChanged', c.json.deal.id)).length, 1);
  assertError(await crm('POST', `/leads/${l.id}/convert`), 422, 'validation_failed');
  assertError(await crm('PATCH', `/leads/${l.id}`, { status: 'lost' }), 422, 'validation_failed');
});

test('permissions: a client reads but cannot create, change or delete', async () => {
  const l = await lead({ name: 'Perm' });
  assert.equal((await crm('GET', `/leads/${l.id}`, undefined, client())).status, 200);
  assertError(await crm('POST', '/leads', { name: 'nope' }, client()), 403, 'forbidden');
  assertError(await crm('PATCH', `/leads/${l.id}`, { name: 'nope' }, client()), 403, 'forbidden');
  assertError(await crm('DELETE', `/leads/${l.id}`, undefined, client()), 403, 'forbidden');
  assertError(await crm('POST', `/leads/${l.id}/convert`, undefined, client()), 403, 'forbidden');
  const anon = await request(srv, 'GET', '/api/v1/crm/leads');
  assertError(anon, 401, 'unauthorized');
  // a token without a tenant has no CRM
  assertError(await crm('GET', '/leads', undefined, superAdminToken()), 403, 'forbidden');
  // tenant_admin manages
  const adm = await crm('POST', '/leads', { name: 'By admin' }, tenantToken(A, ['tenant_admin']));
  assert.equal(adm.status, 201, show(adm));
});

test('tenant isolation: another tenant\'s lead is 404 for every verb', async () => {
  const l = await lead({ name: 'Mine', email: 'mine@iso.example' });
  const other = manager(B);
  assertError(await crm('GET', `/leads/${l.id}`, undefined, other), 404, 'not_found');
  assertError(await crm('PATCH', `/leads/${l.id}`, { name: 'stolen' }, other), 404, 'not_found');
  assertError(await crm('PUT', `/leads/${l.id}/score`, undefined, other), 404, 'not_found');
  assertError(await crm('POST', `/leads/${l.id}/convert`, undefined, other), 404, 'not_found');
  assertError(await crm('DELETE', `/leads/${l.id}`, undefined, other), 404, 'not_found');
  const theirs = await lead({ name: 'Theirs' }, other);
  assertError(await crm('POST', `/leads/${theirs.id}/merge`, { other_id: l.id }, other), 422, 'validation_failed');
  assert.equal((await crm('GET', '/leads?q=mine@iso', undefined, other)).json.items.length, 0);
  assert.equal((await crm('GET', `/leads/${l.id}`)).json.name, 'Mine');
  const d = await crm('DELETE', `/leads/${l.id}`);
  assert.equal(d.status, 204, show(d));
  assertError(await crm('GET', `/leads/${l.id}`), 404, 'not_found');
});

test('through the gateway: /api/brain/django-crm/leads', async () => {
  const r = await request(srv, 'POST', '/api/brain/django-crm/leads', { token: manager(), body: { name: 'Via gateway', budget: 10000 } });
  assert.equal(r.status, 201, show(r));
  assert.equal(r.json.score, 25);
  const g = await request(srv, 'GET', `/api/brain/django-crm/leads/${r.json.id}`, { token: client() });
  assert.equal(g.status, 200, show(g));
  assertError(await request(srv, 'POST', '/api/brain/django-crm/leads', { token: client(), body: { name: 'x' } }), 403, 'forbidden');
});
