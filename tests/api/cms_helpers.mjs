// cms_helpers.mjs — shared setup for the CMS API tests (not a test file):
// tenants with their own domain, tokens per role, the CMS API, and raw
// HTTP requests with a chosen Host header (fetch cannot set Host).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';

import { superAdminToken, tenantToken } from './lib/jwt.mjs';
import { request } from './lib/server.mjs';

export function uniq() {
  return crypto.randomBytes(4).toString('hex');
}

/** makeSite: a new tenant with domain <slug>.test → {tenant, host, manager, admin, client}. */
export async function makeSite(srv) {
  const slug = `cms-${uniq()}`;
  const host = `${slug}.test`;
  const r = await request(srv, 'POST', '/api/v1/auth/tenants', {
    token: superAdminToken(),
    body: { name: `Site ${slug}`, slug, domains: [host] },
  });
  assert.equal(r.status, 201, r.text);
  const t = r.json;
  return {
    tenant: t,
    host,
    manager: tenantToken(t.id, ['manager']),
    admin: tenantToken(t.id, ['tenant_admin']),
    client: tenantToken(t.id, ['client']),
  };
}

/** cms: a request to /api/v1/cms{path}. */
export function cms(srv, method, path, { token, body, headers } = {}) {
  return request(srv, method, `/api/v1/cms${path}`, { token, body, headers });
}

/** page: creates a page (asserting 201) → its JSON. */
export async function page(srv, site, body) {
  const r = await cms(srv, 'POST', '/pages', { token: site.manager, body: { type: 'generic', ...body } });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

export async function publish(srv, site, id, body) {
  const r = await cms(srv, 'POST', `/pages/${id}/publish`, { token: site.manager, body });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

/**
 * hostReq: an HTTP/1.1 request with an explicit Host header →
 * {status, headers, body (Buffer), text, json}.
 */
export function hostReq(srv, method, path, { host, headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const h = { ...headers, Host: host };
    let payload;
    if (body !== undefined) {
      payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
      h['Content-Length'] = Buffer.byteLength(payload);
    }
    const req = http.request(
      { host: '127.0.0.1', port: srv.port, method, path, headers: h, setHost: false, agent: false },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          const text = buf.toString('utf8');
          let json;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, body: buf, text, json });
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('timeout')));
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** html: GET path on host asking for HTML. */
export function html(srv, host, path) {
  return hostReq(srv, 'GET', path, { host, headers: { Accept: 'text/html' } });
}

/** A small valid PNG (1×1). */
export const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6300010000050001' +
    '0d0a2db40000000049454e44ae426082',
  'hex',
);

// --- the contact form (contact flow and notification tests) ---

/** CONTACT_FORM: the schema of the site's "contact" form. */
export const CONTACT_FORM = {
  slug: 'contact',
  title: 'Contact us',
  fields: [
    { name: 'name', type: 'text', required: true, max_length: 120 },
    { name: 'email', type: 'email', required: true },
    { name: 'phone', type: 'tel', max_length: 40 },
    { name: 'company', type: 'text', max_length: 200 },
    { name: 'website', type: 'text', max_length: 300 },
    { name: 'company_size', type: 'number' },
    { name: 'budget', type: 'number' },
    { name: 'services', type: 'select', multiple: true, choices: ['seo', 'ppc', 'social_media', 'content_marketing', 'analytics'] },
    { name: 'message', type: 'textarea', max_length: 5000 },
  ],
};

/**
 * highValueLead: a submission that scores 100 (priority high): 1000/50 → 20,
 * budget ≥ 10000 → 25, 4 services → 20, phone 10, website 10, message > 100
 * chars 15.
 */
export const highValueLead = (email, name = 'Grace Hopper') => ({
  name,
  email,
  phone: '+1 555 0100',
  company: 'Compilers Inc',
  website: 'compilers.example',
  company_size: '1000',
  budget: '12000',
  services: ['seo', 'ppc', 'analytics', 'social_media'],
  message: 'We need a full-funnel relaunch of our marketing: SEO, paid search, analytics and social. '.repeat(2),
});

/** siteWithContactForm: makeSite plus the contact form (asserting 201). */
export async function siteWithContactForm(srv) {
  const site = await makeSite(srv);
  const r = await cms(srv, 'POST', '/forms', { token: site.manager, body: CONTACT_FORM });
  assert.equal(r.status, 201, r.text);
  return site;
}
