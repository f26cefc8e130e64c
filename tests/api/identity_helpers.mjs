// identity_helpers.mjs — shared setup for the identity API tests (not a
// test file itself): tenants and users made through the API with an
// operator super_admin token, logins, the development mailbox and TOTP
// codes. Works the same on SQLite and PostgreSQL (every name is unique, so
// several test files can share one PostgreSQL database).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { superAdminToken } from './lib/jwt.mjs';
import { request } from './lib/server.mjs';

export const PASSWORD = 'correct horse battery staple';

/** uniq: a short random suffix for slugs and e-mail addresses. */
export function uniq() {
  return crypto.randomBytes(4).toString('hex');
}

/** call: request() with a JSON body and an optional bearer token. */
export function call(srv, method, path, { token, body, headers } = {}) {
  return request(srv, method, `/api/v1/auth${path}`, { token, body, headers });
}

/** makeTenant: a new tenant (super_admin) → its JSON. */
export async function makeTenant(srv, extra = {}) {
  const slug = `t-${uniq()}`;
  const r = await call(srv, 'POST', '/tenants', { token: superAdminToken(), body: { name: `Tenant ${slug}`, slug, ...extra } });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

/** makeUser: a user with PASSWORD in tenant (super_admin) → its JSON. */
export async function makeUser(srv, tenant, roles = ['client'], { email, password = PASSWORD } = {}) {
  email = email || `${roles[0]}-${uniq()}@example.com`;
  const r = await call(srv, 'POST', '/users', {
    token: superAdminToken(),
    body: { email, password, roles, tenant_id: tenant.id },
  });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

/** login: POST /login → the response (not asserted). */
export function login(srv, email, password = PASSWORD, extra = {}) {
  return call(srv, 'POST', '/login', { body: { email, password, ...extra } });
}

/** session: a tenant with one user of roles, logged in →
 * {tenant, user, access, refresh}. */
export async function session(srv, roles = ['tenant_admin'], tenant) {
  tenant = tenant || (await makeTenant(srv));
  const user = await makeUser(srv, tenant, roles);
  const r = await login(srv, user.email);
  assert.equal(r.status, 200, r.text);
  return { tenant, user, access: r.json.access_token, refresh: r.json.refresh_token };
}

/** mailTo: the newest mail to address in the development mailbox. */
export async function mailTo(srv, address) {
  const r = await call(srv, 'GET', `/dev/mailbox?to=${encodeURIComponent(address)}`);
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.items.length > 0, `no mail to ${address}`);
  return r.json.items[0];
}

/** tokenIn: the 64-hex-character token in a mail body. */
export function tokenIn(mail) {
  const m = /\b([0-9a-f]{64})\b/.exec(mail.body);
  assert.ok(m, `no token in mail: ${mail.body}`);
  return m[1];
}

/** totp: the RFC 6238 code (SHA-1, 6 digits, 30 s) of a base32 secret. */
export function totp(secretB32, now = Date.now(), offsetSteps = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secretB32.toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 1000 / 30) + offsetSteps));
  const mac = crypto.createHmac('sha1', Buffer.from(bytes)).update(counter).digest();
  const off = mac[mac.length - 1] & 15;
  const bin = (mac.readUInt32BE(off) & 0x7fffffff) % 1e6;
  return String(bin).padStart(6, '0');
}
